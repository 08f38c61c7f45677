package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// Precheck makes the checks of Authenticate that need neither the request
// body nor a secret key, so that a caller who cannot authenticate is
// refused before its body is read (docs/security.md): an X-Auth-Token must
// verify and name an existing user; an AK/SK request must carry one
// Authorization header that parses, a signed X-Sdk-Date within
// MaxClockSkew, and an access key the directory knows and has enabled.
// Authenticate still makes every check; a request that passes Precheck
// may fail it. Errors are those of Authenticate.
func (a *Authenticator) Precheck(ctx context.Context, r *http.Request) error {
	var p Prechecked
	err := a.PrecheckSigned(ctx, r, &p)
	p.Release()
	return err
}

// Prechecked is what Precheck established of a signed request: its
// parsed Authorization header and the access key's owner and secret.
// AuthenticatePrechecked uses it instead of parsing the headers and
// looking the key up a second time. Release returns it to its pool.
type Prechecked struct {
	v *verifier // holds them (pre), so that a call carries one pointer
}

// Release returns p's scratch space; p must not be used afterwards. A
// nil p is fine.
func (p *Prechecked) Release() {
	if p != nil && p.v != nil {
		putVerifier(p.v)
		p.v = nil
	}
}

// PrecheckSigned is Precheck, also keeping in p, for a request that
// carries a signature and no token, what it established (p stays empty
// otherwise, or on error).
func (a *Authenticator) PrecheckSigned(ctx context.Context, r *http.Request, p *Prechecked) error {
	if tok := r.Header.Get("X-Auth-Token"); tok != "" {
		claims, err := a.tokens.Verify(tok, a.Now())
		if err != nil {
			return err
		}
		_, err = a.dir.User(ctx, claims.UserID)
		return err
	}
	if r.Header.Get("Authorization") == "" {
		return &AuthError{Reason: "no Authorization or X-Auth-Token header"}
	}
	v := getVerifier()
	date, err := v.checkHeaders(r, a.Now())
	if err != nil {
		putVerifier(v)
		return err
	}
	sk, id, err := a.dir.AccessKey(ctx, v.a.ak)
	if errors.Is(err, ErrUnauthenticated) {
		putVerifier(v)
		return &AuthError{Reason: fmt.Sprintf("access key %q", v.a.ak), Err: err}
	}
	if err != nil {
		putVerifier(v)
		return fmt.Errorf("auth: look up access key %q: %w", v.a.ak, err)
	}
	v.pre = precheck{date: date, sk: sk, id: id}
	*p = Prechecked{v: v}
	return nil
}
