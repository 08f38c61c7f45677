package kms

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/kmsd/kmsd/internal/ciphertext"
	"github.com/kmsd/kmsd/internal/store"
)

// Grant operations: the operation names a grant may list (reference
// kms-api.md §5.G CreateGrant, and the SDK's CreateGrantRequestBody).
const (
	OpCreateDataKey                 = "create-datakey"
	OpCreateDataKeyWithoutPlaintext = "create-datakey-without-plaintext"
	OpEncryptDataKey                = "encrypt-datakey"
	OpDecryptDataKey                = "decrypt-datakey"
	OpDescribeKey                   = "describe-key"
	OpCreateGrant                   = "create-grant"
	OpRetireGrant                   = "retire-grant"
	OpEncryptData                   = "encrypt-data"
	OpDecryptData                   = "decrypt-data"
)

// grantOperations is the reference's set of grant operations, in its order.
var grantOperations = []string{
	OpCreateDataKey, OpCreateDataKeyWithoutPlaintext, OpEncryptDataKey, OpDecryptDataKey,
	OpDescribeKey, OpCreateGrant, OpRetireGrant, OpEncryptData, OpDecryptData,
}

// GrantOperations returns the operation names a grant may list.
func GrantOperations() []string { return slices.Clone(grantOperations) }

// MaxGrantsPerGrantee is how many grants one grantee (a user, or an
// account for domain grants) may hold on one key: the per-principal limit
// behind KMS.2405 "Too many grants.", which the reference names without a
// number. Ten leaves room for one grant per operation set a grantee needs
// while keeping one grantee from filling the key's grant quota
// (grant_per_CMK, KMS.2404).
const MaxGrantsPerGrantee = 10

// Grant is a grant as the service returns it: the store's row type.
type Grant = store.Grant

var (
	// principalRE is the reference's grantee and retiring principal shape.
	principalRE = regexp.MustCompile(`^[a-zA-Z0-9]{1,64}$`)
	grantIDRE   = regexp.MustCompile(`^[A-Fa-f0-9]{64}$`)
)

// Caller is the user on whose behalf a grant operation runs.
type Caller struct {
	UserID    string
	AccountID string
}

// holds reports whether g's grantee is c: the user itself for a user
// grant, its account for a domain grant.
func (c Caller) holds(g Grant) bool {
	switch g.GranteePrincipalType {
	case store.GranteeUser:
		return c.UserID != "" && g.GranteePrincipal == c.UserID
	case store.GranteeDomain:
		return c.AccountID != "" && g.GranteePrincipal == c.AccountID
	}
	return false
}

// CreateGrantInput are the parameters of create-grant.
type CreateGrantInput struct {
	ProjectID string
	KeyID     string
	// GranteePrincipal is a user id, or an account id when
	// GranteePrincipalType is "domain".
	GranteePrincipal     string
	GranteePrincipalType string // "" means "user"
	Operations           []string
	Name                 string // "" for none
	RetiringPrincipal    string // a user id; "" for none
	// IssuingPrincipal is the user id of the caller.
	IssuingPrincipal string
	// Bound, when not nil, limits the operations of the new grant: a
	// grantee that creates a grant through its own create-grant grant may
	// pass on only the operations it holds on the key.
	Bound []string
}

// normalizeOperations checks a grant's operation list against the
// reference's set and drops repeats, keeping the caller's order.
func normalizeOperations(ops []string) ([]string, error) {
	if len(ops) == 0 {
		return nil, fmt.Errorf("%w: a grant needs at least one operation", ErrInvalidParameter)
	}
	out := make([]string, 0, len(ops))
	for _, op := range ops {
		if !slices.Contains(grantOperations, op) {
			return nil, fmt.Errorf("%w: grant operation %q", ErrInvalidParameter, op)
		}
		if !slices.Contains(out, op) {
			out = append(out, op)
		}
	}
	if len(out) == 1 && out[0] == OpCreateGrant {
		return nil, ErrOnlyCreateGrant
	}
	return out, nil
}

