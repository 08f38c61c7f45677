package postgres

import (
	"fmt"
	"strings"
	"time"

	"github.com/kmsd/kmsd/internal/store"
)

// Keys, key versions and the per-project key counters.

const keyCols = `project_id, key_id, account_id, alias, description, spec, usage, origin,
	state, is_default, enterprise_project_id, keystore_id, primary_version,
	created_at, deletion_date, rotation_enabled, rotation_interval, last_rotation,
	rotation_count, material_expires_at, material_fingerprint, revision`

const (
	keysDueQuery = "SELECT " + keyCols + " FROM keys WHERE state = '" + store.StatePendingDeletion + `'
		AND deletion_date <= $1 ORDER BY deletion_date, project_id, key_id LIMIT $2`
	keysRotationDueQuery = "SELECT " + keyCols + " FROM keys WHERE rotation_enabled AND state = '" +
		store.StateEnabled + `' AND rotation_due_at <= $1 ORDER BY rotation_due_at, project_id, key_id LIMIT $2`
	keysMaterialExpiredQuery = "SELECT " + keyCols + " FROM keys WHERE origin = '" + store.OriginExternal + `'
		AND material_expires_at IS NOT NULL AND material_expires_at <= $1
		ORDER BY material_expires_at, project_id, key_id LIMIT $2`
	keyExistsQuery = "SELECT EXISTS (SELECT 1 FROM keys WHERE project_id = $1 AND key_id = $2)"
)

// listKeysQueries returns the queries of ListKeys for f and the arguments
// they share: count sums the matching rows of key_list_counts (a few rows
// per project, kept by the trigger of migration 0005); page selects a page
// in list order and reverse the same page counted from the end; both take
// two more arguments, limit and offset. Both find the page's key ids on
// the index of migration 0005 that starts with the filter and covers it,
// so that the entries skipped to reach the offset are read from the index
// only (an index-only scan), and then read the page's rows by primary key.
func listKeysQueries(projectID string, f store.KeyFilter) (count, page, reverse string, args []any) {
	var where strings.Builder
	where.WriteString(" WHERE project_id = $1")
	args = []any{projectID}
	add := func(col, v string) {
		args = append(args, v)
		fmt.Fprintf(&where, " AND %s = $%d", col, len(args))
	}
	if f.State != "" {
		add("state", f.State)
	}
	if f.Spec != "" {
		add("spec", f.Spec)
	}
	if f.EnterpriseProjectID != "" {
		add("enterprise_project_id", f.EnterpriseProjectID)
	}
	count = "SELECT COALESCE(SUM(n), 0)::BIGINT FROM key_list_counts" + where.String()
	ids := func(order string) string {
		return "SELECT " + qualifiedKeyCols + " FROM (SELECT key_id, created_at FROM keys" + where.String() +
			" ORDER BY " + order + fmt.Sprintf(" LIMIT $%d OFFSET $%d", len(args)+1, len(args)+2) +
			") p JOIN keys k ON k.project_id = $1 AND k.key_id = p.key_id"
	}
	page = ids("created_at, key_id") + " ORDER BY p.created_at, p.key_id"
	reverse = ids("created_at DESC, key_id DESC") + " ORDER BY p.created_at, p.key_id"
	return count, page, reverse, args
}

