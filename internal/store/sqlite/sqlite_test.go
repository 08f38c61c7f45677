package sqlite

import (
	"bufio"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kmsd/kmsd/internal/store"
	"github.com/kmsd/kmsd/internal/store/storetest"
)

// open opens a store at path and closes it when tb ends.
func open(tb testing.TB, path string) *Store {
	tb.Helper()
	s, err := Open(tb.Context(), path)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, filepath.Join(t.TempDir(), "kmsd.db"))
	})
}

// seed writes an account, a project and a key and returns the key.
func seed(t *testing.T, s *Store) store.Key {
	t.Helper()
	now := time.UnixMilli(time.Now().UnixMilli())
	a := store.Account{ID: strings.Repeat("a", 32), Name: "acme", CreatedAt: now}
	p := store.Project{ID: strings.Repeat("b", 32), AccountID: a.ID, Name: "cn-north-4", CreatedAt: now}
	k := store.Key{
		ProjectID: p.ID, KeyID: "1c7a5a9e-52b1-4c43-9d0a-0d3f4f0e6b11", AccountID: a.ID,
		Spec: "SM4", Usage: "ENCRYPT_DECRYPT", Origin: "kms", State: store.StateEnabled,
		PrimaryVersion: 1, CreatedAt: now,
	}
	err := s.Update(t.Context(), func(tx store.Tx) error {
		if err := tx.CreateAccount(a); err != nil {
			return err
		}
		if err := tx.CreateProject(p); err != nil {
			return err
		}
		return tx.CreateKey(k)
	})
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	return k
}

