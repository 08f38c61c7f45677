package kms

import (
	"context"
	"errors"
	"slices"

	"github.com/kmsd/kmsd/internal/store"
)

// ErrAccessDenied is a request that neither the caller's identity
// policies nor a grant allow.
var ErrAccessDenied = errors.New("kms: access denied")

// Policy is what the caller's identity policies say of an operation's
// IAM action; the API layer evaluates them (package auth) and Authorize
// turns the answer and the request's keys into one Access.
type Policy uint8

const (
	// PolicyDeny: no statement allows the action. A grant may still.
	PolicyDeny Policy = iota
	// PolicyAllow: a statement allows the action and none denies it.
	PolicyAllow
	// PolicyExplicitDeny: a Deny statement matches the action; it wins
	// over every grant.
	PolicyExplicitDeny
)

// KeyUse is one key a request names: by id, or by a ciphertext that
// carries its id (the wire text of cipher_text: base64, or hex for a data
// key blob; only this package looks inside). Operation is the grant
// operation (reference kms-api.md §5.G) that lets a grantee use the key
// so, "" when no grant can.
type KeyUse struct {
	KeyID      string
	Ciphertext string
	Operation  string
}

// AccessRequest is what Authorize decides on: who calls, in which project
// the credential is, the operation's action and what the policies say of
// it, and the keys the request names.
type AccessRequest struct {
	UserID    string
	AccountID string
	// ProjectID is the project the caller's credential addresses.
	ProjectID string
	Action    string
	Policy    Policy
	Keys      []KeyUse
}

// Access is the authorization of one request, decided once before the
// operation runs: the operation is served in ProjectID and never runs
// again elsewhere. It holds ids and names only, never secrets, and is what
// an audit record keeps of the decision.
type Access struct {
	// UserID and AccountID name the principal.
	UserID    string
	AccountID string
	// CallerProjectID is the project of the caller's credential.
	CallerProjectID string
	// ProjectID is the project the request is served in: the caller's,
	// or the project of the keys when a grant authorized the request.
	ProjectID string
	// Action is the operation's IAM action ("" for none).
	Action string
	// Grant is the grant authorization, nil when the identity policies
	// allowed the request.
	Grant *GrantAccess
	// KeyIDs are the ids of the keys the request names, ciphertexts
	// resolved, in the request's order; a reference that names no key
	// (a malformed id or blob) is left out.
	KeyIDs []string
	// keyIDs backs KeyIDs for the usual one or two keys.
	keyIDs [2]string
}

// ByGrant reports whether a grant, not IAM, authorized the request.
func (a *Access) ByGrant() bool { return a.Grant != nil }

// Authorize decides a request and fills in *a:
//
//   - an explicit Deny of the action refuses it (ErrAccessDenied), grants
//     notwithstanding;
//   - when the policies allow the action, the request is served in the
//     caller's project, unless its keys are another project's and the
//     caller's grants cover each use there: then it is served in that
//     project by grant (a grantee calls with its own project in the
//     path, reference kms-api.md §5.G);
//   - when they do not, grants to the caller covering every use of the
//     request's keys (all in one project) authorize it in the keys'
//     project; otherwise ErrAccessDenied.
//
// The caller's own key, allowed by IAM, costs no store read when the key
// is in the cache of opened keys; grants are read from the store on each
// decision that needs them, so a revoked or retired grant stops working at
// once on every node. Other errors are store failures. *a is filled in
// (rather than returned) so that a request's Access lives in its call
// without an allocation of its own; it is complete even when the request
// is refused.
func (s *Service) Authorize(ctx context.Context, req AccessRequest, a *Access) error {
	*a = Access{
		UserID: req.UserID, AccountID: req.AccountID, CallerProjectID: req.ProjectID,
		ProjectID: req.ProjectID, Action: req.Action,
	}
	a.KeyIDs = a.keyIDs[:0]
	var usesBuf [len(Access{}.keyIDs)]GrantUse
	var hintsBuf [len(usesBuf)]string
	uses, hints := usesBuf[:0], hintsBuf[:0]
	grantable := len(req.Keys) > 0
	for _, k := range req.Keys {
		id, project := k.KeyID, ""
		if id == "" && k.Ciphertext != "" {
			if b, ok := parseCiphertextText(k.Ciphertext); ok {
				id, project = b.KeyID, b.ProjectID
			}
		}
		if id == "" || k.Operation == "" {
			grantable = false
		}
		if id == "" {
			continue
		}
		a.KeyIDs = append(a.KeyIDs, id)
		uses = append(uses, GrantUse{KeyID: id, Operation: k.Operation})
		hints = append(hints, project)
	}
	switch req.Policy {
	case PolicyExplicitDeny:
		return ErrAccessDenied
	case PolicyAllow:
		if !grantable || s.inProject(ctx, req.ProjectID, uses, hints) {
			return nil
		}
	default:
		if !grantable {
			return ErrAccessDenied
		}
	}
	g, ok, err := s.AuthorizeByGrant(ctx, Caller{UserID: req.UserID, AccountID: req.AccountID}, slices.Clone(uses))
	if err != nil {
		return err
	}
	switch {
	case ok && (req.Policy != PolicyAllow || g.ProjectID != req.ProjectID):
		a.ProjectID, a.Grant = g.ProjectID, &g
	case req.Policy != PolicyAllow:
		return ErrAccessDenied
	}
	return nil
}

// inProject reports whether no use names a key of another project than
// projectID as far as the cache of opened keys and the store know: the
// keys are the project's, or do not exist, or are malformed (the operation
// then says so). A ciphertext of the project (hints) is taken at its word
// here, as the operation authenticates it.
func (s *Service) inProject(ctx context.Context, projectID string, uses []GrantUse, hints []string) bool {
	now := s.Now()
	for i, u := range uses {
		if hints[i] == projectID || ValidateKeyID(u.KeyID) != nil {
			continue
		}
		if _, ok := s.cache.get(projectID, u.KeyID, now); ok {
			continue
		}
		var elsewhere bool
		err := s.store.View(ctx, func(tx store.Tx) error {
			k, err := tx.FindKeyByID(u.KeyID)
			elsewhere = err == nil && k.ProjectID != projectID
			return nil
		})
		if err != nil || elsewhere {
			return false
		}
	}
	return true
}
