package postgres

import (
	"github.com/kmsd/kmsd/internal/store"
)

// Aliases of the multi-alias API. The table alias_names keeps aliases.alias
// and keys.alias in one namespace per project (see migration 0001); the
// aliases of a key go with it by ON DELETE CASCADE.

const aliasCols = "project_id, alias, key_id, created_at, updated_at"

const (
	aliasesListQuery = "SELECT " + aliasCols + ` FROM aliases
		WHERE project_id = $1 AND alias > $2 ORDER BY alias LIMIT $3`
	aliasesOfKeyQuery = "SELECT " + aliasCols + ` FROM aliases
		WHERE project_id = $1 AND key_id = $2 AND alias > $3 ORDER BY alias LIMIT $4`
)

func scanAlias(s scanner) (store.Alias, error) {
	var a store.Alias
	var created, updated int64
	if err := s.Scan(&a.ProjectID, &a.Alias, &a.KeyID, &created, &updated); err != nil {
		return store.Alias{}, err
	}
	a.CreatedAt = fromMillis(created)
	a.UpdatedAt = fromMillis(updated)
	return a, nil
}

// CreateAlias fails with store.ErrConflict when the name is taken in the
// project, as an alias or a key alias, and with store.ErrNotFound when the
// key does not exist in the project.
func (t *tx) CreateAlias(a store.Alias) error {
	_, err := t.exec("create alias", "INSERT INTO aliases ("+aliasCols+") VALUES ($1, $2, $3, $4, $5)",
		a.ProjectID, a.Alias, a.KeyID, millis(a.CreatedAt), millis(a.UpdatedAt))
	return err
}

func (t *tx) GetAlias(projectID, alias string) (store.Alias, error) {
	a, err := scanAlias(t.row("SELECT "+aliasCols+" FROM aliases WHERE project_id = $1 AND alias = $2", projectID, alias))
	return a, wrap("get alias", err)
}

// ListAliases returns a page of aliases after the marker afterAlias, by
// name. A limit of 0 or less means no limit.
func (t *tx) ListAliases(projectID, keyID, afterAlias string, limit int) ([]store.Alias, error) {
	var as []store.Alias
	var err error
	if keyID == "" {
		as, err = query(t, scanAlias, aliasesListQuery, projectID, afterAlias, sqlLimit(limit))
	} else {
		as, err = query(t, scanAlias, aliasesOfKeyQuery, projectID, keyID, afterAlias, sqlLimit(limit))
	}
	return as, wrap("list aliases", err)
}

// UpdateAlias moves the alias to a.KeyID. The foreign key to keys makes a
// missing target key store.ErrNotFound.
func (t *tx) UpdateAlias(a store.Alias) error {
	return t.execOne("update alias",
		"UPDATE aliases SET key_id = $1, updated_at = $2 WHERE project_id = $3 AND alias = $4",
		a.KeyID, millis(a.UpdatedAt), a.ProjectID, a.Alias)
}

func (t *tx) DeleteAlias(projectID, alias string) error {
	return t.execOne("delete alias", "DELETE FROM aliases WHERE project_id = $1 AND alias = $2", projectID, alias)
}
