package postgres

import (
	"testing"

	"github.com/kmsd/kmsd/internal/store"
	"github.com/kmsd/kmsd/internal/store/storetest"
)

// TestListKeysBlocks runs storetest.RunListScale with the block counts of
// migration 0005 checked against the keys before each comparison; then it
// makes one block's count wrong and checks that a jump reads the wrong
// page, so that the jumps are known to use the blocks.
func TestListKeysBlocks(t *testing.T) {
	s := open(t)
	l := storetest.RunListScale(t, s, func(t *testing.T, when string) { checkBlocks(t, s, when) })
	if _, err := s.pool.Exec(t.Context(),
		"UPDATE key_list_blocks SET n = n + 1 WHERE project_id = $1 AND dim = 0 AND start_id = ''", l.ProjectID()); err != nil {
		t.Fatal(err)
	}
	want := l.Want(store.KeyFilter{})
	mid := len(want) / 2
	err := s.View(t.Context(), func(tx store.Tx) error {
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
	rows, err := s.pool.Query(t.Context(), `SELECT b.dim, b.spec, b.state, b.start_at, b.start_id, b.n, (
			SELECT COUNT(*) FROM keys k WHERE k.project_id = b.project_id
				AND (b.dim & 1 = 0 OR k.spec = b.spec) AND (b.dim & 2 = 0 OR k.state = b.state)
				AND (k.created_at, k.key_id) >= (b.start_at, b.start_id)
				AND (nx.start_at IS NULL OR (k.created_at, k.key_id) < (nx.start_at, nx.start_id)))
		FROM key_list_blocks b LEFT JOIN LATERAL (
			SELECT c.start_at, c.start_id FROM key_list_blocks c
			WHERE c.project_id = b.project_id AND c.dim = b.dim AND c.spec = b.spec AND c.state = b.state
				AND (c.start_at, c.start_id) > (b.start_at, b.start_id)
			ORDER BY c.start_at, c.start_id LIMIT 1) nx ON true`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	count := 0
	for rows.Next() {
		var dim, n, actual int
		var spec, state, startID string
		var startAt int64
		if err := rows.Scan(&dim, &spec, &state, &startAt, &startID, &n, &actual); err != nil {
			t.Fatal(err)
		}
		count++
		if n != actual || n >= blockMax {
			t.Errorf("%s: block %d %q %q at (%d, %q) counts %d keys, holds %d", when, dim, spec, state, startAt, startID, n, actual)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var missing int
	err = s.pool.QueryRow(t.Context(), `SELECT COUNT(*) FROM keys k CROSS JOIN generate_series(0, 3) AS d (dim)
		WHERE NOT EXISTS (SELECT 1 FROM key_list_blocks b WHERE b.project_id = k.project_id AND b.dim = d.dim
			AND b.spec = CASE WHEN d.dim & 1 = 1 THEN k.spec ELSE '' END
			AND b.state = CASE WHEN d.dim & 2 = 2 THEN k.state ELSE '' END
			AND b.start_at = -9223372036854775808 AND b.start_id = '')`).Scan(&missing)
	if err != nil {
		t.Fatal(err)
	}
	if missing > 0 {
		t.Errorf("%s: %d filters of keys have no first block", when, missing)
	}
	if count < 20 {
		t.Errorf("%s: %d blocks, want the splits of 9 000 keys and more", when, count)
	}
}

// TestLoadRebuildsListCounts checks that a bulk load, whose transaction
// turns the list triggers off, leaves the counts and blocks of migration
// 0005 exact (key_list_rebuild): totals of every filter and a jump.
func TestLoadRebuildsListCounts(t *testing.T) {
	s := open(t)
	storetest.FillKeys(t, s, 0)
	const n = 9000
	err := s.Load(t.Context(), func(tx store.Tx) error {
		for i := range n {
			if err := tx.CreateKey(storetest.BenchKey(i)); err != nil {
				return err
			}
		}
		return nil
	}, func(store.Tx) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	checkBlocks(t, s, "after a load")
	checkBenchTotals(t, s, n)
}

// TestMultiRowInsertCounts checks the generic path of the insert trigger
// of migration 0006 (an INSERT of several keys; every CreateKey inserts
// one): totals, blocks and a jump stay exact.
func TestMultiRowInsertCounts(t *testing.T) {
	s := open(t)
	storetest.FillKeys(t, s, 0)
	const n, batch = 9000, 1500
	for from := 0; from < n; from += batch {
		var ids, specs, states []string
		var at []int64
		for i := from; i < from+batch; i++ {
			k := storetest.BenchKey(i)
			ids, specs, states, at = append(ids, k.KeyID), append(specs, k.Spec), append(states, k.State), append(at, k.CreatedAt.UnixMilli())
		}
		_, err := s.pool.Exec(t.Context(), `INSERT INTO keys (project_id, key_id, account_id, alias, description, spec, usage, origin,
				state, is_default, enterprise_project_id, keystore_id, primary_version, created_at, revision)
			SELECT $1, id, $2, '', '', spec, 'ENCRYPT_DECRYPT', 'external', state, false, '0', '0', 0, at, 1
			FROM unnest($3::TEXT[], $4::TEXT[], $5::TEXT[], $6::BIGINT[]) AS u (id, spec, state, at)`,
			storetest.BenchProjectID, storetest.BenchAccountID, ids, specs, states, at)
		if err != nil {
			t.Fatal(err)
		}
	}
	checkBlocks(t, s, "after multi-row inserts")
	checkBenchTotals(t, s, n)
}

// checkBenchTotals checks the totals of three filters and a jump over the
// n keys of storetest.BenchKey.
func checkBenchTotals(t *testing.T, s *Store, n int) {
	t.Helper()
	err := s.View(t.Context(), func(tx store.Tx) error {
		for _, c := range []struct {
			f    store.KeyFilter
			want int
		}{
			{store.KeyFilter{}, n},
			{store.KeyFilter{Spec: "SM4"}, n / 4},
			{store.KeyFilter{State: store.StateDisabled}, n / 8},
		} {
			if _, total, err := tx.ListKeys(storetest.BenchProjectID, c.f, 0, 1); err != nil || total != c.want {
				t.Errorf("%+v: total %d, %v; want %d", c.f, total, err, c.want)
			}
		}
		keys, _, err := tx.ListKeys(storetest.BenchProjectID, store.KeyFilter{}, n/2, 2)
		if err == nil && (len(keys) != 2 || keys[0].KeyID != storetest.BenchKey(n/2).KeyID) {
			t.Errorf("the page at %d is %v, want %s first", n/2, keys, storetest.BenchKey(n/2).KeyID)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
