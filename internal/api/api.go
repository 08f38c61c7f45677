// Package api is the Huawei Cloud KMS wire protocol: one route table
// (routes.go) for every operation of the reference, request decoding with
// the reference's exact JSON types, authentication and authorization of
// each call, and the single mapping from error kinds to Huawei error bodies
// (errors.go). Handlers live in files named after their area.
package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kmsd/kmsd/internal/auth"
	"github.com/kmsd/kmsd/internal/iam"
	"github.com/kmsd/kmsd/internal/kms"
)

// GatewayMaxBody is the API gateway's request body limit (reference
// errors.md §4: 12 MB, APIGW.0201 with 413).
const GatewayMaxBody = 12 << 20

// Config are the API layer's settings.
type Config struct {
	// TokenTTL is the lifetime of tokens issued by POST /v3/auth/tokens.
	TokenTTL time.Duration
}

// Handler serves the KMS and IAM endpoints.
type Handler struct {
	kms    *kms.Service
	iam    *iam.Service
	authn  *auth.Authenticator
	tokens *auth.TokenSigner
	log    *slog.Logger
	cfg    Config
	routes []*route
	// Now is the handler's clock.
	Now func() time.Time
}

// New returns a Handler.
func New(k *kms.Service, i *iam.Service, authn *auth.Authenticator, tokens *auth.TokenSigner, log *slog.Logger, cfg Config) *Handler {
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = 24 * time.Hour
	}
	h := &Handler{kms: k, iam: i, authn: authn, tokens: tokens, log: log, cfg: cfg, Now: time.Now}
	h.routes = routeTable()
	return h
}

// call is one request in flight.
type call struct {
	ctx       context.Context
	r         *http.Request
	w         http.ResponseWriter
	route     *route
	params    map[string]string
	body      []byte
	principal auth.Principal
	requestID string
	// grant is set when a grant, not IAM, authorized the call; the
	// principal's ProjectID is then the project of the granted key.
	grant *kms.GrantAccess
}

// project returns the project the call addresses.
func (c *call) project() string { return c.principal.ProjectID }

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	c := &call{ctx: r.Context(), r: r, w: w, requestID: newRequestID()}
	w.Header().Set("X-Request-Id", c.requestID)
	status, code, err := h.serve(c)
	// Successful requests log at debug level (an access log costs a write
	// per request on the hot path); refused ones at info, failures at error.
	level := slog.LevelDebug
	switch {
	case status >= 500:
		level = slog.LevelError
	case status >= 400:
		level = slog.LevelInfo
	}
	if !h.log.Enabled(c.ctx, level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("request_id", c.requestID),
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Int("status", status),
		slog.Duration("duration", time.Since(start)),
	}
	if c.route != nil {
		attrs = append(attrs, slog.String("operation", c.route.op))
	}
	if c.principal.UserID != "" {
		attrs = append(attrs, slog.String("user_id", c.principal.UserID), slog.String("project_id", c.principal.ProjectID))
	}
	if c.grant != nil {
		// A grant, not IAM, let the user in; project_id is the key's.
		attrs = append(attrs, slog.Bool("by_grant", true))
	}
	if code != "" {
		attrs = append(attrs, slog.String("error_code", code))
	}
	if err != nil {
		// The private cause: never contains secrets, as errors carry ids
		// and reasons only.
		attrs = append(attrs, slog.String("cause", err.Error()))
	}
	h.log.LogAttrs(c.ctx, level, "request", attrs...)
}

