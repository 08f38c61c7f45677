// Package console is kmsd's web console: server-rendered html/template
// pages over the KMS API, for people rather than programs.
//
// The console holds no authority of its own. A user signs in with a
// password through the IAM token logic (iam.TokenIssuer, as
// POST /v3/auth/tokens does); the token lives only in an HttpOnly,
// SameSite=Strict cookie (Secure when the server speaks TLS). Every page
// and every action is a call of the wire API, made in-process with that
// token in X-Auth-Token, so authentication, the one authorization
// decision (identity policies and grants), error mapping, logging and
// auditing are exactly the API's: a read-only user is refused by the
// API, whatever the console shows. The console only asks the same
// identity policies (auth.Allowed) which buttons to draw.
//
// Every state-changing request is a POST carrying a CSRF token that is an
// HMAC of the session token under a per-process key, and an Origin, when
// the browser sends one, that is the server's own. Pages carry a strict
// Content-Security-Policy: scripts and styles from the console's own
// embedded files only, no inline script, no framing.
package console

import (
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/kmsd/kmsd/internal/auth"
	"github.com/kmsd/kmsd/internal/iam"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// DefaultPath is where the console is served unless configured otherwise.
const DefaultPath = "/console"

// contentSecurityPolicy allows the console's own scripts, styles and
// images and nothing else: no inline script or style, no framing, forms
// posting only to the console.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Config are the console's settings.
type Config struct {
	// Path is the URL prefix the console is served under, such as
	// "/console" (no trailing slash).
	Path string
	// Secure marks the session cookie Secure: set it when the server
	// speaks TLS.
	Secure bool
	// AuditDir is this node's audit chain, shown on the audit trail page;
	// "" when audit is off.
	AuditDir string
}

// Handler serves the console.
type Handler struct {
	cfg    Config
	api    http.Handler
	authn  *auth.Authenticator
	issuer *iam.TokenIssuer
	log    *slog.Logger
	csrf   *csrfKey
	pages  map[string]*template.Template
	static http.Handler
	// Now is the console's clock (cookie expiry).
	Now func() time.Time
}

// New returns a console that calls api (the KMS API handler) with the
// signed-in user's token, verifies tokens with authn and issues them with
// issuer.
func New(cfg Config, api http.Handler, authn *auth.Authenticator, issuer *iam.TokenIssuer, log *slog.Logger) (*Handler, error) {
	if cfg.Path == "" {
		cfg.Path = DefaultPath
	}
	cfg.Path = "/" + strings.Trim(cfg.Path, "/")
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	key, err := newCSRFKey()
	if err != nil {
		return nil, err
	}
	pages, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	h := &Handler{cfg: cfg, api: api, authn: authn, issuer: issuer, log: log, csrf: key, pages: pages, Now: time.Now}
	h.static = http.StripPrefix(cfg.Path+"/static/", http.FileServerFS(sub))
	return h, nil
}

// Path returns the URL prefix the console is served under.
func (h *Handler) Path() string { return h.cfg.Path }

// Owns reports whether the request's path is the console's.
func (h *Handler) Owns(path string) bool {
	return path == h.cfg.Path || strings.HasPrefix(path, h.cfg.Path+"/")
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", contentSecurityPolicy)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	// same-origin, not no-referrer: under no-referrer browsers send
	// "Origin: null" with the console's own form posts.
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("Cache-Control", "no-store")
	rest := strings.TrimPrefix(r.URL.Path, h.cfg.Path)
	if strings.HasPrefix(rest, "/static/") {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		hd.Set("Cache-Control", "max-age=300")
		h.static.ServeHTTP(w, r)
		return
	}
	if r.Method == http.MethodPost {
		// Every state change, sign-in included, must come from a page of
		// this server.
		if !sameOrigin(r) {
			h.refuse(w, r, http.StatusForbidden, "cross-origin request refused")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	} else if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	switch rest {
	case "", "/":
		http.Redirect(w, r, h.cfg.Path+"/keys", http.StatusSeeOther)
	case "/signin":
		if r.Method == http.MethodPost {
			h.signIn(w, r)
		} else {
			h.signInPage(w, r, "")
		}
	case "/signout":
		h.withSession(w, r, h.signOut)
	case "/keys":
		h.withSession(w, r, h.keysPage)
	case "/overview":
		h.withSession(w, r, h.overviewPage)
	case "/create":
		h.withSession(w, r, h.createPage)
	case "/audit":
		h.withSession(w, r, h.auditPage)
	default:
		if id, action, ok := keyPath(rest); ok {
			h.withSession(w, r, func(w http.ResponseWriter, r *http.Request, s *session) {
				h.keyPage(w, r, s, id, action)
			})
			return
		}
		h.refuse(w, r, http.StatusNotFound, "no such page")
	}
}

// keyPath splits "/keys/ID" and "/keys/ID/ACTION".
func keyPath(rest string) (id, action string, ok bool) {
	rest, ok = strings.CutPrefix(rest, "/keys/")
	if !ok || rest == "" {
		return "", "", false
	}
	id, action, _ = strings.Cut(rest, "/")
	if strings.Contains(action, "/") {
		return "", "", false
	}
	return id, action, true
}

// sameOrigin reports whether a POST comes from the server's own pages:
// its Origin (or, without one, its Referer) names the request's host.
// Browsers send Origin on every POST; a request without either (a script
// with no browser) still needs the CSRF token.
func sameOrigin(r *http.Request) bool {
	src := r.Header.Get("Origin")
	if src == "" {
		src = r.Header.Get("Referer")
	}
	if src == "" {
		return true
	}
	if src == "null" {
		return false
	}
	_, rest, ok := strings.Cut(src, "://")
	if !ok {
		return false
	}
	host, _, _ := strings.Cut(rest, "/")
	return host == r.Host
}
