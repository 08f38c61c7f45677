package sqlite

import (
	"github.com/kmsd/kmsd/internal/store"
)

// Aliases of the multi-alias API. The triggers of migration 0002 keep
// aliases.alias and keys.alias in one namespace per project; the aliases of
// a key go with it by ON DELETE CASCADE.

const aliasCols = "project_id, alias, key_id, created_at, updated_at"

// The queries whose plans TestQueryPlans checks. Both take the marker and
// the limit last.
const (
	// aliasesListQuery walks the primary key of aliases by name.
	aliasesListQuery = "SELECT " + aliasCols + ` FROM aliases
		WHERE project_id = ? AND alias > ? ORDER BY alias LIMIT ?`
	// aliasesOfKeyQuery walks the index aliases_key by name.
	aliasesOfKeyQuery = "SELECT " + aliasCols + ` FROM aliases
		WHERE project_id = ? AND key_id = ? AND alias > ? ORDER BY alias LIMIT ?`
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

// CreateAlias fails with store.ErrConflict when the name is an alias
// (primary key) or a key alias (trigger aliases_insert) of the project, and
// with store.ErrNotFound when the key does not exist in the project. The
// empty name violates a CHECK constraint.
func (t *tx) CreateAlias(a store.Alias) error {
	_, err := t.exec("INSERT INTO aliases ("+aliasCols+") VALUES (?, ?, ?, ?, ?)",
		a.ProjectID, a.Alias, a.KeyID, millis(a.CreatedAt), millis(a.UpdatedAt))
	return wrap("create alias", err)
}

func (t *tx) GetAlias(projectID, alias string) (store.Alias, error) {
	a, err := scanAlias(t.queryRow(
		"SELECT "+aliasCols+" FROM aliases WHERE project_id = ? AND alias = ?", projectID, alias))
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
		"UPDATE aliases SET key_id = ?, updated_at = ? WHERE project_id = ? AND alias = ?",
		a.KeyID, millis(a.UpdatedAt), a.ProjectID, a.Alias)
}

func (t *tx) DeleteAlias(projectID, alias string) error {
	return t.execOne("delete alias",
		"DELETE FROM aliases WHERE project_id = ? AND alias = ?", projectID, alias)
}