// CreateGrant lets a grantee use one key of the project.
//
// Errors: a malformed key id (ErrInvalidKeyID); an empty or unknown
// operation (ErrInvalidParameter) or create-grant alone
// (ErrOnlyCreateGrant); a grantee or retiring principal that is malformed
// (ErrInvalidPrincipal) — a well-formed id that names no user (for a
// domain grant: no account) of kmsd is accepted, as Huawei documents only
// the pattern, and the grant authorizes nobody until such a principal
// exists; a bad name (ErrInvalidAlias: grant names follow
// the key alias rules, reference kms-api.md §2.4); operations beyond Bound
// (ErrNotPermitted); a missing key (ErrKeyNotFound), a default key
// (ErrDefaultKey) or one pending deletion (ErrKeyPendingDeletion); the
// key's grant quota (ErrTooManyKeyGrants) or MaxGrantsPerGrantee
// (ErrTooManyGranteeGrants) reached.
func (s *Service) CreateGrant(ctx context.Context, in CreateGrantInput) (Grant, error) {
	if err := ValidateKeyID(in.KeyID); err != nil {
		return Grant{}, err
	}
	if !principalRE.MatchString(in.GranteePrincipal) {
		return Grant{}, fmt.Errorf("%w: grantee %q", ErrInvalidPrincipal, in.GranteePrincipal)
	}
	switch in.GranteePrincipalType {
	case "":
		in.GranteePrincipalType = store.GranteeUser
	case store.GranteeUser, store.GranteeDomain:
	default:
		return Grant{}, fmt.Errorf("%w: grantee_principal_type %q", ErrInvalidParameter, in.GranteePrincipalType)
	}
	ops, err := normalizeOperations(in.Operations)
	if err != nil {
		return Grant{}, err
	}
	if in.Bound != nil {
		for _, op := range ops {
			if !slices.Contains(in.Bound, op) {
				return Grant{}, fmt.Errorf("%w: the caller's grants do not allow %s", ErrNotPermitted, op)
			}
		}
	}
	if in.Name != "" && !aliasRE.MatchString(in.Name) {
		return Grant{}, fmt.Errorf("%w: grant name must match %s", ErrInvalidAlias, aliasRE)
	}
	if in.RetiringPrincipal != "" && !principalRE.MatchString(in.RetiringPrincipal) {
		return Grant{}, fmt.Errorf("%w: retiring principal %q", ErrInvalidPrincipal, in.RetiringPrincipal)
	}
	id, err := newGrantID()
	if err != nil {
		return Grant{}, err
	}
	g := Grant{
		ProjectID: in.ProjectID, KeyID: in.KeyID, GrantID: id, Name: in.Name,
		GranteePrincipal: in.GranteePrincipal, GranteePrincipalType: in.GranteePrincipalType,
		Operations: ops, IssuingPrincipal: in.IssuingPrincipal, RetiringPrincipal: in.RetiringPrincipal,
		CreatedAt: s.Now().UTC().Truncate(time.Millisecond),
	}
	err = s.update(ctx, func(tx store.Tx) error {
		k, err := getKey(tx, g.ProjectID, g.KeyID)
		if err != nil {
			return mapNotFound(err)
		}
		if err := updatable(&k); err != nil {
			return err
		}
		p, err := tx.GetProject(g.ProjectID)
		if err != nil {
			return err
		}
		n, err := tx.CountGrants(g.ProjectID, g.KeyID)
		if err != nil {
			return mapNotFound(err)
		}
		if n >= s.grantQuota(p) {
			return fmt.Errorf("%w: %d of %d", ErrTooManyKeyGrants, n, s.grantQuota(p))
		}
		held, err := s.granteeGrants(tx, g)
		if err != nil {
			return err
		}
		if held >= MaxGrantsPerGrantee {
			return fmt.Errorf("%w: the grantee holds %d grants on the key", ErrTooManyGranteeGrants, held)
		}
		return tx.CreateGrant(g)
	})
	if err != nil {
		return Grant{}, err
	}
	s.log.InfoContext(ctx, "grant created", "request_id", RequestID(ctx), "project_id", g.ProjectID, "key_id", g.KeyID, "grant_id", g.GrantID,
		"grantee", g.GranteePrincipal, "grantee_type", g.GranteePrincipalType)
	return g, nil
}

// granteeGrants counts the grants on g's key held by g's grantee, with the
// same principal type.
func (s *Service) granteeGrants(tx store.Tx, g Grant) (int, error) {
	user, account := g.GranteePrincipal, ""
	if g.GranteePrincipalType == store.GranteeDomain {
		user, account = "", g.GranteePrincipal
	}
	gs, err := tx.GrantsFor(user, account, g.ProjectID, g.KeyID)
	return len(gs), err
}

