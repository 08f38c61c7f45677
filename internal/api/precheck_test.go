package api_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kmsd/kmsd/internal/auth"
)

// countingBody is a request body that counts the bytes read from it.
type countingBody struct {
	r io.Reader
	n *atomic.Int64
}

func (b countingBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.n.Add(int64(n))
	return n, err
}

func (countingBody) Close() error { return nil }

// TestUnauthenticatedBodiesUnread checks that a request whose headers
// alone show it cannot authenticate — unknown access key, stale or
// missing X-Sdk-Date, unparsable Authorization, bad token — is refused
// with 401 before a byte of its body is read (issue 10 item 1: 50 such
// 11.5 MB bodies made the server hold 1.14 GB), while one with a known
// key and a wrong signature is still read, and refused by its signature.
func TestUnauthenticatedBodiesUnread(t *testing.T) {
	s := newTestServer(t)
	body := bytes.Repeat([]byte("a"), 11<<20+512<<10) // 11.5 MB, under the 12 MB gateway limit
	const unknownAK = "UNKNOWNACCESSKEY0000"
	for _, tc := range []struct {
		name     string
		sign     func(r *httptestRequest)
		wantRead bool
	}{
		{"unknown access key", func(r *httptestRequest) { r.sign(unknownAK, s.ids.AdminSK, time.Now()) }, false},
		{"stale date", func(r *httptestRequest) { r.sign(s.ids.AdminAK, s.ids.AdminSK, time.Now().Add(-time.Hour)) }, false},
		{"no credentials", func(r *httptestRequest) {}, false},
		{"malformed Authorization", func(r *httptestRequest) { r.Header.Set("Authorization", "SDK-HMAC-SHA256 nonsense") }, false},
		{"forged token", func(r *httptestRequest) { r.Header.Set("X-Auth-Token", "MIIforged") }, false},
		{"wrong secret key", func(r *httptestRequest) { r.sign(s.ids.AdminAK, "WrongSecretKey0000000000000000000000000", time.Now()) }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var read atomic.Int64
			req := &httptestRequest{httptest.NewRequest("POST", s.kms("encrypt-data"), nil), body}
			req.Header.Set("Content-Type", "application/json;charset=UTF-8")
			req.Header.Set("X-Project-Id", s.ids.ProjectID)
			tc.sign(req)
			req.Body = countingBody{bytes.NewReader(body), &read}
			req.ContentLength = int64(len(body))
			w := httptest.NewRecorder()
			s.srv.Handler.ServeHTTP(w, req.Request)
			if w.Code != 401 || !strings.Contains(w.Body.String(), "APIGW.0301") {
				t.Errorf("got %d %s, want 401 APIGW.0301", w.Code, w.Body)
			}
			if got := read.Load(); tc.wantRead != (got > 0) {
				t.Errorf("read %d bytes of the body, want read %v", got, tc.wantRead)
			}
		})
	}
}

type httptestRequest struct {
	*http.Request
	body []byte
}

func (r *httptestRequest) sign(ak, sk string, now time.Time) {
	_ = auth.SignRequest(r.Request, r.body, auth.AlgHMACSHA256, ak, sk, now)
}
