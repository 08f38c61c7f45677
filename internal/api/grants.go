package api

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/kmsd/kmsd/internal/auth"
	"github.com/kmsd/kmsd/internal/kms"
)

// Grants (reference kms-api.md §5.G) and the authorization they give.
//
// A route that names a grant operation (route.grant, route.grantKeys) may
// be authorized by a grant instead of IAM, in two places of serve:
//
//   - when the caller's policies do not allow the route's action (and do
//     not explicitly deny it: an IAM Deny wins over a grant), a grant on
//     the request's key that lists the operation lets the call in;
//   - when the policies allow it and the handler answers that the key does
//     not exist in the caller's project, a grant on the key in another
//     project lets the call run once more there.
//
// Either way the handler then runs with the key's project as the call's
// project, and the hot path — the caller's own key, allowed by IAM — costs
// no grant lookup. Grants are read from the store on each check, so a
// revoked or retired grant stops working at once on every node.

// grantable reports whether a grant can authorize the route.
func (rt *route) grantable() bool { return rt.grant != "" || rt.grantKeys != nil }

// grantUses returns the keys the call uses with the grant operation each
// needs: route.grantKeys, or else the body's key_id with route.grant. It
// is nil when the body names no key.
func (c *call) grantUses() []kms.GrantUse {
	f, err := c.fields()
	if err != nil {
		return nil
	}
	if c.route.grantKeys != nil {
		return c.route.grantKeys(f)
	}
	return bodyKeyUse(f, "key_id", c.route.grant)
}

// bodyKeyUse is the use of the key named by the string member name.
func bodyKeyUse(f fields, name, op string) []kms.GrantUse {
	id, _, err := f.str(name, false)
	if err != nil || id == "" {
		return nil
	}
	return []kms.GrantUse{{KeyID: id, Operation: op}}
}

// decryptDataKeys finds the key of decrypt-data: its key_id, or the key
// the ciphertext names.
func decryptDataKeys(f fields) []kms.GrantUse {
	if u := bodyKeyUse(f, "key_id", kms.OpDecryptData); u != nil {
		return u
	}
	return ciphertextKeyUse(f, "cipher_text", kms.OpDecryptData)
}

// reEncryptKeys finds the keys of re-encrypt: the source (source_key_id
// or the ciphertext's key) needs decrypt-data, the destination
// encrypt-data.
func reEncryptKeys(f fields) []kms.GrantUse {
	src := bodyKeyUse(f, "source_key_id", kms.OpDecryptData)
	if src == nil {
		src = ciphertextKeyUse(f, "cipher_text", kms.OpDecryptData)
	}
	dst := bodyKeyUse(f, "destination_key_id", kms.OpEncryptData)
	if src == nil || dst == nil {
		return nil
	}
	return append(src, dst...)
}

// ciphertextKeyUse is the use of the key named by the ciphertext blob in
// the member name: base64 (encrypt-data) or hex (data keys).
func ciphertextKeyUse(f fields, name, op string) []kms.GrantUse {
	s, _, err := f.str(name, false)
	if err != nil || s == "" {
		return nil
	}
	raw, err := hex.DecodeString(s)
	if err != nil {
		if raw, err = base64.StdEncoding.DecodeString(s); err != nil {
			return nil
		}
	}
	id, ok := kms.CiphertextKeyID(raw)
	if !ok {
		return nil
	}
	return []kms.GrantUse{{KeyID: id, Operation: op}}
}

// allowAll is an Allow statement for every action: with it appended,
// policies allow an action exactly when none of them denies it.
var allowAll = auth.Policy{Version: auth.PolicyVersion, Statement: []auth.Statement{{Effect: auth.EffectAllow, Action: []string{"*:*:*"}}}}

// explicitlyDenied reports whether a Deny statement of policies matches
// action.
func explicitlyDenied(policies []auth.Policy, action string) bool {
	return !auth.Allowed(append(slices.Clip(policies), allowAll), action)
}

// authorizeByGrant admits a call whose IAM policies do not allow the
// route's action when a grant to the caller covers it (errForbidden
// otherwise), and makes the key's project the call's.
func (h *Handler) authorizeByGrant(c *call) error {
	if !c.route.grantable() || explicitlyDenied(c.principal.Policies, c.route.action) {
		return errForbidden
	}
	access, ok, err := h.kms.AuthorizeByGrant(c.ctx, c.caller(), c.grantUses())
	if err != nil {
		return err
	}
	if !ok {
		return errForbidden
	}
	c.useGrant(access)
	return nil
}

// retryWithGrant reports whether a call that IAM allowed and whose handler
// answered err should run again in another project: err is a missing key,
// and a grant to the caller covers the request's keys there.
func (h *Handler) retryWithGrant(c *call, err error) bool {
	if c.grant != nil || !c.route.grantable() || !isNotFound(err) {
		return false
	}
	access, ok, gerr := h.kms.AuthorizeByGrant(c.ctx, c.caller(), c.grantUses())
	if gerr != nil {
		// The caller gets the handler's answer; the failure is logged.
		h.log.ErrorContext(c.ctx, "grant check failed", "request_id", c.requestID, "err", gerr.Error())
		return false
	}
	if !ok || access.ProjectID == c.principal.ProjectID {
		return false
	}
	c.useGrant(access)
	return true
}

func (c *call) caller() kms.Caller {
	return kms.Caller{UserID: c.principal.UserID, AccountID: c.principal.AccountID}
}

// useGrant makes the call run in the project of the keys a grant allows.
func (c *call) useGrant(a kms.GrantAccess) {
	c.grant = &a
	c.principal.ProjectID = a.ProjectID
}

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
	if c.grant != nil {
		// Created through the caller's own create-grant grant: it may pass
		// on only what it holds.
		in.Bound = c.grant.Operations
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

// isNotFound reports whether err is a domain not-found.
func isNotFound(err error) bool { return errors.Is(err, kms.ErrKeyNotFound) }