// newGrantID returns 32 random bytes in hex: the reference's 64-hex-digit
// grant id.
func newGrantID() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

// normalizeGrantID checks a grant id's shape (KMS.2501 otherwise) and
// returns it in the lower case that kmsd issues.
func normalizeGrantID(id string) (string, error) {
	if !grantIDRE.MatchString(id) {
		return "", fmt.Errorf("%w: %q", ErrInvalidGrantID, id)
	}
	return strings.ToLower(id), nil
}

// ListGrants returns one page of the key's grants in creation order and
// the number of its grants. A limit of 0 means the project's grant quota,
// the most a key can hold, and so does a larger one (reference kms-api.md
// §5.G: "≤ grant quota"; clamped rather than refused, as clients such as
// the Terraform provider ask for more); a negative limit is
// ErrInvalidLimit, a negative offset ErrInvalidMarker.
func (s *Service) ListGrants(ctx context.Context, projectID, keyID string, offset, limit int) ([]Grant, int, error) {
	if err := ValidateKeyID(keyID); err != nil {
		return nil, 0, err
	}
	if offset < 0 {
		return nil, 0, ErrInvalidMarker
	}
	if limit < 0 {
		return nil, 0, ErrInvalidLimit
	}
	var gs []Grant
	var total int
	err := s.store.View(ctx, func(tx store.Tx) error {
		p, err := tx.GetProject(projectID)
		if err != nil {
			return err
		}
		quota := s.grantQuota(p)
		if limit == 0 || limit > quota {
			limit = quota
		}
		gs, total, err = tx.ListGrants(projectID, keyID, offset, limit)
		return mapNotFound(err)
	})
	return gs, total, err
}

// ListRetirableGrants returns one page, in creation order, of the grants
// in any project whose retiring principal is the user userID, and their
// number. limit must be positive (ErrInvalidLimit) and offset not
// negative (ErrInvalidMarker).
func (s *Service) ListRetirableGrants(ctx context.Context, userID string, offset, limit int) ([]Grant, int, error) {
	if offset < 0 {
		return nil, 0, ErrInvalidMarker
	}
	if limit <= 0 {
		return nil, 0, ErrInvalidLimit
	}
	var gs []Grant
	var total int
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		gs, total, err = tx.ListGrantsByRetiringPrincipal(userID, offset, limit)
		return err
	})
	return gs, total, err
}

// RevokeGrant deletes a grant on a key of the project: the key owner's
// way to end a grant. A missing key is ErrKeyNotFound; a malformed grant
// id or one that is on no key of the project ErrInvalidGrantID (KMS.2501);
// a grant on another key of the project ErrGrantKeyMismatch (KMS.2502).
func (s *Service) RevokeGrant(ctx context.Context, projectID, keyID, grantID string) error {
	if err := ValidateKeyID(keyID); err != nil {
		return err
	}
	grantID, err := normalizeGrantID(grantID)
	if err != nil {
		return err
	}
	err = s.update(ctx, func(tx store.Tx) error {
		if _, err := tx.GetKey(projectID, keyID); err != nil {
			return mapNotFound(err)
		}
		g, err := tx.GetGrantByID(grantID)
		if errors.Is(err, store.ErrNotFound) || err == nil && g.ProjectID != projectID {
			// Another project's grant is as unknown as a missing one.
			return fmt.Errorf("%w: %s", ErrInvalidGrantID, grantID)
		}
		if err != nil {
			return err
		}
		if g.KeyID != keyID {
			return fmt.Errorf("%w: grant %s is on key %s", ErrGrantKeyMismatch, grantID, g.KeyID)
		}
		return tx.DeleteGrant(projectID, keyID, grantID)
	})
	if err == nil {
		s.log.InfoContext(ctx, "grant revoked", "request_id", RequestID(ctx), "project_id", projectID, "key_id", keyID, "grant_id", grantID)
	}
	return err
}

