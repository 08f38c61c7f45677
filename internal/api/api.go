// Package api is the Huawei Cloud KMS wire protocol: one route table
// (routes.go) for every operation of the reference, request decoding with
// the reference's exact JSON types, authentication and authorization of
// each call, and the single mapping from error kinds to Huawei error bodies
// (errors.go). Handlers live in files named after their area.
package api

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/kmsd/kmsd/internal/audit"
	"github.com/kmsd/kmsd/internal/auth"
	"github.com/kmsd/kmsd/internal/iam"
	"github.com/kmsd/kmsd/internal/kms"
	"github.com/kmsd/kmsd/internal/logging"
)

// GatewayMaxBody is the API gateway's request body limit (reference
// errors.md §4: 12 MB, APIGW.0201 with 413).
const GatewayMaxBody = 12 << 20

// Config are the API layer's settings.
type Config struct {
	// TokenTTL is the lifetime of tokens issued by POST /v3/auth/tokens.
	TokenTTL time.Duration
	// BodyBudget bounds the bytes request bodies in flight hold in total
	// (DefaultBodyBudget if 0); a call finding it spent waits at most
	// BodyWait (DefaultBodyWait if 0), then is refused 429.
	BodyBudget int64
	BodyWait   time.Duration
	// ListAliases is the shape of list-aliases answers: ListAliasesAuto
	// (the default), ListAliasesObject or ListAliasesArray (client.go).
	ListAliases string
	// Audit receives one record per request (none when nil).
	Audit *audit.Log
	// Observer measures every request (none when nil).
	Observer Observer
	// Throttle configures the rate limits (throttle.go).
	Throttle ThrottleConfig
}

// Handler serves the KMS and IAM endpoints.
type Handler struct {
	kms    *kms.Service
	iam    *iam.Service
	authn  *auth.Authenticator
	tokens *auth.TokenSigner
	log    *slog.Logger
	cfg    Config
	issuer *iam.TokenIssuer
	routes []*route
	index  routeIndex
	ids    *requestIDs
	bodies *budget
	limits *limits
	// Now is the handler's clock.
	Now func() time.Time
}

// New returns a Handler.
func New(k *kms.Service, i *iam.Service, authn *auth.Authenticator, tokens *auth.TokenSigner, log *slog.Logger, cfg Config) *Handler {
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = 24 * time.Hour
	}
	h := &Handler{kms: k, iam: i, authn: authn, tokens: tokens, log: log, cfg: cfg, Now: time.Now}
	h.issuer = &iam.TokenIssuer{IAM: i, Signer: tokens, TTL: cfg.TokenTTL, Now: func() time.Time { return h.Now() }}
	h.routes = routeTable()
	h.index = indexRoutes(h.routes)
	h.ids = newRequestIDs()
	h.bodies = newBudget(cfg.BodyBudget, cfg.BodyWait)
	h.limits = newLimits(cfg.Throttle)
	return h
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := h.ids.next()
	// Lines logged below with the call's context carry its request id
	// (internal/logging).
	c := &call{ctx: logging.WithRequestID(r.Context(), id), r: r, w: w, requestID: id, h: h, start: start}
	c.setHeader(headerRequestID, c.requestID)
	status, code, err := h.serveRecovering(c)
	if c.auditErr != nil && h.cfg.Audit.Mode() == audit.ModeRequired {
		// The answer was replaced (audit.go).
		status, code, err = http.StatusServiceUnavailable, "KMS.0104", c.auditErr
	}
	if o := h.cfg.Observer; o != nil {
		op := ""
		if c.route != nil {
			op = c.route.op
		}
		o.Request(op, status, code, time.Since(start))
		if status == http.StatusUnauthorized || status == http.StatusForbidden {
			if reason := authFailureReason(c, err); reason != "" {
				o.AuthFailure(reason)
			}
		}
	}
	// Successful requests log at debug level (an access log costs a write
	// per request on the hot path); refused ones at info, failures at error.
	// A 501 (an operation kmsd does not build yet) is the client's call,
	// not a failure of the server: info.
	level := slog.LevelDebug
	switch {
	case status >= 500 && status != http.StatusNotImplemented:
		level = slog.LevelError
	case status >= 400:
		level = slog.LevelInfo
	}
	// The line is encoded by hand, as slog would (logging.Line).
	l := logging.Begin(h.log, c.ctx, level, "request")
	if l == nil {
		return
	}
	l.String("request_id", c.requestID)
	l.String("method", r.Method)
	l.String("path", r.URL.Path)
	l.Int("status", status)
	l.Duration("duration", time.Since(start))
	if c.route != nil {
		l.String("operation", c.route.op)
	}
	if c.principal.UserID != "" {
		l.String("user_id", c.principal.UserID)
		l.String("project_id", c.project())
	}
	if c.access.ByGrant() {
		// A grant, not IAM, let the user in; project_id is the key's.
		l.Bool("by_grant", true)
	}
	if code != "" {
		l.String("error_code", code)
	}
	if err != nil {
		// The private cause: never contains secrets, as errors carry ids
		// and reasons only.
		l.String("cause", err.Error())
	}
	l.End()
}

