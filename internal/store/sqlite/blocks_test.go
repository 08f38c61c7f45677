package sqlite

import (
	"cmp"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/kmsd/kmsd/internal/store"
)

// TestListKeysBlocks checks the block counts of migration 0009 against a
// model of the keys: every block's count equals the keys of its range, and
// pages far from both ends (found through the blocks) and near them equal
// the model's, for every filter with blocks, after inserts out of list
// order (with ties on created_at), changes of state and spec, deletions
// and inserts into the middle that split blocks there. Then it makes one
// block's count wrong and checks that a jump reads the wrong page, so
// that the jumps are known to use the blocks.
func TestListKeysBlocks(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "kmsd.db"))
	k0 := seed(t, s)
	model := map[string]store.Key{k0.KeyID: k0}
	create := func(from, to int, at func(i int) int64) {
		t.Helper()
		for start := from; start < to; start += 1000 {
			err := s.Update(t.Context(), func(tx store.Tx) error {
				for i := start; i < min(to, start+1000); i++ {
					k := k0
					k.KeyID = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
					k.CreatedAt = time.UnixMilli(at(i))
					k.Spec = []string{"AES_256", "SM4", "AES_256"}[i%3]
					k.State = []string{store.StateEnabled, store.StateDisabled}[min(i%5, 1)]
					if err := tx.CreateKey(k); err != nil {
						return err
					}
					model[k.KeyID] = k
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	// 9 000 keys in an order unlike the list order, 3 per millisecond.
	create(0, 9000, func(i int) int64 { return int64(i*7919%9000) / 3 })
	filters := []store.KeyFilter{
		{}, {Spec: "AES_256"}, {Spec: "SM4"}, {State: store.StateEnabled}, {State: store.StateDisabled},
		{Spec: "AES_256", State: store.StateEnabled}, {Spec: "SM4", State: store.StateDisabled},
	}
	check := func(when string) {
		t.Helper()
		checkBlocks(t, s, when)
		for _, f := range filters {
			want := modelList(model, f)
			offsets := []int{0, len(want) / 2, len(want) - 5}
			for o := blockMax - 5; o < len(want)-blockMax+5; o += 333 {
				offsets = append(offsets, o)
			}
			for _, o := range offsets {
				var got []string
				err := s.View(t.Context(), func(tx store.Tx) error {
					keys, total, err := tx.ListKeys(k0.ProjectID, f, o, 7)
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
	check("after inserts")

	// Disable every fourth key, make every sixth SM4, delete every seventh.
	err := s.Update(t.Context(), func(tx store.Tx) error {
		for i := range 9000 {
			id := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
			switch {
			case i%7 == 0:
				if err := tx.DeleteKey(k0.ProjectID, id); err != nil {
					return err
				}
				delete(model, id)
			case i%4 == 0 || i%6 == 0:
				k, err := tx.GetKey(k0.ProjectID, id)
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
				model[id] = k
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	check("after changes and deletions")

	// 4 000 keys into the middle third of the list order.
	create(9000, 13000, func(i int) int64 { return 1000 + int64(i%1000) })
	check("after inserts into the middle")

	// Migration 0009 on a database that holds keys builds the same
	// invariants: undo it and run it again.
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(ms, func(m migration) bool { return strings.HasPrefix(m.name, "0009_") })
	_, err = s.w.ExecContext(t.Context(), `DROP TRIGGER keys_list_blocks_insert; DROP TRIGGER keys_list_blocks_delete;
		DROP TRIGGER keys_list_blocks_update; DROP TABLE key_list_blocks;`+ms[i].sql)
	if err != nil {
		t.Fatal(err)
	}
	check("after migration 0009 on existing keys")

	// A wrong count in the first unfiltered block shifts every jump.
	if _, err := s.w.ExecContext(t.Context(),
		"UPDATE key_list_blocks SET n = n + 1 WHERE project_id = ? AND dim = 0 AND start_id = ''", k0.ProjectID); err != nil {
		t.Fatal(err)
	}
	want := modelList(model, store.KeyFilter{})
	mid := len(want) / 2
	err = s.View(t.Context(), func(tx store.Tx) error {
		keys, _, err := tx.ListKeys(k0.ProjectID, store.KeyFilter{}, mid, 1)
		if err == nil && len(keys) == 1 && keys[0].KeyID == want[mid] {
			t.Errorf("the page at %d ignores the blocks: a wrong block count did not change it", mid)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// modelList returns the ids of the keys of model matching f in list order.
func modelList(model map[string]store.Key, f store.KeyFilter) []string {
	var keys []store.Key
	for _, k := range model {
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

// checkBlocks checks that each block's count is the number of keys of its
// filter from its start to the next block's start, that no block holds
// blockMax keys or more, and that every filter of every key has a first
// block (so that every key falls in a block).
func checkBlocks(t *testing.T, s *Store, when string) {
	t.Helper()
	type pos struct {
		at int64
		id string
	}
	less := func(a, b pos) bool { return a.at < b.at || a.at == b.at && a.id < b.id }
	type filter struct {
		dim         int
		spec, state string
	}
	type block struct {
		start pos
		n     int
	}
	blocks := map[filter][]block{}
	rows, err := s.r.QueryContext(t.Context(),
		"SELECT dim, spec, state, start_at, start_id, n FROM key_list_blocks ORDER BY dim, spec, state, start_at, start_id")
	if err != nil {
		t.Fatal(err)
	}
	count := 0
	for rows.Next() {
		var f filter
		var b block
		if err := rows.Scan(&f.dim, &f.spec, &f.state, &b.start.at, &b.start.id, &b.n); err != nil {
			t.Fatal(err)
		}
		blocks[f] = append(blocks[f], b)
		count++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	actual := map[filter][]int{}
	for f, bs := range blocks {
		actual[f] = make([]int, len(bs))
		if bs[0].start != (pos{-1 << 63, ""}) {
			t.Errorf("%s: the first block of %+v starts at %+v", when, f, bs[0].start)
		}
	}
	rows, err = s.r.QueryContext(t.Context(), "SELECT spec, state, created_at, key_id FROM keys")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var spec, state string
		var p pos
		if err := rows.Scan(&spec, &state, &p.at, &p.id); err != nil {
			t.Fatal(err)
		}
		for dim := range 4 {
			f := filter{dim: dim}
			if dim&1 != 0 {
				f.spec = spec
			}
			if dim&2 != 0 {
				f.state = state
			}
			bs := blocks[f]
			i := len(bs) - 1
			for i >= 0 && less(p, bs[i].start) {
				i--
			}
			if i < 0 {
				t.Fatalf("%s: key %s has no block of %+v", when, p.id, f)
			}
			actual[f][i]++
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for f, bs := range blocks {
		for i, b := range bs {
			if b.n != actual[f][i] || b.n >= blockMax {
				t.Errorf("%s: block %d of %+v at %+v counts %d keys, holds %d", when, i, f, b.start, b.n, actual[f][i])
			}
		}
	}
	if count < 20 {
		t.Errorf("%s: %d blocks, want the splits of 9 000 keys and more", when, count)
	}
}
