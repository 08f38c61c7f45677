package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// Error bodies (reference errors.md §1): the gateway's, the KMS service's
// and Keystone's. Fields are in the order encoding/json gave the maps
// they replace.
type (
	gatewayError struct {
		Code      string `json:"error_code"`
		Msg       string `json:"error_msg"`
		RequestID string `json:"request_id"`
	}
	// serviceError repeats the code and message at the top level: the
	// Go and Python SDKs find them nested too, the Node.js SDK only there
	// (it reads error.code or error_code; docs/compatibility.md).
	serviceError struct {
		Error struct {
			Code string `json:"error_code"`
			Msg  string `json:"error_msg"`
		} `json:"error"`
		Code string `json:"error_code"`
		Msg  string `json:"error_msg"`
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
	if c.route != nil && strings.HasPrefix(c.route.pattern, "/v3/") {
		w = keystoneForm(w)
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
		e.Code, e.Msg = w.code, w.msg
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
			status, b = 500, []byte(`{"error":{"error_code":"KMS.0101","error_msg":"KMS error."},"error_code":"KMS.0101","error_msg":"KMS error."}`)
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