// serveRecovering is serve, answering a panic like any unmapped error —
// a logged 500 KMS.0101 that carries the request id — rather than with a
// connection closed without an answer, which the SDK reports as a
// transport error.
func (h *Handler) serveRecovering(c *call) (status int, code string, err error) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if v == http.ErrAbortHandler {
			panic(v)
		}
		err = fmt.Errorf("panic: %v", v)
		h.log.ErrorContext(c.ctx, "panic", "request_id", c.requestID, "err", err.Error(), "stack", string(debug.Stack()))
		if c.wroteHeader {
			status, code = http.StatusInternalServerError, internalError.code
			return
		}
		status, code, err = h.writeError(c, err)
	}()
	return h.serve(c)
}

// serve runs one call and writes its response; it returns what to log.
func (h *Handler) serve(c *call) (int, string, error) {
	if err := checkFraming(c); err != nil {
		return h.writeError(c, err)
	}
	if h.auditRefuses() {
		return h.writeError(c, errAuditUnavailable)
	}
	rt, project, params, err := h.match(c.r.Method, c.r.URL)
	if err != nil {
		return h.writeError(c, err)
	}
	c.route, c.pathProject, c.params = rt, project, params
	// The service's log lines of key changes name the request.
	c.ctx = kms.WithRequestID(c.ctx, c.requestID)
	if c.r.ContentLength > GatewayMaxBody {
		return h.writeError(c, errEntityTooLarge)
	}
	if rt.auth != authNone {
		// What the headers alone can show is checked before the body is
		// read, so that a caller who cannot authenticate costs no body
		// buffer (docs/security.md).
		// Authentication below reuses what the precheck parsed and looked
		// up; the date was checked before the body was read, which the
		// server's read timeout bounds.
		err := h.authn.PrecheckSigned(c.ctx, c.r, &c.pre)
		defer c.pre.Release()
		if err != nil {
			return h.writeError(c, err)
		}
	}
	err = h.readBody(c)
	defer h.bodies.release(c.held)
	if err != nil {
		return h.writeError(c, err)
	}
	switch rt.auth {
	case authProject, authAccount:
		p, err := h.authn.AuthenticatePrechecked(c.ctx, &c.pre, c.r, c.body, c.pathProject, rt.auth == authProject)
		if err != nil {
			return h.writeError(c, err)
		}
		c.principal = p
		// The request is decoded before the decision, which reads the
		// keys it names; a decoding error is answered after it.
		c.decodeRequest()
		if err := h.authorize(c); err != nil {
			return h.writeError(c, err)
		}
		c.authorized = true
		if err := h.throttleCall(c); err != nil {
			return h.writeError(c, err)
		}
	}
	if !rt.implemented() {
		return h.writeError(c, errNotImplemented)
	}
	c.decodeRequest()
	if c.reqErr != nil {
		return h.writeError(c, c.reqErr)
	}
	resp, err := rt.handler.run(h, c, c.req)
	if err != nil {
		return h.writeError(c, err)
	}
	status := rt.status
	if status == 0 {
		status = http.StatusOK
	}
	if status == http.StatusNoContent {
		c.writeStatus(status)
		return status, "", nil
	}
	if resp == nil {
		// Every other success carries a JSON body: Terraform's provider
		// decodes one from every answer but 204 (issue 9).
		resp = emptyObject
	}
	c.writeJSON(status, resp)
	return status, "", nil
}
