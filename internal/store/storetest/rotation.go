package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/kmsd/kmsd/internal/store"
)

const day = 24 * time.Hour

func testRotationFields(t *testing.T, f *fixture) {
	a := f.account(t)
	p := f.project(t, a.ID)

	t.Run("CreateKey", func(t *testing.T) {
		k := f.key(p, 0)
		k.Origin = store.OriginExternal
		k.RotationEnabled = true
		k.RotationInterval = 90
		k.LastRotation = t0.Add(time.Hour)
		k.RotationCount = 4
		k.MaterialExpiresAt = t0.Add(30 * day)
		f.createKeys(t, k)
		diff(t, "GetKey", f.getKey(t, p.ID, k.KeyID), k)
	})

	t.Run("UpdateKey", func(t *testing.T) {
		k := f.key(p, 1)
		f.createKeys(t, k)
		k = f.getKey(t, p.ID, k.KeyID)
		if k.RotationEnabled || k.RotationInterval != 0 || !k.LastRotation.IsZero() || k.RotationCount != 0 || !k.MaterialExpiresAt.IsZero() {
			t.Errorf("new key has rotation or expiry fields set: %+v", k)
		}

		edited := k
		edited.RotationEnabled = true
		edited.RotationInterval = 365
		edited.LastRotation = t0.Add(2 * day)
		edited.RotationCount = 1
		edited.MaterialExpiresAt = t0.Add(3 * day)
		f.update(t, func(tx store.Tx) error { return tx.UpdateKey(edited) })
		want := edited
		want.Revision++
		diff(t, "GetKey after UpdateKey", f.getKey(t, p.ID, k.KeyID), want)

		// Zero values clear the fields again.
		cleared := want
		cleared.RotationEnabled = false
		cleared.RotationInterval = 0
		cleared.LastRotation = time.Time{}
		cleared.RotationCount = 0
		cleared.MaterialExpiresAt = time.Time{}
		f.update(t, func(tx store.Tx) error { return tx.UpdateKey(cleared) })
		want = cleared
		want.Revision++
		got := f.getKey(t, p.ID, k.KeyID)
		diff(t, "GetKey after clearing UpdateKey", got, want)
		if !got.LastRotation.IsZero() || !got.MaterialExpiresAt.IsZero() {
			t.Errorf("cleared times: got %v and %v, want zero times", got.LastRotation, got.MaterialExpiresAt)
		}
	})

	// A rotation puts version N+1 and updates the key in one transaction.
	t.Run("Rotate", func(t *testing.T) {
		k := f.key(p, 2)
		k.RotationEnabled, k.RotationInterval = true, 30
		f.createKeys(t, k)
		v1 := store.KeyVersion{ProjectID: p.ID, KeyID: k.KeyID, Version: 1, Sealed: []byte("v1"), CreatedAt: t0}
		f.update(t, func(tx store.Tx) error { return tx.PutKeyVersion(v1) })

		v2 := store.KeyVersion{ProjectID: p.ID, KeyID: k.KeyID, Version: 2, Sealed: []byte("v2"), CreatedAt: t0.Add(30 * day)}
		f.update(t, func(tx store.Tx) error {
			cur, err := tx.GetKey(p.ID, k.KeyID)
			if err != nil {
				return err
			}
			if err := tx.PutKeyVersion(v2); err != nil {
				return err
			}
			cur.PrimaryVersion = 2
			cur.LastRotation = v2.CreatedAt
			cur.RotationCount++
			return tx.UpdateKey(cur)
		})
		got := f.getKey(t, p.ID, k.KeyID)
		if got.PrimaryVersion != 2 || got.RotationCount != 1 || !got.LastRotation.Equal(v2.CreatedAt) {
			t.Errorf("after rotation: primary %d, count %d, last %v; want 2, 1, %v",
				got.PrimaryVersion, got.RotationCount, got.LastRotation, v2.CreatedAt)
		}
		f.view(t, func(tx store.Tx) error {
			vs, err := tx.ListKeyVersions(p.ID, k.KeyID)
			diff(t, "ListKeyVersions after rotation", vs, []store.KeyVersion{v1, v2}, byVersion)
			return err
		})
		f.runErrCases(t, []errCase{
			{"version 2 again", func(tx store.Tx) error {
				v := v2
				v.Sealed = []byte("other")
				return tx.PutKeyVersion(v)
			}, store.ErrConflict},
		})
	})

	t.Run("DeleteKeyVersions", func(t *testing.T) {
		k, other := f.key(p, 3), f.key(p, 4)
		k.Origin, other.Origin = store.OriginExternal, store.OriginExternal
		f.createKeys(t, k, other)
		ov := store.KeyVersion{ProjectID: p.ID, KeyID: other.KeyID, Version: 1, Sealed: []byte("o"), CreatedAt: t0}
		f.update(t, func(tx store.Tx) error {
			for _, v := range []store.KeyVersion{
				{ProjectID: p.ID, KeyID: k.KeyID, Version: 1, Sealed: []byte("a"), CreatedAt: t0},
				{ProjectID: p.ID, KeyID: k.KeyID, Version: 2, Sealed: []byte("b"), CreatedAt: t0},
				ov,
			} {
				if err := tx.PutKeyVersion(v); err != nil {
					return err
				}
			}
			return nil
		})
		before := f.getKey(t, p.ID, k.KeyID)
		f.update(t, func(tx store.Tx) error { return tx.DeleteKeyVersions(p.ID, k.KeyID) })
		diff(t, "GetKey after DeleteKeyVersions", f.getKey(t, p.ID, k.KeyID), before)
		f.view(t, func(tx store.Tx) error {
			vs, err := tx.ListKeyVersions(p.ID, k.KeyID)
			diff(t, "ListKeyVersions after DeleteKeyVersions", vs, []store.KeyVersion(nil))
			if err != nil {
				return err
			}
			vs, err = tx.ListKeyVersions(p.ID, other.KeyID)
			diff(t, "ListKeyVersions of another key", vs, []store.KeyVersion{ov})
			return err
		})
		q := f.project(t, a.ID)
		f.runErrCases(t, []errCase{
			{"again, without versions", func(tx store.Tx) error { return tx.DeleteKeyVersions(p.ID, k.KeyID) }, nil},
			{"missing key", func(tx store.Tx) error { return tx.DeleteKeyVersions(p.ID, f.keyID()) }, store.ErrNotFound},
			{"key of another project", func(tx store.Tx) error { return tx.DeleteKeyVersions(q.ID, other.KeyID) }, store.ErrNotFound},
			// Material may be imported again.
			{"put version 1 again", func(tx store.Tx) error {
				return tx.PutKeyVersion(store.KeyVersion{ProjectID: p.ID, KeyID: k.KeyID, Version: 1, Sealed: []byte("a"), CreatedAt: t0})
			}, nil},
		})
	})
}

