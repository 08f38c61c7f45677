package api

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/kmsd/kmsd/internal/kms"
)

// stringList reads a member that the reference types as an array of
// strings. A member that is absent or null is (nil, false); required makes
// that errMissingParameter. Any other JSON type, or an element that is not
// a string, is errMalformedJSON.
func stringList(f fields, name string, required bool) ([]string, bool, error) {
	raw, ok := f[name]
	if !ok || string(raw) == "null" {
		if required {
			return nil, false, fmt.Errorf("%w: %s", errMissingParameter, name)
		}
		return nil, false, nil
	}
	var out []string
	if len(raw) == 0 || raw[0] != '[' || json.Unmarshal(raw, &out) != nil {
		return nil, false, fmt.Errorf("%w: %s must be an array of strings", errMalformedJSON, name)
	}
	return out, true, nil
}

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

// paging reads the numeric-string limit and marker of the grant lists. An
// absent limit is 0.
func paging(f fields) (offset, limit int, err error) {
	limit, ok, err := f.numericString("limit", false, kms.ErrInvalidLimit)
	if err != nil {
		return 0, 0, err
	}
	if ok && limit < 1 {
		return 0, 0, fmt.Errorf("%w: limit must be positive", kms.ErrInvalidLimit)
	}
	if offset, _, err = f.numericString("marker", false, kms.ErrInvalidMarker); err != nil {
		return 0, 0, err
	}
	if offset < 0 {
		return 0, 0, kms.ErrInvalidMarker
	}
	return offset, limit, nil
}

func (h *Handler) createGrant(c *call) (any, error) {
	id, f, err := keyRequest(c)
	if err != nil {
		return nil, err
	}
	in := kms.CreateGrantInput{ProjectID: c.project(), KeyID: id, IssuingPrincipal: c.principal.UserID}
	if in.GranteePrincipal, err = requiredText(f, "grantee_principal"); err != nil {
		return nil, err
	}
	if in.GranteePrincipalType, err = enum(f, "grantee_principal_type", "user", "domain"); err != nil {
		return nil, err
	}
	if in.Operations, _, err = stringList(f, "operations", true); err != nil {
		return nil, err
	}
	if in.Name, _, err = f.str("name", false); err != nil {
		return nil, err
	}
	if in.RetiringPrincipal, _, err = f.str("retiring_principal", false); err != nil {
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

func (h *Handler) listGrants(c *call) (any, error) {
	id, f, err := keyRequest(c)
	if err != nil {
		return nil, err
	}
	offset, limit, err := paging(f)
	if err != nil {
		return nil, err
	}
	gs, total, err := h.kms.ListGrants(c.ctx, c.project(), id, offset, limit)
	if err != nil {
		return nil, err
	}
	return newGrantPage(gs, offset, total), nil
}

func (h *Handler) listRetirableGrants(c *call) (any, error) {
	f, err := c.request()
	if err != nil {
		return nil, err
	}
	offset, limit, err := paging(f)
	if err != nil {
		return nil, err
	}
	if limit == 0 {
		limit = maxListLimit
	}
	if limit > maxListLimit {
		return nil, fmt.Errorf("%w: limit must be 1–%d", kms.ErrInvalidLimit, maxListLimit)
	}
	gs, total, err := h.kms.ListRetirableGrants(c.ctx, c.principal.UserID, offset, limit)
	if err != nil {
		return nil, err
	}
	return newGrantPage(gs, offset, total), nil
}

// grantRequest decodes the key_id and grant_id of revoke-grant and
// retire-grant.
func grantRequest(c *call) (key, grantID string, err error) {
	key, f, err := keyRequest(c)
	if err != nil {
		return "", "", err
	}
	if grantID, err = requiredText(f, "grant_id"); err != nil {
		return "", "", err
	}
	return key, grantID, nil
}

func (h *Handler) revokeGrant(c *call) (any, error) {
	id, grantID, err := grantRequest(c)
	if err != nil {
		return nil, err
	}
	return nil, h.kms.RevokeGrant(c.ctx, c.project(), id, grantID)
}

func (h *Handler) retireGrant(c *call) (any, error) {
	id, grantID, err := grantRequest(c)
	if err != nil {
		return nil, err
	}
	return nil, h.kms.RetireGrant(c.ctx, c.caller(), id, grantID)
}
