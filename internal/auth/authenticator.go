package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// ErrProjectMismatch means the project in the URL is not one the caller's
// credential may address (reference errors.md: 403 KMS.0321).
var ErrProjectMismatch = errors.New("auth: project in URL does not match the credential")

// LiteralProjectID is the path segment token-mode SDK clients send instead
// of a project id (reference auth.md §1).
const LiteralProjectID = "{project_id}"

// Identity is an authenticated IAM user with the policies that apply to it.
type Identity struct {
	AccountID   string
	AccountName string
	UserID      string
	UserName    string
	Policies    []Policy
}

// Project names a project of an account.
type Project struct {
	ID   string
	Name string
}

// Directory is what authentication needs from the identity store. The iam
// package implements it.
type Directory interface {
	// AccessKey returns the secret key and the owner of an active access
	// key. An unknown or disabled AK, or a disabled user, is an error that
	// wraps ErrUnauthenticated.
	AccessKey(ctx context.Context, ak string) (sk []byte, id Identity, err error)
	// User returns the identity of an active user; unknown or disabled
	// users wrap ErrUnauthenticated.
	User(ctx context.Context, userID string) (Identity, error)
	// Projects lists the projects of an account.
	Projects(ctx context.Context, accountID string) ([]Project, error)
}

// Principal is the authenticated caller of one request.
type Principal struct {
	Identity
	// ProjectID is the project the request addresses, resolved from the
	// URL and the credential.
	ProjectID string
	// Method is "aksk" or "token".
	Method string
}

// Authenticator turns a request into a Principal.
type Authenticator struct {
	dir    Directory
	tokens *TokenSigner
	// Now is the clock used for X-Sdk-Date skew and token expiry.
	Now func() time.Time
	// Replay, when set, refuses a second request with a signature it has
	// seen within the X-Sdk-Date window (security.replay_cache).
	Replay *ReplayCache
}

// NewAuthenticator returns an Authenticator over dir that accepts tokens
// signed by tokens.
func NewAuthenticator(dir Directory, tokens *TokenSigner) *Authenticator {
	return &Authenticator{dir: dir, tokens: tokens, Now: time.Now}
}

// Authenticate verifies the request's X-Auth-Token or AK/SK signature over
// body and resolves the project named by pathProject (which may be the
// literal "{project_id}"). With requireProject false (IAM endpoints),
// pathProject is ignored and ProjectID is the token's project or the
// signed X-Project-Id header, if any.
//
// The project is always one the credential vouches for (docs/security.md):
// an X-Project-Id header that differs from the URL's project is refused
// (403), and a signed request may let the header choose the project only
// when the signature covers it. A request carrying both a token and a
// signature is served only when both verify, name the same user and
// resolve the same project; otherwise it is refused with 401, whichever
// of the two is wrong.
//
// Errors wrap ErrUnauthenticated (answer 401 without saying which part was
// wrong), ErrProjectMismatch (403), or are internal failures.
func (a *Authenticator) Authenticate(ctx context.Context, r *http.Request, body []byte, pathProject string, requireProject bool) (Principal, error) {
	return a.AuthenticatePrechecked(ctx, nil, r, body, pathProject, requireProject)
}

// AuthenticatePrechecked is Authenticate for a request that
// PrecheckSigned accepted (pre, which may be nil): the headers it parsed
// and the access key it looked up are not parsed and looked up again.
func (a *Authenticator) AuthenticatePrechecked(ctx context.Context, pre *Prechecked, r *http.Request, body []byte, pathProject string, requireProject bool) (Principal, error) {
	tok := r.Header.Get("X-Auth-Token")
	signed := r.Header.Get("Authorization") != ""
	switch {
	case tok != "" && signed:
		pt, err := a.authenticateToken(ctx, r, tok, pathProject, requireProject)
		if err != nil {
			return Principal{}, both(err)
		}
		ps, err := a.authenticateSignature(ctx, nil, r, body, pathProject, requireProject)
		if err != nil {
			return Principal{}, both(err)
		}
		if pt.UserID != ps.UserID || pt.ProjectID != ps.ProjectID {
			return Principal{}, &AuthError{Reason: "X-Auth-Token and signature name different users or projects"}
		}
		return ps, nil
	case tok != "":
		return a.authenticateToken(ctx, r, tok, pathProject, requireProject)
	case signed:
		return a.authenticateSignature(ctx, pre, r, body, pathProject, requireProject)
	}
	return Principal{}, &AuthError{Reason: "no Authorization or X-Auth-Token header"}
}

// both is the error of a request carrying a token and a signature when
// one of them fails: 401, even where the credential alone would be 403
// for its project, since the two credentials disagree.
func both(err error) error {
	if errors.Is(err, ErrProjectMismatch) {
		return &AuthError{Reason: "X-Auth-Token and signature disagree: " + err.Error()}
	}
	return err
}

