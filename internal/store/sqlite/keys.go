package sqlite

import (
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kmsd/kmsd/internal/store"
)

// Keys, key versions and the per-project key counters.

const keyCols = `project_id, key_id, account_id, alias, description, spec, usage, origin,
	state, is_default, enterprise_project_id, keystore_id, primary_version,
	created_at, deletion_date, rotation_enabled, rotation_interval, last_rotation,
	rotation_count, material_expires_at, material_fingerprint, revision`

// The queries whose plans TestQueryPlans checks.
const (
	// keyByAliasQuery repeats the condition of the partial index
	// keys_alias so that SQLite can use it.
	keyByAliasQuery = "SELECT " + keyCols + " FROM keys WHERE project_id = ? AND alias = ? AND alias <> ''"
	// keyCountsQuery reads the counters row of a project.
	keyCountsQuery = "SELECT custom_keys, default_keys FROM key_counts WHERE project_id = ?"
	// keysDueQuery has the state as a literal, not a parameter, so that
	// SQLite can use the partial index keys_due.
	keysDueQuery = "SELECT " + keyCols + " FROM keys WHERE state = '" + store.StatePendingDeletion + `'
		AND deletion_date <= ? ORDER BY deletion_date, project_id, key_id LIMIT ?`
	// keysRotationDueQuery repeats the condition of the partial index
	// keys_rotation_due; rotation_due_at is a generated column (see
	// migration 0002).
	keysRotationDueQuery = "SELECT " + keyCols + " FROM keys WHERE rotation_enabled = 1 AND state = '" +
		store.StateEnabled + `' AND rotation_due_at <= ? ORDER BY rotation_due_at, project_id, key_id LIMIT ?`
	// keysMaterialExpiredQuery repeats the condition of the partial index
	// keys_material_expiry.
	keysMaterialExpiredQuery = "SELECT " + keyCols + " FROM keys WHERE origin = '" + store.OriginExternal + `'
		AND material_expires_at IS NOT NULL AND material_expires_at <= ?
		ORDER BY material_expires_at, project_id, key_id LIMIT ?`
	// keyByIDQuery finds a key in any project on the unique index
	// keys_key_id.
	keyByIDQuery = "SELECT " + keyCols + " FROM keys WHERE key_id = ?"
	// keyExistsQuery tells whether a key exists in a project.
	keyExistsQuery = "SELECT EXISTS (SELECT 1 FROM keys WHERE project_id = ? AND key_id = ?)"
)

// listKeysQueries returns the queries of ListKeys for f and the arguments
// they share: count sums the matching rows of key_list_counts (a few rows
// per project, kept by the triggers of migration 0005); page selects a
// page in list order and reverse the same page counted from the end, in
// reverse order; both take two more arguments, limit and offset. Each
// filter walks the index of migration 0005 that starts with it, so the
// rows skipped to reach the offset are index entries only; after selects
// the page that follows a position in list order (see cursor.go).
func listKeysQueries(projectID string, f store.KeyFilter) (count, page, reverse, after string, args []any) {
	var where strings.Builder
	where.WriteString(" WHERE project_id = ?")
	args = []any{projectID}
	if f.State != "" {
		where.WriteString(" AND state = ?")
		args = append(args, f.State)
	}
	if f.Spec != "" {
		where.WriteString(" AND spec = ?")
		args = append(args, f.Spec)
	}
	if f.EnterpriseProjectID != "" {
		where.WriteString(" AND enterprise_project_id = ?")
		args = append(args, f.EnterpriseProjectID)
	}
	count = "SELECT COALESCE(SUM(n), 0) FROM key_list_counts" + where.String()
	// after takes the position (created_at, key_id) and the limit.
	after = "SELECT " + keyCols + " FROM keys" + where.String() + " AND (created_at, key_id) > (?, ?) ORDER BY created_at, key_id LIMIT ?"
	page = "SELECT " + keyCols + " FROM keys" + where.String() + " ORDER BY created_at, key_id LIMIT ? OFFSET ?"
	reverse = "SELECT " + keyCols + " FROM keys" + where.String() + " ORDER BY created_at DESC, key_id DESC LIMIT ? OFFSET ?"
	return count, page, reverse, after, args
}

