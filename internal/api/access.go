package api

import (
	"reflect"
	"slices"

	"github.com/kmsd/kmsd/internal/auth"
	"github.com/kmsd/kmsd/internal/kms"
)

// Authorization (reference auth.md §8, grants kms-api.md §5.G) is decided
// once per call, before its handler runs, by kms.Authorize: this file
// only says what the caller's identity policies make of the route's
// action and which keys the request names (the key and ciphertext tags of
// its request type, request.go). The decision,
// c.access, says in which project the handler serves the call — the
// caller's, or the key owner's when a grant authorized it — and the
// handler never runs twice.

// authorize decides the call into c.access; a call that neither IAM nor
// a grant allows is kms.ErrAccessDenied (403 KMS.0307). A body that does
// not decode names no key, so only IAM can authorize it; its handler then
// answers the decoding error.
func (h *Handler) authorize(c *call) error {
	rt := c.route
	policy := kms.PolicyAllow
	if rt.action != "" && !auth.Allowed(c.principal.Policies, rt.action) {
		policy = kms.PolicyDeny
		if explicitlyDenied(c.principal.Policies, rt.action) {
			policy = kms.PolicyExplicitDeny
		}
	}
	var keys []kms.KeyUse
	if c.req != nil {
		keys = rt.handler.plan.keys(reflect.ValueOf(c.req).Elem(), c.keyBuf[:0])
	}
	return h.kms.Authorize(c.ctx, kms.AccessRequest{
		UserID: c.principal.UserID, AccountID: c.principal.AccountID, ProjectID: c.principal.ProjectID,
		Action: rt.action, Policy: policy, Keys: keys,
	}, &c.access)
}

// allowAll is an Allow statement for every action: with it appended,
// policies allow an action exactly when none of them denies it.
var allowAll = auth.Policy{Version: auth.PolicyVersion, Statement: []auth.Statement{{Effect: auth.EffectAllow, Action: []string{"*:*:*"}}}}

// explicitlyDenied reports whether a Deny statement of policies matches
// action.
func explicitlyDenied(policies []auth.Policy, action string) bool {
	return !auth.Allowed(append(slices.Clip(policies), allowAll), action)
}