// migrationVersions returns the recorded schema versions.
func migrationVersions(t *testing.T, s *Store) []int {
	t.Helper()
	rows, err := s.r.QueryContext(t.Context(), "SELECT version FROM schema_migrations ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var vs []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return vs
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kmsd.db")
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	var want []int
	for _, m := range ms {
		want = append(want, m.version)
	}

	s := open(t, path)
	k := seed(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Reopening runs migrate again; it must apply nothing twice.
	for i := range 2 {
		s := open(t, path)
		err := s.View(t.Context(), func(tx store.Tx) error {
			got, err := tx.GetKey(k.ProjectID, k.KeyID)
			if err != nil {
				return err
			}
			if diff := cmp.Diff(k, got); diff != "" {
				t.Errorf("reopen %d: GetKey mismatch (-want +got):\n%s", i, diff)
			}
			c, err := tx.KeyCounts(k.ProjectID)
			if c != (store.KeyCounts{Custom: 1}) {
				t.Errorf("reopen %d: KeyCounts: got %+v, want {Custom:1}", i, c)
			}
			return err
		})
		if err != nil {
			t.Fatalf("reopen %d: %v", i, err)
		}
		if diff := cmp.Diff(want, migrationVersions(t, s)); diff != "" {
			t.Errorf("reopen %d: schema_migrations mismatch (-want +got):\n%s", i, diff)
		}
		if err := migrate(t.Context(), s.w); err != nil {
			t.Errorf("reopen %d: migrate again: %v", i, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestUpgradeFrom0001 opens a database written by a kmsd that knew only
// migration 0001 and checks that its keys read back with the defaults of
// the newer fields and work with the newer tables.
func TestUpgradeFrom0001(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kmsd.db")
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", dsn(abs, true))
	if err != nil {
		t.Fatal(err)
	}
	const (
		accountID = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		projectID = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
		keyID     = "1c7a5a9e-52b1-4c43-9d0a-0d3f4f0e6b11"
	)
	for _, q := range []string{
		"CREATE TABLE schema_migrations (version INTEGER NOT NULL PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT",
		ms[0].sql,
		"INSERT INTO schema_migrations (version, applied_at) VALUES (1, 0)",
		"INSERT INTO accounts (id, name, created_at) VALUES ('" + accountID + "', 'acme', 0)",
		"INSERT INTO projects (id, account_id, name, cmk_quota, grant_quota, created_at) VALUES ('" +
			projectID + "', '" + accountID + "', 'cn-north-4', 0, 0, 0)",
		"INSERT INTO key_counts (project_id, custom_keys) VALUES ('" + projectID + "', 1)",
		`INSERT INTO keys (project_id, key_id, account_id, alias, description, spec, usage, origin,
			state, is_default, enterprise_project_id, keystore_id, primary_version, created_at,
			deletion_date, revision)
		VALUES ('` + projectID + "', '" + keyID + "', '" + accountID + `', 'app/old', '', 'AES_256',
			'ENCRYPT_DECRYPT', 'kms', '2', 0, '0', '', 1, 1000, NULL, 3)`,
	} {
		if _, err := db.ExecContext(t.Context(), q); err != nil {
			db.Close()
			t.Fatalf("%.60s: %v", q, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s := open(t, path)
	var want []int
	for _, m := range ms {
		want = append(want, m.version)
	}
	if diff := cmp.Diff(want, migrationVersions(t, s)); diff != "" {
		t.Errorf("schema_migrations mismatch (-want +got):\n%s", diff)
	}
	wantKey := store.Key{
		ProjectID: projectID, KeyID: keyID, AccountID: accountID, Alias: "app/old",
		Spec: "AES_256", Usage: "ENCRYPT_DECRYPT", Origin: "kms", State: store.StateEnabled,
		EnterpriseProjectID: "0", PrimaryVersion: 1, CreatedAt: time.UnixMilli(1000).UTC(), Revision: 3,
	}
	err = s.Update(t.Context(), func(tx store.Tx) error {
		got, err := tx.GetKey(projectID, keyID)
		if err != nil {
			return err
		}
		if diff := cmp.Diff(wantKey, got); diff != "" {
			t.Errorf("GetKey of an old key mismatch (-want +got):\n%s", diff)
		}
		// The old key alias already takes part in the alias namespace.
		err = tx.CreateAlias(store.Alias{ProjectID: projectID, Alias: "app/old", KeyID: keyID})
		if !errors.Is(err, store.ErrConflict) {
			t.Errorf("CreateAlias of the old key alias: got %v, want ErrConflict", err)
		}
		if err := tx.PutTag(projectID, keyID, "env", "prod"); err != nil {
			return err
		}
		got.RotationEnabled, got.RotationInterval = true, 30
		return tx.UpdateKey(got)
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.View(t.Context(), func(tx store.Tx) error {
		due, err := tx.KeysDueForRotation(time.UnixMilli(1000).Add(30*24*time.Hour), 10)
		if len(due) != 1 || due[0].KeyID != keyID {
			t.Errorf("KeysDueForRotation: got %d keys, want the old key", len(due))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestOddPath opens a database whose path has characters that are special
// in URIs.
func TestOddPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a b#c?d%20e&f=g")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "kmsd.db")
	s := open(t, path)
	seed(t, s)
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database is not at the given path: %v", err)
	}
}

func TestSchemaTooNew(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kmsd.db")
	s := open(t, path)
	_, err := s.w.ExecContext(t.Context(),
		"INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 0)")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(t.Context(), path)
	if err == nil {
		s2.Close()
		t.Fatal("Open of a newer database: got nil error")
	}
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Errorf("Open of a newer database: got %v, want ErrSchemaTooNew", err)
	}
}

func TestMigrationFiles(t *testing.T) {
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range ms {
		if m.version != i+1 {
			t.Errorf("migration %s: version %d, want %d", m.name, m.version, i+1)
		}
	}
}

// TestSettings checks the pragmas the durability promise rests on, on the
// connections that really serve View and Update.
func TestSettings(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "kmsd.db"))
	for _, tc := range []struct {
		pool   string
		pragma string
		want   string
	}{
		{"write", "journal_mode", "wal"},
		{"write", "synchronous", "2"},
		{"write", "foreign_keys", "1"},
		{"write", "busy_timeout", fmt.Sprint(busyTimeout.Milliseconds())},
		{"write", "query_only", "0"},
		{"read", "journal_mode", "wal"},
		{"read", "foreign_keys", "1"},
		{"read", "busy_timeout", fmt.Sprint(busyTimeout.Milliseconds())},
		{"read", "query_only", "1"},
	} {
		t.Run(tc.pool+"/"+tc.pragma, func(t *testing.T) {
			db := s.r
			if tc.pool == "write" {
				db = s.w
			}
			var got string
			if err := db.QueryRowContext(t.Context(), "PRAGMA "+tc.pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("PRAGMA %s: got %q, want %q", tc.pragma, got, tc.want)
			}
		})
	}
}

// TestQueryPlans checks that the hot queries use their indexes: KeyCounts
// reads one row and never scans keys.
func TestQueryPlans(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "kmsd.db"))
	_, listAll, listAllReverse, listAfter, listArgs := listKeysQueries("p", store.KeyFilter{})
	_, listSpec, listSpecReverse, listSpecAfter, specArgs := listKeysQueries("p", store.KeyFilter{Spec: "AES_256"})
	_, listState, _, _, stateArgs := listKeysQueries("p", store.KeyFilter{State: "2"})
	listCount, listFiltered, listFilteredReverse, listFilteredAfter, filteredArgs := listKeysQueries("p", store.KeyFilter{State: "2", Spec: "SM4"})
	blocks, blocksReverse, blockFrom, blockArgs, blockFromArgs, _ := blockQueries("p", store.KeyFilter{Spec: "SM4"})
	// The lookup of the triggers of migration 0009 and their split.
	const blockOf = `SELECT rowid FROM key_list_blocks WHERE project_id = ? AND dim = 1 AND spec = ? AND state = ''
		AND (start_at, start_id) <= (?, ?) ORDER BY start_at DESC, start_id DESC LIMIT 1`
	const blockSplit = `SELECT created_at, key_id FROM keys WHERE project_id = ? AND spec = ? AND state = ?
		AND (created_at, key_id) >= (?, ?) ORDER BY created_at, key_id LIMIT 1 OFFSET 1000`
	findCount, findPage, findArgs, err := findKeysQueries("p", store.TagQuery{
		Tags: []store.TagValues{
			{Key: "env", Values: []string{"prod", "staging"}},
			{Key: "team"},
		},
		Matches: []store.Tag{{Key: store.MatchResourceName, Value: "app"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, findMatchPage, findMatchArgs, err := findKeysQueries("p", store.TagQuery{
		Matches: []store.Tag{{Key: store.MatchResourceName, Value: "app"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		query string
		args  []any
		want  string
		sorts bool // the plan may sort (the matches of a tag query)
	}{
		{"KeyCounts", keyCountsQuery, []any{"p"}, "SEARCH key_counts USING INDEX", false},
		{"ListKeys", listAll, append(listArgs, 10, 0), "SEARCH keys USING INDEX keys_list", false},
		{"ListKeys after", listAfter, append(listArgs, 0, "k", 10), "SEARCH keys USING INDEX keys_list (project_id=? AND (created_at,key_id)>(?,?))", false},
		{"ListKeys spec after", listSpecAfter, append(specArgs, 0, "k", 10), "SEARCH keys USING INDEX keys_list_spec (project_id=? AND spec=? AND (created_at,key_id)>(?,?))", false},
		{"ListKeys filtered after", listFilteredAfter, append(filteredArgs, 0, "k", 10), "SEARCH keys USING INDEX keys_list_spec_state (project_id=? AND spec=? AND state=? AND (created_at,key_id)>(?,?))", false},
		{"ListKeys reverse", listAllReverse, append(listArgs, 10, 0), "SEARCH keys USING INDEX keys_list", false},
		{"ListKeys spec", listSpec, append(specArgs, 10, 0), "SEARCH keys USING INDEX keys_list_spec (project_id=? AND spec=?)", false},
		{"ListKeys spec reverse", listSpecReverse, append(specArgs, 10, 0), "SEARCH keys USING INDEX keys_list_spec (project_id=? AND spec=?)", false},
		{"ListKeys state", listState, append(stateArgs, 10, 0), "SEARCH keys USING INDEX keys_list_state (project_id=? AND state=?)", false},
		{"ListKeys filtered", listFiltered, append(filteredArgs, 10, 0), "SEARCH keys USING INDEX keys_list_spec_state (project_id=? AND spec=? AND state=?)", false},
		{"ListKeys filtered reverse", listFilteredReverse, append(filteredArgs, 10, 0), "SEARCH keys USING INDEX keys_list_spec_state (project_id=? AND spec=? AND state=?)", false},
		{"ListKeys count", listCount, filteredArgs, "SEARCH key_list_counts USING INDEX sqlite_autoindex_key_list_counts_1 (project_id=? AND spec=? AND state=?)", false},
		{"ListKeys blocks", blocks, blockArgs, "SEARCH key_list_blocks USING INDEX sqlite_autoindex_key_list_blocks_1 (project_id=? AND dim=? AND spec=? AND state=?)", false},
		{"ListKeys blocks reverse", blocksReverse, blockArgs, "SEARCH key_list_blocks USING INDEX sqlite_autoindex_key_list_blocks_1 (project_id=? AND dim=? AND spec=? AND state=?)", false},
		{"ListKeys from block", blockFrom, append(blockFromArgs, 0, "k", 10, 5), "SEARCH keys USING INDEX keys_list_spec (project_id=? AND spec=? AND (created_at,key_id)>(?,?))", false},
		{"key_list_blocks trigger lookup", blockOf, []any{"p", "SM4", 0, "k"}, "SEARCH key_list_blocks USING COVERING INDEX sqlite_autoindex_key_list_blocks_1 (project_id=? AND dim=? AND spec=? AND state=? AND (start_at,start_id)<(?,?))", false},
		{"key_list_blocks split", blockSplit, []any{"p", "SM4", "2", 0, "k"}, "SEARCH keys USING COVERING INDEX keys_list_spec_state (project_id=? AND spec=? AND state=? AND (created_at,key_id)>(?,?))", false},
		{"KeysDueForDeletion", keysDueQuery, []any{0, 10}, "SEARCH keys USING INDEX keys_due", false},
		{"GetKeyByAlias", keyByAliasQuery, []any{"p", "a"}, "SEARCH keys USING INDEX keys_alias", false},
		{"KeysDueForRotation", keysRotationDueQuery, []any{0, 10}, "SEARCH keys USING INDEX keys_rotation_due", false},
		{"KeysWithExpiredMaterial", keysMaterialExpiredQuery, []any{0, 10}, "SEARCH keys USING INDEX keys_material_expiry", false},
		{"ListGrants", grantsListQuery, []any{"p", "k", 10, 0}, "SEARCH grants USING INDEX grants_key", false},
		{"CountGrants", grantsCountQuery, []any{"p", "k"}, "SEARCH grants USING COVERING INDEX grants_", false},
		{"FindKeyByID", keyByIDQuery, []any{"k"}, "SEARCH keys USING INDEX keys_key_id (key_id=?)", false},
		{"MaxGrantsPerKey", grantsMaxPerKeyQuery, []any{"p"}, "SEARCH grants USING COVERING INDEX grants_", false},
		{"ListGrantsByRetiringPrincipal", grantsRetiringQuery, []any{"u", 10, 0}, "SEARCH grants USING INDEX grants_retiring", false},
		{"ListGrantsByRetiringPrincipal count", grantsRetiringCountQuery, []any{"u"}, "SEARCH grants USING COVERING INDEX grants_retiring", false},
		{"GrantsFor", grantsForQuery, []any{"p", "k", "u", "a"}, "SEARCH grants USING INDEX grants_grantee (project_id=? AND key_id=? AND grantee_principal=?)", false},
		{"ListAliases", aliasesListQuery, []any{"p", "", 10}, "SEARCH aliases USING INDEX sqlite_autoindex_aliases_1 (project_id=? AND alias>?)", false},
		{"ListAliases of key", aliasesOfKeyQuery, []any{"p", "k", "", 10}, "SEARCH aliases USING INDEX aliases_key", false},
		{"ListKeyTags", keyTagsQuery, []any{"p", "k"}, "SEARCH key_tags USING INDEX sqlite_autoindex_key_tags_1 (project_id=? AND key_id=?)", false},
		{"ListProjectTags", projectTagsQuery, []any{"p"}, "SEARCH key_tags USING COVERING INDEX key_tags_project", false},
		{"FindKeysByTags", findPage, append(findArgs, 10, 0), "SEARCH d USING COVERING INDEX key_tags_lookup (tag_key=? AND tag_value=? AND project_id=?)", true},
		{"FindKeysByTags key", findPage, append(findArgs, 10, 0), "SEARCH k USING INDEX sqlite_autoindex_keys_1 (project_id=? AND key_id=?)", true},
		{"FindKeysByTags tag lookup", findPage, append(findArgs, 10, 0), "SEARCH t USING COVERING INDEX sqlite_autoindex_key_tags_1 (project_id=? AND key_id=? AND tag_key=?)", true},
		{"FindKeysByTags count", findCount, findArgs, "SEARCH d USING COVERING INDEX key_tags_lookup (tag_key=? AND tag_value=? AND project_id=?)", true},
		{"FindKeysByTags without tags", findMatchPage, append(findMatchArgs, 10, 0), "SEARCH k USING INDEX keys_list (project_id=?)", false},
		{"DeleteExpiredImportTokens", importTokensExpiredQuery, []any{0}, "SEARCH import_tokens USING COVERING INDEX import_tokens_expiry", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, err := s.r.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+tc.query, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			got := strings.Join(plan, "; ")
			if !strings.Contains(got, tc.want) || !tc.sorts && strings.Contains(got, "TEMP B-TREE") {
				t.Errorf("plan %q, want it to contain %q and no sort", got, tc.want)
			}
		})
	}
}

func TestTimesAreUTC(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "kmsd.db"))
	k := seed(t, s)
	err := s.View(t.Context(), func(tx store.Tx) error {
		got, err := tx.GetKey(k.ProjectID, k.KeyID)
		if err != nil {
			return err
		}
		if got.CreatedAt.Location() != time.UTC {
			t.Errorf("CreatedAt location: got %v, want UTC", got.CreatedAt.Location())
		}
		if !got.DeletionDate.IsZero() {
			t.Errorf("DeletionDate: got %v, want the zero time", got.DeletionDate)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// killChildEnv names the database a child process of
// TestCommitSurvivesKill writes to.
const killChildEnv = "KMSD_SQLITE_KILL_CHILD_DB"

// TestCommitSurvivesKill commits in a child process, kills it with SIGKILL
// right after Update returns and checks that the commit is in the file.
func TestCommitSurvivesKill(t *testing.T) {
	if path := os.Getenv(killChildEnv); path != "" {
		killChild(t, path)
		return
	}
	path := filepath.Join(t.TempDir(), "kmsd.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCommitSurvivesKill$")
	cmd.Env = append(os.Environ(), killChildEnv+"="+path)
	stdin, err := cmd.StdinPipe() // never written: the child blocks on it
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	committed := false
	for sc := bufio.NewScanner(stdout); sc.Scan(); {
		if sc.Text() == "committed" {
			committed = true
			break
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if !committed {
		t.Fatal("child exited without committing")
	}

	s := open(t, path)
	err = s.View(t.Context(), func(tx store.Tx) error {
		got, err := tx.GetMeta("durable")
		if string(got) != "yes" {
			t.Errorf("GetMeta after kill: got %q, want %q", got, "yes")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func killChild(t *testing.T, path string) {
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(t.Context(), func(tx store.Tx) error { return tx.PutMeta("durable", []byte("yes")) })
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("committed")
	io.Copy(io.Discard, os.Stdin) // wait for SIGKILL
	t.Fatal("stdin closed before the kill")
}

// BenchmarkKeyCounts shows that KeyCounts costs the same however many keys
// the project holds.
func BenchmarkKeyCounts(b *testing.B) {
	for _, n := range []int{10, 10_000} {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			s := open(b, filepath.Join(b.TempDir(), "kmsd.db"))
			ctx := b.Context()
			projectID := strings.Repeat("b", 32)
			err := s.Update(ctx, func(tx store.Tx) error {
				if err := tx.CreateAccount(store.Account{ID: strings.Repeat("a", 32), Name: "acme"}); err != nil {
					return err
				}
				if err := tx.CreateProject(store.Project{ID: projectID, AccountID: strings.Repeat("a", 32), Name: "cn-north-4"}); err != nil {
					return err
				}
				for i := range n {
					err := tx.CreateKey(store.Key{
						ProjectID: projectID,
						KeyID:     fmt.Sprintf("00000000-0000-4000-8000-%012d", i),
						Spec:      "AES_256",
						State:     store.StateEnabled,
						CreatedAt: time.UnixMilli(int64(i)),
					})
					if err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				err := s.View(ctx, func(tx store.Tx) error {
					c, err := tx.KeyCounts(projectID)
					if err == nil && c.Custom != n {
						return fmt.Errorf("KeyCounts: got %d keys, want %d", c.Custom, n)
					}
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
