package api

import (
	"io"
)

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
