package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kmsd/kmsd/internal/store"
)

// seedProject creates an account and a project and returns a key of that
// project to copy.
func seedProject(t *testing.T, s *Store) store.Key {
	t.Helper()
	now := time.UnixMilli(time.Now().UnixMilli())
	a := store.Account{ID: strings.Repeat("a", 32), Name: "acme", CreatedAt: now}
	p := store.Project{ID: strings.Repeat("b", 32), AccountID: a.ID, Name: "cn-north-4", CreatedAt: now}
	err := s.Update(t.Context(), func(tx store.Tx) error {
		if err := tx.CreateAccount(a); err != nil {
			return err
		}
		return tx.CreateProject(p)
	})
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	return store.Key{
		ProjectID: p.ID, AccountID: a.ID, Spec: "AES_256", Usage: "ENCRYPT_DECRYPT",
		Origin: "kms", State: store.StateEnabled, PrimaryVersion: 1, CreatedAt: now,
	}
}

// TestGroupCommitIsolatesFailures runs many concurrent Update calls, so
// that they share transactions, where some write a key and then fail in
// one of several ways: a returned error, a statement that PostgreSQL
// rejects (a duplicate key id, which aborts the statement's savepoint), a
// panic, a context cancelled while the function runs. Each failed
// function's key must be gone, every other key committed, the counter
// exact, and the writes must have been grouped.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	s := open(t)
	k := seedProject(t, s)
	keyID := func(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i) }
	errFail := errors.New("fail on purpose")
	const n = 400
	type outcome int
	const (
		kept outcome = iota
		returned
		rejected
		panicking
		cancelled
	)
	want := func(i int) outcome {
		switch i % 8 {
		case 1:
			return returned
		case 3:
			return rejected
		case 5:
			return panicking
		case 7:
			return cancelled
		}
		return kept
	}
	g0, w0 := s.CommitGroups()
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			defer func() {
				if v := recover(); v != nil {
					errs[i] = fmt.Errorf("panic: %v", v)
				}
			}()
			errs[i] = s.Update(ctx, func(tx store.Tx) error {
				nk := k
				nk.KeyID = keyID(i)
				if err := tx.CreateKey(nk); err != nil {
					return err
				}
				switch want(i) {
				case returned:
					return errFail
				case rejected:
					// The same id again: PostgreSQL rejects the insert.
					if err := tx.CreateKey(nk); !errors.Is(err, store.ErrConflict) {
						return fmt.Errorf("second CreateKey: got %v, want ErrConflict", err)
					}
					return errFail
				case panicking:
					panic("boom")
				case cancelled:
					// The statements of the others go on; this one
					// still commits, as its function returned nil.
					cancel()
					return tx.PutMeta("cancelled-"+nk.KeyID, []byte("x"))
				}
				return nil
			})
		})
	}
	wg.Wait()
	committed := 0
	err := s.View(t.Context(), func(tx store.Tx) error {
		for i := range n {
			_, err := tx.GetKey(k.ProjectID, keyID(i))
			switch want(i) {
			case returned, rejected:
				if !errors.Is(errs[i], errFail) || !errors.Is(err, store.ErrNotFound) {
					t.Errorf("key %d: Update %v, GetKey %v; want the failure and ErrNotFound", i, errs[i], err)
				}
			case panicking:
				if errs[i] == nil || errs[i].Error() != "panic: boom" || !errors.Is(err, store.ErrNotFound) {
					t.Errorf("key %d: Update %v, GetKey %v; want the panic and ErrNotFound", i, errs[i], err)
				}
			default:
				if errs[i] != nil || err != nil {
					t.Errorf("key %d: Update %v, GetKey %v; want both nil", i, errs[i], err)
				} else {
					committed++
				}
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
	if g, w := s.CommitGroups(); w-w0 < n || g-g0 >= w-w0 {
		t.Errorf("CommitGroups: %d groups for %d writes; want fewer groups than writes (%d)", g-g0, w-w0, n)
	}
}

// TestGroupCommitAfterClose fails instead of hanging.
func TestGroupCommitAfterClose(t *testing.T) {
	s := open(t)
	s.Close()
	if err := s.Update(t.Context(), func(tx store.Tx) error { return nil }); err == nil {
		t.Error("Update after Close: got no error")
	}
}
