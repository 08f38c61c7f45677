package sqlite

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/kmsd/kmsd/internal/store"
)

// TestKeyCountsExactAcrossStores opens two stores on one database file,
// as two kmsd processes (nodes) on one database, and checks that the
// counters one serves from memory follow every commit of the other, and
// of its own writer, at once.
func TestKeyCountsExactAcrossStores(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kmsd.db")
	a := open(t, path)
	k := seed(t, a)
	b := open(t, path)
	want := func(s *Store, custom int) {
		t.Helper()
		for range 2 { // the second call is served from memory
			got, err := s.KeyCounts(t.Context(), k.ProjectID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Custom != custom {
				t.Fatalf("KeyCounts: got %d custom keys, want %d", got.Custom, custom)
			}
		}
	}
	want(a, 1)
	want(b, 1)
	for i := range 20 {
		writer, reader := b, a
		if i%2 == 1 {
			writer, reader = a, b
		}
		nk := k
		nk.KeyID = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		if err := writer.Update(t.Context(), func(tx store.Tx) error { return tx.CreateKey(nk) }); err != nil {
			t.Fatal(err)
		}
		want(reader, 2+i)
		want(writer, 2+i)
	}
	// A commit of another row (a deletion elsewhere) leaves the count
	// exact too.
	if err := b.Update(t.Context(), func(tx store.Tx) error { return tx.DeleteKey(k.ProjectID, k.KeyID) }); err != nil {
		t.Fatal(err)
	}
	want(a, 20)
	if _, err := a.KeyCounts(t.Context(), "no-such-project"); err == nil {
		t.Error("KeyCounts of a missing project: got no error")
	}
}

// TestKeyCountsConcurrentWriter reads the counters from one store while
// another creates keys: every answer lies between the commits acknowledged
// before the call and those started before it returned, and the last one
// is exact.
func TestKeyCountsConcurrentWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kmsd.db")
	a := open(t, path)
	k := seed(t, a)
	b := open(t, path)
	const n = 200
	var mu sync.Mutex
	started, acked := 1, 1
	done := make(chan error)
	go func() {
		for i := range n {
			nk := k
			nk.KeyID = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
			mu.Lock()
			started++
			mu.Unlock()
			if err := b.Update(t.Context(), func(tx store.Tx) error { return tx.CreateKey(nk) }); err != nil {
				done <- err
				return
			}
			mu.Lock()
			acked++
			mu.Unlock()
		}
		done <- nil
	}()
	for finished := false; !finished; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			finished = true
		default:
		}
		mu.Lock()
		lo := acked
		mu.Unlock()
		got, err := a.KeyCounts(t.Context(), k.ProjectID)
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		hi := started
		mu.Unlock()
		if got.Custom < lo || got.Custom > hi {
			t.Fatalf("KeyCounts: got %d, want %d–%d", got.Custom, lo, hi)
		}
	}
	if got, err := a.KeyCounts(t.Context(), k.ProjectID); err != nil || got.Custom != n+1 {
		t.Fatalf("KeyCounts at the end: got %d (%v), want %d", got.Custom, err, n+1)
	}
}

// TestKeyCountsWithoutReadPool holds every connection of the read pool in
// open View transactions and checks that KeyCounts still answers: it does
// not wait for the pool.
func TestKeyCountsWithoutReadPool(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "kmsd.db"))
	k := seed(t, s)
	release := make(chan struct{})
	var held, wg sync.WaitGroup
	n := s.r.Stats().MaxOpenConnections
	held.Add(n)
	for range n {
		wg.Go(func() {
			_ = s.View(t.Context(), func(tx store.Tx) error {
				if _, err := tx.GetKey(k.ProjectID, k.KeyID); err != nil {
					return err
				}
				held.Done()
				<-release
				return nil
			})
		})
	}
	held.Wait()
	defer wg.Wait()
	defer close(release)
	res := make(chan error, 1)
	go func() {
		_, err := s.KeyCounts(t.Context(), k.ProjectID)
		res <- err
	}()
	select {
	case err := <-res:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("KeyCounts waited for the read pool")
	}
}