// RetireGrant deletes a grant on behalf of a user it names: its retiring
// principal, its issuing principal, or its grantee when the grant lists
// retire-grant (reference kms-api.md §5.G CancelSelfGrant). The grant may
// be on a key of any project. A malformed or unknown grant id is
// ErrInvalidGrantID, a grant on another key ErrGrantKeyMismatch, any other
// caller ErrNotPermitted.
func (s *Service) RetireGrant(ctx context.Context, caller Caller, keyID, grantID string) error {
	if err := ValidateKeyID(keyID); err != nil {
		return err
	}
	grantID, err := normalizeGrantID(grantID)
	if err != nil {
		return err
	}
	var g Grant
	err = s.update(ctx, func(tx store.Tx) error {
		var err error
		g, err = tx.GetGrantByID(grantID)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: %s", ErrInvalidGrantID, grantID)
		}
		if err != nil {
			return err
		}
		if g.KeyID != keyID {
			return fmt.Errorf("%w: grant %s is on key %s", ErrGrantKeyMismatch, grantID, g.KeyID)
		}
		mayRetire := caller.UserID != "" && (caller.UserID == g.RetiringPrincipal || caller.UserID == g.IssuingPrincipal) ||
			caller.holds(g) && slices.Contains(g.Operations, OpRetireGrant)
		if !mayRetire {
			return fmt.Errorf("%w: user %s may not retire grant %s", ErrNotPermitted, caller.UserID, grantID)
		}
		return tx.DeleteGrant(g.ProjectID, g.KeyID, g.GrantID)
	})
	if err == nil {
		s.log.InfoContext(ctx, "grant retired", "request_id", RequestID(ctx), "project_id", g.ProjectID, "key_id", keyID, "grant_id", grantID, "user_id", caller.UserID)
	}
	return err
}

// GrantUse is one key a request uses and the grant operation that allows
// it.
type GrantUse struct {
	KeyID     string
	Operation string
}

// GrantAccess is what the caller's grants allow for one request.
type GrantAccess struct {
	// ProjectID is the project that holds the request's keys.
	ProjectID string
	// Operations are the operations the caller's grants allow on the
	// request's first key.
	Operations []string
	// GrantIDs are the grants that authorized the request: for each use,
	// those of the caller's grants on its key that list its operation.
	GrantIDs []string
}

// AuthorizeByGrant reports whether grants let caller perform uses: every
// key must exist, all in one project, and for each use some grant on its
// key to the caller (its user, or its account for a domain grant) must
// list the operation. Grants are read from the store on every call, never
// cached, so a revoked or retired grant stops working at once on every
// node. ok is false, with a nil error, when they do not; err reports
// store failures only.
func (s *Service) AuthorizeByGrant(ctx context.Context, caller Caller, uses []GrantUse) (access GrantAccess, ok bool, err error) {
	if len(uses) == 0 || caller.UserID == "" && caller.AccountID == "" {
		return GrantAccess{}, false, nil
	}
	for _, u := range uses {
		if ValidateKeyID(u.KeyID) != nil || u.Operation == "" {
			return GrantAccess{}, false, nil
		}
	}
	err = s.store.View(ctx, func(tx store.Tx) error {
		ok = false
		access = GrantAccess{}
		for i, u := range uses {
			k, err := tx.FindKeyByID(u.KeyID)
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			if i == 0 {
				access.ProjectID = k.ProjectID
			} else if k.ProjectID != access.ProjectID {
				return nil
			}
			gs, err := tx.GrantsFor(caller.UserID, caller.AccountID, k.ProjectID, k.KeyID)
			if err != nil {
				return err
			}
			var held []string
			for _, g := range gs {
				if !caller.holds(g) {
					continue
				}
				for _, op := range g.Operations {
					if !slices.Contains(held, op) {
						held = append(held, op)
					}
				}
				if slices.Contains(g.Operations, u.Operation) && !slices.Contains(access.GrantIDs, g.GrantID) {
					access.GrantIDs = append(access.GrantIDs, g.GrantID)
				}
			}
			if !slices.Contains(held, u.Operation) {
				return nil
			}
			if i == 0 {
				access.Operations = held
			}
		}
		ok = true
		return nil
	})
	if err != nil || !ok {
		return GrantAccess{}, false, err
	}
	return access, true, nil
}

// CiphertextKeyID returns the key id named by a ciphertext blob of
// encrypt-data or of the data key operations, without opening it; ok is
// false for anything that is not such a blob. The request is not trusted
// by this: the operation itself authenticates the blob.
func CiphertextKeyID(raw []byte) (keyID string, ok bool) {
	b, err := ciphertext.Parse(raw)
	if err != nil {
		return "", false
	}
	return b.KeyID, true
}