func scanKey(s scanner) (store.Key, error) {
	var k store.Key
	var created int64
	var deletion, lastRotation, materialExpiry sql.NullInt64
	err := s.Scan(&k.ProjectID, &k.KeyID, &k.AccountID, &k.Alias, &k.Description,
		&k.Spec, &k.Usage, &k.Origin, &k.State, &k.Default, &k.EnterpriseProjectID,
		&k.KeystoreID, &k.PrimaryVersion, &created, &deletion, &k.RotationEnabled,
		&k.RotationInterval, &lastRotation, &k.RotationCount, &materialExpiry,
		&k.MaterialFingerprint, &k.Revision)
	if err != nil {
		return store.Key{}, err
	}
	k.CreatedAt = fromMillis(created)
	k.DeletionDate = fromNullMillis(deletion)
	k.LastRotation = fromNullMillis(lastRotation)
	k.MaterialExpiresAt = fromNullMillis(materialExpiry)
	return k, nil
}

// countColumn names the key_counts column that counts keys like k.
func countColumn(isDefault bool) string {
	if isDefault {
		return "default_keys"
	}
	return "custom_keys"
}

// CreateKey inserts k and counts it in its project. Key ids are unique
// across projects. It fails with store.ErrConflict on a duplicate key id or
// when its non-empty alias is taken in the project (by a key, through the
// index keys_alias, or by an alias, through the trigger keys_alias_insert),
// and with store.ErrNotFound when the project does not exist.
func (t *tx) CreateKey(k store.Key) error {
	const op = "create key"
	return t.atomic(func() error {
		_, err := t.exec("INSERT INTO keys ("+keyCols+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			k.ProjectID, k.KeyID, k.AccountID, k.Alias, k.Description, k.Spec, k.Usage,
			k.Origin, k.State, k.Default, k.EnterpriseProjectID, k.KeystoreID,
			k.PrimaryVersion, millis(k.CreatedAt), nullMillis(k.DeletionDate),
			k.RotationEnabled, k.RotationInterval, nullMillis(k.LastRotation),
			k.RotationCount, nullMillis(k.MaterialExpiresAt), nullBlob(k.MaterialFingerprint), k.Revision)
		if err != nil {
			return wrap(op, err)
		}
		col := countColumn(k.Default)
		return t.execOne(op, "UPDATE key_counts SET "+col+" = "+col+" + 1 WHERE project_id = ?", k.ProjectID)
	})
}

func (t *tx) GetKey(projectID, keyID string) (store.Key, error) {
	k, err := scanKey(t.queryRow(
		"SELECT "+keyCols+" FROM keys WHERE project_id = ? AND key_id = ?", projectID, keyID))
	return k, wrap("get key", err)
}

// FindKeyByID finds a key in whichever project holds it.
func (t *tx) FindKeyByID(keyID string) (store.Key, error) {
	k, err := scanKey(t.queryRow(keyByIDQuery, keyID))
	return k, wrap("find key by id", err)
}

// GetKeyByAlias finds a key by its non-empty alias; the empty alias finds
// nothing.
func (t *tx) GetKeyByAlias(projectID, alias string) (store.Key, error) {
	if alias == "" {
		return store.Key{}, notFound("get key by alias")
	}
	k, err := scanKey(t.queryRow(keyByAliasQuery, projectID, alias))
	return k, wrap("get key by alias", err)
}

