package api

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// Request line and header limits of Huawei's API gateway (reference
// errors.md §4: APIGW.0201 for a URI over 32 KB, for a header over 32 KB
// and for all headers over 128 KB).
const (
	MaxURI         = 32 << 10
	MaxHeader      = 32 << 10
	MaxHeaderBytes = 128 << 10
)

// checkFraming applies the limits the gateway applies before routing and
// closes the connection after a chunked request. Go's net/http removes
// the Content-Length of a request that also says Transfer-Encoding:
// chunked before a handler sees it, so such a request cannot be told
// apart from a plainly chunked one; RFC 9112 §6.3 lets a server process
// it if it closes the connection afterwards, which leaves no bytes to be
// read as a smuggled second request (docs/security.md).
func checkFraming(c *call) error {
	r := c.r
	if len(r.TransferEncoding) > 0 {
		c.w.Header().Set("Connection", "close")
	}
	if len(r.RequestURI) > MaxURI {
		return errURITooLong
	}
	total := len(r.Host)
	for name, vs := range r.Header {
		for _, v := range vs {
			n := len(name) + len(v) + 4 // "name: value\r\n"
			if n > MaxHeader {
				return errHeadersTooLarge
			}
			total += n
		}
	}
	if total > MaxHeaderBytes {
		return errHeadersTooLarge
	}
	return nil
}

// HeadersTooLargeResponse returns the whole HTTP response that answers a
// request whose header section net/http refused to read
// (http.Server.MaxHeaderBytes): the gateway's JSON error body with a
// fresh request id, instead of net/http's plain-text 431. The server
// writes it in place of net/http's answer and closes the connection.
func (h *Handler) HeadersTooLargeResponse() []byte {
	w, _ := lookupError(errHeadersTooLarge)
	id := h.ids.next()
	body, _ := json.Marshal(gatewayError{Code: w.code, Msg: w.msg, RequestID: id})
	out := []byte("HTTP/1.1 " + strconv.Itoa(w.status) + " " + http.StatusText(w.status) + "\r\n" +
		"Content-Type: application/json;charset=UTF-8\r\n" +
		"X-Request-Id: " + id + "\r\n" +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n" +
		"Connection: close\r\n\r\n")
	return append(out, body...)
}
