package sqlite

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kmsd/kmsd/internal/store"
	"github.com/kmsd/kmsd/internal/store/storetest"
)

// TestListKeysBlocks runs storetest.RunListScale with the block counts of
// migration 0009 checked against the keys before each comparison, then
// runs migration 0009 again over the existing keys and compares again;
// then it makes one block's count wrong and checks that a jump reads the
// wrong page, so that the jumps are known to use the blocks.
func TestListKeysBlocks(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "kmsd.db"))
	l := storetest.RunListScale(t, s, func(t *testing.T, when string) { checkBlocks(t, s, when) })

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
	l.Check(t, "after migration 0009 on existing keys")

	// A wrong count in the first unfiltered block shifts every jump.
	if _, err := s.w.ExecContext(t.Context(),
		"UPDATE key_list_blocks SET n = n + 1 WHERE project_id = ? AND dim = 0 AND start_id = ''", l.ProjectID()); err != nil {
		t.Fatal(err)
	}
	want := l.Want(store.KeyFilter{})
	mid := len(want) / 2
	err = s.View(t.Context(), func(tx store.Tx) error {
		keys, _, err := tx.ListKeys(l.ProjectID(), store.KeyFilter{}, mid, 1)
		if err == nil && len(keys) == 1 && keys[0].KeyID == want[mid] {
			t.Errorf("the page at %d ignores the blocks: a wrong block count did not change it", mid)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
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
