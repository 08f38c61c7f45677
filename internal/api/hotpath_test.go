package api

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// TestEncodeKeyBase64 checks the hand-written encoder of the hot
// responses against encoding/json on the structs it stands for.
func TestEncodeKeyBase64(t *testing.T) {
	ids := []string{"0d0466b0-e727-4d9c-b35d-f84bb474a37f", "", `q"uote\`, "<a&b>", "\u00e9\u2028\x01\x7f"}
	for _, id := range ids {
		for _, n := range []int{0, 1, 2, 3, 31, 32, 33, 1128, 4200} {
			b := bytes.Repeat([]byte{0xfb, 0xff, 0x3e}, n/3+1)[:n]
			enc := base64.StdEncoding.EncodeToString(b)
			for name, v := range map[string]any{
				"cipher_text": encryptDataResponse{KeyID: id, CipherText: enc},
				"signature":   signResponse{KeyID: id, Signature: enc},
			} {
				want, err := json.Marshal(v)
				if err != nil {
					t.Fatal(err)
				}
				if got := encodeKeyBase64(id, name, b); !bytes.Equal(got, want) {
					t.Errorf("id %q, %d bytes, %s:\ngot  %s\nwant %s", id, n, name, got, want)
				}
			}
		}
	}
}

// TestEncodeDecryptData checks the hand-written decrypt-data response
// against encoding/json, for plaintexts that need no escaping and ones
// that do (quotes, control and HTML characters, UTF-8, invalid UTF-8).
func TestEncodeInstanceNum(t *testing.T) {
	for _, n := range []int{0, 1, 9, 10, 12345, 1<<31 - 1, 1 << 40} {
		want, _ := json.Marshal(map[string]int{"instance_num": n})
		if got := encodeInstanceNum(n); !bytes.Equal(got, want) {
			t.Errorf("%d: got %s, want %s", n, got, want)
		}
	}
}

func TestEncodeDecryptData(t *testing.T) {
	pts := []string{"", "k", strings.Repeat("k", 1024), `{"a":"b\\c"}`, "<script>&amp;", "line\nbreak\t\x00",
		"caf\u00e9 \u2028 \U0001f600", "\xff\xfe bad", strings.Repeat("\x80", 5)}
	for _, id := range []string{"0d0466b0-e727-4d9c-b35d-f84bb474a37f", `q"`} {
		for _, pt := range pts {
			want, err := json.Marshal(decryptDataResponse{KeyID: id, PlainText: pt, PlainTextBase64: base64.StdEncoding.EncodeToString([]byte(pt))})
			if err != nil {
				t.Fatal(err)
			}
			if got := encodeDecryptData(id, []byte(pt)); !bytes.Equal(got, want) {
				t.Errorf("id %q, plaintext %q:\ngot  %s\nwant %s", id, pt, got, want)
			}
		}
	}
}

// TestContentLength checks that every JSON response, small or large,
// carries its exact Content-Length and is never chunked, whether kmsd or
// net/http sets the header.
func TestContentLength(t *testing.T) {
	for _, n := range []int{0, 1, autoContentLength - 1, autoContentLength, autoContentLength + 1, 5000, 70000} {
		body := rawJSON(`"` + strings.Repeat("x", max(n-2, 0)) + `"`)[:n]
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c := &call{w: w}
			c.writeJSON(200, body)
		}))
		resp, err := http.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		srv.Close()
		if resp.ContentLength != int64(n) || len(resp.TransferEncoding) > 0 || len(got) != n || resp.Header.Get("Content-Length") != strconv.Itoa(n) {
			t.Errorf("body of %d bytes: Content-Length %d (%q), Transfer-Encoding %v, read %d", n, resp.ContentLength, resp.Header.Get("Content-Length"), resp.TransferEncoding, len(got))
		}
	}
}

