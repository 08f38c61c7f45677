package server_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kmsd/kmsd/internal/config"
	"github.com/kmsd/kmsd/internal/server"
)

// devServer starts a dev server with cfg changed by configure and returns
// its address and its stop function.
func devServer(t *testing.T, configure func(*config.Config)) (string, func() error) {
	t.Helper()
	cfg := server.DevConfig(t.TempDir(), "127.0.0.1:0", 10)
	if configure != nil {
		configure(&cfg)
	}
	if _, err := server.Init(t.Context(), cfg, nil); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(t.Context(), cfg, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	addr, stop := startServe(t, srv)
	return addr, stop
}

// rawExchange writes req to a new connection to addr and reads every
// response the server sends until it closes the connection.
func rawExchange(t *testing.T, addr, req string) []*http.Response {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	var out []*http.Response
	for {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			break
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body = io.NopCloser(strings.NewReader(string(b)))
		out = append(out, resp)
	}
	return out
}

// wantGatewayJSON checks a response is status with the gateway's JSON
// error body carrying code and the X-Request-Id.
func wantGatewayJSON(t *testing.T, resp *http.Response, status int, code string) {
	t.Helper()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("got %d %s, want %d", resp.StatusCode, b, status)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want JSON", ct)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("body %q is not the gateway's JSON: %v", b, err)
	}
	if m["error_code"] != code || m["error_msg"] == "" || m["request_id"] == "" || m["request_id"] != resp.Header.Get("X-Request-Id") {
		t.Errorf("body %s, X-Request-Id %q, want %s with the request id", b, resp.Header.Get("X-Request-Id"), code)
	}
}

// TestSmuggling sends a request with both Transfer-Encoding: chunked and
// Content-Length, followed by the bytes of a second request, on one raw
// connection (issue 10). The first is answered and the connection closed,
// so the trailing bytes are never read as a request (RFC 9112 §6.3).
func TestSmuggling(t *testing.T) {
	addr, _ := devServer(t, nil)
	smuggled := "GET /v1.0/0123456789abcdef0123456789abcdef/kms/user-instances HTTP/1.1\r\nHost: x\r\n\r\n"
	req := "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n" +
		"2\r\n{}\r\n0\r\n\r\n" + smuggled
	resps := rawExchange(t, addr, req)
	if len(resps) != 1 {
		t.Fatalf("got %d responses on the connection, want 1 and the connection closed", len(resps))
	}
	if !resps[0].Close && resps[0].Header.Get("Connection") != "close" {
		t.Errorf("the answer does not close the connection: %v", resps[0].Header)
	}
	// A request framed by Content-Length alone keeps the connection.
	resps = rawExchange(t, addr, "GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	if len(resps) != 2 {
		t.Errorf("got %d responses to two pipelined requests, want 2", len(resps))
	}
}

// TestRequestLineAndHeaderLimits checks the gateway's limits (reference
// errors.md §4): a URI over 32 KB is 414, a header over 32 KB or headers
// over 128 KiB in all are 431 — each with the JSON body, also when
// net/http itself refuses to read the header section.
func TestRequestLineAndHeaderLimits(t *testing.T) {
	addr, _ := devServer(t, nil)
	long := func(n int) string { return strings.Repeat("a", n) }
	for _, tc := range []struct {
		name   string
		req    string
		status int
	}{
		{"URI of 33 KB", "GET /" + long(33<<10) + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 414},
		{"query making the URI 40 KB", "GET /?q=" + long(40<<10) + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 414},
		{"one header of 33 KB", "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: " + long(33<<10) + "\r\n\r\n", 431},
		{"five headers of 26 KB", "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + strings.Repeat("X-Big: "+long(26<<10)+"\r\n", 5) + "\r\n", 431},
		{"headers of 200 KB, beyond net/http's limit", "GET / HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("X-Big: "+long(20<<10)+"\r\n", 10) + "\r\n", 431},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resps := rawExchange(t, addr, tc.req)
			if len(resps) != 1 {
				t.Fatalf("got %d responses, want 1", len(resps))
			}
			wantGatewayJSON(t, resps[0], tc.status, "APIGW.0201")
		})
	}
	// Just within: a 31 KB URI is routed (404 for an unknown path).
	resps := rawExchange(t, addr, "GET /"+long(31<<10)+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	if len(resps) != 1 || resps[0].StatusCode != 404 {
		t.Errorf("31 KB URI: got %v, want one 404", resps)
	}
}

// TestShutdownReport stops a server while two slow clients hold
// connections — one with half a request header (slowloris), one with a
// header and half its body — and checks that the stop waits
// shutdown_timeout, then says what it cut off (issue 10).
func TestShutdownReport(t *testing.T) {
	addr, stop := devServer(t, func(c *config.Config) { c.ShutdownTimeout = config.Duration{Duration: 300 * time.Millisecond} })
	for _, partial := range []string{
		"POST /v1.0/x/kms/describe-key HTTP/1.1\r\nHost: x\r\nContent-Le",
		"POST /v1.0/x/kms/describe-key HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{",
	} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := io.WriteString(c, partial); err != nil {
			t.Fatal(err)
		}
	}
	// The server accepts connections in order: once a third, later one
	// is answered, it has accepted the two slow ones.
	if resps := rawExchange(t, addr, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); len(resps) != 1 {
		t.Fatalf("got %d responses, want 1", len(resps))
	}
	err := stop()
	if err == nil {
		t.Fatal("Serve returned nil, want a report of the connections it closed")
	}
	msg := err.Error()
	for _, want := range []string{"waited 300ms", "shutdown_timeout", "closed 2 connections"} {
		if !strings.Contains(msg, want) {
			t.Errorf("got %q, want it to say %q", msg, want)
		}
	}
	if !strings.Contains(msg, "request in progress") && !strings.Contains(msg, "complete request header") {
		t.Errorf("got %q, want the state of the connections", msg)
	}
}

// TestBootstrapRelativeSecrets checks that a bootstrap file's relative
// sk_file and password_file resolve against the configuration file's
// directory, as docs/configuration.md says of every relative path, not
// against the working directory (issue 10).
func TestBootstrapRelativeSecrets(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("kmsd.yaml", "data_dir: data\nbootstrap: identities.yaml\n")
	write("identities.yaml", `accounts:
  - name: acme
    projects: [{name: cn-north-4}]
    users:
      - name: admin
        password_file: secrets/password
        policies: ["KMS Administrator"]
        access_keys:
          - {ak: ACMEADMINAK000000001, sk_file: secrets/sk}
`)
	write("secrets/sk", "AcmeAdminSecretKey00000000000000000001\n")
	write("secrets/password", "acme-admin-password\n")
	cfg, err := config.Load(filepath.Join(dir, "kmsd.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := server.Init(t.Context(), cfg, nil); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(t.Context(), cfg, server.Options{})
	if err != nil {
		t.Fatalf("start with relative secret files: %v", err)
	}
	defer srv.Close()
	sk, _, err := srv.IAM.AccessKey(t.Context(), "ACMEADMINAK000000001")
	if err != nil || string(sk) != "AcmeAdminSecretKey00000000000000000001" {
		t.Errorf("access key from the relative sk_file: %q, %v", sk, err)
	}
}
