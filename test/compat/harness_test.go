// Package compat drives a real kmsd server with the official Huawei Cloud
// Go SDK (services/kms/v2). It is its own module so the SDK never enters
// kmsd's runtime dependencies.
package compat

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
	kms "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2"

	"github.com/kmsd/kmsd/internal/server"
)

// syncBuffer collects a server's log for the secret scan.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// allLogs gathers the logs of every server the tests start, and secrets
// every string the tests used as a secret; TestMain checks that none of
// the secrets appears in any log.
var (
	allLogs   = &syncBuffer{}
	secretsMu sync.Mutex
	secrets   = map[string]bool{}
)

func addSecret(s string) {
	secretsMu.Lock()
	secrets[s] = true
	secretsMu.Unlock()
}

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		logs := allLogs.String()
		if len(logs) == 0 {
			fmt.Fprintln(os.Stderr, "secret scan: no server logs were collected")
			code = 1
		}
		for s := range secrets {
			if s != "" && strings.Contains(logs, s) {
				fmt.Fprintf(os.Stderr, "secret scan: a secret used by the tests (%d bytes, starting %q) appears in the server log\n", len(s), s[:min(4, len(s))])
				code = 1
			}
		}
		if code == 0 {
			fmt.Printf("secret scan: %d secrets, %d bytes of server log, none found\n", len(secrets), len(logs))
		}
	}
	os.Exit(code)
}

// env is one running kmsd dev server.
type env struct {
	t    *testing.T
	url  string
	srv  *server.Server
	ids  server.DevIdentities
	dir  string
	stop context.CancelFunc
	done chan error
}

type envOptions struct {
	cmkQuota int
	dir      string
}

// start runs a dev server on 127.0.0.1:0 in-process, exactly as
// `kmsd serve --dev` builds it, and stops it when the test ends.
func start(t *testing.T, opts ...envOptions) *env {
	t.Helper()
	o := envOptions{cmkQuota: 100000}
	if len(opts) > 0 {
		o = opts[0]
		if o.cmkQuota == 0 {
			o.cmkQuota = 100000
		}
	}
	if o.dir == "" {
		o.dir = t.TempDir()
	}
	cfg := server.DevConfig(o.dir, "127.0.0.1:0", o.cmkQuota)
	if _, err := server.InitDataDir(cfg); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewJSONHandler(allLogs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, cfg, server.Options{Logger: log, Getenv: func(string) string { return "" }})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	ids := server.DefaultDevIdentities(func(string) string { return "" })
	for _, s := range []string{ids.AdminSK, ids.ReaderSK, ids.Admin2SK, ids.AdminPassword, ids.Admin2Password} {
		addSecret(s)
	}
	if err := srv.EnsureDevIdentities(ctx, ids); err != nil {
		cancel()
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	e := &env{t: t, url: "http://" + ln.Addr().String(), srv: srv, ids: ids, dir: o.dir, stop: cancel, done: make(chan error, 1)}
	go func() { e.done <- srv.Serve(ctx, ln) }()
	t.Cleanup(e.close)
	return e
}

func (e *env) close() {
	if e.stop == nil {
		return
	}
	e.stop()
	if err := <-e.done; err != nil {
		e.t.Errorf("serve: %v", err)
	}
	e.srv.Close()
	e.stop = nil
}

// client returns an official SDK KMS client for ak/sk addressing project.
func (e *env) client(ak, sk, project string) *kms.KmsClient {
	cred, err := basic.NewCredentialsBuilder().WithAk(ak).WithSk(sk).WithProjectId(project).SafeBuild()
	if err != nil {
		e.t.Fatal(err)
	}
	hc, err := kms.KmsClientBuilder().WithEndpoints([]string{e.url}).WithCredential(cred).
		WithHttpConfig(config.DefaultHttpConfig()).SafeBuild()
	if err != nil {
		e.t.Fatal(err)
	}
	return kms.NewKmsClient(hc)
}

func (e *env) admin() *kms.KmsClient  { return e.client(e.ids.AdminAK, e.ids.AdminSK, e.ids.ProjectID) }
func (e *env) reader() *kms.KmsClient { return e.client(e.ids.ReaderAK, e.ids.ReaderSK, e.ids.ProjectID) }
func (e *env) admin2() *kms.KmsClient { return e.client(e.ids.Admin2AK, e.ids.Admin2SK, e.ids.Project2ID) }

// wantError checks that err is the SDK's view of a Huawei error with the
// given status and code, carrying the server's request id.
func wantError(t *testing.T, err error, status int, code string) {
	t.Helper()
	var se *sdkerr.ServiceResponseError
	if !errors.As(err, &se) {
		t.Fatalf("got error %v, want a service error %d %s", err, status, code)
	}
	if se.StatusCode != status || se.ErrorCode != code {
		t.Fatalf("got %d %s (%s), want %d %s", se.StatusCode, se.ErrorCode, se.ErrorMessage, status, code)
	}
	if se.RequestId == "" {
		t.Errorf("error %s carries no X-Request-Id", code)
	}
}

func ptr[T any](v T) *T { return &v }
