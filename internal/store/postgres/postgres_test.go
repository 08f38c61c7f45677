package postgres

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kmsd/kmsd/internal/store"
	"github.com/kmsd/kmsd/internal/store/postgres/pgtest"
	"github.com/kmsd/kmsd/internal/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// open opens a store on a new database and closes it when tb ends.
func open(tb testing.TB) *Store {
	tb.Helper()
	s, err := Open(tb.Context(), pgtest.NewDatabase(tb), Options{})
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t) })
}

// TestMigrateOnce opens one database from several goroutines at once, as
// nodes starting together do: every Open succeeds and each migration is
// recorded once.
func TestMigrateOnce(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	const n = 4
	errs := make(chan error, n)
	stores := make(chan *Store, n)
	for range n {
		go func() {
			s, err := Open(t.Context(), dsn, Options{})
			errs <- err
			stores <- s
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatalf("Open: %v", err)
		}
		s := <-stores
		t.Cleanup(func() { s.Close() })
	}
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	st, err := Open(t.Context(), dsn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var count, distinct int
	err = st.pool.QueryRow(t.Context(), "SELECT COUNT(*), COUNT(DISTINCT version) FROM schema_migrations").Scan(&count, &distinct)
	if err != nil {
		t.Fatal(err)
	}
	if count != len(ms) || distinct != len(ms) {
		t.Errorf("schema_migrations holds %d rows (%d versions), want %d", count, distinct, len(ms))
	}
}

// TestSchemaTooNew checks that a node refuses a database migrated by a
// newer kmsd, with an error that says so.
func TestSchemaTooNew(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	s, err := Open(t.Context(), dsn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(t.Context(), "INSERT INTO schema_migrations (version, applied_at) VALUES (999, 0)"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = Open(t.Context(), dsn, Options{})
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("Open: got %v, want ErrSchemaTooNew", err)
	}
	if !strings.Contains(err.Error(), "version 999") {
		t.Errorf("error %q does not name the database's version", err)
	}
}

// TestDSNNotInErrors checks that a DSN with a password never appears in
// Open's errors.
func TestDSNNotInErrors(t *testing.T) {
	for _, dsn := range []string{
		"postgres://kmsd:s3cr3t-pw@127.0.0.1:1/kmsd?connect_timeout=1",
		"host=127.0.0.1 port=1 user=kmsd password=s3cr3t-pw connect_timeout=1",
		"postgres://kmsd:s3cr3t-pw@127.0.0.1:1/kmsd?bogus_option=%zz",
	} {
		_, err := Open(t.Context(), dsn, Options{})
		if err == nil {
			t.Fatalf("Open(%q) succeeded", dsn)
		}
		if strings.Contains(err.Error(), "s3cr3t-pw") {
			t.Errorf("Open error contains the password: %v", err)
		}
	}
}

// TestQuotaAcrossNodes runs quota-checked key creations from two stores
// (two nodes) on one database at once: the counter stays exact and the
// quota is never exceeded.
func TestQuotaAcrossNodes(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	nodes := make([]*Store, 2)
	for i := range nodes {
		s, err := Open(t.Context(), dsn, Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		nodes[i] = s
	}
	now := time.UnixMilli(time.Now().UnixMilli())
	a := store.Account{ID: strings.Repeat("a", 32), Name: "acme", CreatedAt: now}
	p := store.Project{ID: strings.Repeat("b", 32), AccountID: a.ID, Name: "cn-north-4", CreatedAt: now}
	err := nodes[0].Update(t.Context(), func(tx store.Tx) error {
		if err := tx.CreateAccount(a); err != nil {
			return err
		}
		return tx.CreateProject(p)
	})
	if err != nil {
		t.Fatal(err)
	}
	const quota, writers, tries = 25, 8, 6
	var created atomic.Int64
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			s := nodes[w%len(nodes)]
			for i := range tries {
				var made bool
				err := s.Update(t.Context(), func(tx store.Tx) error {
					made = false
					// Half the writers read the counts with the project
					// (ProjectKeyCounts, as CreateKey does): the same lock.
					var c store.KeyCounts
					var err error
					if w%2 == 1 {
						_, c, err = tx.(store.ProjectKeyCounter).ProjectKeyCounts(p.ID)
					} else {
						c, err = tx.KeyCounts(p.ID)
					}
					if err != nil {
						return err
					}
					if c.Custom >= quota {
						return nil
					}
					made = true
					return tx.CreateKey(store.Key{
						ProjectID: p.ID, KeyID: fmt.Sprintf("0b5e4a1c-7d2f-4e3a-9c1b-%06x%06x", w, i),
						AccountID: a.ID, Spec: "AES_256", Usage: "ENCRYPT_DECRYPT", Origin: "kms",
						State: store.StateEnabled, PrimaryVersion: 1, CreatedAt: now,
					})
				})
				if err != nil {
					t.Errorf("Update: %v", err)
					return
				}
				if made {
					created.Add(1)
				}
			}
		})
	}
	wg.Wait()
	var c store.KeyCounts
	var total int
	err = nodes[1].View(t.Context(), func(tx store.Tx) (err error) {
		if c, err = tx.KeyCounts(p.ID); err != nil {
			return err
		}
		_, total, err = tx.ListKeys(p.ID, store.KeyFilter{}, 0, 1)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Custom != quota || total != quota || created.Load() != quota {
		t.Errorf("counted %d, listed %d, created %d keys; want %d each", c.Custom, total, created.Load(), quota)
	}
}

// recorder is a Changes that records what it is told.
type recorder struct {
	mu      sync.Mutex
	keys    []string
	ids     int
	flushes int
	changed chan struct{}
}

func (r *recorder) note(f func()) {
	r.mu.Lock()
	f()
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default:
	}
}
func (r *recorder) KeyChanged(p, k string) { r.note(func() { r.keys = append(r.keys, p+"/"+k) }) }
func (r *recorder) IdentityChanged()       { r.note(func() { r.ids++ }) }
func (r *recorder) Flush()                 { r.note(func() { r.flushes++ }) }

// waitFor polls cond (under r.mu) until it holds, for at most 5 seconds.
func (r *recorder) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		r.mu.Lock()
		ok := cond()
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.changed:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestWatch checks the change notifications: a committed key change and an
// identity change are reported, and when the listening connection is
// killed the watcher flushes and listens again.
func TestWatch(t *testing.T) {
	s := open(t)
	r := &recorder{changed: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { s.Watch(ctx, r, nil); close(done) }()
	defer func() { cancel(); <-done }()
	r.waitFor(t, "the first flush", func() bool { return r.flushes >= 1 })

	now := time.UnixMilli(time.Now().UnixMilli())
	a := store.Account{ID: strings.Repeat("a", 32), Name: "acme", CreatedAt: now}
	p := store.Project{ID: strings.Repeat("b", 32), AccountID: a.ID, Name: "cn-north-4", CreatedAt: now}
	k := store.Key{ProjectID: p.ID, KeyID: "0b5e4a1c-7d2f-4e3a-9c1b-000000000001", AccountID: a.ID,
		Spec: "AES_256", Usage: "ENCRYPT_DECRYPT", Origin: "kms", State: store.StateEnabled, CreatedAt: now}
	err := s.Update(t.Context(), func(tx store.Tx) error {
		if err := tx.CreateAccount(a); err != nil {
			return err
		}
		if err := tx.CreateProject(p); err != nil {
			return err
		}
		return tx.CreateKey(k)
	})
	if err != nil {
		t.Fatal(err)
	}
	k.State = store.StateDisabled
	if err := s.Update(t.Context(), func(tx store.Tx) error { return tx.UpdateKey(k) }); err != nil {
		t.Fatal(err)
	}
	want := p.ID + "/" + k.KeyID
	r.waitFor(t, "the key change", func() bool { return len(r.keys) == 1 && r.keys[0] == want })
	if err := s.Update(t.Context(), func(tx store.Tx) error { return tx.UpdateProject(p) }); err != nil {
		t.Fatal(err)
	}
	r.waitFor(t, "the identity change", func() bool { return r.ids == 1 })

	r.mu.Lock()
	before := r.flushes
	r.mu.Unlock()
	var killed int
	err = s.pool.QueryRow(t.Context(), "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()", listenerName).Scan(&killed)
	if err != nil || killed != 1 {
		t.Fatalf("terminating the listener: %d, %v", killed, err)
	}
	// One flush when the connection drops, one when it listens again.
	r.waitFor(t, "the flushes of a reconnect", func() bool { return r.flushes >= before+2 })
	k.Revision++
	k.State = store.StateEnabled
	if err := s.Update(t.Context(), func(tx store.Tx) error { return tx.UpdateKey(k) }); err != nil {
		t.Fatal(err)
	}
	r.waitFor(t, "a key change after the reconnect", func() bool { return len(r.keys) == 2 })
}

// TestExclusive checks that a job runs on one store at a time.
func TestExclusive(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	var nodes [2]*Store
	for i := range nodes {
		s, err := Open(t.Context(), dsn, Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		nodes[i] = s
	}
	ran, err := nodes[0].Exclusive(t.Context(), "deletion", func(ctx context.Context) error {
		other, err := nodes[1].Exclusive(ctx, "deletion", func(context.Context) error { return nil })
		if err != nil || other {
			return fmt.Errorf("second node: ran %v, err %v; want false, nil", other, err)
		}
		other, err = nodes[1].Exclusive(ctx, "rotation", func(context.Context) error { return nil })
		if err != nil || !other {
			return fmt.Errorf("another job: ran %v, err %v; want true, nil", other, err)
		}
		return nil
	})
	if err != nil || !ran {
		t.Fatalf("first node: ran %v, err %v", ran, err)
	}
	ran, err = nodes[1].Exclusive(t.Context(), "deletion", func(context.Context) error { return nil })
	if err != nil || !ran {
		t.Fatalf("after the first: ran %v, err %v", ran, err)
	}
}

// TestKeyCountReader checks that the counters read outside a transaction
// are those a View reads.
func TestKeyCountReader(t *testing.T) {
	s := open(t)
	now := time.UnixMilli(time.Now().UnixMilli())
	a := store.Account{ID: strings.Repeat("c", 32), Name: "acme", CreatedAt: now}
	p := store.Project{ID: strings.Repeat("d", 32), AccountID: a.ID, Name: "cn-north-4", CreatedAt: now}
	err := s.Update(t.Context(), func(tx store.Tx) error {
		if err := tx.CreateAccount(a); err != nil {
			return err
		}
		if err := tx.CreateProject(p); err != nil {
			return err
		}
		for i, def := range []bool{false, false, true} {
			k := store.Key{ProjectID: p.ID, KeyID: fmt.Sprintf("0b5e4a1c-7d2f-4e3a-9c1b-%012x", i), AccountID: a.ID,
				Spec: "AES_256", Usage: "ENCRYPT_DECRYPT", Origin: "kms", State: store.StateEnabled, Default: def, CreatedAt: now}
			if err := tx.CreateKey(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.KeyCounts(t.Context(), p.ID)
	if err != nil || c != (store.KeyCounts{Custom: 2, Default: 1}) {
		t.Errorf("KeyCounts = %+v, %v; want 2 custom, 1 default", c, err)
	}
	if _, err := s.KeyCounts(t.Context(), strings.Repeat("e", 32)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("KeyCounts of a missing project: got %v, want ErrNotFound", err)
	}
	for _, run := range []func(context.Context, func(store.Tx) error) error{s.View, s.Update} {
		err := run(t.Context(), func(st store.Tx) error {
			got, c, err := st.(store.ProjectKeyCounter).ProjectKeyCounts(p.ID)
			if err != nil || got.ID != p.ID || got.Name != p.Name || got.AccountID != p.AccountID || !got.CreatedAt.Equal(p.CreatedAt) || c != (store.KeyCounts{Custom: 2, Default: 1}) {
				t.Errorf("ProjectKeyCounts = %+v, %+v, %v; want %+v, 2 custom, 1 default", got, c, err, p)
			}
			if _, _, err := st.(store.ProjectKeyCounter).ProjectKeyCounts(strings.Repeat("e", 32)); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("ProjectKeyCounts of a missing project: got %v, want ErrNotFound", err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
