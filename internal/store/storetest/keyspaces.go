package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kmsd/kmsd/internal/store"
)

// spaceID returns a new lower-case UUID for a key space, access point or
// key policy; ids of one fixture sort in the order they are made.
func (f *fixture) spaceID() string {
	return fmt.Sprintf("5a3c0e9d-1b2f-4c7a-8e6d-%012x", f.n.Add(1))
}

// try runs fn in an Update and returns its error.
func (f *fixture) try(t *testing.T, fn func(store.Tx) error) error {
	t.Helper()
	return f.s.Update(t.Context(), fn)
}

func testKeySpaces(t *testing.T, f *fixture) {
	a := f.account(t)
	p, q := f.project(t, a.ID), f.project(t, a.ID)
	at := t0.Add(time.Minute)
	var spaces []store.KeySpace
	for i := range 5 {
		ks := store.KeySpace{ProjectID: p.ID, ID: f.spaceID(), Name: fmt.Sprintf("space-%d", i), Type: "1", Description: "d", CreatedAt: at}
		spaces = append(spaces, ks)
	}
	createAll(t, f, store.Tx.CreateKeySpace, spaces...)
	other := store.KeySpace{ProjectID: q.ID, ID: f.spaceID(), Name: "space-0", Type: "1", CreatedAt: at}
	createAll(t, f, store.Tx.CreateKeySpace, other)

	t.Run("GetAndIsolation", func(t *testing.T) {
		var got store.KeySpace
		f.view(t, func(tx store.Tx) (err error) { got, err = tx.GetKeySpace(p.ID, spaces[1].ID); return err })
		if diff := cmp.Diff(spaces[1], got); diff != "" {
			t.Errorf("GetKeySpace (-want +got):\n%s", diff)
		}
		err := f.s.View(t.Context(), func(tx store.Tx) error { _, err := tx.GetKeySpace(p.ID, other.ID); return err })
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("another project's key space: got %v, want ErrNotFound", err)
		}
	})
	t.Run("Conflicts", func(t *testing.T) {
		dupName := store.KeySpace{ProjectID: p.ID, ID: f.spaceID(), Name: "space-0", Type: "1", CreatedAt: at}
		if err := f.try(t, func(tx store.Tx) error { return tx.CreateKeySpace(dupName) }); !errors.Is(err, store.ErrConflict) {
			t.Errorf("duplicate name: got %v, want ErrConflict", err)
		}
		dupID := spaces[0]
		dupID.Name = "fresh"
		if err := f.try(t, func(tx store.Tx) error { return tx.CreateKeySpace(dupID) }); !errors.Is(err, store.ErrConflict) {
			t.Errorf("duplicate id: got %v, want ErrConflict", err)
		}
		noProject := store.KeySpace{ProjectID: f.id(), ID: f.spaceID(), Name: "x", Type: "1", CreatedAt: at}
		if err := f.try(t, func(tx store.Tx) error { return tx.CreateKeySpace(noProject) }); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("missing project: got %v, want ErrNotFound", err)
		}
	})
	t.Run("Paging", func(t *testing.T) {
		var got []store.KeySpace
		after := ""
		for {
			var page []store.KeySpace
			f.view(t, func(tx store.Tx) (err error) { page, err = tx.ListKeySpaces(p.ID, after, 2); return err })
			if len(page) == 0 {
				break
			}
			got = append(got, page...)
			after = page[len(page)-1].ID
		}
		if diff := cmp.Diff(spaces, got); diff != "" {
			t.Errorf("ListKeySpaces over pages (-want +got):\n%s", diff)
		}
	})
	t.Run("AccessPointsAndPolicies", func(t *testing.T) {
		ks := spaces[2]
		ap := store.AccessPoint{ProjectID: p.ID, KeySpaceID: ks.ID, ID: f.spaceID(), Name: "ap", Type: 3, State: 1,
			PublicKey: []byte{0x30, 1}, SealedPrivateKey: []byte{9, 9}, CreatedBy: "u", CreatedAt: at, UpdatedAt: at}
		ap2 := store.AccessPoint{ProjectID: p.ID, KeySpaceID: ks.ID, ID: f.spaceID(), Name: "ecs", Type: 1, State: 1,
			Identity: "ecs-1", CreatedBy: "u", CreatedAt: at, UpdatedAt: at}
		createAll(t, f, store.Tx.CreateAccessPoint, ap, ap2)
		foreign := ap
		foreign.ID, foreign.KeySpaceID = f.spaceID(), other.ID
		if err := f.try(t, func(tx store.Tx) error { return tx.CreateAccessPoint(foreign) }); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("access point in another project's key space: got %v, want ErrNotFound", err)
		}
		ap.State, ap.SealedPrivateKey, ap.UpdatedAt = 0, nil, at.Add(time.Second)
		f.update(t, func(tx store.Tx) error { return tx.UpdateAccessPoint(ap) })
		var aps []store.AccessPoint
		f.view(t, func(tx store.Tx) (err error) { aps, err = tx.ListAccessPoints(p.ID, ks.ID, "", 0); return err })
		if diff := cmp.Diff([]store.AccessPoint{ap, ap2}, aps); diff != "" {
			t.Errorf("ListAccessPoints after UpdateAccessPoint (-want +got):\n%s", diff)
		}
		f.view(t, func(tx store.Tx) (err error) { aps, err = tx.ListAccessPoints(p.ID, ks.ID, ap.ID, 1); return err })
		if len(aps) != 1 || aps[0].ID != ap2.ID {
			t.Errorf("ListAccessPoints after %s: got %v, want only %s", ap.ID, aps, ap2.ID)
		}

		pol := store.KeyPolicy{ProjectID: p.ID, KeySpaceID: ks.ID, ID: f.spaceID(), Name: "pol", Document: []byte(`{"version":"1"}`),
			CreatedBy: "u", CreatedAt: at, UpdatedAt: at}
		createAll(t, f, store.Tx.CreateKeyPolicy, pol)
		dup := pol
		dup.ID = f.spaceID()
		if err := f.try(t, func(tx store.Tx) error { return tx.CreateKeyPolicy(dup) }); !errors.Is(err, store.ErrConflict) {
			t.Errorf("policy name taken in the key space: got %v, want ErrConflict", err)
		}
		pol.Document, pol.Description, pol.LastAccessAt = []byte(`{"version":"2"}`), "new", at.Add(time.Hour)
		f.update(t, func(tx store.Tx) error { return tx.UpdateKeyPolicy(pol) })
		var got store.KeyPolicy
		f.view(t, func(tx store.Tx) (err error) { got, err = tx.GetKeyPolicy(p.ID, pol.ID); return err })
		if diff := cmp.Diff(pol, got); diff != "" {
			t.Errorf("GetKeyPolicy after UpdateKeyPolicy (-want +got):\n%s", diff)
		}
		if err := f.s.View(t.Context(), func(tx store.Tx) error { _, err := tx.GetKeyPolicy(q.ID, pol.ID); return err }); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("policy from another project: got %v, want ErrNotFound", err)
		}
		var ps []store.KeyPolicy
		f.view(t, func(tx store.Tx) (err error) { ps, err = tx.ListKeyPolicies(p.ID, ks.ID, "", 10); return err })
		if len(ps) != 1 || ps[0].ID != pol.ID {
			t.Errorf("ListKeyPolicies: got %v, want [%s]", ps, pol.ID)
		}

		if err := f.try(t, func(tx store.Tx) error { return tx.DeleteKeySpace(p.ID, ks.ID) }); !errors.Is(err, store.ErrConflict) {
			t.Errorf("DeleteKeySpace with rows: got %v, want ErrConflict", err)
		}
		f.update(t, func(tx store.Tx) error {
			if err := tx.DeleteAccessPoint(p.ID, ap.ID); err != nil {
				return err
			}
			if err := tx.DeleteAccessPoint(p.ID, ap2.ID); err != nil {
				return err
			}
			return tx.DeleteKeyPolicy(p.ID, pol.ID)
		})
		for name, fn := range map[string]func(store.Tx) error{
			"DeleteAccessPoint again": func(tx store.Tx) error { return tx.DeleteAccessPoint(p.ID, ap.ID) },
			"DeleteKeyPolicy again":   func(tx store.Tx) error { return tx.DeleteKeyPolicy(p.ID, pol.ID) },
			"UpdateKeyPolicy deleted": func(tx store.Tx) error { return tx.UpdateKeyPolicy(pol) },
			"UpdateAccessPoint other": func(tx store.Tx) error { x := ap2; x.ProjectID = q.ID; return tx.UpdateAccessPoint(x) },
			"DeleteKeySpace other":    func(tx store.Tx) error { return tx.DeleteKeySpace(q.ID, ks.ID) },
		} {
			if err := f.try(t, fn); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s: got %v, want ErrNotFound", name, err)
			}
		}
		f.update(t, func(tx store.Tx) error { return tx.DeleteKeySpace(p.ID, ks.ID) })
		if err := f.s.View(t.Context(), func(tx store.Tx) error { _, err := tx.GetKeySpace(p.ID, ks.ID); return err }); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("deleted key space: got %v, want ErrNotFound", err)
		}
	})
}
