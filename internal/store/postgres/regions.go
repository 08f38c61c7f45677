package postgres

import (
	"github.com/kmsd/kmsd/internal/store"
)

// Multi-region keys (migration 0004). A key's rows go with it by ON DELETE
// CASCADE.

// GetKeyRegion returns the key's multi-region state with its replicas in
// region order, or store.ErrNotFound for a single-region key.
func (t *tx) GetKeyRegion(projectID, keyID string) (store.KeyRegion, error) {
	const op = "get key region"
	r := store.KeyRegion{ProjectID: projectID, KeyID: keyID}
	err := t.row("SELECT primary_region, material_project_id FROM key_regions WHERE project_id = $1 AND key_id = $2",
		projectID, keyID).Scan(&r.PrimaryRegion, &r.MaterialProjectID)
	if err != nil {
		return store.KeyRegion{}, wrap(op, err)
	}
	r.Replicas, err = query(t, func(s scanner) (store.KeyReplica, error) {
		var k store.KeyReplica
		return k, s.Scan(&k.Region, &k.ProjectID)
	}, "SELECT region, replica_project_id FROM key_replicas WHERE project_id = $1 AND key_id = $2 ORDER BY region", projectID, keyID)
	return r, wrap(op, err)
}

// PutKeyRegion stores r as the key's multi-region state, its replicas
// replacing the stored ones. A missing key is store.ErrNotFound.
func (t *tx) PutKeyRegion(r store.KeyRegion) error {
	const op = "put key region"
	return t.atomic(func() error {
		if _, err := t.execIn(op, `INSERT INTO key_regions (project_id, key_id, primary_region, material_project_id) VALUES ($1, $2, $3, $4)
			ON CONFLICT (project_id, key_id) DO UPDATE SET primary_region = excluded.primary_region, material_project_id = excluded.material_project_id`,
			r.ProjectID, r.KeyID, r.PrimaryRegion, r.MaterialProjectID); err != nil {
			return err
		}
		if _, err := t.execIn(op, "DELETE FROM key_replicas WHERE project_id = $1 AND key_id = $2", r.ProjectID, r.KeyID); err != nil {
			return err
		}
		for _, rep := range r.Replicas {
			if _, err := t.execIn(op, "INSERT INTO key_replicas (project_id, key_id, region, replica_project_id) VALUES ($1, $2, $3, $4)",
				r.ProjectID, r.KeyID, rep.Region, rep.ProjectID); err != nil {
				return err
			}
		}
		return nil
	})
}
