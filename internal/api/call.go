package api

import (
	"context"
	"net/http"
	"sync"
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
	// held is the bytes of the body budget the call holds (readBody).
	held int64
	// pre is what the authentication precheck established (auth).
	pre auth.Prechecked
	// req is the decoded request, a pointer to the route's request type
	// (request.go), or reqErr why it does not decode; decoded tells that
	// decodeRequest ran.
	req     any
	reqErr  error
	decoded bool
	// principal is the authenticated caller; its ProjectID is the project
	// of the credential, which a grant may differ from (access).
	principal auth.Principal
	// access is the authorization decision (kms.Authorize), made once
	// before the handler runs: the principal, the project the request is
	// served in, the grant that authorized it if any, the IAM action and
	// the key ids the request names. The audit trail records it.
	access kms.Access
	// keyBuf backs the key uses the route's keys function returns.
	keyBuf    [2]kms.KeyUse
	requestID string
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
	// createdKeyID is the key a create-key call made.
	createdKeyID string
}

// project returns the project the call is served in: the caller's, or
// the key owner's when a grant authorized the call.
func (c *call) project() string { return c.access.ProjectID }

// caller is the user on whose behalf the call runs.
func (c *call) caller() kms.Caller {
	return kms.Caller{UserID: c.principal.UserID, AccountID: c.principal.AccountID}
}

// decodeRequest decodes the body by the route's request plan, once: the
// body of an operation that is built and has a request type (readBody has
// already refused a body over the route's limit).
func (c *call) decodeRequest() {
	rt := c.route
	if c.decoded || !rt.implemented() || rt.handler.plan == nil {
		return
	}
	c.decoded = true
	m := fieldMaps.Get().(fields)
	defer func() {
		// The plan copies what it reads out of the map (the values are
		// slices of the body), so the map goes back to the pool; one that
		// a body of many members grew does not.
		if len(m) <= 32 {
			clear(m)
			fieldMaps.Put(m)
		}
	}()
	f, err := decodeObjectInto(c.body, m)
	if err != nil {
		c.reqErr = err
		return
	}
	c.req, c.reqErr = rt.handler.plan.decode(f)
}

// fieldMaps pools the maps of decoded request members.
var fieldMaps = sync.Pool{New: func() any { return make(fields, 8) }}
