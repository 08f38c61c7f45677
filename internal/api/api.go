// Package api is the Huawei Cloud KMS wire protocol: one route table
// (routes.go) for every operation of the reference, request decoding with
// the reference's exact JSON types, authentication and authorization of
// each call, and the single mapping from error kinds to Huawei error bodies
// (errors.go). Handlers live in files named after their area.
package api

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
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
	index  routeIndex
	ids    *requestIDs
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
	h.index = indexRoutes(h.routes)
	h.ids = newRequestIDs()
	return h
}

// call is one request in flight.
type call struct {
	ctx   context.Context
	r     *http.Request
	w     http.ResponseWriter
	route *route
	// pathProject is the path's {project_id}; params holds every path
	// parameter, but only for routes with parameters besides it.
	pathProject string
	params      map[string]string
	body        []byte
	// decoded and decodeErr hold decodeObject(body), made once by
	// fields: a call that a grant authorizes reads its body to find the
	// key, and may run its handler twice (grants.go).
	decoded   fields
	decodeErr error
	principal auth.Principal
	requestID string
	// grant is set when a grant, not IAM, authorized the call; the
	// principal's ProjectID is then the project of the granted key.
	grant *kms.GrantAccess
	// headerValues back the response headers the handler sets on every
	// call (X-Request-Id, Content-Type, Content-Length), so that they
	// cost no allocation of their own.
	headerValues [3]string
	// wroteHeader is set once the response status is written.
	wroteHeader bool
}

// project returns the project the call addresses.
func (c *call) project() string { return c.principal.ProjectID }

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	c := &call{ctx: r.Context(), r: r, w: w, requestID: h.ids.next()}
	c.setHeader(headerRequestID, c.requestID)
	status, code, err := h.serveRecovering(c)
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
	rt, project, params, err := h.match(c.r.Method, c.r.URL)
	if err != nil {
		return h.writeError(c, err)
	}
	c.route, c.pathProject, c.params = rt, project, params
	// The service's log lines of key changes name the request.
	c.ctx = kms.WithRequestID(c.ctx, c.requestID)
	if err := h.readBody(c); err != nil {
		return h.writeError(c, err)
	}
	switch rt.auth {
	case authProject, authAccount:
		p, err := h.authn.Authenticate(c.ctx, c.r, c.body, c.pathProject, rt.auth == authProject)
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
	if int64(len(c.body)) > rt.bodyLimit() {
		// The service's own limit, after authentication: a caller without
		// credentials learns nothing from it.
		return h.writeError(c, errBodyTooLong)
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
		c.wroteHeader = true
		c.w.WriteHeader(status)
		return status, "", nil
	}
	c.writeJSON(status, resp)
	return status, "", nil
}

// readBody reads the whole body (the signature covers its exact bytes),
// enforcing the gateway limit; serve checks the route's own limit once
// the caller is authenticated.
func (h *Handler) readBody(c *call) error {
	if c.r.ContentLength > GatewayMaxBody {
		return errEntityTooLarge
	}
	b, err := readAll(c.r.Body, c.r.ContentLength, c.route.bodyLimit())
	if err != nil {
		return errMalformedJSON
	}
	if len(b) > GatewayMaxBody {
		return errEntityTooLarge
	}
	c.body = b
	return nil
}

// bodyLimit is the route's request body limit.
func (rt *route) bodyLimit() int64 {
	if rt.maxBody <= 0 {
		return defaultMaxBody
	}
	return rt.maxBody
}

