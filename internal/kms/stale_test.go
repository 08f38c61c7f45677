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

	// A taken alias is still reported as such.
	f.create(t, "taken", "AES_256")
	racing.stale = 0
	if _, err := svc.UpdateKeyAlias(t.Context(), project, k.KeyID, "taken"); !errors.Is(err, kms.ErrDuplicateAlias) {
		t.Fatalf("got %v, want ErrDuplicateAlias", err)
	}
}