// serve runs one call and writes its response; it returns what to log.
func (h *Handler) serve(c *call) (int, string, error) {
	rt, params, err := h.match(c.r.Method, c.r.URL.Path)
	if err != nil {
		return h.writeError(c, err)
	}
	c.route, c.params = rt, params
	if err := h.readBody(c); err != nil {
		return h.writeError(c, err)
	}
	switch rt.auth {
	case authProject, authAccount:
		p, err := h.authn.Authenticate(c.ctx, c.r, c.body, params["project_id"], rt.auth == authProject)
		if err != nil {
			return h.writeError(c, err)
		}
		c.principal = p
		if rt.action != "" && !auth.Allowed(p.Policies, rt.action) {
			// A grant may allow what IAM does not (grants.go).
			if err := h.authorizeByGrant(c); err != nil {
				return h.writeError(c, err)
			}
		}
	}
	if rt.handler == nil {
		return h.writeError(c, errNotImplemented)
	}
	resp, err := rt.handler(h, c)
	if err != nil && h.retryWithGrant(c, err) {
		// The key is another project's, shared by a grant (grants.go).
		resp, err = rt.handler(h, c)
	}
	if err != nil {
		return h.writeError(c, err)
	}
	status := rt.status
	if status == 0 {
		status = http.StatusOK
	}
	if status == http.StatusNoContent || resp == nil {
		c.w.WriteHeader(status)
		return status, "", nil
	}
	writeJSON(c.w, status, resp)
	return status, "", nil
}

// readBody reads the whole body (the signature covers its exact bytes),
// enforcing the gateway limit and then the route's own limit.
func (h *Handler) readBody(c *call) error {
	if c.r.ContentLength > GatewayMaxBody {
		return errEntityTooLarge
	}
	limit := c.route.maxBody
	if limit <= 0 {
		limit = defaultMaxBody
	}
	b, err := io.ReadAll(io.LimitReader(c.r.Body, GatewayMaxBody+1))
	if err != nil {
		return errMalformedJSON
	}
	if len(b) > GatewayMaxBody {
		return errEntityTooLarge
	}
	if int64(len(b)) > limit {
		return errBodyTooLong
	}
	c.body = b
	return nil
}

// writeError writes the Huawei error body for err and returns what to log.
func (h *Handler) writeError(c *call, err error) (int, string, error) {
	w, mapped := lookupError(err)
	if !mapped {
		h.log.ErrorContext(c.ctx, "internal error", "request_id", c.requestID, "err", err.Error())
	}
	var body any
	switch {
	case w.gateway:
		body = map[string]string{"error_code": w.code, "error_msg": w.msg, "request_id": c.requestID}
	case w.keystone:
		n, _ := strconv.Atoi(w.code)
		body = map[string]any{"error": map[string]any{"code": n, "message": w.msg, "title": http.StatusText(w.status)}}
	default:
		body = map[string]any{"error": map[string]string{"error_code": w.code, "error_msg": w.msg}}
	}
	writeJSON(c.w, w.status, body)
	return w.status, w.code, err
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = 500, []byte(`{"error":{"error_code":"KMS.0101","error_msg":"KMS error."}}`)
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// match finds the route for method and path. A path that exists with
// another method is errNoSuchMethod; an unknown path errNoSuchAPI.
func (h *Handler) match(method, path string) (*route, map[string]string, error) {
	segs := splitPath(path)
	pathKnown := false
	for _, rt := range h.routes {
		params, ok := rt.matchPath(segs)
		if !ok {
			continue
		}
		if rt.method != method {
			pathKnown = true
			continue
		}
		return rt, params, nil
	}
	if pathKnown {
		return nil, nil, errNoSuchMethod
	}
	return nil, nil, errNoSuchAPI
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// matchPath matches decoded path segments against the route's pattern.
// Literal segments are compared first, so the parameter map is built only
// for the route that matches.
func (rt *route) matchPath(segs []string) (map[string]string, bool) {
	if len(segs) != len(rt.segs) {
		return nil, false
	}
	for i, s := range rt.segs {
		if isParam(s) {
			if segs[i] == "" {
				return nil, false
			}
			if want, ok := rt.fixed[s[1:len(s)-1]]; ok && segs[i] != want {
				return nil, false
			}
			continue
		}
		if s != segs[i] {
			return nil, false
		}
	}
	params := make(map[string]string, 2)
	for i, s := range rt.segs {
		if isParam(s) {
			params[s[1:len(s)-1]] = segs[i]
		}
	}
	return params, true
}

func isParam(seg string) bool { return len(seg) > 1 && seg[0] == '{' && seg[len(seg)-1] == '}' }

// isNotFound reports whether err is a domain not-found.
func isNotFound(err error) bool { return errors.Is(err, kms.ErrKeyNotFound) }