// authenticateToken is Authenticate for an X-Auth-Token. The token names
// the project; an X-Project-Id header, which nothing signs, must name the
// same one (or be the literal "{project_id}").
func (a *Authenticator) authenticateToken(ctx context.Context, r *http.Request, tok, pathProject string, requireProject bool) (Principal, error) {
	claims, err := a.tokens.Verify(tok, a.Now())
	if err != nil {
		return Principal{}, err
	}
	id, err := a.dir.User(ctx, claims.UserID)
	if err != nil {
		return Principal{}, err
	}
	if id.AccountID != claims.AccountID {
		return Principal{}, &AuthError{Reason: "token account does not match user"}
	}
	p := Principal{Identity: id, ProjectID: claims.ProjectID, Method: "token"}
	if header := r.Header.Get("X-Project-Id"); header != "" && header != LiteralProjectID && header != claims.ProjectID {
		return Principal{}, fmt.Errorf("%w: X-Project-Id differs from the token's project", ErrProjectMismatch)
	}
	if !requireProject {
		return p, nil
	}
	if pathProject != LiteralProjectID && pathProject != claims.ProjectID {
		return Principal{}, fmt.Errorf("%w: token scoped to another project", ErrProjectMismatch)
	}
	if claims.ProjectID == "" {
		return Principal{}, fmt.Errorf("%w: token has no project scope", ErrProjectMismatch)
	}
	return p, nil
}

// authenticateSignature is Authenticate for an AK/SK signature.
func (a *Authenticator) authenticateSignature(ctx context.Context, pre *Prechecked, r *http.Request, body []byte, pathProject string, requireProject bool) (Principal, error) {
	id, headerSigned, err := a.verify(ctx, pre, r, body)
	if err != nil {
		return Principal{}, err
	}
	p := Principal{Identity: id, Method: "aksk"}
	header := r.Header.Get("X-Project-Id")
	if header == LiteralProjectID {
		header = ""
	}
	if header != "" && !headerSigned && (!requireProject || header != pathProject) {
		// The signature does not cover the header, so anyone on the path
		// could change it: it may not choose the project.
		return Principal{}, fmt.Errorf("%w: X-Project-Id is not signed", ErrProjectMismatch)
	}
	if !requireProject {
		if header != "" {
			if err := a.ownsProject(ctx, id.AccountID, header); err != nil {
				return Principal{}, err
			}
			p.ProjectID = header
		}
		return p, nil
	}
	project := pathProject
	if header != "" && header != pathProject {
		if pathProject != LiteralProjectID {
			return Principal{}, fmt.Errorf("%w: X-Project-Id differs from the URL", ErrProjectMismatch)
		}
		project = header
	}
	if project == LiteralProjectID {
		// The Huawei samples start with projectId "{project_id}"; address
		// the account's only project rather than failing.
		ps, err := a.dir.Projects(ctx, id.AccountID)
		if err != nil {
			return Principal{}, err
		}
		if len(ps) != 1 {
			return Principal{}, fmt.Errorf("%w: literal {project_id} but the account has %d projects", ErrProjectMismatch, len(ps))
		}
		project = ps[0].ID
	}
	if err := a.ownsProject(ctx, id.AccountID, project); err != nil {
		return Principal{}, err
	}
	p.ProjectID = project
	return p, nil
}

// verify is VerifyRequest with the directory as the lookup; it returns
// the owner of the access key and whether the signature covers
// X-Project-Id.
func (a *Authenticator) verify(ctx context.Context, pre *Prechecked, r *http.Request, body []byte) (Identity, bool, error) {
	var v *verifier
	var sk []byte
	var id Identity
	var err error
	if pre != nil && pre.v != nil {
		// The headers were checked, and the key looked up, by
		// PrecheckSigned for this request.
		v = pre.v
		sk, id = v.pre.sk, v.pre.id
		if err := v.build(r, body, v.pre.date); err != nil {
			return Identity{}, false, err
		}
	} else {
		v = getVerifier()
		defer putVerifier(v)
		if err := v.prepare(r, body, a.Now()); err != nil {
			return Identity{}, false, err
		}
		sk, id, err = a.dir.AccessKey(ctx, v.a.ak)
	}
	if err := v.finish(sk, err); err != nil {
		return Identity{}, false, err
	}
	if a.Replay != nil && !a.Replay.first(v.a.ak, v.a.signature, v.date, a.Now()) {
		return Identity{}, false, authErrorf("replayed signature of access key %q", v.a.ak)
	}
	return id, slices.Contains(v.a.signedHeaders, "x-project-id"), nil
}

func (a *Authenticator) ownsProject(ctx context.Context, accountID, projectID string) error {
	ps, err := a.dir.Projects(ctx, accountID)
	if err != nil {
		return err
	}
	for _, p := range ps {
		if p.ID == projectID {
			return nil
		}
	}
	return fmt.Errorf("%w: project %q is not in the caller's account", ErrProjectMismatch, projectID)
}
