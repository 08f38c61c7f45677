package sqlite

import (
	"database/sql"

	"github.com/kmsd/kmsd/internal/store"
)

// Key spaces, access points and key policies (migration 0004). The
// composite foreign keys (project_id, keyspace_id) make a key space of
// another project store.ErrNotFound for the rows that name it.

const keySpaceCols = "project_id, id, name, type, keystore_id, description, created_at"

func scanKeySpace(s scanner) (store.KeySpace, error) {
	var k store.KeySpace
	var created int64
	if err := s.Scan(&k.ProjectID, &k.ID, &k.Name, &k.Type, &k.KeystoreID, &k.Description, &created); err != nil {
		return store.KeySpace{}, err
	}
	k.CreatedAt = fromMillis(created)
	return k, nil
}

// CreateKeySpace fails with store.ErrNotFound when the project does not
// exist (foreign key) and store.ErrConflict on a taken id or name.
func (t *tx) CreateKeySpace(k store.KeySpace) error {
	_, err := t.exec("INSERT INTO keyspaces ("+keySpaceCols+") VALUES (?, ?, ?, ?, ?, ?, ?)",
		k.ProjectID, k.ID, k.Name, k.Type, k.KeystoreID, k.Description, millis(k.CreatedAt))
	return wrap("create key space", err)
}

func (t *tx) GetKeySpace(projectID, id string) (store.KeySpace, error) {
	k, err := scanKeySpace(t.tx.QueryRowContext(t.ctx,
		"SELECT "+keySpaceCols+" FROM keyspaces WHERE project_id = ? AND id = ?", projectID, id))
	return k, wrap("get key space", err)
}

func (t *tx) ListKeySpaces(projectID, afterID string, limit int) ([]store.KeySpace, error) {
	ks, err := query(t, scanKeySpace, "SELECT "+keySpaceCols+
		" FROM keyspaces WHERE project_id = ? AND id > ? ORDER BY id LIMIT ?", projectID, afterID, sqlLimit(limit))
	return ks, wrap("list key spaces", err)
}

// DeleteKeySpace refuses a key space that still owns rows.
func (t *tx) DeleteKeySpace(projectID, id string) error {
	const op = "delete key space"
	var busy bool
	err := t.tx.QueryRowContext(t.ctx, `SELECT EXISTS (SELECT 1 FROM access_points WHERE project_id = ? AND keyspace_id = ?)
		OR EXISTS (SELECT 1 FROM key_policies WHERE project_id = ? AND keyspace_id = ?)`, projectID, id, projectID, id).Scan(&busy)
	if err != nil {
		return wrap(op, err)
	}
	if busy {
		return conflict(op, "the key space still holds access points or key policies")
	}
	return t.execOne(op, "DELETE FROM keyspaces WHERE project_id = ? AND id = ?", projectID, id)
}

const accessPointCols = "project_id, keyspace_id, id, name, type, state, identity, cluster_id, description, public_key, sealed_private_key, created_by, created_at, updated_at"

func scanAccessPoint(s scanner) (store.AccessPoint, error) {
	var a store.AccessPoint
	var created, updated int64
	if err := s.Scan(&a.ProjectID, &a.KeySpaceID, &a.ID, &a.Name, &a.Type, &a.State, &a.Identity, &a.ClusterID,
		&a.Description, &a.PublicKey, &a.SealedPrivateKey, &a.CreatedBy, &created, &updated); err != nil {
		return store.AccessPoint{}, err
	}
	a.CreatedAt, a.UpdatedAt = fromMillis(created), fromMillis(updated)
	return a, nil
}

func (t *tx) CreateAccessPoint(a store.AccessPoint) error {
	_, err := t.exec("INSERT INTO access_points ("+accessPointCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		a.ProjectID, a.KeySpaceID, a.ID, a.Name, a.Type, a.State, a.Identity, a.ClusterID, a.Description,
		a.PublicKey, a.SealedPrivateKey, a.CreatedBy, millis(a.CreatedAt), millis(a.UpdatedAt))
	return wrap("create access point", err)
}