// UpdateKey replaces every column of the key except its identity (project
// and key id), Default and CreatedAt, when k.Revision is the stored
// revision, and increments the stored revision. A changed alias taken by
// another key (index keys_alias) or by an alias (trigger keys_alias_update)
// is store.ErrConflict.
func (t *tx) UpdateKey(k store.Key) error {
	const op = "update key"
	res, err := t.exec(`UPDATE keys SET
			account_id = ?, alias = ?, description = ?, spec = ?, usage = ?, origin = ?,
			state = ?, enterprise_project_id = ?, keystore_id = ?, primary_version = ?,
			deletion_date = ?, rotation_enabled = ?, rotation_interval = ?,
			last_rotation = ?, rotation_count = ?, material_expires_at = ?,
			material_fingerprint = ?, revision = revision + 1
		WHERE project_id = ? AND key_id = ? AND revision = ?`,
		k.AccountID, k.Alias, k.Description, k.Spec, k.Usage, k.Origin,
		k.State, k.EnterpriseProjectID, k.KeystoreID, k.PrimaryVersion,
		nullMillis(k.DeletionDate), k.RotationEnabled, k.RotationInterval,
		nullMillis(k.LastRotation), k.RotationCount, nullMillis(k.MaterialExpiresAt),
		nullBlob(k.MaterialFingerprint), k.ProjectID, k.KeyID, k.Revision)
	if err != nil {
		return wrap(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return wrap(op, err)
	}
	if n == 1 {
		return nil
	}
	// Nothing matched: either the key is missing or the revision is stale.
	var stored int64
	err = t.queryRow(
		"SELECT revision FROM keys WHERE project_id = ? AND key_id = ?", k.ProjectID, k.KeyID).Scan(&stored)
	if err != nil {
		return wrap(op, err)
	}
	return fmt.Errorf("sqlite: %s: %w (%w)", op, store.ErrStale, store.ErrConflict)
}

// DeleteKey removes the key, its count, and (by cascade) its versions,
// grants, aliases, tags and import tokens.
func (t *tx) DeleteKey(projectID, keyID string) error {
	const op = "delete key"
	return t.atomic(func() error {
		var isDefault bool
		err := t.queryRow(
			"DELETE FROM keys WHERE project_id = ? AND key_id = ? RETURNING is_default",
			projectID, keyID).Scan(&isDefault)
		if err != nil {
			return wrap(op, err)
		}
		col := countColumn(isDefault)
		return t.execOne(op, "UPDATE key_counts SET "+col+" = "+col+" - 1 WHERE project_id = ?", projectID)
	})
}

// ListKeys pages through the project's keys matching f. A negative offset
// counts as 0; a limit of 0 or less means no limit. The total comes from
// key_list_counts, read in the same snapshot as the page. A page that
// follows one this store handed out seeks past where that page ended
// (cursor.go); a page far from both ends of the list is found through the
// block counts of migration 0009 (blocks.go); a page near an end is read
// from that end, so that it costs no more than the first.
func (t *tx) ListKeys(projectID string, f store.KeyFilter, offset, limit int) ([]store.Key, int, error) {
	const op = "list keys"
	count, pageQuery, reverseQuery, afterQuery, args := listKeysQueries(projectID, f)
	// A remembered position is usable only when this is the first read of
	// the transaction, so that its snapshot starts between two checks of
	// data_version.
	var v0 int64
	tracked := t.cursors != nil && !t.started && limit > 0
	if tracked {
		var err error
		if v0, err = t.counts.dataVersion(t.ctx); err != nil {
			tracked = false
		}
	}
	var total int
	if err := t.queryRow(count, args...).Scan(&total); err != nil {
		return nil, 0, wrap(op, err)
	}
	offset = max(offset, 0)
	if offset >= total {
		return nil, total, nil
	}
	key := cursorKey{projectID: projectID, filter: f, offset: offset}
	var keys []store.Key
	var err error
	if tracked && offset > 0 {
		if cur, ok := t.cursors.get(key, v0); ok {
			keys, err = query(t, scanKey, afterQuery, append(args, cur.createdAt, cur.keyID, limit)...)
			if err != nil {
				return nil, 0, wrap(op, err)
			}
			if v1, err := t.counts.dataVersion(t.ctx); err == nil && v1 == v0 {
				t.remember(key, keys, total, v0)
				return keys, total, nil
			}
			// A commit in between: the position may have moved.
		}
	}
	jumped := false
	if limit > 0 && min(offset, total-offset) > blockMax {
		keys, jumped, err = t.jump(projectID, f, offset, limit, total)
	}
	switch {
	case jumped:
	case limit <= 0 || offset <= total/2:
		keys, err = query(t, scanKey, pageQuery, append(args, sqlLimit(limit), offset)...)
	default:
		// The page [offset, end) counted from the end starts total-end
		// rows in.
		end := min(offset+limit, total)
		keys, err = query(t, scanKey, reverseQuery, append(args, end-offset, total-end)...)
		slices.Reverse(keys)
	}
	if err != nil {
		return nil, 0, wrap(op, err)
	}
	if tracked {
		if v1, err := t.counts.dataVersion(t.ctx); err == nil && v1 == v0 {
			t.remember(key, keys, total, v0)
		}
	}
	return keys, total, nil
}

// remember keeps where the page of key ends, read at data_version v, for
// a request of the next page.
func (t *tx) remember(key cursorKey, page []store.Key, total int, v int64) {
	next := key.offset + len(page)
	if len(page) == 0 || next >= total {
		return
	}
	last := page[len(page)-1]
	key.offset = next
	t.cursors.put(key, cursor{version: v, createdAt: millis(last.CreatedAt), keyID: last.KeyID})
}

// KeyCounts reads the project's counters row. It fails with
// store.ErrNotFound when the project does not exist.
func (t *tx) KeyCounts(projectID string) (store.KeyCounts, error) {
	var c store.KeyCounts
	err := t.queryRow(keyCountsQuery, projectID).Scan(&c.Custom, &c.Default)
	if err != nil {
		return store.KeyCounts{}, wrap("key counts", err)
	}
	return c, nil
}

// KeysDueForDeletion returns the due keys oldest deletion date first. A
// limit of 0 or less means no limit.
func (t *tx) KeysDueForDeletion(now time.Time, limit int) ([]store.Key, error) {
	keys, err := query(t, scanKey, keysDueQuery, millis(now), sqlLimit(limit))
	return keys, wrap("keys due for deletion", err)
}

// KeysDueForRotation returns the due keys earliest due time first. A limit
// of 0 or less means no limit.
func (t *tx) KeysDueForRotation(now time.Time, limit int) ([]store.Key, error) {
	keys, err := query(t, scanKey, keysRotationDueQuery, millis(now), sqlLimit(limit))
	return keys, wrap("keys due for rotation", err)
}

// KeysWithExpiredMaterial returns the keys earliest expiry first. A limit
// of 0 or less means no limit.
func (t *tx) KeysWithExpiredMaterial(now time.Time, limit int) ([]store.Key, error) {
	keys, err := query(t, scanKey, keysMaterialExpiredQuery, millis(now), sqlLimit(limit))
	return keys, wrap("keys with expired material", err)
}

// keyExists fails with store.ErrNotFound, named after op, when the key does
// not exist in the project.
func (t *tx) keyExists(op, projectID, keyID string) error {
	var exists bool
	if err := t.queryRow(keyExistsQuery, projectID, keyID).Scan(&exists); err != nil {
		return wrap(op, err)
	}
	if !exists {
		return notFound(op)
	}
	return nil
}

const keyVersionCols = "project_id, key_id, version, sealed, created_at"

func scanKeyVersion(s scanner) (store.KeyVersion, error) {
	var v store.KeyVersion
	var created int64
	if err := s.Scan(&v.ProjectID, &v.KeyID, &v.Version, &v.Sealed, &created); err != nil {
		return store.KeyVersion{}, err
	}
	v.CreatedAt = fromMillis(created)
	return v, nil
}

// PutKeyVersion stores a new version of a key's material. A stored version
// is never overwritten: putting an existing version fails with
// store.ErrConflict, so a bug elsewhere cannot destroy key material that
// ciphertexts depend on. It fails with store.ErrNotFound when the key does
// not exist in the project.
func (t *tx) PutKeyVersion(v store.KeyVersion) error {
	_, err := t.exec("INSERT INTO key_versions ("+keyVersionCols+") VALUES (?, ?, ?, ?, ?)",
		v.ProjectID, v.KeyID, v.Version, blob(v.Sealed), millis(v.CreatedAt))
	return wrap("put key version", err)
}

func (t *tx) GetKeyVersion(projectID, keyID string, version int) (store.KeyVersion, error) {
	v, err := scanKeyVersion(t.queryRow(
		"SELECT "+keyVersionCols+" FROM key_versions WHERE project_id = ? AND key_id = ? AND version = ?",
		projectID, keyID, version))
	return v, wrap("get key version", err)
}

// ListKeyVersions returns the key's versions in ascending order. It fails
// with store.ErrNotFound when the key does not exist in the project.
func (t *tx) ListKeyVersions(projectID, keyID string) ([]store.KeyVersion, error) {
	const op = "list key versions"
	if err := t.keyExists(op, projectID, keyID); err != nil {
		return nil, err
	}
	vs, err := query(t, scanKeyVersion,
		"SELECT "+keyVersionCols+" FROM key_versions WHERE project_id = ? AND key_id = ? ORDER BY version",
		projectID, keyID)
	return vs, wrap(op, err)
}

// DeleteKeyVersions removes all versions of the key and leaves the key row
// alone. It fails with store.ErrNotFound when the key does not exist in the
// project.
func (t *tx) DeleteKeyVersions(projectID, keyID string) error {
	const op = "delete key versions"
	if err := t.keyExists(op, projectID, keyID); err != nil {
		return err
	}
	_, err := t.exec("DELETE FROM key_versions WHERE project_id = ? AND key_id = ?", projectID, keyID)
	return wrap(op, err)
}
