package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kmsd/kmsd/internal/store"
)

// RunReseal runs the conformance tests of the optional store.Resealer
// (root key rotation) against the backend that open creates; open is as
// for [Run], and its stores must implement store.Resealer.
func RunReseal(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("Resealer", func(t *testing.T) {
		t.Parallel()
		testResealer(t, &fixture{s: open(t)})
	})
}

func testResealer(t *testing.T, f *fixture) {
	rs, ok := f.s.(store.Resealer)
	if !ok {
		t.Fatalf("%T does not implement store.Resealer", f.s)
	}
	ctx := t.Context()
	a := f.account(t)
	u := store.User{ID: f.id(), AccountID: a.ID, Name: "alice", CreatedAt: t0}
	createAll(t, f, store.Tx.CreateUser, u)
	var want []store.SealedItem
	var aks []store.AccessKey
	for i := range 3 {
		ak := store.AccessKey{AK: fmt.Sprintf("HPUAKMSDRESEAL%06d", i), UserID: u.ID, SealedSK: []byte(fmt.Sprintf("sk-%d", i)), CreatedAt: t0}
		aks = append(aks, ak)
		want = append(want, store.SealedItem{Kind: store.SealedAccessKey, ID: ak.AK, Sealed: ak.SealedSK})
	}
	createAll(t, f, store.Tx.CreateAccessKey, aks...)
	// Keys in two projects, several versions each: more items than one
	// page, across projects.
	for range 2 {
		p := f.project(t, a.ID)
		for i := range 3 {
			k := f.key(p, i)
			k.Origin = store.OriginExternal
			f.createKeys(t, k)
			for v := 1; v <= 2; v++ {
				kv := store.KeyVersion{ProjectID: p.ID, KeyID: k.KeyID, Version: v, Sealed: []byte(fmt.Sprintf("m-%s-%d", k.KeyID, v)), CreatedAt: t0}
				createAll(t, f, store.Tx.PutKeyVersion, kv)
				want = append(want, store.SealedItem{Kind: store.SealedKeyMaterial, ProjectID: p.ID, KeyID: k.KeyID, Version: v, Sealed: kv.Sealed})
			}
			tok := store.ImportToken{ProjectID: p.ID, KeyID: k.KeyID, TokenID: f.id(), WrappingAlgorithm: "RSAES_OAEP_SHA_256", WrappingKeySpec: "RSA_2048",
				SealedPrivateKey: []byte("w-" + k.KeyID), ExpiresAt: t0.Add(time.Hour), CreatedAt: t0}
			createAll(t, f, store.Tx.PutImportToken, tok)
			want = append(want, store.SealedItem{Kind: store.SealedImportToken, ProjectID: p.ID, KeyID: k.KeyID, ID: tok.TokenID, Sealed: tok.SealedPrivateKey})
		}
		ks := store.KeySpace{ProjectID: p.ID, ID: f.spaceID(), Name: "space", Type: "1", CreatedAt: t0}
		createAll(t, f, store.Tx.CreateKeySpace, ks)
		ap := store.AccessPoint{ProjectID: p.ID, KeySpaceID: ks.ID, ID: f.spaceID(), Name: "ap", Type: 3, State: 1,
			PublicKey: []byte{0x30, 1}, SealedPrivateKey: []byte("ap-" + p.ID), CreatedBy: "u", CreatedAt: t0, UpdatedAt: t0}
		downloaded := store.AccessPoint{ProjectID: p.ID, KeySpaceID: ks.ID, ID: f.spaceID(), Name: "ecs", Type: 1, State: 1,
			Identity: "ecs-1", CreatedBy: "u", CreatedAt: t0, UpdatedAt: t0}
		createAll(t, f, store.Tx.CreateAccessPoint, ap, downloaded)
		want = append(want, store.SealedItem{Kind: store.SealedAccessPoint, ProjectID: p.ID, ID: ap.ID, Sealed: ap.SealedPrivateKey})
	}

	// list walks every kind in pages of two.
	list := func(t *testing.T) []store.SealedItem {
		t.Helper()
		var got []store.SealedItem
		for _, kind := range store.SealedKinds {
			var after store.SealedItem
			for pages := 0; ; pages++ {
				if pages > 100 {
					t.Fatalf("ListSealed %s does not end", kind)
				}
				page, err := rs.ListSealed(ctx, kind, after, 2)
				if err != nil {
					t.Fatalf("ListSealed %s: %v", kind, err)
				}
				if len(page) > 2 {
					t.Fatalf("ListSealed %s: %d items, limit 2", kind, len(page))
				}
				for _, it := range page {
					if it.Kind != kind {
						t.Errorf("ListSealed %s returned an item of kind %s", kind, it.Kind)
					}
				}
				got = append(got, page...)
				if len(page) < 2 {
					break
				}
				after = page[len(page)-1]
			}
		}
		return got
	}
	key := func(it store.SealedItem) string {
		return fmt.Sprintf("%s/%s/%s/%d/%s", it.Kind, it.ProjectID, it.KeyID, it.Version, it.ID)
	}
	sortItems := func(xs []store.SealedItem) []store.SealedItem {
		xs = slices.Clone(xs)
		slices.SortFunc(xs, func(a, b store.SealedItem) int { return strings.Compare(key(a), key(b)) })
		return xs
	}
	got := list(t)
	if diff := cmp.Diff(sortItems(want), sortItems(got)); diff != "" {
		t.Fatalf("ListSealed over pages (-want +got):\n%s", diff)
	}
	if n, err := rs.CountSealed(ctx); err != nil || n != len(want) {
		t.Errorf("CountSealed: got %d, %v; want %d", n, err, len(want))
	}

	// Replace every item; a stale compare value is skipped.
	var reps []store.SealedReplacement
	for _, it := range got {
		reps = append(reps, store.SealedReplacement{Item: it, New: append([]byte("new-"), it.Sealed...)})
	}
	stale := got[0]
	stale.Sealed = []byte("not what the row holds")
	reps = append(reps, store.SealedReplacement{Item: stale, New: []byte("must not be written")})
	gone := got[0]
	gone.ID, gone.ProjectID, gone.KeyID = "missing", "missing", "missing"
	reps = append(reps, store.SealedReplacement{Item: gone, New: []byte("must not be written")})
	n, err := rs.ReplaceSealed(ctx, reps)
	if err != nil {
		t.Fatalf("ReplaceSealed: %v", err)
	}
	if n != len(got) {
		t.Errorf("ReplaceSealed: replaced %d, want %d", n, len(got))
	}
	again := list(t)
	for i := range want {
		want[i].Sealed = append([]byte("new-"), want[i].Sealed...)
	}
	if diff := cmp.Diff(sortItems(want), sortItems(again)); diff != "" {
		t.Errorf("after ReplaceSealed (-want +got):\n%s", diff)
	}
	// The typed reads see the new blobs.
	f.view(t, func(tx store.Tx) error {
		k, err := tx.GetAccessKey(aks[0].AK)
		if err != nil {
			return err
		}
		if string(k.SealedSK) != "new-sk-0" {
			t.Errorf("GetAccessKey after ReplaceSealed: SealedSK %q, want new-sk-0", k.SealedSK)
		}
		return nil
	})
	// Replacing with the old compare value again replaces nothing.
	if n, err := rs.ReplaceSealed(ctx, reps[:1]); err != nil || n != 0 {
		t.Errorf("ReplaceSealed with a stale blob: got %d, %v; want 0, nil", n, err)
	}
	if _, err := rs.ListSealed(ctx, "no-such-kind", store.SealedItem{}, 1); err == nil {
		t.Error("ListSealed of an unknown kind: got nil error")
	}
}
