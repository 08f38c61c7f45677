package storetest

import (
	"cmp"
	"fmt"
	"slices"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/kmsd/kmsd/internal/store"
)

// ListScale checks ListKeys on a project of thousands of keys against a
// model of them, for the structures a backend keeps to jump to an offset
// (block counts): pages far from both ends and near them, for every
// filter, after inserts out of list order (with ties on created_at),
// changes of state and spec, deletions, and inserts into the middle. It
// is not part of Run, which stays fast; a backend with such structures
// calls it from its own tests, with the checks of its structures.
type ListScale struct {
	s       store.Store
	project store.Project
	model   map[string]store.Key
	// Invariants, when set, checks the backend's own structures; Check
	// calls it first.
	Invariants func(t *testing.T, when string)
}

// listScaleFilters are the filters ListScale checks.
var listScaleFilters = []store.KeyFilter{
	{}, {Spec: "AES_256"}, {Spec: "SM4"}, {State: store.StateEnabled}, {State: store.StateDisabled},
	{Spec: "AES_256", State: store.StateEnabled}, {Spec: "SM4", State: store.StateDisabled},
}

// RunListScale runs every step of ListScale on s, calling invariants
// (which may be nil) before each check, and returns the ListScale so that
// the caller can change the backend and check again.
func RunListScale(t *testing.T, s store.Store, invariants func(t *testing.T, when string)) *ListScale {
	t.Helper()
	now := time.UnixMilli(time.Now().UnixMilli())
	a := store.Account{ID: "5ca1e" + fmt.Sprintf("%027d", 0), Name: "scale", CreatedAt: now}
	l := &ListScale{
		s:          s,
		project:    store.Project{ID: "5ca1e" + fmt.Sprintf("%027d", 1), AccountID: a.ID, Name: "cn-north-4", CreatedAt: now},
		model:      map[string]store.Key{},
		Invariants: invariants,
	}
	err := s.Update(t.Context(), func(tx store.Tx) error {
		if err := tx.CreateAccount(a); err != nil {
			return err
		}
		return tx.CreateProject(l.project)
	})
	if err != nil {
		t.Fatal(err)
	}
	// 9 000 keys in an order unlike the list order, 3 per millisecond.
	l.create(t, 0, 9000, func(i int) int64 { return int64(i*7919%9000) / 3 })
	l.Check(t, "after inserts")

	// Disable every fourth key, make every sixth SM4, delete every seventh.
	for start := 0; start < 9000; start += 60 {
		err := s.Update(t.Context(), func(tx store.Tx) error {
			for i := start; i < min(9000, start+60); i++ {
				id := scaleKeyID(i)
				switch {
				case i%7 == 0:
					if err := tx.DeleteKey(l.project.ID, id); err != nil {
						return err
					}
					delete(l.model, id)
				case i%4 == 0 || i%6 == 0:
					k, err := tx.GetKey(l.project.ID, id)
					if err != nil {
						return err
					}
					if i%4 == 0 {
						k.State = store.StateDisabled
					}
					if i%6 == 0 {
						k.Spec = "SM4"
					}
					if err := tx.UpdateKey(k); err != nil {
						return err
					}
					k.Revision++
					l.model[id] = k
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	l.Check(t, "after changes and deletions")

	// 4 000 keys into the middle third of the list order.
	l.create(t, 9000, 13000, func(i int) int64 { return 1000 + int64(i%1000) })
	l.Check(t, "after inserts into the middle")
	return l
}

// ProjectID returns the project of the keys.
func (l *ListScale) ProjectID() string { return l.project.ID }

func scaleKeyID(i int) string { return fmt.Sprintf("5ca1e000-0000-4000-8000-%012d", i) }

// create adds the keys from to to-1, created at at(i) ms, in transactions
// of 60 (fewer than PostgreSQL's 64 cached subtransactions: CreateKey
// opens a savepoint).
func (l *ListScale) create(t *testing.T, from, to int, at func(i int) int64) {
	t.Helper()
	for start := from; start < to; start += 60 {
		err := l.s.Update(t.Context(), func(tx store.Tx) error {
			for i := start; i < min(to, start+60); i++ {
				k := store.Key{
					ProjectID: l.project.ID, KeyID: scaleKeyID(i), AccountID: l.project.AccountID,
					Spec:  []string{"AES_256", "SM4", "AES_256"}[i%3],
					State: []string{store.StateEnabled, store.StateDisabled}[min(i%5, 1)],
					Usage: "ENCRYPT_DECRYPT", Origin: "kms", PrimaryVersion: 1,
					CreatedAt: time.UnixMilli(at(i)),
				}
				if err := tx.CreateKey(k); err != nil {
					return err
				}
				l.model[k.KeyID] = k
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// Want returns the ids of the model's keys matching f in list order.
func (l *ListScale) Want(f store.KeyFilter) []string {
	var keys []store.Key
	for _, k := range l.model {
		if (f.Spec == "" || k.Spec == f.Spec) && (f.State == "" || k.State == f.State) {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b store.Key) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.KeyID, b.KeyID))
	})
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.KeyID
	}
	return ids
}

// Check compares pages of 7 keys of every filter with the model: at the
// ends, in the middle and every 333 keys from 1 995 to 1 995 before the
// end.
func (l *ListScale) Check(t *testing.T, when string) {
	t.Helper()
	if l.Invariants != nil {
		l.Invariants(t, when)
	}
	for _, f := range listScaleFilters {
		want := l.Want(f)
		offsets := []int{0, len(want) / 2, len(want) - 5}
		for o := 1995; o < len(want)-1995; o += 333 {
			offsets = append(offsets, o)
		}
		for _, o := range offsets {
			var got []string
			err := l.s.View(t.Context(), func(tx store.Tx) error {
				keys, total, err := tx.ListKeys(l.project.ID, f, o, 7)
				if err == nil && total != len(want) {
					err = fmt.Errorf("total %d, want %d", total, len(want))
				}
				for _, k := range keys {
					got = append(got, k.KeyID)
				}
				return err
			})
			if err != nil {
				t.Fatalf("%s: %+v at %d: %v", when, f, o, err)
			}
			if diff := gocmp.Diff(want[max(o, 0):min(o+7, len(want))], got); diff != "" {
				t.Fatalf("%s: %+v page at %d of %d (-want +got):\n%s", when, f, o, len(want), diff)
			}
		}
	}
}
