package console

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"time"

	"github.com/kmsd/kmsd/internal/auth"
	"github.com/kmsd/kmsd/internal/iam"
)

// Cookie names. The session cookie holds the IAM token and nothing else;
// the sign-in cookie holds a random value that the sign-in form must echo
// (as an HMAC), so a page of another site cannot sign a browser in.
const (
	sessionCookie = "kmsd_console"
	signInCookie  = "kmsd_console_signin"
)

// csrfKey signs CSRF tokens. It is random per process: a restart only
// makes open forms stale.
type csrfKey [32]byte

func newCSRFKey() (*csrfKey, error) {
	var k csrfKey
	if _, err := rand.Read(k[:]); err != nil {
		return nil, err
	}
	return &k, nil
}

// token returns the CSRF token bound to purpose and value (a session
// token or a sign-in cookie value): an HMAC that only this process can
// compute, and that names nothing of the value.
func (k *csrfKey) token(purpose, value string) string {
	m := hmac.New(sha256.New, k[:])
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// check reports whether got is the CSRF token of purpose and value.
func (k *csrfKey) check(purpose, value, got string) bool {
	return got != "" && hmac.Equal([]byte(got), []byte(k.token(purpose, value)))
}

// session is a signed-in user: the token and who it says the user is.
type session struct {
	token     string
	principal auth.Principal
	csrf      string
}

// allowed reports whether the user's identity policies allow action. It
// decides only which buttons to show; the API decides the request.
func (s *session) allowed(action string) bool {
	return auth.Allowed(s.principal.Policies, action)
}

// withSession runs fn for a signed-in user. Without a valid session a
// page redirects to the sign-in page; a POST must carry the session's
// CSRF token, or it is refused with 403 before anything runs.
func (h *Handler) withSession(w http.ResponseWriter, r *http.Request, fn func(http.ResponseWriter, *http.Request, *session)) {
	s, err := h.session(r.Context(), r)
	if err != nil {
		if r.Method == http.MethodPost {
			h.refuse(w, r, http.StatusUnauthorized, "not signed in, or the session has expired")
			return
		}
		http.Redirect(w, r, h.cfg.Path+"/signin", http.StatusSeeOther)
		return
	}
	if r.Method == http.MethodPost && !h.csrf.check("session", s.token, r.PostFormValue("csrf")) {
		h.refuse(w, r, http.StatusForbidden, "missing or wrong CSRF token: reload the page and try again")
		return
	}
	fn(w, r, s)
}

// session verifies the session cookie's token exactly as the API verifies
// X-Auth-Token.
func (h *Handler) session(ctx context.Context, r *http.Request) (*session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, errors.New("no session")
	}
	probe, err := http.NewRequestWithContext(ctx, http.MethodGet, "/", nil)
	if err != nil {
		return nil, err
	}
	probe.Header.Set("X-Auth-Token", c.Value)
	p, err := h.authn.Authenticate(ctx, probe, nil, "", false)
	if err != nil {
		return nil, err
	}
	if p.ProjectID == "" {
		return nil, errors.New("token has no project scope")
	}
	return &session{token: c.Value, principal: p, csrf: h.csrf.token("session", c.Value)}, nil
}

func (h *Handler) cookie(name, value string, expires time.Time) *http.Cookie {
	c := &http.Cookie{
		Name: name, Value: value, Path: h.cfg.Path,
		HttpOnly: true, Secure: h.cfg.Secure, SameSite: http.SameSiteStrictMode,
	}
	if value == "" {
		c.MaxAge = -1
	} else {
		c.Expires = expires
	}
	return c
}

// signInPage shows the sign-in form with a fresh sign-in cookie.
func (h *Handler) signInPage(w http.ResponseWriter, r *http.Request, problem string) {
	var b [18]byte
	if _, err := rand.Read(b[:]); err != nil {
		h.fail(w, r, err)
		return
	}
	v := base64.RawURLEncoding.EncodeToString(b[:])
	http.SetCookie(w, h.cookie(signInCookie, v, h.Now().Add(time.Hour)))
	status := http.StatusOK
	if problem != "" {
		status = http.StatusUnauthorized
	}
	h.render(w, r, status, "signin", map[string]any{
		"CSRF": h.csrf.token("signin", v), "Problem": problem,
		"Account": r.PostFormValue("account"), "User": r.PostFormValue("user"), "Project": r.PostFormValue("project"),
	})
}

// signIn checks the password through the IAM token logic and keeps the
// token in the session cookie. Neither the password nor the token is
// logged.
func (h *Handler) signIn(w http.ResponseWriter, r *http.Request) {
	pre, err := r.Cookie(signInCookie)
	if err != nil || !h.csrf.check("signin", pre.Value, r.PostFormValue("csrf")) {
		h.refuse(w, r, http.StatusForbidden, "missing or wrong CSRF token: reload the sign-in page and try again")
		return
	}
	in := iam.TokenRequest{
		AccountName: r.PostFormValue("account"), UserName: r.PostFormValue("user"),
		Password: r.PostFormValue("password"), Project: &iam.ProjectScope{Name: r.PostFormValue("project")},
	}
	if in.AccountName == "" || in.UserName == "" || in.Password == "" || in.Project.Name == "" {
		h.signInPage(w, r, "Account, user, password and project are all required.")
		return
	}
	tok, claims, err := h.issuer.Issue(r.Context(), in)
	switch {
	case errors.Is(err, iam.ErrWrongPassword), errors.Is(err, iam.ErrUnknownScope):
		h.log.InfoContext(r.Context(), "console sign-in refused", "account", in.AccountName, "user", in.UserName, "project", in.Project.Name, "cause", err.Error())
		h.signInPage(w, r, "The account, user name, password or project is wrong.")
		return
	case err != nil:
		h.fail(w, r, err)
		return
	}
	h.log.InfoContext(r.Context(), "console sign-in", "user_id", claims.UserID, "project_id", claims.ProjectID)
	http.SetCookie(w, h.cookie(signInCookie, "", time.Time{}))
	http.SetCookie(w, h.cookie(sessionCookie, tok, claims.ExpiresAt))
	http.Redirect(w, r, h.cfg.Path+"/keys", http.StatusSeeOther)
}

// signOut forgets the session cookie. The token itself stays valid until
// it expires (tokens are verified without a lookup, auth.md §5), as one
// obtained from POST /v3/auth/tokens does.
func (h *Handler) signOut(w http.ResponseWriter, r *http.Request, s *session) {
	if r.Method != http.MethodPost {
		http.Error(w, "sign out with the button", http.StatusMethodNotAllowed)
		return
	}
	h.log.InfoContext(r.Context(), "console sign-out", "user_id", s.principal.UserID)
	http.SetCookie(w, h.cookie(sessionCookie, "", time.Time{}))
	http.Redirect(w, r, h.cfg.Path+"/signin", http.StatusSeeOther)
}
