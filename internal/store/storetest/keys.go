package storetest

import (
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/kmsd/kmsd/internal/store"
)

var (
	byKeyID   = cmpopts.SortSlices(func(a, b store.Key) bool { return a.KeyID < b.KeyID })
	byVersion = cmpopts.SortSlices(func(a, b store.KeyVersion) bool { return a.Version < b.Version })
)

// keyOrder is the order of ListKeys: creation time, then key id.
func keyOrder(a, b store.Key) int {
	return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.KeyID, b.KeyID))
}

func testKeys(t *testing.T, f *fixture) {
	a := f.account(t)
	p, q := f.project(t, a.ID), f.project(t, a.ID)

	full := store.Key{
		ProjectID:           p.ID,
		KeyID:               f.keyID(),
		AccountID:           a.ID,
		Alias:               "app/orders",
		Description:         "orders — 订单",
		Spec:                "SM4",
		Usage:               "ENCRYPT_DECRYPT",
		Origin:              "external",
		State:               store.StatePendingDeletion,
		EnterpriseProjectID: "f0c5c8d2-0000-4000-8000-000000000001",
		KeystoreID:          "0",
		PrimaryVersion:      3,
		CreatedAt:           t0,
		DeletionDate:        t0.Add(7 * 24 * time.Hour),
		Revision:            0,
	}
	plain := f.key(p, 1) // no alias, zero DeletionDate
	def := f.key(p, 2)
	def.Alias, def.Default = "kms/default", true
	f.createKeys(t, full, plain, def)

	t.Run("Get", func(t *testing.T) {
		f.view(t, func(tx store.Tx) error {
			for _, want := range []store.Key{full, plain, def} {
				got, err := tx.GetKey(p.ID, want.KeyID)
				if err != nil {
					return err
				}
				diff(t, "GetKey", got, want)
			}
			got, err := tx.GetKeyByAlias(p.ID, "app/orders")
			diff(t, "GetKeyByAlias", got, full)
			if err != nil {
				return err
			}
			for _, want := range []store.Key{full, plain, def} {
				got, err := tx.FindKeyByID(want.KeyID)
				if err != nil {
					return err
				}
				diff(t, "FindKeyByID", got, want)
			}
			return nil
		})
	})

	t.Run("Create", func(t *testing.T) {
		withAlias := func(k store.Key, alias string) store.Key {
			k.Alias = alias
			return k
		}
		for _, tc := range []struct {
			name          string
			first, second store.Key
			want          error
		}{
			{"duplicate key id", f.key(p, 3), func() store.Key { k := f.key(p, 4); k.KeyID = full.KeyID; return k }(), store.ErrConflict},
			{"duplicate key id in another project", f.key(p, 3), func() store.Key { k := f.key(q, 4); k.KeyID = full.KeyID; return k }(), store.ErrConflict},
			{"duplicate alias", f.key(p, 3), withAlias(f.key(p, 4), "app/orders"), store.ErrConflict},
			{"duplicate alias of new key", withAlias(f.key(p, 3), "app/x"), withAlias(f.key(p, 4), "app/x"), store.ErrConflict},
			{"same alias in another project", f.key(q, 3), withAlias(f.key(q, 4), "app/orders"), nil},
			{"empty aliases", f.key(p, 3), f.key(p, 4), nil},
			{"missing project", f.key(p, 3), func() store.Key { k := f.key(p, 4); k.ProjectID = f.id(); return k }(), store.ErrNotFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				err := f.s.Update(t.Context(), func(tx store.Tx) error {
					if err := tx.CreateKey(tc.first); err != nil {
						t.Fatalf("CreateKey(first): %v", err)
					}
					return tx.CreateKey(tc.second)
				})
				checkErr(t, err, tc.want)
			})
		}
	})

	t.Run("ProjectScope", func(t *testing.T) {
		moved := full
		moved.ProjectID = q.ID
		f.runErrCases(t, []errCase{
			{"GetKey", func(tx store.Tx) error {
				_, err := tx.GetKey(q.ID, full.KeyID)
				return err
			}, store.ErrNotFound},
			{"GetKeyByAlias", func(tx store.Tx) error {
				_, err := tx.GetKeyByAlias(q.ID, "kms/default")
				return err
			}, store.ErrNotFound},
			{"UpdateKey", func(tx store.Tx) error { return tx.UpdateKey(moved) }, store.ErrNotFound},
			{"DeleteKey", func(tx store.Tx) error { return tx.DeleteKey(q.ID, full.KeyID) }, store.ErrNotFound},
			{"PutKeyVersion", func(tx store.Tx) error {
				return tx.PutKeyVersion(store.KeyVersion{ProjectID: q.ID, KeyID: full.KeyID, Version: 9, Sealed: []byte{1}, CreatedAt: t0})
			}, store.ErrNotFound},
			{"GetKeyVersion", func(tx store.Tx) error {
				_, err := tx.GetKeyVersion(q.ID, full.KeyID, 1)
				return err
			}, store.ErrNotFound},
			{"ListKeyVersions", func(tx store.Tx) error {
				_, err := tx.ListKeyVersions(q.ID, full.KeyID)
				return err
			}, store.ErrNotFound},
			{"GetKey missing", func(tx store.Tx) error {
				_, err := tx.GetKey(p.ID, f.keyID())
				return err
			}, store.ErrNotFound},
			{"GetKeyByAlias missing", func(tx store.Tx) error {
				_, err := tx.GetKeyByAlias(p.ID, "app/none")
				return err
			}, store.ErrNotFound},
			{"FindKeyByID missing", func(tx store.Tx) error {
				_, err := tx.FindKeyByID(f.keyID())
				return err
			}, store.ErrNotFound},
		})
	})

	t.Run("Update", func(t *testing.T) {
		k := f.key(p, 10)
		f.createKeys(t, k)
		k = f.getKey(t, p.ID, k.KeyID)

		edited := k
		edited.Alias = "app/edited"
		edited.Description = "edited"
		edited.State = store.StatePendingDeletion
		edited.DeletionDate = t0.Add(30 * 24 * time.Hour)
		edited.PrimaryVersion = 2
		edited.KeystoreID = "ks-1"
		f.update(t, func(tx store.Tx) error { return tx.UpdateKey(edited) })
		want := edited
		want.Revision = k.Revision + 1
		diff(t, "GetKey after UpdateKey", f.getKey(t, p.ID, k.KeyID), want)

		// edited still carries the old revision.
		stale := edited
		stale.Description = "lost update"
		err := f.s.Update(t.Context(), func(tx store.Tx) error { return tx.UpdateKey(stale) })
		checkErr(t, err, store.ErrConflict)
		checkErr(t, err, store.ErrStale)
		diff(t, "GetKey after stale UpdateKey", f.getKey(t, p.ID, k.KeyID), want)

		// Cancelling the deletion clears the deletion date.
		cancel := want
		cancel.State = store.StateDisabled
		cancel.DeletionDate = time.Time{}
		f.update(t, func(tx store.Tx) error { return tx.UpdateKey(cancel) })
		want = cancel
		want.Revision = k.Revision + 2
		diff(t, "GetKey after second UpdateKey", f.getKey(t, p.ID, k.KeyID), want)

		f.runErrCases(t, []errCase{
			{"duplicate alias", func(tx store.Tx) error {
				k := want
				k.Alias = full.Alias
				err := tx.UpdateKey(k)
				if errors.Is(err, store.ErrStale) {
					return fmt.Errorf("a taken alias must not read as a stale revision: %v", err)
				}
				return err
			}, store.ErrConflict},
			{"missing", func(tx store.Tx) error {
				k := f.key(p, 11)
				return tx.UpdateKey(k)
			}, store.ErrNotFound},
		})

		t.Run("DefaultIsFixed", func(t *testing.T) {
			before := f.counts(t, p.ID)
			flipped := want
			flipped.Default = true
			// Whether UpdateKey refuses or ignores the change, the key
			// and the counts must not change class.
			_ = f.s.Update(t.Context(), func(tx store.Tx) error { return tx.UpdateKey(flipped) })
			if got := f.getKey(t, p.ID, k.KeyID); got.Default {
				t.Errorf("UpdateKey changed Default to true")
			}
			diff(t, "KeyCounts", f.counts(t, p.ID), before)
		})
	})

	t.Run("Delete", func(t *testing.T) {
		k := f.key(p, 20)
		f.createKeys(t, k)
		f.update(t, func(tx store.Tx) error {
			for v := 1; v <= 2; v++ {
				err := tx.PutKeyVersion(store.KeyVersion{ProjectID: p.ID, KeyID: k.KeyID, Version: v, Sealed: []byte{byte(v)}, CreatedAt: t0})
				if err != nil {
					return err
				}
			}
			return nil
		})
		before := f.counts(t, p.ID)
		f.update(t, func(tx store.Tx) error { return tx.DeleteKey(p.ID, k.KeyID) })
		want := before
		want.Custom--
		diff(t, "KeyCounts after DeleteKey", f.counts(t, p.ID), want)
		f.runErrCases(t, []errCase{
			{"GetKey", func(tx store.Tx) error {
				_, err := tx.GetKey(p.ID, k.KeyID)
				return err
			}, store.ErrNotFound},
			{"GetKeyVersion", func(tx store.Tx) error {
				_, err := tx.GetKeyVersion(p.ID, k.KeyID, 1)
				return err
			}, store.ErrNotFound},
			{"DeleteKey again", func(tx store.Tx) error { return tx.DeleteKey(p.ID, k.KeyID) }, store.ErrNotFound},
		})
		// A key created again under the same id starts without versions.
		f.createKeys(t, k)
		f.view(t, func(tx store.Tx) error {
			vs, err := tx.ListKeyVersions(p.ID, k.KeyID)
			diff(t, "ListKeyVersions of re-created key", vs, []store.KeyVersion(nil))
			return err
		})
	})
}

