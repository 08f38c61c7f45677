package server

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
)

// netHTTP431 is what net/http writes, itself, to a connection whose
// request line and headers exceed http.Server.MaxHeaderBytes
// (net/http/server.go, conn.serve): a plain-text 431.
const netHTTP431 = "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n431 Request Header Fields Too Large"

// jsonErrorListener wraps a plain-HTTP listener so that net/http's own
// plain-text 431 is replaced by the API's JSON error body (issue 10:
// every answer of kmsd is JSON). Over TLS the connection net/http sees
// must stay a *tls.Conn, so TLS listeners are not wrapped.
type jsonErrorListener struct {
	net.Listener
	response func() []byte
}

func (l jsonErrorListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &jsonErrorConn{Conn: c, response: l.response}, nil
}

type jsonErrorConn struct {
	net.Conn
	response func() []byte
}

// Write replaces net/http's 431, which it writes in one call straight to
// the connection; every other write passes through.
func (c *jsonErrorConn) Write(p []byte) (int, error) {
	if len(p) == len(netHTTP431) && bytes.Equal(p, []byte(netHTTP431)) {
		if _, err := c.Conn.Write(c.response()); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// connTracker counts the server's connections by state, so that a
// shutdown that runs out of time can say what it cut off.
type connTracker struct {
	mu    sync.Mutex
	state map[net.Conn]http.ConnState
}

func newConnTracker() *connTracker { return &connTracker{state: map[net.Conn]http.ConnState{}} }

// track is an http.Server ConnState hook.
func (t *connTracker) track(c net.Conn, s http.ConnState) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch s {
	case http.StateClosed, http.StateHijacked:
		delete(t.state, c)
	default:
		t.state[c] = s
	}
}

// describe says how many connections are open and in which state: "2
// with a request in progress (reading its body or writing its answer), 1
// that has not sent a complete request header".
func (t *connTracker) describe() (int, string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var active, fresh, idle int
	for _, s := range t.state {
		switch s {
		case http.StateActive:
			active++
		case http.StateNew:
			fresh++
		case http.StateIdle:
			idle++
		}
	}
	var parts []string
	if active > 0 {
		parts = append(parts, fmt.Sprintf("%d with a request in progress (reading its body or writing its answer)", active))
	}
	if fresh > 0 {
		parts = append(parts, fmt.Sprintf("%d that had not sent a complete request header", fresh))
	}
	if idle > 0 {
		parts = append(parts, fmt.Sprintf("%d idle", idle))
	}
	return active + fresh + idle, strings.Join(parts, ", ")
}
