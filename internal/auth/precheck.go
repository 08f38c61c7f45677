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
	defer putVerifier(v)
	if _, err := v.checkHeaders(r, a.Now()); err != nil {
		return err
	}
	_, _, err := a.dir.AccessKey(ctx, v.a.ak)
	if errors.Is(err, ErrUnauthenticated) {
		return &AuthError{Reason: fmt.Sprintf("access key %q", v.a.ak), Err: err}
	}
	if err != nil {
		return fmt.Errorf("auth: look up access key %q: %w", v.a.ak, err)
	}
	return nil
}
