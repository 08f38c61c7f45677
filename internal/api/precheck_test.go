package api_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
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
// 11.5 MB bodies made the server hold 1.14 GB), and that one with a known
// key, whose signature cannot be checked without the body, is refused
// unread by the operation's limit (400 KMS.0203) when its Content-Length
// is over it.
func TestUnauthenticatedBodiesUnread(t *testing.T) {
	s := newTestServer(t)
	body := bytes.Repeat([]byte("a"), 11<<20+512<<10) // 11.5 MB, under the 12 MB gateway limit
	const unknownAK = "UNKNOWNACCESSKEY0000"
	for _, tc := range []struct {
		name     string
		sign     func(r *httptestRequest)
		wantCode string
	}{
		{"unknown access key", func(r *httptestRequest) { r.sign(unknownAK, s.ids.AdminSK, time.Now()) }, "401 APIGW.0301"},
		{"stale date", func(r *httptestRequest) { r.sign(s.ids.AdminAK, s.ids.AdminSK, time.Now().Add(-time.Hour)) }, "401 APIGW.0301"},
		{"no credentials", func(r *httptestRequest) {}, "401 APIGW.0301"},
		{"malformed Authorization", func(r *httptestRequest) { r.Header.Set("Authorization", "SDK-HMAC-SHA256 nonsense") }, "401 APIGW.0301"},
		{"forged token", func(r *httptestRequest) { r.Header.Set("X-Auth-Token", "MIIforged") }, "401 APIGW.0301"},
		{"wrong secret key", func(r *httptestRequest) { r.sign(s.ids.AdminAK, "WrongSecretKey0000000000000000000000000", time.Now()) }, "400 KMS.0203"},
		{"right secret key", func(r *httptestRequest) { r.sign(s.ids.AdminAK, s.ids.AdminSK, time.Now()) }, "400 KMS.0203"},
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
			status, code, _ := strings.Cut(tc.wantCode, " ")
			if strconv.Itoa(w.Code) != status || !strings.Contains(w.Body.String(), `"`+code+`"`) {
				t.Errorf("got %d %s, want %s", w.Code, w.Body, tc.wantCode)
			}
			if got := read.Load(); got != 0 {
				t.Errorf("read %d bytes of the body, want none", got)
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