func testKeysDueForRotation(t *testing.T, f *fixture) {
	a := f.account(t)
	p, q := f.project(t, a.ID), f.project(t, a.ID)
	now := t0.Add(400 * day)

	// rotating returns a key with rotation on, created at created and last
	// rotated at last (zero: never).
	rotating := func(p store.Project, interval int, created, last time.Time) store.Key {
		k := f.key(p, 0)
		k.RotationEnabled = true
		k.RotationInterval = interval
		k.CreatedAt = created
		k.LastRotation = last
		return k
	}
	due := []store.Key{
		rotating(p, 30, now.Add(-30*day), time.Time{}),                        // exactly due: "not after now"
		rotating(p, 30, now.Add(-300*day), now.Add(-31*day)),                  // last rotation counts
		rotating(p, 0, now.Add(-365*day), time.Time{}),                        // unset interval: 365 days
		rotating(p, -1, now.Add(-366*day), time.Time{}),                       // negative interval: 365 days
		rotating(q, 90, now.Add(-200*day), now.Add(-90*day-time.Millisecond)), // another project
		rotating(p, 365, now.Add(-365*day-time.Millisecond), time.Time{}),     // just due
	}
	notDue := []store.Key{
		rotating(p, 30, now.Add(-30*day+time.Millisecond), time.Time{}), // 1 ms early
		rotating(p, 30, now.Add(-300*day), now.Add(-29*day)),            // rotated recently
		rotating(p, 0, now.Add(-364*day), time.Time{}),                  // default interval not over
		rotating(q, 365, now.Add(-30*day), time.Time{}),
	}
	off := f.key(p, 0) // rotation off
	off.CreatedAt, off.RotationInterval = now.Add(-399*day), 30
	disabled := rotating(p, 30, now.Add(-399*day), time.Time{})
	disabled.State = store.StateDisabled
	pending := rotating(p, 30, now.Add(-399*day), time.Time{})
	pending.State, pending.DeletionDate = store.StatePendingDeletion, now.Add(day)
	importPending := rotating(q, 30, now.Add(-399*day), time.Time{})
	importPending.State, importPending.Origin = store.StatePendingImport, store.OriginExternal
	notDue = append(notDue, off, disabled, pending, importPending)
	f.createKeys(t, append(slices.Clone(due), notDue...)...)

	dueAt := func(now time.Time, limit int) []store.Key {
		var keys []store.Key
		f.view(t, func(tx store.Tx) (err error) {
			keys, err = tx.KeysDueForRotation(now, limit)
			return err
		})
		return keys
	}

	t.Run("All", func(t *testing.T) {
		diff(t, "KeysDueForRotation", dueAt(now, 100), due, byKeyID)
		diff(t, "KeysDueForRotation without limit", dueAt(now, 0), due, byKeyID)
	})
	t.Run("Limit", func(t *testing.T) {
		got := dueAt(now, 2)
		if len(got) != 2 {
			t.Fatalf("got %d keys, want 2", len(got))
		}
		for _, k := range got {
			if !slices.ContainsFunc(due, func(d store.Key) bool { return d.KeyID == k.KeyID }) {
				t.Errorf("key %s is not due", k.KeyID)
			}
		}
	})
	t.Run("Earlier", func(t *testing.T) {
		// 1 ms earlier, the keys that were exactly due are not.
		diff(t, "KeysDueForRotation 1 ms earlier", dueAt(now.Add(-time.Millisecond), 100),
			[]store.Key{due[1], due[3], due[4], due[5]}, byKeyID)
		diff(t, "KeysDueForRotation long before", dueAt(t0, 100), []store.Key(nil))
	})
	t.Run("AfterRotation", func(t *testing.T) {
		// Rotating a key takes it off the list; disabling rotation too.
		f.update(t, func(tx store.Tx) error {
			k, err := tx.GetKey(p.ID, due[0].KeyID)
			if err != nil {
				return err
			}
			k.LastRotation = now
			k.RotationCount++
			if err := tx.UpdateKey(k); err != nil {
				return err
			}
			k, err = tx.GetKey(p.ID, due[1].KeyID)
			if err != nil {
				return err
			}
			k.RotationEnabled = false
			return tx.UpdateKey(k)
		})
		diff(t, "KeysDueForRotation after rotation", dueAt(now, 100), due[2:], byKeyID)
		// The rotated key is due again one interval later, not before; the
		// key without rotation never.
		contains := func(keys []store.Key, keyID string) bool {
			return slices.ContainsFunc(keys, func(k store.Key) bool { return k.KeyID == keyID })
		}
		if !contains(dueAt(now.Add(30*day), 0), due[0].KeyID) {
			t.Errorf("rotated key not due 30 days after its rotation")
		}
		if contains(dueAt(now.Add(30*day-time.Millisecond), 0), due[0].KeyID) {
			t.Errorf("rotated key due 1 ms before 30 days after its rotation")
		}
		if contains(dueAt(now.Add(1000*day), 0), due[1].KeyID) {
			t.Errorf("key with rotation disabled is due")
		}
	})
}

