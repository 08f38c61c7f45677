package postgres

import (
	"context"
	"fmt"

	"github.com/kmsd/kmsd/internal/store"
)

var _ store.Resealer = (*Store)(nil)

// sealedTable says where the items of one kind live: the query that lists
// them after a cursor in primary-key order, the arguments of the cursor,
// how to scan a row, and the compare-and-swap that replaces one.
type sealedTable struct {
	list    string
	after   func(store.SealedItem) []any
	scan    func(scanner) (store.SealedItem, error)
	replace string
	key     func(store.SealedItem) []any
	count   string
}

var sealedTables = map[string]sealedTable{
	store.SealedKeyMaterial: {
		list:  "SELECT project_id, key_id, version, sealed FROM key_versions WHERE (project_id, key_id, version) > ($1, $2, $3) ORDER BY project_id, key_id, version LIMIT $4",
		after: func(it store.SealedItem) []any { return []any{it.ProjectID, it.KeyID, it.Version} },
		scan: func(r scanner) (store.SealedItem, error) {
			it := store.SealedItem{Kind: store.SealedKeyMaterial}
			return it, r.Scan(&it.ProjectID, &it.KeyID, &it.Version, &it.Sealed)
		},
		replace: "UPDATE key_versions SET sealed = $1 WHERE project_id = $2 AND key_id = $3 AND version = $4 AND sealed = $5",
		key:     func(it store.SealedItem) []any { return []any{it.ProjectID, it.KeyID, it.Version} },
		count:   "SELECT count(*) FROM key_versions",
	},
	store.SealedAccessKey: {
		list:  "SELECT ak, sealed_sk FROM access_keys WHERE ak > $1 ORDER BY ak LIMIT $2",
		after: func(it store.SealedItem) []any { return []any{it.ID} },
		scan: func(r scanner) (store.SealedItem, error) {
			it := store.SealedItem{Kind: store.SealedAccessKey}
			return it, r.Scan(&it.ID, &it.Sealed)
		},
		replace: "UPDATE access_keys SET sealed_sk = $1 WHERE ak = $2 AND sealed_sk = $3",
		key:     func(it store.SealedItem) []any { return []any{it.ID} },
		count:   "SELECT count(*) FROM access_keys",
	},
	store.SealedImportToken: {
		list:  "SELECT token_id, project_id, key_id, sealed_private_key FROM import_tokens WHERE token_id > $1 ORDER BY token_id LIMIT $2",
		after: func(it store.SealedItem) []any { return []any{it.ID} },
		scan: func(r scanner) (store.SealedItem, error) {
			it := store.SealedItem{Kind: store.SealedImportToken}
			return it, r.Scan(&it.ID, &it.ProjectID, &it.KeyID, &it.Sealed)
		},
		replace: "UPDATE import_tokens SET sealed_private_key = $1 WHERE token_id = $2 AND sealed_private_key = $3",
		key:     func(it store.SealedItem) []any { return []any{it.ID} },
		count:   "SELECT count(*) FROM import_tokens",
	},
	store.SealedAccessPoint: {
		list:  "SELECT id, project_id, sealed_private_key FROM access_points WHERE id > $1 AND sealed_private_key IS NOT NULL AND length(sealed_private_key) > 0 ORDER BY id LIMIT $2",
		after: func(it store.SealedItem) []any { return []any{it.ID} },
		scan: func(r scanner) (store.SealedItem, error) {
			it := store.SealedItem{Kind: store.SealedAccessPoint}
			return it, r.Scan(&it.ID, &it.ProjectID, &it.Sealed)
		},
		replace: "UPDATE access_points SET sealed_private_key = $1 WHERE id = $2 AND sealed_private_key = $3",
		key:     func(it store.SealedItem) []any { return []any{it.ID} },
		count:   "SELECT count(*) FROM access_points WHERE sealed_private_key IS NOT NULL AND length(sealed_private_key) > 0",
	},
}

// ListSealed implements store.Resealer: one statement, outside any
// transaction.
func (s *Store) ListSealed(ctx context.Context, kind string, after store.SealedItem, limit int) ([]store.SealedItem, error) {
	tb, ok := sealedTables[kind]
	if !ok {
		return nil, fmt.Errorf("postgres: list sealed: unknown kind %q", kind)
	}
	rows, err := s.pool.Query(ctx, tb.list, append(tb.after(after), limit)...)
	if err != nil {
		return nil, wrap("list sealed", err)
	}
	defer rows.Close()
	var out []store.SealedItem
	for rows.Next() {
		it, err := tb.scan(rows)
		if err != nil {
			return nil, wrap("list sealed", err)
		}
		out = append(out, it)
	}
	return out, wrap("list sealed", rows.Err())
}

// ReplaceSealed implements store.Resealer in one transaction; each
// UPDATE compares the stored blob, so a row another node changed since it
// was listed is left alone.
func (s *Store) ReplaceSealed(ctx context.Context, rs []store.SealedReplacement) (int, error) {
	n := 0
	err := s.Update(ctx, func(stx store.Tx) error {
		t := stx.(*tx)
		n = 0
		for _, r := range rs {
			tb, ok := sealedTables[r.Item.Kind]
			if !ok {
				return fmt.Errorf("postgres: replace sealed: unknown kind %q", r.Item.Kind)
			}
			args := append([]any{r.New}, tb.key(r.Item)...)
			tag, err := t.execIn("replace sealed", tb.replace, append(args, r.Item.Sealed)...)
			if err != nil {
				return err
			}
			n += int(tag.RowsAffected())
		}
		return nil
	})
	return n, err
}

// CountSealed implements store.Resealer.
func (s *Store) CountSealed(ctx context.Context) (int, error) {
	total := 0
	for _, kind := range store.SealedKinds {
		var n int
		if err := s.pool.QueryRow(ctx, sealedTables[kind].count).Scan(&n); err != nil {
			return 0, wrap("count sealed", err)
		}
		total += n
	}
	return total, nil
}
