package postgres

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/kmsd/kmsd/internal/store"
	"github.com/kmsd/kmsd/internal/store/storetest"
)

// TestQueryPlans checks that the planner serves the list queries from the
// indexes meant for them, in list order, without sorting more than a
// page, on 20 000 keys (a tenth of them tagged) after ANALYZE. The skip to
// an offset must be an index-only scan, and the page's rows are read by
// key id. (The counts and the blocks are a few rows per project in these
// tests, which the planner rightly reads by sequential scan; they have
// their primary keys for real sizes.)
func TestQueryPlans(t *testing.T) {
	s := open(t)
	fillKeysSQL(t, s, 20_000)
	_, err := s.pool.Exec(t.Context(), `INSERT INTO key_tags (project_id, key_id, tag_key, tag_value)
		SELECT project_id, key_id, t, 'prod' FROM keys CROSS JOIN (VALUES ('env'), ('team')) v (t)
		WHERE right(key_id, 1) = '7'`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(t.Context(), "VACUUM (ANALYZE)"); err != nil {
		t.Fatal(err)
	}
	p := storetest.BenchProjectID
	_, listAll, listAllReverse, allArgs := listKeysQueries(p, store.KeyFilter{})
	_, listSpec, listSpecReverse, specArgs := listKeysQueries(p, store.KeyFilter{Spec: "SM4"})
	_, listState, _, stateArgs := listKeysQueries(p, store.KeyFilter{State: "2"})
	_, listBoth, listBothReverse, bothArgs := listKeysQueries(p, store.KeyFilter{Spec: "SM4", State: "2"})
	_, _, from, _, fromArgs, _ := blockQueries(p, store.KeyFilter{Spec: "SM4", State: "2"})
	_, findPage, findArgs, ferr := findKeysQueries(p, store.TagQuery{
		Tags: []store.TagValues{{Key: "env", Values: []string{"prod"}}, {Key: "team"}},
	})
	if ferr != nil {
		t.Fatal(ferr)
	}
	for _, tc := range []struct {
		name  string
		query string
		args  []any
		want  string
		sorts bool // the plan may sort: the page read from the end, the matches of a tag query
	}{
		{"ListKeys", listAll, append(allArgs, 10, 0), "Index Only Scan using keys_list_all on keys", false},
		{"ListKeys reverse", listAllReverse, append(allArgs, 10, 0), "Index Only Scan Backward using keys_list_all on keys", true},
		{"ListKeys spec", listSpec, append(specArgs, 10, 0), "Index Only Scan using keys_list_spec on keys", false},
		{"ListKeys spec reverse", listSpecReverse, append(specArgs, 10, 0), "Index Only Scan Backward using keys_list_spec on keys", true},
		{"ListKeys state", listState, append(stateArgs, 10, 0), "Index Only Scan using keys_list_state on keys", false},
		{"ListKeys spec+state", listBoth, append(bothArgs, 10, 0), "Index Only Scan using keys_list_spec_state on keys", false},
		{"ListKeys spec+state reverse", listBothReverse, append(bothArgs, 10, 0), "Index Only Scan Backward using keys_list_spec_state on keys", true},
		{"ListKeys page rows", listBoth, append(bothArgs, 10, 0), "key_id = keys.key_id)", false},
		{"ListKeys from block", from, append(fromArgs, 0, "k", 10, 5), "Index Only Scan using keys_list_spec_state on keys", false},
		{"FindKeysByTags", findPage, append(findArgs, 10, 0), "using key_tags_lookup on key_tags d", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var plan []string
			err := pgx.BeginFunc(t.Context(), s.pool, func(tx pgx.Tx) error {
				rows, err := tx.Query(t.Context(), "EXPLAIN "+tc.query, tc.args...)
				if err != nil {
					return err
				}
				defer rows.Close()
				for rows.Next() {
					var line string
					if err := rows.Scan(&line); err != nil {
						return err
					}
					plan = append(plan, strings.TrimSpace(line))
				}
				return rows.Err()
			})
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(plan, "\n")
			if !strings.Contains(got, tc.want) || !tc.sorts && strings.Contains(got, "Sort") ||
				strings.Contains(got, "Seq Scan") || strings.Contains(got, "Filter: (k.key_id") {
				t.Errorf("plan\n%s\nwant it to contain %q and no sort", got, tc.want)
			}
		})
	}
}