func (t *tx) GetAccessPoint(projectID, id string) (store.AccessPoint, error) {
	a, err := scanAccessPoint(t.tx.QueryRowContext(t.ctx,
		"SELECT "+accessPointCols+" FROM access_points WHERE project_id = ? AND id = ?", projectID, id))
	return a, wrap("get access point", err)
}

func (t *tx) ListAccessPoints(projectID, keySpaceID, afterID string, limit int) ([]store.AccessPoint, error) {
	as, err := query(t, scanAccessPoint, "SELECT "+accessPointCols+
		" FROM access_points WHERE project_id = ? AND keyspace_id = ? AND id > ? ORDER BY id LIMIT ?",
		projectID, keySpaceID, afterID, sqlLimit(limit))
	return as, wrap("list access points", err)
}

func (t *tx) UpdateAccessPoint(a store.AccessPoint) error {
	return t.execOne("update access point",
		"UPDATE access_points SET state = ?, sealed_private_key = ?, updated_at = ? WHERE project_id = ? AND id = ?",
		a.State, a.SealedPrivateKey, millis(a.UpdatedAt), a.ProjectID, a.ID)
}

func (t *tx) DeleteAccessPoint(projectID, id string) error {
	return t.execOne("delete access point", "DELETE FROM access_points WHERE project_id = ? AND id = ?", projectID, id)
}

const keyPolicyCols = "project_id, keyspace_id, id, name, document, description, created_by, created_at, updated_at, last_access_at"

func scanKeyPolicy(s scanner) (store.KeyPolicy, error) {
	var p store.KeyPolicy
	var created, updated int64
	var access sql.NullInt64
	if err := s.Scan(&p.ProjectID, &p.KeySpaceID, &p.ID, &p.Name, &p.Document, &p.Description, &p.CreatedBy,
		&created, &updated, &access); err != nil {
		return store.KeyPolicy{}, err
	}
	p.CreatedAt, p.UpdatedAt, p.LastAccessAt = fromMillis(created), fromMillis(updated), fromNullMillis(access)
	return p, nil
}

func (t *tx) CreateKeyPolicy(p store.KeyPolicy) error {
	_, err := t.exec("INSERT INTO key_policies ("+keyPolicyCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		p.ProjectID, p.KeySpaceID, p.ID, p.Name, p.Document, p.Description, p.CreatedBy,
		millis(p.CreatedAt), millis(p.UpdatedAt), nullMillis(p.LastAccessAt))
	return wrap("create key policy", err)
}

func (t *tx) GetKeyPolicy(projectID, id string) (store.KeyPolicy, error) {
	p, err := scanKeyPolicy(t.tx.QueryRowContext(t.ctx,
		"SELECT "+keyPolicyCols+" FROM key_policies WHERE project_id = ? AND id = ?", projectID, id))
	return p, wrap("get key policy", err)
}

func (t *tx) ListKeyPolicies(projectID, keySpaceID, afterID string, limit int) ([]store.KeyPolicy, error) {
	ps, err := query(t, scanKeyPolicy, "SELECT "+keyPolicyCols+
		" FROM key_policies WHERE project_id = ? AND keyspace_id = ? AND id > ? ORDER BY id LIMIT ?",
		projectID, keySpaceID, afterID, sqlLimit(limit))
	return ps, wrap("list key policies", err)
}

func (t *tx) UpdateKeyPolicy(p store.KeyPolicy) error {
	return t.execOne("update key policy",
		"UPDATE key_policies SET document = ?, description = ?, updated_at = ?, last_access_at = ? WHERE project_id = ? AND id = ?",
		p.Document, p.Description, millis(p.UpdatedAt), nullMillis(p.LastAccessAt), p.ProjectID, p.ID)
}

func (t *tx) DeleteKeyPolicy(projectID, id string) error {
	return t.execOne("delete key policy", "DELETE FROM key_policies WHERE project_id = ? AND id = ?", projectID, id)
}