func testKeyVersions(t *testing.T, f *fixture) {
	a := f.account(t)
	p := f.project(t, a.ID)
	k := f.key(p, 0)
	other := f.key(p, 1)
	f.createKeys(t, k, other)

	sealed := make([]byte, 1024)
	for i := range sealed {
		sealed[i] = byte(i * 7)
	}
	v1 := store.KeyVersion{ProjectID: p.ID, KeyID: k.KeyID, Version: 1, Sealed: sealed, CreatedAt: t0}
	v2 := store.KeyVersion{ProjectID: p.ID, KeyID: k.KeyID, Version: 2, Sealed: []byte("v2"), CreatedAt: t0.Add(time.Hour)}
	ov := store.KeyVersion{ProjectID: p.ID, KeyID: other.KeyID, Version: 1, Sealed: []byte("other"), CreatedAt: t0}
	f.update(t, func(tx store.Tx) error {
		for _, v := range []store.KeyVersion{v2, v1, ov} {
			if err := tx.PutKeyVersion(v); err != nil {
				return err
			}
		}
		return nil
	})

	t.Run("Get", func(t *testing.T) {
		f.view(t, func(tx store.Tx) error {
			for _, want := range []store.KeyVersion{v1, v2, ov} {
				got, err := tx.GetKeyVersion(want.ProjectID, want.KeyID, want.Version)
				if err != nil {
					return err
				}
				diff(t, "GetKeyVersion", got, want)
			}
			list, err := tx.ListKeyVersions(p.ID, k.KeyID)
			diff(t, "ListKeyVersions", list, []store.KeyVersion{v1, v2}, byVersion)
			return err
		})
	})

	t.Run("Errors", func(t *testing.T) {
		f.runErrCases(t, []errCase{
			{"existing version is never overwritten", func(tx store.Tx) error {
				v := v1
				v.Sealed = []byte("overwrite")
				return tx.PutKeyVersion(v)
			}, store.ErrConflict},
			{"missing key", func(tx store.Tx) error {
				return tx.PutKeyVersion(store.KeyVersion{ProjectID: p.ID, KeyID: f.keyID(), Version: 1, Sealed: []byte{1}, CreatedAt: t0})
			}, store.ErrNotFound},
			{"get missing version", func(tx store.Tx) error {
				_, err := tx.GetKeyVersion(p.ID, k.KeyID, 3)
				return err
			}, store.ErrNotFound},
			{"list of missing key", func(tx store.Tx) error {
				_, err := tx.ListKeyVersions(p.ID, f.keyID())
				return err
			}, store.ErrNotFound},
		})
		f.view(t, func(tx store.Tx) error {
			got, err := tx.GetKeyVersion(p.ID, k.KeyID, 1)
			diff(t, "GetKeyVersion after refused overwrite", got, v1)
			return err
		})
	})
}