// qualifiedKeyCols are keyCols of the table named k.
var qualifiedKeyCols = func() string {
	cols := strings.Split(keyCols, ",")
	for i, c := range cols {
		cols[i] = "k." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}()

func scanKey(s scanner) (store.Key, error) {
	var k store.Key
	var created int64
	var deletion, lastRotation, materialExpiry *int64
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

// CreateKey inserts k and counts it in its project. It fails with
// store.ErrConflict on a duplicate key id or when its non-empty alias is
// taken in the project (index keys_alias or table alias_names), and with
// store.ErrNotFound when the project does not exist. The counter update
// takes the row lock of the project's key_counts row until the commit.
func (t *tx) CreateKey(k store.Key) error {
	const op = "create key"
	args := []any{k.ProjectID, k.KeyID, k.AccountID, k.Alias, k.Description, k.Spec, k.Usage,
		k.Origin, k.State, k.Default, k.EnterpriseProjectID, k.KeystoreID,
		k.PrimaryVersion, millis(k.CreatedAt), nullMillis(k.DeletionDate),
		k.RotationEnabled, k.RotationInterval, nullMillis(k.LastRotation),
		k.RotationCount, nullMillis(k.MaterialExpiresAt), nullBlob(k.MaterialFingerprint), k.Revision}
	const insert = "INSERT INTO keys (" + keyCols + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)`
	if t.bulk {
		// A Load counts the keys once at its end (dump.go).
		_, err := t.execIn(op, insert, args...)
		return err
	}
	// One statement, one round trip: the insert, and the count of the
	// project the inserted row names (no row counted: the project has no
	// counters row, and the savepoint undoes the insert).
	col := countColumn(k.Default)
	return t.atomic(func() error {
		tag, err := t.execIn(op, "WITH k AS ("+insert+` RETURNING project_id)
			UPDATE key_counts SET `+col+" = "+col+" + 1 WHERE project_id = (SELECT project_id FROM k)", args...)
		if err == nil && tag.RowsAffected() == 0 {
			err = notFound(op)
		}
		return err
	})
}

func (t *tx) GetKey(projectID, keyID string) (store.Key, error) {
	k, err := scanKey(t.row("SELECT "+keyCols+" FROM keys WHERE project_id = $1 AND key_id = $2", projectID, keyID))
	return k, wrap("get key", err)
}

// FindKeyByID finds a key in whichever project holds it.
func (t *tx) FindKeyByID(keyID string) (store.Key, error) {
	k, err := scanKey(t.row("SELECT "+keyCols+" FROM keys WHERE key_id = $1", keyID))
	return k, wrap("find key by id", err)
}

// GetKeyByAlias finds a key by its non-empty alias; the empty alias finds
// nothing.
func (t *tx) GetKeyByAlias(projectID, alias string) (store.Key, error) {
	if alias == "" {
		return store.Key{}, notFound("get key by alias")
	}
	k, err := scanKey(t.row("SELECT "+keyCols+" FROM keys WHERE project_id = $1 AND alias = $2 AND alias <> ''", projectID, alias))
	return k, wrap("get key by alias", err)
}

// UpdateKey replaces every column of the key except its identity, Default
// and CreatedAt, when k.Revision is the stored revision, and increments the
// stored revision. Under READ COMMITTED a concurrent update of the same row
// makes this one wait and then re-check the revision on the new row, so
// two nodes can never both succeed with the same revision.
func (t *tx) UpdateKey(k store.Key) error {
	const op = "update key"
	tag, err := t.exec(op, `UPDATE keys SET
			account_id = $1, alias = $2, description = $3, spec = $4, usage = $5, origin = $6,
			state = $7, enterprise_project_id = $8, keystore_id = $9, primary_version = $10,
			deletion_date = $11, rotation_enabled = $12, rotation_interval = $13,
			last_rotation = $14, rotation_count = $15, material_expires_at = $16,
			material_fingerprint = $17, revision = revision + 1
		WHERE project_id = $18 AND key_id = $19 AND revision = $20`,
		k.AccountID, k.Alias, k.Description, k.Spec, k.Usage, k.Origin,
		k.State, k.EnterpriseProjectID, k.KeystoreID, k.PrimaryVersion,
		nullMillis(k.DeletionDate), k.RotationEnabled, k.RotationInterval,
		nullMillis(k.LastRotation), k.RotationCount, nullMillis(k.MaterialExpiresAt),
		nullBlob(k.MaterialFingerprint), k.ProjectID, k.KeyID, k.Revision)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	// Nothing matched: either the key is missing or the revision is stale.
	var stored int64
	if err := t.row("SELECT revision FROM keys WHERE project_id = $1 AND key_id = $2", k.ProjectID, k.KeyID).Scan(&stored); err != nil {
		return wrap(op, err)
	}
	return fmt.Errorf("postgres: %s: %w (%w)", op, store.ErrStale, store.ErrConflict)
}

// DeleteKey removes the key, its count, and (by cascade) its versions,
// grants, aliases, tags and import tokens.
func (t *tx) DeleteKey(projectID, keyID string) error {
	const op = "delete key"
	return t.atomic(func() error {
		var isDefault bool
		err := t.row("DELETE FROM keys WHERE project_id = $1 AND key_id = $2 RETURNING is_default",
			projectID, keyID).Scan(&isDefault)
		if err != nil {
			return wrap(op, err)
		}
		col := countColumn(isDefault)
		tag, err := t.execIn(op, "UPDATE key_counts SET "+col+" = "+col+" - 1 WHERE project_id = $1", projectID)
		if err == nil && tag.RowsAffected() == 0 {
			err = notFound(op)
		}
		return err
	})
}

// ListKeys pages through the project's keys matching f. A negative offset
// counts as 0; a limit of 0 or less means no limit. The total comes from
// key_list_counts, read in the same snapshot as the page (a View is
// REPEATABLE READ). A page far from both ends of the list is found through
// the block counts of migration 0005 (blocks.go); a page near an end is
// read from that end, so that it costs no more than the first.
func (t *tx) ListKeys(projectID string, f store.KeyFilter, offset, limit int) ([]store.Key, int, error) {
	const op = "list keys"
	count, pageQuery, reverseQuery, args := listKeysQueries(projectID, f)
	var total int
	if err := t.row(count, args...).Scan(&total); err != nil {
		return nil, 0, wrap(op, err)
	}
	offset = max(offset, 0)
	if offset >= total {
		return nil, total, nil
	}
	var keys []store.Key
	var err error
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
	}
	if err != nil {
		return nil, 0, wrap(op, err)
	}
	return keys, total, nil
}

// KeyCounts reads the project's counters row. Inside an Update it locks
// the row until the commit: a caller that checks a quota on the counts and
// then creates a key holds the only right to change them, so writers on
// every node queue up there and a quota is never exceeded. It fails with
// store.ErrNotFound when the project does not exist.
func (t *tx) KeyCounts(projectID string) (store.KeyCounts, error) {
	var c store.KeyCounts
	err := t.row("SELECT custom_keys, default_keys FROM key_counts WHERE project_id = $1"+t.lockClause(),
		projectID).Scan(&c.Custom, &c.Default)
	if err != nil {
		return store.KeyCounts{}, wrap("key counts", err)
	}
	return c, nil
}

// ProjectKeyCounts is GetProject and KeyCounts in one statement (one
// round trip where CreateKey had two), with KeyCounts' lock of the
// counters row inside an Update; the projects row is read, not locked, as
// GetProject reads it.
func (t *tx) ProjectKeyCounts(projectID string) (store.Project, store.KeyCounts, error) {
	var c store.KeyCounts
	lock := ""
	if t.write {
		lock = " FOR UPDATE OF key_counts"
	}
	p, err := scanProject(withExtra{t.row("SELECT "+projectCols+", custom_keys, default_keys"+
		" FROM projects JOIN key_counts ON project_id = id WHERE id = $1"+lock, projectID), []any{&c.Custom, &c.Default}})
	if err != nil {
		return store.Project{}, store.KeyCounts{}, wrap("project key counts", err)
	}
	return p, c, nil
}

// withExtra scans a row into the destinations a scan function gives, then
// into extra: a row that carries more columns than one type's.
type withExtra struct {
	row   scanner
	extra []any
}

func (w withExtra) Scan(dest ...any) error { return w.row.Scan(append(dest, w.extra...)...) }

// KeysDueForDeletion returns the due keys oldest deletion date first. A
// limit of 0 or less means no limit.
func (t *tx) KeysDueForDeletion(now time.Time, limit int) ([]store.Key, error) {
	keys, err := query(t, scanKey, keysDueQuery, millis(now), sqlLimit(limit))
	return keys, wrap("keys due for deletion", err)
}

// KeysDueForRotation returns the due keys earliest due time first.
func (t *tx) KeysDueForRotation(now time.Time, limit int) ([]store.Key, error) {
	keys, err := query(t, scanKey, keysRotationDueQuery, millis(now), sqlLimit(limit))
	return keys, wrap("keys due for rotation", err)
}

// KeysWithExpiredMaterial returns the keys earliest expiry first.
func (t *tx) KeysWithExpiredMaterial(now time.Time, limit int) ([]store.Key, error) {
	keys, err := query(t, scanKey, keysMaterialExpiredQuery, millis(now), sqlLimit(limit))
	return keys, wrap("keys with expired material", err)
}

// keyExists fails with store.ErrNotFound, named after op, when the key does
// not exist in the project.
func (t *tx) keyExists(op, projectID, keyID string) error {
	var exists bool
	if err := t.row(keyExistsQuery, projectID, keyID).Scan(&exists); err != nil {
		return wrap(op, err)
	}
	if !exists {
		return notFound(op)
	}
	return nil
}

// lockKey fails like keyExists; inside an Update it also takes a row lock
// on the key that lets foreign keys to it through (FOR NO KEY UPDATE) until
// the commit, so that a check on the key's grants or tags followed by a
// write holds against writers on other nodes.
func (t *tx) lockKey(op, projectID, keyID string) error {
	if !t.write {
		return t.keyExists(op, projectID, keyID)
	}
	var one int
	err := t.row("SELECT 1 FROM keys WHERE project_id = $1 AND key_id = $2 FOR NO KEY UPDATE", projectID, keyID).Scan(&one)
	return wrap(op, err)
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

// PutKeyVersion stores a new version of a key's material; a stored version
// is never overwritten (store.ErrConflict). It fails with
// store.ErrNotFound when the key does not exist in the project.
func (t *tx) PutKeyVersion(v store.KeyVersion) error {
	_, err := t.exec("put key version", "INSERT INTO key_versions ("+keyVersionCols+") VALUES ($1, $2, $3, $4, $5)",
		v.ProjectID, v.KeyID, v.Version, blob(v.Sealed), millis(v.CreatedAt))
	return err
}

func (t *tx) GetKeyVersion(projectID, keyID string, version int) (store.KeyVersion, error) {
	v, err := scanKeyVersion(t.row(
		"SELECT "+keyVersionCols+" FROM key_versions WHERE project_id = $1 AND key_id = $2 AND version = $3",
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
		"SELECT "+keyVersionCols+" FROM key_versions WHERE project_id = $1 AND key_id = $2 ORDER BY version",
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
	_, err := t.exec(op, "DELETE FROM key_versions WHERE project_id = $1 AND key_id = $2", projectID, keyID)
	return err
}