func testImportTokens(t *testing.T, f *fixture) {
	a := f.account(t)
	p, q := f.project(t, a.ID), f.project(t, a.ID)
	k, other := f.key(p, 0), f.key(p, 1)
	k.Origin, other.Origin = store.OriginExternal, store.OriginExternal
	k.State, other.State = store.StatePendingImport, store.StatePendingImport
	kq := f.key(q, 0)
	kq.Origin, kq.State = store.OriginExternal, store.StatePendingImport
	f.createKeys(t, k, other, kq)
	now := t0.Add(day)

	token := func(k store.Key, expires time.Time) store.ImportToken {
		return store.ImportToken{
			ProjectID:         k.ProjectID,
			KeyID:             k.KeyID,
			TokenID:           f.id(),
			WrappingAlgorithm: "RSAES_OAEP_SHA_256",
			WrappingKeySpec:   "RSA_2048",
			SealedPrivateKey:  []byte("sealed private key " + k.KeyID),
			ExpiresAt:         expires,
			CreatedAt:         expires.Add(-day),
		}
	}
	expired := token(k, now.Add(-time.Hour))
	boundary := token(k, now) // "not after now" is expired
	fresh := token(k, now.Add(time.Millisecond))
	otherFresh := token(other, now.Add(time.Hour))
	otherExpired := token(other, now.Add(-time.Hour))
	inQ := token(kq, now.Add(-time.Minute))
	all := []store.ImportToken{expired, boundary, fresh, otherFresh, otherExpired, inQ}
	f.update(t, func(tx store.Tx) error {
		for _, tok := range all {
			if err := tx.PutImportToken(tok); err != nil {
				return err
			}
		}
		return nil
	})

	t.Run("Get", func(t *testing.T) {
		f.view(t, func(tx store.Tx) error {
			for _, want := range all {
				got, err := tx.GetImportToken(want.ProjectID, want.KeyID, want.TokenID)
				if err != nil {
					return err
				}
				diff(t, "GetImportToken", got, want)
			}
			return nil
		})
	})

	t.Run("Errors", func(t *testing.T) {
		onKey := func(tok store.ImportToken, k store.Key) store.ImportToken {
			tok.ProjectID, tok.KeyID = k.ProjectID, k.KeyID
			return tok
		}
		f.runErrCases(t, []errCase{
			{"duplicate id", func(tx store.Tx) error { return tx.PutImportToken(fresh) }, store.ErrConflict},
			{"duplicate id on another key", func(tx store.Tx) error { return tx.PutImportToken(onKey(fresh, other)) }, store.ErrConflict},
			{"duplicate id in another project", func(tx store.Tx) error { return tx.PutImportToken(onKey(fresh, kq)) }, store.ErrConflict},
			{"missing key", func(tx store.Tx) error {
				tok := token(k, now)
				tok.KeyID = f.keyID()
				return tx.PutImportToken(tok)
			}, store.ErrNotFound},
			{"key of another project", func(tx store.Tx) error {
				tok := token(k, now)
				tok.ProjectID = q.ID
				return tx.PutImportToken(tok)
			}, store.ErrNotFound},
			{"get on another key", func(tx store.Tx) error {
				_, err := tx.GetImportToken(p.ID, other.KeyID, fresh.TokenID)
				return err
			}, store.ErrNotFound},
			{"get in another project", func(tx store.Tx) error {
				_, err := tx.GetImportToken(q.ID, k.KeyID, fresh.TokenID)
				return err
			}, store.ErrNotFound},
			{"get missing", func(tx store.Tx) error {
				_, err := tx.GetImportToken(p.ID, k.KeyID, f.id())
				return err
			}, store.ErrNotFound},
			{"delete of missing key", func(tx store.Tx) error { return tx.DeleteImportTokens(p.ID, f.keyID()) }, store.ErrNotFound},
			{"delete of key of another project", func(tx store.Tx) error { return tx.DeleteImportTokens(q.ID, k.KeyID) }, store.ErrNotFound},
		})
	})

	t.Run("DeleteExpired", func(t *testing.T) {
		var n int
		f.update(t, func(tx store.Tx) (err error) {
			n, err = tx.DeleteExpiredImportTokens(now)
			return err
		})
		if n != 4 {
			t.Errorf("DeleteExpiredImportTokens: removed %d tokens, want 4", n)
		}
		for _, tc := range []struct {
			tok  store.ImportToken
			want error
		}{
			{expired, store.ErrNotFound},
			{boundary, store.ErrNotFound},
			{otherExpired, store.ErrNotFound},
			{inQ, store.ErrNotFound},
			{fresh, nil},
			{otherFresh, nil},
		} {
			err := f.s.View(t.Context(), func(tx store.Tx) error {
				_, err := tx.GetImportToken(tc.tok.ProjectID, tc.tok.KeyID, tc.tok.TokenID)
				return err
			})
			checkErr(t, err, tc.want)
		}
		f.update(t, func(tx store.Tx) (err error) {
			n, err = tx.DeleteExpiredImportTokens(now)
			return err
		})
		if n != 0 {
			t.Errorf("DeleteExpiredImportTokens again: removed %d tokens, want 0", n)
		}
	})

	t.Run("DeleteImportTokens", func(t *testing.T) {
		f.update(t, func(tx store.Tx) error { return tx.DeleteImportTokens(p.ID, k.KeyID) })
		f.runErrCases(t, []errCase{
			{"deleted", func(tx store.Tx) error {
				_, err := tx.GetImportToken(p.ID, k.KeyID, fresh.TokenID)
				return err
			}, store.ErrNotFound},
			{"another key's token stays", func(tx store.Tx) error {
				_, err := tx.GetImportToken(p.ID, other.KeyID, otherFresh.TokenID)
				return err
			}, nil},
			{"again, without tokens", func(tx store.Tx) error { return tx.DeleteImportTokens(p.ID, k.KeyID) }, nil},
		})
	})
}

