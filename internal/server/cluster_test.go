package server_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kmsd/kmsd/internal/auth"
	"github.com/kmsd/kmsd/internal/config"
	"github.com/kmsd/kmsd/internal/keyring"
	"github.com/kmsd/kmsd/internal/kms"
	"github.com/kmsd/kmsd/internal/server"
	"github.com/kmsd/kmsd/internal/store/postgres/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// cluster is a set of kmsd nodes on one PostgreSQL database, sharing one
// root key, each serving on its own loopback port.
type cluster struct {
	nodes []*server.Server
	addrs []string
	logs  []*lockedBuffer
	ids   server.DevIdentities
}

// lockedBuffer is a log sink safe for the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// rootKeys remembers the root key file of each database: every cluster
// started on one database in a test must use the key that the database was
// initialised with (kmsd refuses any other).
var rootKeys sync.Map

// clusterRootKey returns the root key file of dsn's database, creating one
// in dir the first time.
func clusterRootKey(t *testing.T, dsn, dir string) string {
	t.Helper()
	if p, ok := rootKeys.Load(dsn); ok {
		if _, err := os.Stat(p.(string)); err == nil {
			return p.(string)
		}
	}
	p := filepath.Join(dir, "root.key")
	if err := keyring.CreateRootKeyFile(p); err != nil {
		t.Fatal(err)
	}
	rootKeys.Store(dsn, p)
	return p
}

// startCluster starts n nodes on the database dsn; edit may change each
// node's configuration before it opens, and prep its services before it
// serves.
func startCluster(t *testing.T, dsn string, n int, edit func(i int, cfg *config.Config), prep func(srv *server.Server)) *cluster {
	t.Helper()
	dir := t.TempDir()
	rootKey := clusterRootKey(t, dsn, dir)
	c := &cluster{ids: server.DefaultDevIdentities(func(string) string { return "" })}
	for i := range n {
		cfg := config.Default()
		cfg.DataDir = filepath.Join(dir, fmt.Sprintf("node%d", i))
		cfg.Listen = "127.0.0.1:0"
		cfg.Database = config.Database{Driver: config.DriverPostgres, DSN: dsn, StatementTimeout: config.Duration{Duration: 5 * time.Second}}
		cfg.RootKey.File = rootKey
		// Each node writes its own audit chain; throttling is off, as in
		// the dev server the SDK suite drives.
		cfg.NodeID = fmt.Sprintf("node%d", i)
		cfg.Audit.Dir = filepath.Join(dir, "audit")
		cfg.Throttle.Enabled = false
		if edit != nil {
			edit(i, &cfg)
		}
		buf := &lockedBuffer{b: &bytes.Buffer{}}
		log := slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
		srv, err := server.New(t.Context(), cfg, server.Options{Logger: log})
		if err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
		t.Cleanup(func() { srv.Close() })
		if i == 0 {
			if err := srv.EnsureDevIdentities(t.Context(), c.ids); err != nil {
				t.Fatal(err)
			}
		}
		if prep != nil {
			prep(srv)
		}
		c.nodes = append(c.nodes, srv)
		c.logs = append(c.logs, buf)
	}
	for _, srv := range c.nodes {
		addr, stop := startServe(t, srv)
		t.Cleanup(func() { stop() })
		c.addrs = append(c.addrs, addr)
	}
	return c
}

