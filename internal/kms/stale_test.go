package kms_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/kmsd/kmsd/internal/kms"
	"github.com/kmsd/kmsd/internal/store"
)

// racingStore makes the first n UpdateKey calls fail as if another writer
// had changed the key since it was read, as a backend that does not
// serialize transactions (PostgreSQL at read committed) can.
type racingStore struct {
	store.Store
	stale int
}

type racingTx struct {
	store.Tx
	s *racingStore
}

func (s *racingStore) Update(ctx context.Context, fn func(store.Tx) error) error {
	return s.Store.Update(ctx, func(tx store.Tx) error { return fn(racingTx{tx, s}) })
}

func (tx racingTx) UpdateKey(k store.Key) error {
	if tx.s.stale > 0 {
		tx.s.stale--
		return fmt.Errorf("racing: %w (%w)", store.ErrStale, store.ErrConflict)
	}
	return tx.Tx.UpdateKey(k)
}

func TestModifyKeyRetriesStaleRevision(t *testing.T) {
	f := newFixture(t, "", 0)
	k := f.create(t, "stale-retry", "AES_256")
	racing := &racingStore{Store: f.st, stale: 2}
	svc := kms.New(racing, f.kr, kms.Config{Region: "cn-north-4"}, nil)

	got, err := svc.UpdateKeyDescription(t.Context(), project, k.KeyID, "after two lost races")
	if err != nil {
		t.Fatalf("UpdateKeyDescription after two stale revisions: %v", err)
	}
	if got.Description != "after two lost races" {
		t.Errorf("description %q, want the new one", got.Description)
	}
	if racing.stale != 0 {
		t.Errorf("%d stale answers left, want all consumed", racing.stale)
	}

	// A writer that keeps losing gives up with the store's error, and
	// never reports the race as a taken alias (KMS.1104).
	racing.stale = 100
	_, err = svc.UpdateKeyDescription(t.Context(), project, k.KeyID, "never")
	if !errors.Is(err, store.ErrStale) || errors.Is(err, kms.ErrDuplicateAlias) {
		t.Fatalf("got %v, want a stale-revision error", err)
	}
	if racing.stale <= 0 || racing.stale >= 100 {
		t.Errorf("retries left %d stale answers: want a bounded number of attempts", racing.stale)
	}

	// Every write of the service retries, not only modifyKey's: a manual
	// rotation that loses two races still rotates, once.
	racing.stale = 2
	rotated, err := svc.RotateKey(t.Context(), project, k.KeyID)
	if err != nil {
		t.Fatalf("RotateKey after two stale revisions: %v", err)
	}
	if rotated.PrimaryVersion != k.PrimaryVersion+1 {
		t.Errorf("primary version %d after one rotation, want %d", rotated.PrimaryVersion, k.PrimaryVersion+1)
	}

	// A taken alias is still reported as such.
	f.create(t, "taken", "AES_256")
	racing.stale = 0
	if _, err := svc.UpdateKeyAlias(t.Context(), project, k.KeyID, "taken"); !errors.Is(err, kms.ErrDuplicateAlias) {
		t.Fatalf("got %v, want ErrDuplicateAlias", err)
	}
}

// changingStore runs change after a read transaction has finished and
// before its reader goes on: a change that commits and invalidates the key
// while a request that read the old state is about to cache it.
type changingStore struct {
	store.Store
	change func()
}

func (s *changingStore) View(ctx context.Context, fn func(store.Tx) error) error {
	err := s.Store.View(ctx, fn)
	if c := s.change; c != nil {
		s.change = nil
		c()
	}
	return err
}

func TestCacheNeverKeepsStateReadBeforeAChange(t *testing.T) {
	f := newFixture(t, "", 0)
	k := f.create(t, "cache-race", "AES_256")
	st := &changingStore{Store: f.st}
	svc := kms.New(st, f.kr, kms.Config{Region: "cn-north-4"}, nil)
	st.change = func() {
		if _, err := svc.DisableKey(t.Context(), project, k.KeyID); err != nil {
			t.Errorf("DisableKey: %v", err)
		}
	}
	// This request read the key while it was enabled; the disable landed
	// before it could cache what it read.
	if _, err := svc.Encrypt(t.Context(), project, k.KeyID, []byte("x"), nil, ""); err != nil {
		t.Fatalf("first encrypt (read before the disable): %v", err)
	}
	if _, err := svc.Encrypt(t.Context(), project, k.KeyID, []byte("x"), nil, ""); !errors.Is(err, kms.ErrKeyDisabled) {
		t.Fatalf("encrypt after disable-key: got %v, want ErrKeyDisabled", err)
	}
}