func testListKeys(t *testing.T, f *fixture) {
	a := f.account(t)
	p, q := f.project(t, a.ID), f.project(t, a.ID)

	// 25 keys over 7 creation times, so that the key id breaks many ties,
	// created in shuffled order.
	var keys []store.Key
	for i := range 25 {
		k := f.key(p, i%7)
		k.State = []string{store.StateEnabled, store.StateDisabled, store.StatePendingDeletion}[i%3]
		if k.State == store.StatePendingDeletion {
			k.DeletionDate = t0.Add(24 * time.Hour)
		}
		if i%2 == 1 {
			k.Spec = "SM4"
		}
		if i%5 == 0 {
			k.EnterpriseProjectID = "eps-1"
		}
		keys = append(keys, k)
	}
	shuffled := slices.Clone(keys)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) {
		shuffled[i], shuffled[j] = shuffled[j], shuffled[i]
	})
	f.createKeys(t, shuffled...)
	f.createKeys(t, f.key(q, 0), f.key(q, 1)) // another project's keys
	slices.SortFunc(keys, keyOrder)

	t.Run("Pages", func(t *testing.T) {
		var all []store.Key
		for _, tc := range []struct {
			offset, limit, n int
		}{
			{0, 10, 10},
			{10, 10, 10},
			{20, 10, 5},
			{25, 10, 0},
		} {
			var page []store.Key
			var total int
			f.view(t, func(tx store.Tx) (err error) {
				page, total, err = tx.ListKeys(p.ID, store.KeyFilter{}, tc.offset, tc.limit)
				return err
			})
			if len(page) != tc.n || total != len(keys) {
				t.Errorf("ListKeys(offset %d, limit %d): got %d keys of %d, want %d of %d",
					tc.offset, tc.limit, len(page), total, tc.n, len(keys))
			}
			all = append(all, page...)
		}
		diff(t, "pages of ListKeys", all, keys)
	})

	filters := []struct {
		name   string
		filter store.KeyFilter
	}{
		{"none", store.KeyFilter{}},
		{"state", store.KeyFilter{State: store.StateDisabled}},
		{"spec", store.KeyFilter{Spec: "SM4"}},
		{"state and spec", store.KeyFilter{State: store.StatePendingDeletion, Spec: "AES_256"}},
		{"no match", store.KeyFilter{State: store.StatePendingImport}},
		{"enterprise project", store.KeyFilter{EnterpriseProjectID: "eps-1"}},
		{"enterprise project and spec", store.KeyFilter{EnterpriseProjectID: "eps-1", Spec: "SM4"}},
		{"default enterprise project", store.KeyFilter{EnterpriseProjectID: "0"}},
	}
	match := func(f store.KeyFilter) []store.Key {
		var out []store.Key
		for _, k := range keys {
			if (f.State == "" || k.State == f.State) && (f.Spec == "" || k.Spec == f.Spec) &&
				(f.EnterpriseProjectID == "" || k.EnterpriseProjectID == f.EnterpriseProjectID) {
				out = append(out, k)
			}
		}
		return out
	}
	// checkFilters compares every page of limit 1, 2 and 3 at every
	// offset, past the end included, of each filter with keys.
	checkFilters := func(t *testing.T) {
		for _, tc := range filters {
			t.Run(tc.name, func(t *testing.T) {
				want := match(tc.filter)
				var got []store.Key
				var total int
				f.view(t, func(tx store.Tx) (err error) {
					got, total, err = tx.ListKeys(p.ID, tc.filter, 0, 100)
					return err
				})
				if total != len(want) {
					t.Errorf("total: got %d, want %d", total, len(want))
				}
				diff(t, "ListKeys", got, want)
				for limit := 1; limit <= 3; limit++ {
					for offset := 0; offset <= len(want)+1; offset++ {
						f.view(t, func(tx store.Tx) (err error) {
							got, total, err = tx.ListKeys(p.ID, tc.filter, offset, limit)
							return err
						})
						if total != len(want) {
							t.Errorf("total of page at %d: got %d, want %d", offset, total, len(want))
						}
						diff(t, fmt.Sprintf("page at %d of %d of ListKeys", offset, limit),
							got, want[min(offset, len(want)):min(offset+limit, len(want))])
					}
				}
			})
		}
	}
	t.Run("Filters", checkFilters)

	// Totals and pages follow changes of state, spec and enterprise
	// project, and deletions.
	f.update(t, func(tx store.Tx) error {
		for i := range keys {
			k := &keys[i]
			switch i % 4 {
			case 0:
				k.State = store.StateEnabled
				k.DeletionDate = time.Time{}
			case 1:
				k.Spec = "AES_256"
				k.EnterpriseProjectID = "eps-1"
			default:
				continue
			}
			if err := tx.UpdateKey(*k); err != nil {
				return err
			}
			k.Revision++
		}
		for _, k := range keys[20:] {
			if err := tx.DeleteKey(k.ProjectID, k.KeyID); err != nil {
				return err
			}
		}
		return nil
	})
	keys = keys[:20]
	t.Run("AfterChanges", checkFilters)
}

