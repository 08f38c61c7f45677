package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kmsd/kmsd/internal/store"
)

// TestKeyStateCounts follows a key through its states: the counters move
// with every create, state change and delete, in the same transaction.
func TestKeyStateCounts(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "kmsd.db"))
	defer s.Close()
	check := func(want map[string]int) {
		t.Helper()
		got, err := s.KeyStateCounts(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range got {
			if v == 0 {
				delete(got, k)
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("KeyStateCounts (-want +got):\n%s", diff)
		}
	}
	check(map[string]int{})
	k := seed(t, s)
	check(map[string]int{store.StateEnabled: 1})
	update := func(f func(tx store.Tx) error) {
		t.Helper()
		if err := s.Update(t.Context(), f); err != nil {
			t.Fatal(err)
		}
	}
	k.State = store.StateDisabled
	update(func(tx store.Tx) error { return tx.UpdateKey(k) })
	check(map[string]int{store.StateDisabled: 1})
	k2 := k
	k2.KeyID, k2.State = "2c7a5a9e-52b1-4c43-9d0a-0d3f4f0e6b12", store.StateEnabled
	update(func(tx store.Tx) error { return tx.CreateKey(k2) })
	k2.Description = "no state change"
	update(func(tx store.Tx) error { return tx.UpdateKey(k2) })
	check(map[string]int{store.StateDisabled: 1, store.StateEnabled: 1})
	update(func(tx store.Tx) error { return tx.DeleteKey(k.ProjectID, k.KeyID) })
	check(map[string]int{store.StateEnabled: 1})
}
