package server

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"time"

	"github.com/kmsd/kmsd/internal/config"
	"github.com/kmsd/kmsd/internal/keyring"
	"github.com/kmsd/kmsd/internal/metrics"
	"github.com/kmsd/kmsd/internal/store"
)

// The operations endpoints (docs/operations.md): /metrics for
// Prometheus, /healthz (the process answers) and /readyz (it can serve:
// store reachable, audit trail writable, root key loaded). They are not
// API routes, so they leave no audit record.

// opsHandler serves the operations endpoints; other requests go to next
// (nil: 404) untouched. It matches the three paths exactly rather than
// through http.ServeMux, which would redirect the API's uncleaned paths
// (a tag key "..", a "//").
func (s *Server) opsHandler(next http.Handler) http.Handler {
	mh := s.metrics.Handler()
	if next == nil {
		next = http.NotFoundHandler()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			next.ServeHTTP(w, r)
			return
		}
		switch r.URL.Path {
		case "/metrics":
			if !s.cfg.Metrics.AllowRemote && !fromLoopback(r) {
				http.Error(w, "metrics are served to loopback clients only (metrics.allow_remote)", http.StatusForbidden)
				return
			}
			mh.ServeHTTP(w, r)
		case "/healthz":
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"status":"ok"}` + "\n"))
		case "/readyz":
			s.serveReady(w, r)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

func fromLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	return err == nil && config.IsLoopback(host)
}

// pinger is a store that can say whether its database answers (the
// PostgreSQL store has it; SQLite is a local file).
type pinger interface {
	Ping(ctx context.Context) error
}

// readiness is the answer of /readyz.
type readiness struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

// serveReady answers 200 when every check passes, 503 otherwise, with
// each check's result.
func (s *Server) serveReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	rd := readiness{Status: "ready", Checks: map[string]string{}}
	fail := func(name, msg string) {
		rd.Status = "not ready"
		rd.Checks[name] = msg
	}
	// The store: Ping when it has one, else a read transaction.
	var err error
	if p, ok := s.store.(pinger); ok {
		err = p.Ping(ctx)
	} else {
		err = s.store.View(ctx, func(store.Tx) error { return nil })
	}
	if err != nil {
		fail("store", "unreachable")
	} else {
		rd.Checks["store"] = "ok"
	}
	switch {
	case s.Audit == nil:
		rd.Checks["audit"] = "off"
	case !s.Audit.Writable():
		fail("audit", "not writable: "+s.Audit.Failure())
	default:
		rd.Checks["audit"] = "ok"
	}
	if s.rootKeyOK() {
		rd.Checks["root_key"] = "ok"
	} else {
		fail("root_key", "not loaded")
	}
	status := http.StatusOK
	if rd.Status != "ready" {
		status = http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(rd)
}

// rootKeyOK reports whether the keyring seals and opens: the root key is
// loaded and usable.
func (s *Server) rootKeyOK() bool {
	if s.keyring == nil {
		return false
	}
	b := keyring.Binding{Purpose: "readiness-probe"}
	sealed, err := s.keyring.Seal(b, []byte("probe"))
	if err != nil {
		return false
	}
	got, err := s.keyring.Open(b, sealed)
	return err == nil && string(got) == "probe"
}

// countingStore counts transactions that failed in the store itself: an
// error that the callback did not return (begin, commit, busy).
type countingStore struct {
	store.Store
	m *metrics.Metrics
}

// Unwrap returns the store it counts, so that store.As finds the optional
// interfaces (cluster jobs, revisions, counters) of the backend.
func (c countingStore) Unwrap() store.Store { return c.Store }

func (c countingStore) View(ctx context.Context, fn func(store.Tx) error) error {
	return c.count(c.Store.View(ctx, c.wrap(fn)))
}

func (c countingStore) Update(ctx context.Context, fn func(store.Tx) error) error {
	return c.count(c.Store.Update(ctx, c.wrap(fn)))
}

// callbackErr marks an error as the callback's own.
type callbackErr struct{ err error }

func (c countingStore) wrap(fn func(store.Tx) error) func(store.Tx) error {
	return func(tx store.Tx) error {
		if err := fn(tx); err != nil {
			return &callbackErr{err}
		}
		return nil
	}
}

func (e *callbackErr) Error() string { return e.err.Error() }
func (e *callbackErr) Unwrap() error { return e.err }

func (c countingStore) count(err error) error {
	if err == nil {
		return nil
	}
	if ce, ok := err.(*callbackErr); ok {
		return ce.err
	}
	c.m.StoreError()
	return err
}