// readAll is io.ReadAll of at most GatewayMaxBody+1 bytes. A body that
// declares a length within limit (every request of the data path) is read
// into one buffer of that size plus one byte, which shows whether the
// body goes on.
func readAll(body io.Reader, declared, limit int64) ([]byte, error) {
	if declared < 0 || declared > limit {
		return io.ReadAll(io.LimitReader(body, GatewayMaxBody+1))
	}
	b := make([]byte, declared+1)
	n := 0
	for {
		m, err := body.Read(b[n:])
		n += m
		if n == len(b) {
			// Longer than declared: net/http never delivers that, but
			// another reader might.
			rest, err := io.ReadAll(io.LimitReader(body, GatewayMaxBody+1-int64(n)))
			return append(b, rest...), err
		}
		if err == io.EOF {
			return b[:n], nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// Error bodies (reference errors.md §1): the gateway's, the KMS service's
// and Keystone's. Fields are in the order encoding/json gave the maps
// they replace.
type (
	gatewayError struct {
		Code      string `json:"error_code"`
		Msg       string `json:"error_msg"`
		RequestID string `json:"request_id"`
	}
	serviceError struct {
		Error struct {
			Code string `json:"error_code"`
			Msg  string `json:"error_msg"`
		} `json:"error"`
	}
	keystoneError struct {
		Error struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
			Title   string `json:"title"`
		} `json:"error"`
	}
)

// writeError writes the Huawei error body for err and returns what to log.
func (h *Handler) writeError(c *call, err error) (int, string, error) {
	w, mapped := lookupError(err)
	if !mapped {
		h.log.ErrorContext(c.ctx, "internal error", "request_id", c.requestID, "err", err.Error())
	}
	var body any
	switch {
	case w.gateway:
		body = gatewayError{Code: w.code, Msg: w.msg, RequestID: c.requestID}
	case w.keystone:
		var e keystoneError
		e.Error.Code, _ = strconv.Atoi(w.code)
		e.Error.Message, e.Error.Title = w.msg, http.StatusText(w.status)
		body = e
	default:
		var e serviceError
		e.Error.Code, e.Error.Msg = w.code, w.msg
		body = e
	}
	c.writeJSON(w.status, body)
	return w.status, w.code, err
}

// Response headers set on every call.
const (
	headerRequestID     = iota // X-Request-Id
	headerContentType          // Content-Type
	headerContentLength        // Content-Length
)

var headerNames = [...]string{headerRequestID: "X-Request-Id", headerContentType: "Content-Type", headerContentLength: "Content-Length"}

// setHeader sets one of the headers of every call, as Header().Set does.
func (c *call) setHeader(i int, value string) {
	c.headerValues[i] = value
	c.w.Header()[headerNames[i]] = c.headerValues[i : i+1 : i+1]
}

// autoContentLength is the largest body for which net/http sets
// Content-Length itself: it buffers that much (its
// bufferBeforeChunkingSize) and, when the handler returns with the body
// still buffered, sends its exact length. TestContentLength holds it to
// that.
const autoContentLength = 2048

// writeJSON writes v as the JSON body: a rawJSON as it is (the hot
// responses, encode.go), anything else through encoding/json. Every
// response carries a Content-Length; for a small body net/http adds it,
// which costs less than a header of the handler's.
func (c *call) writeJSON(status int, v any) {
	b, ok := v.(rawJSON)
	if !ok {
		var err error
		if b, err = json.Marshal(v); err != nil {
			status, b = 500, []byte(`{"error":{"error_code":"KMS.0101","error_msg":"KMS error."}}`)
		}
	}
	c.setHeader(headerContentType, "application/json;charset=UTF-8")
	if len(b) > autoContentLength {
		c.setHeader(headerContentLength, strconv.Itoa(len(b)))
	}
	c.wroteHeader = true
	c.w.WriteHeader(status)
	_, _ = c.w.Write(b)
}

// requestIDs makes request ids: 32 hex digits that AES-128, under a key
// drawn once per Handler, makes of a counter. They are unique within the
// process (AES is a permutation and the counter never repeats), collide
// across processes with negligible probability (the keys are random), and
// reveal neither the order nor the number of requests; an id costs one
// block encryption, not a system call for fresh randomness.
type requestIDs struct {
	mu      sync.Mutex
	block   cipher.Block
	n       uint64
	in, out [aes.BlockSize]byte
}

func newRequestIDs() *requestIDs {
	key := make([]byte, 16)
	_, _ = rand.Read(key) // Never fails; see crypto/rand.Read.
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err) // a 16-byte key is always valid
	}
	return &requestIDs{block: block}
}

func (g *requestIDs) next() string {
	var id [2 * aes.BlockSize]byte
	g.mu.Lock()
	g.n++
	binary.BigEndian.PutUint64(g.in[8:], g.n)
	g.block.Encrypt(g.out[:], g.in[:])
	hex.Encode(id[:], g.out[:])
	g.mu.Unlock()
	return string(id[:])
}

// maxSegments is the most path segments a route has; longer paths match
// no route.
const maxSegments = 8

// routeIndex narrows the routes a path can match to a few, by its number
// of segments and its last segment.
type routeIndex struct {
	// byLast[n] maps a literal last segment of n-segment routes to the
	// routes that may match an n-segment path ending with it: those, and
	// the ones whose pattern ends with a parameter, in table order;
	// paramLast[n] are the latter (the root route has no segment at all
	// and is there too). A route whose last parameter takes the rest of
	// the path (route.rest) is a candidate for every length from its own
	// on, and is in rest too, for paths of more than maxSegments segments.
	byLast    [maxSegments + 1]map[string][]*route
	paramLast [maxSegments + 1][]*route
	rest      []*route
}

func indexRoutes(routes []*route) routeIndex {
	var ix routeIndex
	for _, rt := range routes {
		n := len(rt.segs)
		if n > maxSegments {
			panic("api: route " + rt.op + " has more than maxSegments segments")
		}
		if rt.rest {
			if n == 0 || !isParam(rt.segs[n-1]) {
				panic("api: route " + rt.op + " takes the rest of the path but does not end with a parameter")
			}
			ix.rest = append(ix.rest, rt)
		}
		if n == 0 || isParam(rt.segs[n-1]) {
			last := n
			if rt.rest {
				last = maxSegments
			}
			for m := n; m <= last; m++ {
				ix.paramLast[m] = append(ix.paramLast[m], rt)
				for lit, rs := range ix.byLast[m] {
					ix.byLast[m][lit] = append(rs, rt)
				}
			}
			continue
		}
		if ix.byLast[n] == nil {
			ix.byLast[n] = map[string][]*route{}
		}
		last := rt.segs[n-1]
		if _, ok := ix.byLast[n][last]; !ok {
			ix.byLast[n][last] = append([]*route(nil), ix.paramLast[n]...)
		}
		ix.byLast[n][last] = append(ix.byLast[n][last], rt)
	}
	return ix
}

