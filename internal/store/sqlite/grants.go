package sqlite

import (
	"encoding/json"
	"fmt"

	"github.com/kmsd/kmsd/internal/store"
)

// Grants. A grant's operations are stored as a JSON array; the grants of a
// key go with it by ON DELETE CASCADE.

const grantCols = `grant_id, project_id, key_id, name, grantee_principal,
	grantee_principal_type, operations, issuing_principal, retiring_principal, created_at`

// The queries whose plans TestQueryPlans checks.
const (
	// grantsListQuery pages through a key's grants on the index grants_key;
	// it takes limit and offset after the key.
	grantsListQuery = "SELECT " + grantCols + ` FROM grants WHERE project_id = ? AND key_id = ?
		ORDER BY created_at, grant_id LIMIT ? OFFSET ?`
	// grantsCountQuery counts a key's grants on the index grants_key.
	grantsCountQuery = "SELECT COUNT(*) FROM grants WHERE project_id = ? AND key_id = ?"
	// grantsRetiringQuery repeats the condition of the partial index
	// grants_retiring; it takes the principal, limit and offset.
	grantsRetiringQuery = "SELECT " + grantCols + ` FROM grants
		WHERE retiring_principal = ? AND retiring_principal <> ''
		ORDER BY created_at, grant_id LIMIT ? OFFSET ?`
	grantsRetiringCountQuery = `SELECT COUNT(*) FROM grants
		WHERE retiring_principal = ? AND retiring_principal <> ''`
	// grantsMaxPerKeyQuery counts the grants of each key of a project on
	// the index grants_key and keeps the largest count.
	grantsMaxPerKeyQuery = `SELECT COALESCE(MAX(n), 0) FROM
		(SELECT COUNT(*) AS n FROM grants WHERE project_id = ? GROUP BY key_id)`
	// grantsForQuery reads the index grants_grantee; it takes the project,
	// the key, the user id and the account id. The IN list lets SQLite look
	// up both principals in the index; the CASE then pairs each with its
	// principal type.
	grantsForQuery = "SELECT " + grantCols + ` FROM grants
		WHERE project_id = ?1 AND key_id = ?2 AND grantee_principal IN (?3, ?4)
		AND CASE grantee_principal_type
			WHEN '` + store.GranteeUser + `' THEN grantee_principal = ?3
			WHEN '` + store.GranteeDomain + `' THEN grantee_principal = ?4
			ELSE 0 END`
)

func scanGrant(s scanner) (store.Grant, error) {
	var g store.Grant
	var operations string
	var created int64
	err := s.Scan(&g.GrantID, &g.ProjectID, &g.KeyID, &g.Name, &g.GranteePrincipal,
		&g.GranteePrincipalType, &operations, &g.IssuingPrincipal, &g.RetiringPrincipal, &created)
	if err != nil {
		return store.Grant{}, err
	}
	if err := json.Unmarshal([]byte(operations), &g.Operations); err != nil {
		return store.Grant{}, fmt.Errorf("grant %s: operations: %w", g.GrantID, err)
	}
	if len(g.Operations) == 0 {
		g.Operations = nil
	}
	g.CreatedAt = fromMillis(created)
	return g, nil
}

// CreateGrant fails with store.ErrConflict on a duplicate grant id and with
// store.ErrNotFound when the key does not exist in the project. A
// GranteePrincipalType other than user or domain violates a CHECK
// constraint.
func (t *tx) CreateGrant(g store.Grant) error {
	const op = "create grant"
	operations, err := stringsJSON(g.Operations)
	if err != nil {
		return wrap(op, err)
	}
	_, err = t.exec("INSERT INTO grants ("+grantCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		g.GrantID, g.ProjectID, g.KeyID, g.Name, g.GranteePrincipal, g.GranteePrincipalType,
		operations, g.IssuingPrincipal, g.RetiringPrincipal, millis(g.CreatedAt))
	return wrap(op, err)
}

func (t *tx) GetGrant(projectID, keyID, grantID string) (store.Grant, error) {
	g, err := scanGrant(t.queryRow(
		"SELECT "+grantCols+" FROM grants WHERE grant_id = ? AND project_id = ? AND key_id = ?",
		grantID, projectID, keyID))
	return g, wrap("get grant", err)
}

// GetGrantByID reads a grant on its primary key, in any project.
func (t *tx) GetGrantByID(grantID string) (store.Grant, error) {
	g, err := scanGrant(t.queryRow(
		"SELECT "+grantCols+" FROM grants WHERE grant_id = ?", grantID))
	return g, wrap("get grant by id", err)
}

// ListGrants pages through the key's grants in creation order.
func (t *tx) ListGrants(projectID, keyID string, offset, limit int) ([]store.Grant, int, error) {
	const op = "list grants"
	if err := t.keyExists(op, projectID, keyID); err != nil {
		return nil, 0, err
	}
	return countedPage(t, op, scanGrant, grantsCountQuery, grantsListQuery, []any{projectID, keyID}, offset, limit)
}

// ListGrantsByRetiringPrincipal pages through the grants of any project
// that retiringPrincipal may retire, in creation order.
func (t *tx) ListGrantsByRetiringPrincipal(retiringPrincipal string, offset, limit int) ([]store.Grant, int, error) {
	return countedPage(t, "list grants by retiring principal", scanGrant,
		grantsRetiringCountQuery, grantsRetiringQuery, []any{retiringPrincipal}, offset, limit)
}

func (t *tx) DeleteGrant(projectID, keyID, grantID string) error {
	return t.execOne("delete grant",
		"DELETE FROM grants WHERE grant_id = ? AND project_id = ? AND key_id = ?",
		grantID, projectID, keyID)
}

// CountGrants counts the key's grants on the index grants_key; a key holds
// at most the grant quota of them.
func (t *tx) CountGrants(projectID, keyID string) (int, error) {
	const op = "count grants"
	if err := t.keyExists(op, projectID, keyID); err != nil {
		return 0, err
	}
	var n int
	if err := t.queryRow(grantsCountQuery, projectID, keyID).Scan(&n); err != nil {
		return 0, wrap(op, err)
	}
	return n, nil
}

// MaxGrantsPerKey returns the largest number of grants on one key of the
// project. It reads the project's part of the index grants_key, which
// holds at most the project's keys times the grant quota entries.
func (t *tx) MaxGrantsPerKey(projectID string) (int, error) {
	var n int
	err := t.queryRow(grantsMaxPerKeyQuery, projectID).Scan(&n)
	return n, wrap("max grants per key", err)
}

// GrantsFor returns the key's grants to the user or its account. An empty
// id is replaced by nothing that a grant can hold.
func (t *tx) GrantsFor(granteePrincipal, granteeAccountID, projectID, keyID string) ([]store.Grant, error) {
	gs, err := query(t, scanGrant, grantsForQuery,
		projectID, keyID, nonEmpty(granteePrincipal), nonEmpty(granteeAccountID))
	return gs, wrap("grants for", err)
}

// nonEmpty returns s, or NULL for the empty string, so that an empty id in
// a query matches no row (NULL equals nothing).
func nonEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
