package api

import (
	"context"
	"net/http"
	"time"

	"github.com/kmsd/kmsd/internal/auth"
	"github.com/kmsd/kmsd/internal/kms"
)

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

	// h is the handler serving the call; start is when it arrived.
	h     *Handler
	start time.Time
	// authorized is set once IAM policies allowed the call.
	authorized bool
	// errCode is the Huawei error code of a refused call; audited is set
	// once its audit record was written (audit.go), auditErr when that
	// failed.
	errCode  string
	audited  bool
	auditErr error
}

// project returns the project the call addresses.
func (c *call) project() string { return c.principal.ProjectID }