// candidates returns the routes that may match a path of segments segs,
// in table order.
func (ix *routeIndex) candidates(segs []string) []*route {
	n := len(segs)
	if n > 0 {
		if rs, ok := ix.byLast[n][segs[n-1]]; ok {
			return rs
		}
	}
	return ix.paramLast[n]
}

// routePath returns the path of u to route on: its escaped form when
// that differs from the default escaping of u.Path (a client sent %2F, or
// escaped what it need not), else u.Path. Routing splits the escaped form
// at its slashes and unescapes each segment, so an escaped "/" stays in
// its path parameter; u.Path, which holds no escaped "/", is split as it
// is, without allocating.
func routePath(u *url.URL) (path string, escaped bool) {
	if u.RawPath != "" && u.EscapedPath() == u.RawPath {
		return u.RawPath, true
	}
	return u.Path, false
}

// match finds the route for method and u's path and returns it with the
// path's project id and parameters (see call). A path that exists with
// another method is errNoSuchMethod; an unknown path errNoSuchAPI.
func (h *Handler) match(method string, u *url.URL) (*route, string, map[string]string, error) {
	path, escaped := routePath(u)
	var buf [maxSegments]string
	segs, ok := splitPathInto(buf[:0], path)
	if escaped {
		for i, s := range segs {
			if strings.IndexByte(s, '%') < 0 {
				continue
			}
			var err error
			if segs[i], err = url.PathUnescape(s); err != nil {
				return nil, "", nil, errInvalidURL
			}
		}
	}
	routes := h.index.rest
	if ok {
		routes = h.index.candidates(segs)
	}
	pathKnown := false
	for _, rt := range routes {
		project, params, ok := rt.matchPath(segs, path, escaped)
		if !ok {
			continue
		}
		if rt.method != method {
			pathKnown = true
			continue
		}
		return rt, project, params, nil
	}
	if pathKnown {
		return nil, "", nil, errNoSuchMethod
	}
	return nil, "", nil, errNoSuchAPI
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// splitPathInto appends the segments of p, as splitPath returns them, to
// dst; it reports false, having appended some, if there are more than
// cap(dst) - len(dst).
func splitPathInto(dst []string, p string) ([]string, bool) {
	p = strings.Trim(p, "/")
	if p == "" {
		return dst, true
	}
	for len(dst) < cap(dst) {
		seg, rest, more := strings.Cut(p, "/")
		dst = append(dst, seg)
		if !more {
			return dst, true
		}
		p = rest
	}
	return dst, false
}

// matchPath matches the decoded segments segs of path (escaped when
// escaped is true) against the route's pattern and returns the
// {project_id} segment and, for a route with other parameters, the map of
// every parameter. Literal segments are compared first, so the map is
// built only for the route that matches. segs may hold only the first
// segments of a longer path, which only a route.rest route matches.
func (rt *route) matchPath(segs []string, path string, escaped bool) (project string, params map[string]string, ok bool) {
	n := len(rt.segs)
	if len(segs) != n && !(rt.rest && len(segs) > n) {
		return "", nil, false
	}
	others := false
	for i, s := range rt.segs {
		if rt.rest && i == n-1 {
			others = true
			break
		}
		if isParam(s) {
			if segs[i] == "" {
				return "", nil, false
			}
			name := s[1 : len(s)-1]
			if want, ok := rt.fixed[name]; ok && segs[i] != want {
				return "", nil, false
			}
			if name == "project_id" {
				project = segs[i]
			} else {
				others = true
			}
			continue
		}
		if s != segs[i] {
			return "", nil, false
		}
	}
	var rest string
	if rt.rest {
		if rest, ok = restOfPath(path, n-1, escaped); !ok || rest == "" {
			return "", nil, false
		}
	}
	if others {
		params = make(map[string]string, 2)
		for i, s := range rt.segs {
			if isParam(s) {
				params[s[1:len(s)-1]] = segs[i]
			}
		}
		if rt.rest {
			params[rt.segs[n-1][1:len(rt.segs[n-1])-1]] = rest
		}
	}
	return project, params, true
}

// restOfPath returns what follows the first skip segments of path (as
// splitPath counts them) and their slashes, trailing slashes included,
// unescaped when escaped is true.
func restOfPath(path string, skip int, escaped bool) (string, bool) {
	i := 0
	for i < len(path) && path[i] == '/' {
		i++
	}
	for range skip {
		j := strings.IndexByte(path[i:], '/')
		if j < 0 {
			return "", false
		}
		i += j + 1
	}
	rest := path[i:]
	if !escaped {
		return rest, true
	}
	rest, err := url.PathUnescape(rest)
	return rest, err == nil
}

func isParam(seg string) bool { return len(seg) > 1 && seg[0] == '{' && seg[len(seg)-1] == '}' }

// isNotFound reports whether err is a domain not-found.
func isNotFound(err error) bool { return errors.Is(err, kms.ErrKeyNotFound) }
