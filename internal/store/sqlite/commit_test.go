package sqlite

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/kmsd/kmsd/internal/store"
)

// TestGroupCommitIsolatesFailures runs many concurrent Update calls, so
// that they share transactions, where every third one writes a key and
// then fails: its key must be gone, every other key committed, and the
// counters exact.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "kmsd.db"))
	k := seed(t, s)
	errFail := errors.New("fail on purpose")
	const n = 300
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			nk := k
			nk.KeyID = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
			errs[i] = s.Update(t.Context(), func(tx store.Tx) error {
				if err := tx.CreateKey(nk); err != nil {
					return err
				}
				if i%3 == 0 {
					return errFail
				}
				return nil
			})
		})
	}
	wg.Wait()
	committed := 1 // the seed key
	err := s.View(t.Context(), func(tx store.Tx) error {
		for i := range n {
			_, err := tx.GetKey(k.ProjectID, fmt.Sprintf("00000000-0000-4000-8000-%012d", i))
			switch {
			case i%3 == 0:
				if !errors.Is(errs[i], errFail) || !errors.Is(err, store.ErrNotFound) {
					t.Errorf("key %d: Update %v, GetKey %v; want the failure and ErrNotFound", i, errs[i], err)
				}
			case errs[i] != nil || err != nil:
				t.Errorf("key %d: Update %v, GetKey %v; want both nil", i, errs[i], err)
			default:
				committed++
			}
		}
		c, err := tx.KeyCounts(k.ProjectID)
		if err == nil && c.Custom != committed {
			t.Errorf("KeyCounts: got %d, want %d", c.Custom, committed)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestUpdatePanicReachesCaller checks that a panic of an update function
// is raised in its caller and leaves the store working.
func TestUpdatePanicReachesCaller(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "kmsd.db"))
	func() {
		defer func() {
			if v := recover(); v != "boom" {
				t.Errorf("recovered %v, want boom", v)
			}
		}()
		_ = s.Update(t.Context(), func(tx store.Tx) error {
			if err := tx.PutMeta("lost", []byte("x")); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	if err := s.Update(t.Context(), func(tx store.Tx) error { return tx.PutMeta("kept", []byte("y")) }); err != nil {
		t.Fatal(err)
	}
	err := s.View(t.Context(), func(tx store.Tx) error {
		if _, err := tx.GetMeta("lost"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetMeta of the panicked write: got %v, want ErrNotFound", err)
		}
		_, err := tx.GetMeta("kept")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestUpdateAfterClose fails instead of hanging.
func TestUpdateAfterClose(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "kmsd.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(t.Context(), func(tx store.Tx) error { return nil }); err == nil {
		t.Error("Update after Close: got no error")
	}
}
