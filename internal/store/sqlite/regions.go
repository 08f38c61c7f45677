package sqlite

import (
	"github.com/kmsd/kmsd/internal/store"
)

// Multi-region keys (migration 0008). A key's rows go with it by ON DELETE
// CASCADE.

// GetKeyRegion returns the key's multi-region state with its replicas in
// region order, or store.ErrNotFound for a single-region key.
func (t *tx) GetKeyRegion(projectID, keyID string) (store.KeyRegion, error) {
	const op = "get key region"
	r := store.KeyRegion{ProjectID: projectID, KeyID: keyID}
	err := t.tx.QueryRowContext(t.ctx,
		"SELECT primary_region, material_project_id FROM key_regions WHERE project_id = ? AND key_id = ?",
		projectID, keyID).Scan(&r.PrimaryRegion, &r.MaterialProjectID)
	if err != nil {
		return store.KeyRegion{}, wrap(op, err)
	}
	r.Replicas, err = query(t, func(s scanner) (store.KeyReplica, error) {
		var k store.KeyReplica
		return k, s.Scan(&k.Region, &k.ProjectID)
	}, "SELECT region, replica_project_id FROM key_replicas WHERE project_id = ? AND key_id = ? ORDER BY region", projectID, keyID)
	return r, wrap(op, err)
}

// PutKeyRegion stores r as the key's multi-region state, its replicas
// replacing the stored ones. A missing key is store.ErrNotFound.
func (t *tx) PutKeyRegion(r store.KeyRegion) error {
	const op = "put key region"
	return t.atomic(func() error {
		_, err := t.exec(`INSERT INTO key_regions (project_id, key_id, primary_region, material_project_id) VALUES (?, ?, ?, ?)
			ON CONFLICT (project_id, key_id) DO UPDATE SET primary_region = excluded.primary_region, material_project_id = excluded.material_project_id`,
			r.ProjectID, r.KeyID, r.PrimaryRegion, r.MaterialProjectID)
		if err != nil {
			return wrap(op, err)
		}
		if _, err := t.exec("DELETE FROM key_replicas WHERE project_id = ? AND key_id = ?", r.ProjectID, r.KeyID); err != nil {
			return wrap(op, err)
		}
		for _, rep := range r.Replicas {
			if _, err := t.exec("INSERT INTO key_replicas (project_id, key_id, region, replica_project_id) VALUES (?, ?, ?, ?)",
				r.ProjectID, r.KeyID, rep.Region, rep.ProjectID); err != nil {
				return wrap(op, err)
			}
		}
		return nil
	})
}
