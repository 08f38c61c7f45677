package postgres

import (
	"github.com/kmsd/kmsd/internal/store"
)

// Dedicated keystores (migration 0004). A keystore goes with its project
// by ON DELETE CASCADE; hsm_cluster_id is unique across projects.

const keystoreCols = "id, project_id, account_id, alias, type, hsm_cluster_id, cluster_id, state, created_at"

func scanKeystore(s scanner) (store.Keystore, error) {
	var k store.Keystore
	var created int64
	if err := s.Scan(&k.ID, &k.ProjectID, &k.AccountID, &k.Alias, &k.Type, &k.HSMClusterID, &k.ClusterID, &k.State, &created); err != nil {
		return store.Keystore{}, err
	}
	k.CreatedAt = fromMillis(created)
	return k, nil
}

// CreateKeystore fails with store.ErrConflict on a taken id, an alias taken
// in the project or an HSM cluster that backs another keystore, and with
// store.ErrNotFound when the project does not exist.
func (t *tx) CreateKeystore(k store.Keystore) error {
	_, err := t.exec("create keystore", "INSERT INTO keystores ("+keystoreCols+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
		k.ID, k.ProjectID, k.AccountID, k.Alias, k.Type, k.HSMClusterID, k.ClusterID, k.State, millis(k.CreatedAt))
	return err
}

func (t *tx) GetKeystore(projectID, id string) (store.Keystore, error) {
	k, err := scanKeystore(t.row("SELECT "+keystoreCols+" FROM keystores WHERE project_id = $1 AND id = $2", projectID, id))
	return k, wrap("get keystore", err)
}

// ListKeystores pages the project's keystores by creation time, then id.
func (t *tx) ListKeystores(projectID string, offset, limit int) ([]store.Keystore, int, error) {
	return countedPage(t, "list keystores", scanKeystore,
		"SELECT COUNT(*) FROM keystores WHERE project_id = $1",
		"SELECT "+keystoreCols+" FROM keystores WHERE project_id = $1 ORDER BY created_at, id LIMIT $2 OFFSET $3",
		[]any{projectID}, offset, limit)
}

// UpdateKeystoreState sets the keystore's state.
func (t *tx) UpdateKeystoreState(projectID, id, state string) error {
	return t.execOne("update keystore",
		"UPDATE keystores SET state = $1 WHERE project_id = $2 AND id = $3", state, projectID, id)
}

func (t *tx) DeleteKeystore(projectID, id string) error {
	return t.execOne("delete keystore", "DELETE FROM keystores WHERE project_id = $1 AND id = $2", projectID, id)
}

// CountKeystoreKeys counts the key rows of any project that name the
// keystore, through the index keys_keystore.
func (t *tx) CountKeystoreKeys(id string) (int, error) {
	var n int
	err := t.row("SELECT COUNT(*) FROM keys WHERE keystore_id = $1", id).Scan(&n)
	return n, wrap("count keystore keys", err)
}