func testKeysWithExpiredMaterial(t *testing.T, f *fixture) {
	a := f.account(t)
	p, q := f.project(t, a.ID), f.project(t, a.ID)
	now := t0.Add(10 * day)

	imported := func(p store.Project, expires time.Time) store.Key {
		k := f.key(p, 0)
		k.Origin = store.OriginExternal
		k.MaterialExpiresAt = expires
		return k
	}
	due := []store.Key{
		imported(p, now.Add(-time.Hour)),
		imported(p, now), // "not after now"
		imported(q, now.Add(-48*time.Hour)),
	}
	disabled := imported(p, now.Add(-time.Minute)) // any state
	disabled.State = store.StateDisabled
	due = append(due, disabled)
	notDue := []store.Key{
		imported(p, now.Add(time.Millisecond)),
		imported(q, now.Add(day)),
		imported(p, time.Time{}), // no expiry
	}
	native := f.key(p, 0) // origin kms never has imported material
	native.MaterialExpiresAt = now.Add(-time.Hour)
	notDue = append(notDue, native)
	f.createKeys(t, append(slices.Clone(due), notDue...)...)

	expiredAt := func(now time.Time, limit int) []store.Key {
		var keys []store.Key
		f.view(t, func(tx store.Tx) (err error) {
			keys, err = tx.KeysWithExpiredMaterial(now, limit)
			return err
		})
		return keys
	}
	t.Run("All", func(t *testing.T) {
		diff(t, "KeysWithExpiredMaterial", expiredAt(now, 100), due, byKeyID)
		diff(t, "KeysWithExpiredMaterial without limit", expiredAt(now, 0), due, byKeyID)
	})
	t.Run("Limit", func(t *testing.T) {
		got := expiredAt(now, 3)
		if len(got) != 3 {
			t.Fatalf("got %d keys, want 3", len(got))
		}
		for _, k := range got {
			if !slices.ContainsFunc(due, func(d store.Key) bool { return d.KeyID == k.KeyID }) {
				t.Errorf("key %s (expiry %v) is not expired", k.KeyID, k.MaterialExpiresAt)
			}
		}
	})
	t.Run("Earlier", func(t *testing.T) {
		diff(t, "KeysWithExpiredMaterial 1 ms earlier", expiredAt(now.Add(-time.Millisecond), 100),
			[]store.Key{due[0], due[2], due[3]}, byKeyID)
	})
	t.Run("Cleared", func(t *testing.T) {
		// Deleting the material clears the expiry, which takes the key
		// off the list.
		f.update(t, func(tx store.Tx) error {
			k, err := tx.GetKey(p.ID, due[0].KeyID)
			if err != nil {
				return err
			}
			if err := tx.DeleteKeyVersions(p.ID, k.KeyID); err != nil {
				return err
			}
			k.State, k.PrimaryVersion, k.MaterialExpiresAt = store.StatePendingImport, 0, time.Time{}
			return tx.UpdateKey(k)
		})
		diff(t, "KeysWithExpiredMaterial after clearing", expiredAt(now, 100), due[1:], byKeyID)
	})
}
