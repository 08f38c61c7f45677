package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/kmsd/kmsd/internal/store"
)

// testMaterialFingerprint checks Key.MaterialFingerprint: it is stored by
// CreateKey and UpdateKey, read back by every query that returns keys,
// survives DeleteKeyVersions (the deletion of imported material) and goes
// with DeleteKey.
func testMaterialFingerprint(t *testing.T, f *fixture) {
	a := f.account(t)
	p := f.project(t, a.ID)
	fp := bytes.Repeat([]byte{0xa5}, 32)
	other := bytes.Repeat([]byte{0x5a}, 32)

	external := func(i int) store.Key {
		k := f.key(p, i)
		k.Origin = store.OriginExternal
		return k
	}

	t.Run("CreateKey", func(t *testing.T) {
		k := external(0)
		k.MaterialFingerprint = fp
		f.createKeys(t, k)
		diff(t, "GetKey", f.getKey(t, p.ID, k.KeyID), k)
	})

	t.Run("None", func(t *testing.T) {
		k := external(1)
		f.createKeys(t, k)
		if got := f.getKey(t, p.ID, k.KeyID).MaterialFingerprint; got != nil {
			t.Errorf("key without a fingerprint: got %x, want nil", got)
		}
	})

	t.Run("UpdateKey", func(t *testing.T) {
		k := external(2)
		k.State, k.PrimaryVersion = store.StatePendingImport, 0
		f.createKeys(t, k)
		k = f.getKey(t, p.ID, k.KeyID)

		// The first import sets the fingerprint with the material.
		imported := k
		imported.State, imported.PrimaryVersion, imported.MaterialFingerprint = store.StateEnabled, 1, fp
		v := store.KeyVersion{ProjectID: p.ID, KeyID: k.KeyID, Version: 1, Sealed: []byte("sealed"), CreatedAt: t0}
		f.update(t, func(tx store.Tx) error {
			if err := tx.PutKeyVersion(v); err != nil {
				return err
			}
			return tx.UpdateKey(imported)
		})
		want := imported
		want.Revision++
		diff(t, "GetKey after the import", f.getKey(t, p.ID, k.KeyID), want)

		// Deleting the material leaves the fingerprint.
		f.update(t, func(tx store.Tx) error {
			cur, err := tx.GetKey(p.ID, k.KeyID)
			if err != nil {
				return err
			}
			if err := tx.DeleteKeyVersions(p.ID, k.KeyID); err != nil {
				return err
			}
			cur.State, cur.PrimaryVersion = store.StatePendingImport, 0
			return tx.UpdateKey(cur)
		})
		got := f.getKey(t, p.ID, k.KeyID)
		if !bytes.Equal(got.MaterialFingerprint, fp) {
			t.Errorf("fingerprint after DeleteKeyVersions: got %x, want %x", got.MaterialFingerprint, fp)
		}

		// UpdateKey replaces it, and nil clears it.
		got.MaterialFingerprint = other
		f.update(t, func(tx store.Tx) error { return tx.UpdateKey(got) })
		got = f.getKey(t, p.ID, k.KeyID)
		if !bytes.Equal(got.MaterialFingerprint, other) {
			t.Errorf("replaced fingerprint: got %x, want %x", got.MaterialFingerprint, other)
		}
		got.MaterialFingerprint = nil
		f.update(t, func(tx store.Tx) error { return tx.UpdateKey(got) })
		if fp := f.getKey(t, p.ID, k.KeyID).MaterialFingerprint; fp != nil {
			t.Errorf("cleared fingerprint: got %x, want nil", fp)
		}
	})

	t.Run("Lists", func(t *testing.T) {
		q := f.project(t, a.ID)
		k := f.key(q, 3)
		k.Origin = store.OriginExternal
		k.MaterialFingerprint = fp
		k.MaterialExpiresAt = t0.Add(time.Hour)
		f.createKeys(t, k)
		f.view(t, func(tx store.Tx) error {
			keys, _, err := tx.ListKeys(q.ID, store.KeyFilter{}, 0, 0)
			if err != nil {
				return err
			}
			diff(t, "ListKeys", keys, []store.Key{k})
			keys, err = tx.KeysWithExpiredMaterial(t0.Add(time.Hour), 0)
			if err != nil {
				return err
			}
			found := false
			for _, got := range keys {
				if got.KeyID == k.KeyID {
					found = true
					if !bytes.Equal(got.MaterialFingerprint, fp) {
						t.Errorf("KeysWithExpiredMaterial: got fingerprint %x, want %x", got.MaterialFingerprint, fp)
					}
				}
			}
			if !found {
				t.Errorf("KeysWithExpiredMaterial did not return key %s", k.KeyID)
			}
			return nil
		})
	})

	t.Run("DeleteKey", func(t *testing.T) {
		k := external(4)
		k.MaterialFingerprint = fp
		f.createKeys(t, k)
		f.update(t, func(tx store.Tx) error { return tx.DeleteKey(p.ID, k.KeyID) })
		f.runErrCases(t, []errCase{
			{"GetKey", func(tx store.Tx) error { _, err := tx.GetKey(p.ID, k.KeyID); return err }, store.ErrNotFound},
		})
	})
}
