package api

import (
	"fmt"
	"strconv"

	"github.com/kmsd/kmsd/internal/kms"
)

// grantJSON is Grants of reference kms-api.md §4 with its exact JSON
// types.
type grantJSON struct {
	KeyID                string   `json:"key_id"`
	GrantID              string   `json:"grant_id"`
	GranteePrincipal     string   `json:"grantee_principal"`
	GranteePrincipalType string   `json:"grantee_principal_type"`
	Operations           []string `json:"operations"`
	IssuingPrincipal     string   `json:"issuing_principal"`
	CreationDate         string   `json:"creation_date"`
	Name                 string   `json:"name"`
	RetiringPrincipal    string   `json:"retiring_principal"`
}

func grantsJSON(gs []kms.Grant) []grantJSON {
	out := make([]grantJSON, len(gs))
	for i, g := range gs {
		ops := g.Operations
		if ops == nil {
			ops = []string{}
		}
		out[i] = grantJSON{
			KeyID: g.KeyID, GrantID: g.GrantID, GranteePrincipal: g.GranteePrincipal,
			GranteePrincipalType: g.GranteePrincipalType, Operations: ops,
			IssuingPrincipal: g.IssuingPrincipal, CreationDate: millis(g.CreatedAt.UnixMilli()),
			Name: g.Name, RetiringPrincipal: g.RetiringPrincipal,
		}
	}
	return out
}

// grantPage is the answer of list-grants and list-retirable-grants:
// truncated is the string "true"/"false", total a JSON integer.
type grantPage struct {
	Grants     []grantJSON `json:"grants"`
	NextMarker string      `json:"next_marker"`
	Truncated  string      `json:"truncated"`
	Total      int         `json:"total"`
}

func newGrantPage(gs []kms.Grant, offset, total int) grantPage {
	p := grantPage{Grants: grantsJSON(gs), Truncated: "false", Total: total}
	if end := offset + len(gs); end < total {
		p.NextMarker, p.Truncated = strconv.Itoa(end), "true"
	}
	return p
}

// paging checks the limit and marker of the grant lists: a limit, when
// given, is positive. An absent limit is 0.
func paging(limit, marker numeric) (offset, n int, err error) {
	if limit.Set && limit.N < 1 {
		return 0, 0, fmt.Errorf("%w: limit must be positive", kms.ErrInvalidLimit)
	}
	return marker.N, limit.N, nil
}

// createGrantRequest is CreateGrantRequestBody; a create-grant grant lets
// a grantee call it, passing on only the operations it holds.
type createGrantRequest struct {
	KeyID                string   `json:"key_id" kms:"nonempty,key=create-grant"`
	GranteePrincipal     string   `json:"grantee_principal" kms:"nonempty"`
	GranteePrincipalType string   `json:"grantee_principal_type"`
	Operations           []string `json:"operations" kms:"req"`
	Name                 string   `json:"name"`
	RetiringPrincipal    string   `json:"retiring_principal"`
	sequenced
}

func (h *Handler) createGrant(c *call, r *createGrantRequest) (any, error) {
	in := kms.CreateGrantInput{
		ProjectID: c.project(), KeyID: r.KeyID, IssuingPrincipal: c.principal.UserID,
		GranteePrincipal: r.GranteePrincipal, Operations: r.Operations, Name: r.Name, RetiringPrincipal: r.RetiringPrincipal,
	}
	var err error
	if in.GranteePrincipalType, err = enum("grantee_principal_type", r.GranteePrincipalType, "user", "domain"); err != nil {
		return nil, err
	}
	if g := c.access.Grant; g != nil {
		// Created through the caller's own create-grant grant: it may pass
		// on only what it holds.
		in.Bound = g.Operations
	}
	g, err := h.kms.CreateGrant(c.ctx, in)
	if err != nil {
		return nil, err
	}
	return map[string]string{"grant_id": g.GrantID}, nil
}

// listGrantsRequest is ListGrantsRequestBody.
type listGrantsRequest struct {
	KeyID  string  `json:"key_id" kms:"nonempty,key"`
	Limit  numeric `json:"limit"`
	Marker numeric `json:"marker"`
	sequenced
}

func (h *Handler) listGrants(c *call, r *listGrantsRequest) (any, error) {
	offset, limit, err := paging(r.Limit, r.Marker)
	if err != nil {
		return nil, err
	}
	gs, total, err := h.kms.ListGrants(c.ctx, c.project(), r.KeyID, offset, limit)
	if err != nil {
		return nil, err
	}
	return newGrantPage(gs, offset, total), nil
}

// listRetirableGrantsRequest is ListRetirableGrantsRequestBody.
type listRetirableGrantsRequest struct {
	Limit  numeric `json:"limit"`
	Marker numeric `json:"marker"`
	sequenced
}

func (h *Handler) listRetirableGrants(c *call, r *listRetirableGrantsRequest) (any, error) {
	offset, limit, err := paging(r.Limit, r.Marker)
	if err != nil {
		return nil, err
	}
	if limit == 0 || limit > maxListLimit {
		limit = maxListLimit
	}
	gs, total, err := h.kms.ListRetirableGrants(c.ctx, c.principal.UserID, offset, limit)
	if err != nil {
		return nil, err
	}
	return newGrantPage(gs, offset, total), nil
}

// revokeGrantRequest is RevokeGrantRequestBody (the SDK's CancelGrant).
type revokeGrantRequest struct {
	KeyID   string `json:"key_id" kms:"nonempty,key"`
	GrantID string `json:"grant_id" kms:"nonempty"`
	sequenced
}

func (h *Handler) revokeGrant(c *call, r *revokeGrantRequest) (any, error) {
	return nil, h.kms.RevokeGrant(c.ctx, c.project(), r.KeyID, r.GrantID)
}

// retireGrantRequest is the body of retire-grant (the SDK's
// CancelSelfGrant); a retire-grant grant lets a grantee call it.
type retireGrantRequest struct {
	KeyID   string `json:"key_id" kms:"nonempty,key=retire-grant"`
	GrantID string `json:"grant_id" kms:"nonempty"`
	sequenced
}

func (h *Handler) retireGrant(c *call, r *retireGrantRequest) (any, error) {
	return nil, h.kms.RetireGrant(c.ctx, c.caller(), r.KeyID, r.GrantID)
}