func testKeyCounts(t *testing.T, f *fixture) {
	a := f.account(t)
	p, q := f.project(t, a.ID), f.project(t, a.ID)

	var custom []store.Key
	for i, state := range []string{store.StateEnabled, store.StateDisabled, store.StatePendingDeletion, store.StatePendingImport} {
		k := f.key(p, i)
		k.State = state
		if state == store.StatePendingDeletion {
			k.DeletionDate = t0.Add(time.Hour)
		}
		custom = append(custom, k)
	}
	var defaults []store.Key
	for i, alias := range []string{"kms/default", "obs/default"} {
		k := f.key(p, 10+i)
		k.Alias, k.Default = alias, true
		defaults = append(defaults, k)
	}

	f.createKeys(t, custom...)
	diff(t, "KeyCounts", f.counts(t, p.ID), store.KeyCounts{Custom: 4})
	f.createKeys(t, defaults...)
	diff(t, "KeyCounts", f.counts(t, p.ID), store.KeyCounts{Custom: 4, Default: 2})

	// Another project's keys count there only.
	f.createKeys(t, f.key(q, 0), f.key(q, 1), f.key(q, 2))
	diff(t, "KeyCounts", f.counts(t, p.ID), store.KeyCounts{Custom: 4, Default: 2})
	diff(t, "KeyCounts of other project", f.counts(t, q.ID), store.KeyCounts{Custom: 3})

	// A refused CreateKey in a transaction that commits counts nothing.
	f.update(t, func(tx store.Tx) error {
		checkErr(t, tx.CreateKey(custom[0]), store.ErrConflict) // the same id
		dup := f.key(p, 20)
		dup.Alias = defaults[0].Alias
		checkErr(t, tx.CreateKey(dup), store.ErrConflict) // a taken alias
		dup.Alias, dup.Default = "", true
		dup.KeyID = custom[1].KeyID
		checkErr(t, tx.CreateKey(dup), store.ErrConflict) // a default key, the same id
		return nil
	})
	diff(t, "KeyCounts after refused creations", f.counts(t, p.ID), store.KeyCounts{Custom: 4, Default: 2})

	f.update(t, func(tx store.Tx) error {
		if err := tx.DeleteKey(p.ID, custom[2].KeyID); err != nil {
			return err
		}
		return tx.DeleteKey(p.ID, defaults[0].KeyID)
	})
	diff(t, "KeyCounts after DeleteKey", f.counts(t, p.ID), store.KeyCounts{Custom: 3, Default: 1})

	// A state change keeps the key counted.
	k := f.getKey(t, p.ID, custom[0].KeyID)
	k.State = store.StatePendingDeletion
	k.DeletionDate = t0.Add(time.Hour)
	f.update(t, func(tx store.Tx) error { return tx.UpdateKey(k) })
	diff(t, "KeyCounts after UpdateKey", f.counts(t, p.ID), store.KeyCounts{Custom: 3, Default: 1})
}

