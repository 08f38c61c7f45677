package api

import (
	"net"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/kmsd/kmsd/internal/audit"
)

// Every request that reaches routing leaves one audit record (docs/audit.md),
// written before its answer: the response goes out only once the record
// is durable, or, when the trail cannot be written in mode required, is
// replaced with 503 KMS.0104. The record holds identifiers and outcomes,
// never a request or response body.

// auditUnavailableBody is the answer of a request whose record could not
// be written (reference errors.md: KMS.0104, 503).
var auditUnavailableBody = rawJSON(`{"error":{"error_code":"KMS.0104","error_msg":"A system exception occurred. Contact technical support."}}`)

// auditRefuses reports whether the call must be refused before it runs:
// the trail is required and not writable, so nothing the call does could
// be recorded.
func (h *Handler) auditRefuses() bool {
	t := h.cfg.Audit
	return t != nil && t.Mode() == audit.ModeRequired && !t.Writable()
}

// commitAudit writes the call's record for an answer of status; it
// reports false when the answer must not go out (mode required and the
// record could not be made durable).
func (c *call) commitAudit(status int) bool {
	if c.h == nil || c.h.cfg.Audit == nil || c.audited {
		return true
	}
	t := c.h.cfg.Audit
	c.audited = true
	if t.Mode() == audit.ModeOff {
		return true
	}
	r := c.auditRecord(t.Node(), status)
	if err := t.Append(c.ctx, r); err != nil {
		c.auditErr = err
		return t.Mode() != audit.ModeRequired
	}
	return true
}

// auditRecord builds the call's record.
func (c *call) auditRecord(node string, status int) *audit.Record {
	r := &audit.Record{
		TraceType:     "ApiCall",
		ServiceType:   "KMS",
		Time:          c.start.UnixMilli(),
		TimeNanos:     c.start.UnixNano(),
		LatencyMicros: time.Since(c.start).Microseconds(),
		RequestID:     c.requestID,
		Node:          node,
		SourceIP:      sourceIP(c.r.RemoteAddr),
		Method:        c.r.Method,
		Path:          c.r.URL.Path,
		ErrorCode:     c.errCode,
	}
	r.SetStatus(status)
	if strings.HasPrefix(c.r.URL.Path, "/v3/") {
		r.ServiceType = "IAM"
	}
	if c.route != nil {
		r.TraceName = c.route.op
		r.ResourceType = resourceType(c.route.op)
		r.Action = c.route.action
	}
	if p := c.principal; p.UserID != "" {
		r.User = &audit.User{ID: p.UserID, Name: p.UserName, Domain: audit.Domain{ID: p.AccountID, Name: p.AccountName}, AuthMethod: p.Method}
		if p.Method == "aksk" {
			r.User.AccessKeyID = accessKeyID(c.r.Header.Get("Authorization"))
		}
		r.ProjectID = p.ProjectID
	}
	// The authorization decision (kms.Access), complete even for a
	// refused call: the project it is served in, the grants that
	// authorized it and the keys it names.
	if a := &c.access; a.UserID != "" {
		r.ProjectID = a.ProjectID
		switch {
		case c.authorized && a.ByGrant():
			r.AuthorizedBy = "grant"
			r.GrantIDs = a.Grant.GrantIDs
		case c.authorized:
			r.AuthorizedBy = "iam"
		}
		r.KeyIDs = a.KeyIDs
	}
	if len(r.KeyIDs) == 0 {
		// Routes that no grant can authorize name their key in the path
		// or in key_id, which their handler decoded.
		switch id := c.params["key_id"]; {
		case id != "":
			r.KeyIDs = []string{id}
		case c.createdKeyID != "":
			r.KeyIDs = []string{c.createdKeyID}
		default:
			if id := requestString(c.req, "key_id"); id != "" {
				r.KeyIDs = []string{id}
			}
		}
	}
	if len(r.KeyIDs) > 0 {
		r.ResourceID = r.KeyIDs[0]
	}
	r.ResourceName = c.auditAlias()
	return r
}

// auditAlias returns the key alias the request names.
func (c *call) auditAlias() string {
	for _, m := range [...]string{"key_alias", "alias"} {
		if s := requestString(c.req, m); s != "" {
			return s
		}
	}
	return ""
}

// requestFields caches, by request type, the index of each top-level
// string member by its JSON name.
var requestFields sync.Map // reflect.Type → map[string]int

// requestString returns the string member named name of a decoded
// request (a pointer to its struct, request.go), "" when it has none.
func requestString(req any, name string) string {
	v := reflect.ValueOf(req)
	if req == nil || v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return ""
	}
	v = v.Elem()
	m, ok := requestFields.Load(v.Type())
	if !ok {
		idx := map[string]int{}
		for i := range v.NumField() {
			f := v.Type().Field(i)
			tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if f.Type.Kind() == reflect.String && tag != "" && f.IsExported() {
				idx[tag] = i
			}
		}
		m, _ = requestFields.LoadOrStore(v.Type(), idx)
	}
	i, ok := m.(map[string]int)[name]
	if !ok {
		return ""
	}
	return v.Field(i).String()
}

// resourceType is the CTS resource type of an operation.
func resourceType(op string) string {
	switch {
	case strings.Contains(op, "Grant"):
		return "grant"
	case strings.Contains(op, "Alias"):
		return "alias"
	case strings.Contains(op, "Tag"):
		return "tag"
	case strings.Contains(op, "Quota"):
		return "quota"
	case strings.Contains(op, "Token"):
		return "token"
	case strings.Contains(op, "Project"):
		return "project"
	case strings.Contains(op, "Keystore"):
		return "keystore"
	case strings.Contains(op, "Version"):
		return "version"
	}
	return "cmk"
}

// sourceIP is the host of a RemoteAddr.
func sourceIP(remote string) string {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		return remote
	}
	return host
}

// accessKeyID returns the Access= member of a signed request's
// Authorization header (an identifier; the header's signature is never
// recorded). It is "" when there is none or it is not a plausible AK.
func accessKeyID(authz string) string {
	_, rest, ok := strings.Cut(authz, "Access=")
	if !ok {
		return ""
	}
	ak, _, _ := strings.Cut(rest, ",")
	ak = strings.TrimSpace(ak)
	if len(ak) == 0 || len(ak) > 128 {
		return ""
	}
	for i := 0; i < len(ak); i++ {
		if c := ak[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return ""
		}
	}
	return ak
}
