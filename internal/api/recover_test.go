package api

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestHandlerPanic checks that a handler's panic is answered like any
// unmapped error — a 500 KMS.0101 with an X-Request-Id, logged with the
// request id — and that a panic after the answer is written changes
// nothing the client sees.
func TestHandlerPanic(t *testing.T) {
	var logs bytes.Buffer
	h := &Handler{log: slog.New(slog.NewJSONHandler(&logs, nil)), ids: newRequestIDs()}
	h.routes = []*route{
		{op: "Panics", method: "GET", pattern: "/panics", auth: authNone, handler: noBody(func(*Handler, *call) (any, error) { panic("boom") })},
		{op: "PanicsLate", method: "GET", pattern: "/late", auth: authNone, handler: noBody(func(_ *Handler, c *call) (any, error) {
			c.writeJSON(200, rawJSON(`{}`))
			panic("late")
		})},
	}
	for _, rt := range h.routes {
		rt.segs = splitPath(rt.pattern)
	}
	h.index = indexRoutes(h.routes)
	srv := httptest.NewServer(h)
	defer srv.Close()

	get := func(path string) (*http.Response, []byte) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	resp, b := get("/panics")
	var v serviceError
	if err := json.Unmarshal(b, &v); err != nil || resp.StatusCode != 500 || v.Error.Code != "KMS.0101" {
		t.Errorf("got %d %s, want 500 KMS.0101", resp.StatusCode, b)
	}
	rid := resp.Header.Get("X-Request-Id")
	if rid == "" || !strings.Contains(logs.String(), rid) || !strings.Contains(logs.String(), "boom") {
		t.Errorf("request id %q; log %s: want the panic logged with the request id", rid, logs.String())
	}
	if strings.Contains(string(b), "boom") {
		t.Errorf("the answer %s shows the panic", b)
	}
	resp, b = get("/late")
	if resp.StatusCode != 200 || string(b) != `{}` {
		t.Errorf("got %d %s, want the answer written before the panic", resp.StatusCode, b)
	}
}

// TestNotImplementedLogLevel checks that a 501 (an operation kmsd does not
// build yet) is logged at INFO, as any refused request, not at ERROR.
func TestNotImplementedLogLevel(t *testing.T) {
	var logs bytes.Buffer
	h := &Handler{log: slog.New(slog.NewJSONHandler(&logs, nil)), ids: newRequestIDs()}
	h.routes = []*route{{op: "Unbuilt", method: "GET", pattern: "/unbuilt", auth: authNone}}
	for _, rt := range h.routes {
		rt.segs = splitPath(rt.pattern)
	}
	h.index = indexRoutes(h.routes)
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/unbuilt")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 501 {
		t.Fatalf("got %d, want 501", resp.StatusCode)
	}
	if !strings.Contains(logs.String(), `"level":"INFO"`) || strings.Contains(logs.String(), `"level":"ERROR"`) {
		t.Errorf("log %s: want the 501 at INFO", logs.String())
	}
}
