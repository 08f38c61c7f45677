package compat

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	kmsdaudit "github.com/kmsd/kmsd/internal/audit"
	"github.com/kmsd/kmsd/internal/config"
	"github.com/kmsd/kmsd/internal/server"
	"github.com/kmsd/kmsd/internal/store"
	"github.com/kmsd/kmsd/internal/store/postgres/pgtest"
)

// clusterEnv selects the store of the servers the tests start. Unset or
// "sqlite": one dev server on SQLite, as `kmsd serve --dev` runs. "postgres":
// a cluster of two nodes on one PostgreSQL database (a throwaway server that
// pgtest starts), behind a loopback proxy that sends requests to the nodes
// in turn, so that every test runs against two nodes sharing one truth.
const clusterEnv = "KMSD_COMPAT_STORE"

func clusterMode() bool { return os.Getenv(clusterEnv) == "postgres" }

// clusterDSNs gives each data directory its database, so that a test that
// starts a server again on the same directory finds its data again.
var clusterDSNs sync.Map // dir → dsn

// useClusterStore points cfg at the PostgreSQL database of its data
// directory when the tests run against a cluster.
func useClusterStore(t *testing.T, cfg *config.Config) {
	if !clusterMode() {
		return
	}
	dsn, ok := clusterDSNs.Load(cfg.DataDir)
	if !ok {
		dsn, _ = clusterDSNs.LoadOrStore(cfg.DataDir, pgtest.NewDatabase(t))
	}
	cfg.Database = config.Database{Driver: config.DriverPostgres, DSN: dsn.(string), StatementTimeout: config.Duration{Duration: config.DefaultStatementTimeout}}
}

// startPeer starts the second node of a cluster with cfg (the first node's
// configuration) and returns the URL of a proxy that alternates between
// the first node, at first, and the peer. Both stop when ctx ends; at the
// end of the test the peer calls stop (which ends ctx) and is closed. A
// non-nil now is the peer's clock, as it is the first node's.
// peers counts the peers started, to give each its own node id.
var peers atomic.Uint64

func startPeer(t *testing.T, ctx context.Context, stop context.CancelFunc, cfg config.Config, log *slog.Logger, first string, now func() time.Time) string {
	t.Helper()
	// The peer is another node: it writes an audit chain of its own, one
	// per peer started (a test that restarts its server starts another).
	cfg.NodeID = fmt.Sprintf("dev-peer-%d", peers.Add(1))
	peer, err := server.New(ctx, cfg, server.Options{Logger: log, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	if now != nil {
		peer.KMS.Now = now
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- peer.Serve(ctx, ln) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("peer serve: %v", err)
		}
		peer.Close()
		if rep, err := kmsdaudit.Verify(cfg.AuditChainDir(), nil); err != nil || !rep.OK() || rep.Unsigned != 0 {
			t.Errorf("audit trail of the stopped peer: %v %+v", err, rep)
		}
	})
	var proxies []*httputil.ReverseProxy
	for _, u := range []string{first, "http://" + ln.Addr().String()} {
		target, _ := url.Parse(u)
		// The outgoing request keeps the incoming Host header, which the
		// SDK signed.
		proxies = append(proxies, httputil.NewSingleHostReverseProxy(target))
	}
	var n atomic.Uint64
	pl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ps := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxies[n.Add(1)%2].ServeHTTP(w, r)
	})}
	go ps.Serve(pl)
	go func() {
		<-ctx.Done()
		ps.Close()
	}()
	return "http://" + pl.Addr().String()
}

// openStore opens, beside the running server, the store of the dev data
// directory dir: its SQLite file, or in cluster mode its PostgreSQL
// database. The store is closed when the test ends.
func openStore(t *testing.T, dir string) store.Store {
	t.Helper()
	cfg := server.DevConfig(dir, "127.0.0.1:0", 0)
	useClusterStore(t, &cfg)
	st, err := server.OpenStore(t.Context(), cfg, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