// TestMatchIndex checks the indexed route lookup against a scan of the
// whole table, for paths made from every pattern and some that match none.
func TestMatchIndex(t *testing.T) {
	h := &Handler{routes: routeTable()}
	h.index = indexRoutes(h.routes)
	scan := func(method, path string) (*route, error) {
		segs := splitPath(path)
		known := false
		for _, rt := range h.routes {
			if _, _, ok := rt.matchPath(segs, path, false); !ok {
				continue
			}
			if rt.method != method {
				known = true
				continue
			}
			return rt, nil
		}
		if known {
			return nil, errNoSuchMethod
		}
		return nil, errNoSuchAPI
	}
	param := regexp.MustCompile(`\{[a-z_]+\}`)
	paths := []string{"", "/", "//", "/v1.0", "/v1.0/p/kms", "/v1.0/p/kms/", "/v1.0//kms/encrypt-data",
		"/v1.0/p/kms/nope", "/v1.0/p/kms/x/tags/y/z", "/a/b/c/d/e/f/g/h/i/j", "/v1.0/p/kms/alias/tags",
		"/v1.0/p/kms/resource_instances/action", "/v1.0/p/kms/other/action", "/v3/auth/tokens", "v1.0/p/kms/sign/"}
	for _, rt := range h.routes {
		paths = append(paths, rt.pattern, param.ReplaceAllString(rt.pattern, "resource_instances"),
			param.ReplaceAllString(rt.pattern, "0123456789abcdef0123456789abcdef"))
	}
	for _, path := range paths {
		for _, method := range []string{"GET", "POST", "PUT", "DELETE", "PATCH"} {
			want, werr := scan(method, path)
			got, project, params, err := h.match(method, &url.URL{Path: path})
			if got != want || !errors.Is(err, werr) && err != werr {
				t.Errorf("%s %q: got %v, %v; want %v, %v", method, path, opOf(got), err, opOf(want), werr)
				continue
			}
			if got == nil {
				continue
			}
			all, _, _ := got.matchPath(splitPath(path), path, false)
			if project != all {
				t.Errorf("%s %q: project %q, want %q", method, path, project, all)
			}
			if strings.Count(got.pattern, "{") > strings.Count(got.pattern, "{project_id}") && len(params) == 0 {
				t.Errorf("%s %q: no parameter map for %s", method, path, got.pattern)
			}
		}
	}
}

func opOf(rt *route) string {
	if rt == nil {
		return "<nil>"
	}
	return rt.op
}

// TestReadAll checks the body reader against io.ReadAll for declared
// lengths that are right, wrong or unknown, and readers that trickle.
func TestReadAll(t *testing.T) {
	body := []byte(`{"key_id":"x"}`)
	tests := []struct {
		name     string
		r        func() io.Reader
		declared int64
		want     []byte
		wantErr  bool
	}{
		{"exact", func() io.Reader { return bytes.NewReader(body) }, int64(len(body)), body, false},
		{"unknown length", func() io.Reader { return bytes.NewReader(body) }, -1, body, false},
		{"above the limit", func() io.Reader { return bytes.NewReader(body) }, 1 << 20, body, false},
		{"longer than declared", func() io.Reader { return bytes.NewReader(body) }, 4, body, false},
		{"shorter than declared", func() io.Reader { return bytes.NewReader(body) }, 40, body, false},
		{"cut short", func() io.Reader {
			return io.MultiReader(bytes.NewReader(body[:4]), iotest.ErrReader(io.ErrUnexpectedEOF))
		}, int64(len(body)), nil, true},
		{"empty", func() io.Reader { return bytes.NewReader(nil) }, 0, []byte{}, false},
		{"one byte at a time", func() io.Reader { return iotest.OneByteReader(bytes.NewReader(body)) }, int64(len(body)), body, false},
		{"data with EOF", func() io.Reader { return iotest.DataErrReader(bytes.NewReader(body)) }, int64(len(body)), body, false},
		{"error", func() io.Reader { return iotest.ErrReader(errors.New("boom")) }, 3, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAll(tt.r(), tt.declared, 64<<10)
			if (err != nil) != tt.wantErr || !bytes.Equal(got, tt.want) {
				t.Errorf("got %q, %v; want %q, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// TestRequestIDs checks the shape and uniqueness of request ids, and that
// two handlers do not share a sequence.
func TestRequestIDs(t *testing.T) {
	shape := regexp.MustCompile(`^[0-9a-f]{32}$`)
	a, b := newRequestIDs(), newRequestIDs()
	seen := map[string]bool{}
	for range 10000 {
		for _, g := range []*requestIDs{a, b} {
			id := g.next()
			if !shape.MatchString(id) {
				t.Fatalf("request id %q", id)
			}
			if seen[id] {
				t.Fatalf("request id %q twice", id)
			}
			seen[id] = true
		}
	}
}

// TestBudgetWakesWaiter: a call waiting for the body budget proceeds as
// soon as bytes are released (release closes the channel only when
// someone waits on it).
func TestBudgetWakesWaiter(t *testing.T) {
	b := newBudget(10, 10*time.Second)
	if err := b.acquire(t.Context(), 10); err != nil {
		t.Fatal(err)
	}
	b.release(1) // nobody waits
	if err := b.acquire(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- b.acquire(t.Context(), 5) }()
	for { // until the waiter watches the channel
		b.mu.Lock()
		w := b.watched
		b.mu.Unlock()
		if w {
			break
		}
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	b.release(10)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the waiter took %v to wake", d)
	}
}