// TestClusterDisableSeenWithin1s disables a key on node A and checks that
// node B, which has the key opened in its cache, refuses to encrypt with
// it within a second: the change reaches B through LISTEN/NOTIFY, not
// through the cache lifetime (30 s).
func TestClusterDisableSeenWithin1s(t *testing.T) {
	c := startCluster(t, pgtest.NewDatabase(t), 2, nil, nil)
	a, b := c.nodes[0].KMS, c.nodes[1].KMS
	ctx := t.Context()
	p := c.ids.ProjectID
	k, err := a.CreateKey(ctx, kms.CreateKeyInput{ProjectID: p, AccountID: c.ids.AccountID, Alias: "cluster-disable"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Encrypt(ctx, p, k.KeyID, []byte("hello"), nil, ""); err != nil {
		t.Fatalf("encrypt on B before the change: %v", err)
	}
	if _, err := a.DisableKey(ctx, p, k.KeyID); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for {
		_, err := b.Encrypt(ctx, p, k.KeyID, []byte("hello"), nil, "")
		if errors.Is(err, kms.ErrKeyDisabled) {
			t.Logf("node B refused the disabled key %v after the change on node A", time.Since(start).Round(time.Millisecond))
			return
		}
		if time.Since(start) > time.Second {
			t.Fatalf("node B still encrypts with a key disabled on node A after 1s (last error %v)", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestClusterDeletionJobOnce runs three nodes whose deletion jobs all see
// five keys past their deletion date: each key is destroyed exactly once,
// by one node.
func TestClusterDeletionJobOnce(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	// The keys are created by a node of its own, so that the deletion
	// nodes can start with a clock already past the deletion date.
	seed := startCluster(t, dsn, 1, nil, nil)
	ctx := t.Context()
	p := seed.ids.ProjectID
	const keys = 5
	for i := range keys {
		k, err := seed.nodes[0].KMS.CreateKey(ctx, kms.CreateKeyInput{ProjectID: p, AccountID: seed.ids.AccountID, Alias: fmt.Sprintf("doomed-%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := seed.nodes[0].KMS.ScheduleKeyDeletion(ctx, p, k.KeyID, 7); err != nil {
			t.Fatal(err)
		}
	}
	// Three nodes whose clocks are past the deletion date, with a deletion
	// pass every second.
	later := func() time.Time { return time.Now().Add(8 * 24 * time.Hour) }
	c := startCluster(t, dsn, 3, func(i int, cfg *config.Config) {
		cfg.DeletionCheckInterval = config.Duration{Duration: time.Second}
	}, func(srv *server.Server) { srv.KMS.Now = later })
	deadline := time.Now().Add(15 * time.Second)
	for {
		var destroyed int
		for _, l := range c.logs {
			destroyed += strings.Count(l.String(), `"msg":"key destroyed"`)
		}
		if destroyed > keys {
			t.Fatalf("%d keys destroyed, want %d: a key was destroyed twice", destroyed, keys)
		}
		if destroyed == keys {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 15s %d of %d keys destroyed", destroyed, keys)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Let every node run one more pass: nothing more may be destroyed.
	time.Sleep(1500 * time.Millisecond)
	var destroyed int
	for i, l := range c.logs {
		n := strings.Count(l.String(), `"msg":"key destroyed"`)
		t.Logf("node %d destroyed %d keys", i, n)
		destroyed += n
	}
	if destroyed != keys {
		t.Fatalf("%d keys destroyed, want %d", destroyed, keys)
	}
	if _, err := seed.nodes[0].KMS.Encrypt(ctx, p, "00000000-0000-0000-0000-000000000000", []byte("x"), nil, ""); !errors.Is(err, kms.ErrKeyNotFound) {
		t.Fatalf("sanity: got %v, want ErrKeyNotFound", err)
	}
}

// TestClusterDatabaseRestart halts the PostgreSQL server under a node:
// requests answer 503 with a Huawei-shaped body at once, and the node
// recovers by itself when the database returns.
func TestClusterDatabaseRestart(t *testing.T) {
	pg, err := pgtest.Start()
	if errors.Is(err, pgtest.ErrNotInstalled) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pg.Stop)
	dsn, err := pg.CreateDatabase(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	c := startCluster(t, dsn, 1, nil, nil)
	url := "http://" + c.addrs[0] + "/v1.0/" + c.ids.ProjectID + "/kms/list-keys"
	// An access key no cache holds: authenticating it reads the store.
	call := func() (int, map[string]any) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(`{}`))
		now := time.Now().UTC()
		req.Header.Set("X-Sdk-Date", now.Format(auth.DateLayout))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", auth.AlgHMACSHA256+" Access=KMSDNOSUCHAK00000001, SignedHeaders=content-type;host;x-sdk-date, Signature="+strings.Repeat("0", 64))
		cl := http.Client{Timeout: 10 * time.Second}
		resp, err := cl.Do(req)
		if err != nil {
			t.Fatalf("request: %v", err)
		}
		defer resp.Body.Close()
		var body map[string]any
		json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	if code, body := call(); code != 401 {
		t.Fatalf("with the database up: got %d %v, want 401", code, body)
	}
	// A load of encryptions runs throughout: each succeeds or fails with
	// ErrUnavailable, nothing else.
	k, err := c.nodes[0].KMS.CreateKey(t.Context(), kms.CreateKeyInput{ProjectID: c.ids.ProjectID, AccountID: c.ids.AccountID, Alias: "under-load"})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var ok, unavailable int
	stopLoad := make(chan struct{})
	var load sync.WaitGroup
	for range 4 {
		load.Go(func() {
			for {
				select {
				case <-stopLoad:
					return
				default:
				}
				_, err := c.nodes[0].KMS.Encrypt(t.Context(), c.ids.ProjectID, k.KeyID, []byte("under load"), nil, "")
				mu.Lock()
				switch {
				case err == nil:
					ok++
				case errors.Is(err, kms.ErrUnavailable):
					unavailable++
				default:
					t.Errorf("encrypt under load: %v, want success or ErrUnavailable", err)
				}
				mu.Unlock()
				time.Sleep(2 * time.Millisecond)
			}
		})
	}
	defer func() {
		close(stopLoad)
		load.Wait()
		mu.Lock()
		defer mu.Unlock()
		t.Logf("load: %d encryptions succeeded, %d failed with ErrUnavailable", ok, unavailable)
		if unavailable == 0 || ok == 0 {
			t.Errorf("load saw %d successes and %d unavailable, want both", ok, unavailable)
		}
	}()
	time.Sleep(100 * time.Millisecond)
	pg.Halt()
	start := time.Now()
	code, body := call()
	e, _ := body["error"].(map[string]any)
	if code != 503 || e["error_code"] != "KMS.0104" || e["error_msg"] == nil {
		t.Fatalf("with the database down: got %d %v, want 503 with error_code KMS.0104", code, body)
	}
	t.Logf("database down: 503 %v in %v", e["error_code"], time.Since(start).Round(time.Millisecond))
	if err := pg.Resume(); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	for {
		code, body := call()
		if code == 401 {
			t.Logf("database back: node answered normally again after %v", time.Since(start).Round(time.Millisecond))
			time.Sleep(100 * time.Millisecond) // the load succeeds again too
			return
		}
		if time.Since(start) > 15*time.Second {
			t.Fatalf("node did not recover within 15s of the database's return: %d %v", code, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestClusterRevokeGrantSeen revokes a grant on node A and checks that
// node B refuses the grantee at once.
func TestClusterRevokeGrantSeen(t *testing.T) {
	c := startCluster(t, pgtest.NewDatabase(t), 2, nil, nil)
	a, b := c.nodes[0].KMS, c.nodes[1].KMS
	ctx := t.Context()
	p := c.ids.ProjectID
	k, err := a.CreateKey(ctx, kms.CreateKeyInput{ProjectID: p, AccountID: c.ids.AccountID, Alias: "cluster-grant"})
	if err != nil {
		t.Fatal(err)
	}
	g, err := a.CreateGrant(ctx, kms.CreateGrantInput{ProjectID: p, KeyID: k.KeyID,
		GranteePrincipal: c.ids.Admin2ID, Operations: []string{"encrypt-data"}, IssuingPrincipal: c.ids.AdminID})
	if err != nil {
		t.Fatal(err)
	}
	grantee := kms.Caller{UserID: c.ids.Admin2ID, AccountID: c.ids.Account2ID}
	uses := []kms.GrantUse{{KeyID: k.KeyID, Operation: "encrypt-data"}}
	if _, ok, err := b.AuthorizeByGrant(ctx, grantee, uses); err != nil || !ok {
		t.Fatalf("before the revocation, on B: ok %v, err %v; want the grant to allow", ok, err)
	}
	if err := a.RevokeGrant(ctx, p, k.KeyID, g.GrantID); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := b.AuthorizeByGrant(ctx, grantee, uses); err != nil || ok {
		t.Fatalf("right after the revocation on A, on B: ok %v, err %v; want refused", ok, err)
	}
}
