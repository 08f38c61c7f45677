package api

import (
	"slices"

	"github.com/kmsd/kmsd/internal/auth"
	"github.com/kmsd/kmsd/internal/kms"
)

// Authorization (reference auth.md §8, grants kms-api.md §5.G) is decided
// once per call, before its handler runs, by kms.Authorize: this file
// only says what the caller's identity policies make of the route's
// action and which keys the request names (route.keys). The decision,
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
	if rt.keys != nil && int64(len(c.body)) <= rt.bodyLimit() {
		if f, err := c.fields(); err == nil {
			keys = rt.keys(f, c.keyBuf[:0])
		}
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

// keyUse names the request's key_id with the grant operation op that lets
// a grantee use it.
func keyUse(op string) func(fields, []kms.KeyUse) []kms.KeyUse {
	return func(f fields, dst []kms.KeyUse) []kms.KeyUse { return memberKeyUse(dst, f, "key_id", op) }
}

// memberKeyUse appends the use of the key named by the string member name,
// if any.
func memberKeyUse(dst []kms.KeyUse, f fields, name, op string) []kms.KeyUse {
	id, _, err := f.str(name, false)
	if err != nil || id == "" {
		return dst
	}
	return append(dst, kms.KeyUse{KeyID: id, Operation: op})
}

// ciphertextKeyUse appends the use of the key that the ciphertext in the
// member name names; kms looks inside it.
func ciphertextKeyUse(dst []kms.KeyUse, f fields, name, op string) []kms.KeyUse {
	s, _, err := f.str(name, false)
	if err != nil || s == "" {
		return dst
	}
	return append(dst, kms.KeyUse{Ciphertext: s, Operation: op})
}

// decryptDataKeys names the key of decrypt-data: its key_id, or the key
// the ciphertext names.
func decryptDataKeys(f fields, dst []kms.KeyUse) []kms.KeyUse {
	if out := memberKeyUse(dst, f, "key_id", kms.OpDecryptData); len(out) > len(dst) {
		return out
	}
	return ciphertextKeyUse(dst, f, "cipher_text", kms.OpDecryptData)
}

// reEncryptKeys names the keys of re-encrypt: the source (source_key_id
// or the ciphertext's key) needs decrypt-data, the destination
// encrypt-data. Without both it names none, so that no grant authorizes
// half of it.
func reEncryptKeys(f fields, dst []kms.KeyUse) []kms.KeyUse {
	out := memberKeyUse(dst, f, "source_key_id", kms.OpDecryptData)
	if len(out) == len(dst) {
		out = ciphertextKeyUse(out, f, "cipher_text", kms.OpDecryptData)
	}
	if n := len(out); n == len(dst) || len(memberKeyUse(out, f, "destination_key_id", kms.OpEncryptData)) == n {
		return dst
	}
	return memberKeyUse(out, f, "destination_key_id", kms.OpEncryptData)
}
