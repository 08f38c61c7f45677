package postgres

import (
	"github.com/kmsd/kmsd/internal/store"
)

// Grants. A grant's operations are stored as a TEXT[]; the grants of a key
// go with it by ON DELETE CASCADE.

const grantCols = `grant_id, project_id, key_id, name, grantee_principal,
	grantee_principal_type, operations, issuing_principal, retiring_principal, created_at`

const (
	grantsListQuery = "SELECT " + grantCols + ` FROM grants WHERE project_id = $1 AND key_id = $2
		ORDER BY created_at, grant_id LIMIT $3 OFFSET $4`
	grantsCountQuery    = "SELECT COUNT(*) FROM grants WHERE project_id = $1 AND key_id = $2"
	grantsRetiringQuery = "SELECT " + grantCols + ` FROM grants
		WHERE retiring_principal = $1 AND retiring_principal <> ''
		ORDER BY created_at, grant_id LIMIT $2 OFFSET $3`
	grantsRetiringCountQuery = `SELECT COUNT(*) FROM grants
		WHERE retiring_principal = $1 AND retiring_principal <> ''`
	grantsMaxPerKeyQuery = `SELECT COALESCE(MAX(n), 0) FROM
		(SELECT COUNT(*) AS n FROM grants WHERE project_id = $1 GROUP BY key_id) per_key`
	// grantsForQuery takes the project, the key, the user id and the
	// account id; each principal is paired with its principal type.
	grantsForQuery = "SELECT " + grantCols + ` FROM grants
		WHERE project_id = $1 AND key_id = $2 AND grantee_principal IN ($3, $4)
		AND ((grantee_principal_type = '` + store.GranteeUser + `' AND grantee_principal = $3)
			OR (grantee_principal_type = '` + store.GranteeDomain + `' AND grantee_principal = $4))`
)

func scanGrant(s scanner) (store.Grant, error) {
	var g store.Grant
	var created int64
	err := s.Scan(&g.GrantID, &g.ProjectID, &g.KeyID, &g.Name, &g.GranteePrincipal,
		&g.GranteePrincipalType, &g.Operations, &g.IssuingPrincipal, &g.RetiringPrincipal, &created)
	if err != nil {
		return store.Grant{}, err
	}
	g.Operations = fromNames(g.Operations)
	g.CreatedAt = fromMillis(created)
	return g, nil
}

// CreateGrant fails with store.ErrConflict on a duplicate grant id and with
// store.ErrNotFound when the key does not exist in the project.
func (t *tx) CreateGrant(g store.Grant) error {
	_, err := t.exec("create grant", "INSERT INTO grants ("+grantCols+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
		g.GrantID, g.ProjectID, g.KeyID, g.Name, g.GranteePrincipal, g.GranteePrincipalType,
		names(g.Operations), g.IssuingPrincipal, g.RetiringPrincipal, millis(g.CreatedAt))
	return err
}

func (t *tx) GetGrant(projectID, keyID, grantID string) (store.Grant, error) {
	g, err := scanGrant(t.row(
		"SELECT "+grantCols+" FROM grants WHERE grant_id = $1 AND project_id = $2 AND key_id = $3",
		grantID, projectID, keyID))
	return g, wrap("get grant", err)
}

// GetGrantByID reads a grant on its primary key, in any project.
func (t *tx) GetGrantByID(grantID string) (store.Grant, error) {
	g, err := scanGrant(t.row("SELECT "+grantCols+" FROM grants WHERE grant_id = $1", grantID))
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
		"DELETE FROM grants WHERE grant_id = $1 AND project_id = $2 AND key_id = $3",
		grantID, projectID, keyID)
}

// CountGrants counts the key's grants. Inside an Update it first locks the
// key (lockKey), so that the grant quota checked on the count holds against
// concurrent writers on every node.
func (t *tx) CountGrants(projectID, keyID string) (int, error) {
	const op = "count grants"
	if err := t.lockKey(op, projectID, keyID); err != nil {
		return 0, err
	}
	var n int
	if err := t.row(grantsCountQuery, projectID, keyID).Scan(&n); err != nil {
		return 0, wrap(op, err)
	}
	return n, nil
}

// MaxGrantsPerKey returns the largest number of grants on one key of the
// project.
func (t *tx) MaxGrantsPerKey(projectID string) (int, error) {
	var n int
	err := t.row(grantsMaxPerKeyQuery, projectID).Scan(&n)
	return n, wrap("max grants per key", err)
}

// GrantsFor returns the key's grants to the user or its account. An empty
// id becomes NULL, which no grant holds.
func (t *tx) GrantsFor(granteePrincipal, granteeAccountID, projectID, keyID string) ([]store.Grant, error) {
	gs, err := query(t, scanGrant, grantsForQuery,
		projectID, keyID, nonEmpty(granteePrincipal), nonEmpty(granteeAccountID))
	return gs, wrap("grants for", err)
}