func testKeysDueForDeletion(t *testing.T, f *fixture) {
	a := f.account(t)
	p, q := f.project(t, a.ID), f.project(t, a.ID)
	now := t0.Add(10 * 24 * time.Hour)

	pending := func(p store.Project, i int, at time.Time) store.Key {
		k := f.key(p, i)
		k.State = store.StatePendingDeletion
		k.DeletionDate = at
		return k
	}
	due := []store.Key{
		pending(p, 0, now.Add(-time.Hour)),
		pending(p, 1, now), // "not after now"
		pending(q, 2, now.Add(-48*time.Hour)),
	}
	notDue := []store.Key{
		pending(p, 3, now.Add(time.Millisecond)),
		pending(q, 4, now.Add(24*time.Hour)),
		f.key(p, 5), // enabled
	}
	// A disabled key that kept an old deletion date is not pending.
	stale := f.key(q, 6)
	stale.State, stale.DeletionDate = store.StateDisabled, now.Add(-time.Hour)
	notDue = append(notDue, stale)
	f.createKeys(t, append(slices.Clone(due), notDue...)...)

	t.Run("All", func(t *testing.T) {
		f.view(t, func(tx store.Tx) error {
			got, err := tx.KeysDueForDeletion(now, 100)
			diff(t, "KeysDueForDeletion", got, due, byKeyID)
			return err
		})
	})
	t.Run("Limit", func(t *testing.T) {
		f.view(t, func(tx store.Tx) error {
			got, err := tx.KeysDueForDeletion(now, 2)
			if len(got) != 2 {
				t.Fatalf("got %d keys, want 2", len(got))
			}
			for _, k := range got {
				if !slices.ContainsFunc(due, func(d store.Key) bool { return d.KeyID == k.KeyID }) {
					t.Errorf("key %s (state %s, deletion %v) is not due", k.KeyID, k.State, k.DeletionDate)
				}
			}
			return err
		})
	})
	t.Run("Earlier", func(t *testing.T) {
		f.view(t, func(tx store.Tx) error {
			got, err := tx.KeysDueForDeletion(now.Add(-time.Hour), 100)
			diff(t, "KeysDueForDeletion an hour earlier", got, []store.Key{due[0], due[2]}, byKeyID)
			return err
		})
	})
}
