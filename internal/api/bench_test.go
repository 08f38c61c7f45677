package api_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kmsd/kmsd/internal/auth"
)

// benchRequest returns a request signed once as the SDK signs it; the
// signature stays valid for the benchmark's duration, so the loop measures
// the server alone.
func (s *testServer) benchRequest(b *testing.B, op string, body []byte) *http.Request {
	b.Helper()
	req := httptest.NewRequest("POST", s.kms(op), bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json;charset=UTF-8")
	req.Header.Set("User-Agent", "huaweicloud-usdk-go/3.0; kmsd-bench")
	req.Header.Set("X-Project-Id", s.ids.ProjectID)
	if err := auth.SignRequest(req, body, auth.AlgHMACSHA256, s.ids.AdminAK, s.ids.AdminSK, time.Now()); err != nil {
		b.Fatal(err)
	}
	return req
}

func (s *testServer) benchCreate(b *testing.B, body string) string {
	b.Helper()
	r := s.call(b, "POST", s.kms("create-key"), []byte(body))
	var v struct {
		KeyInfo struct {
			KeyID string `json:"key_id"`
		} `json:"key_info"`
	}
	if err := json.Unmarshal(r.body, &v); err != nil || v.KeyInfo.KeyID == "" {
		b.Fatalf("create-key: %d %s", r.status, r.body)
	}
	return v.KeyInfo.KeyID
}

// serveLoop runs the handler on the pre-signed request b.N times.
func serveLoop(b *testing.B, h http.Handler, req *http.Request, body []byte) {
	b.ReportAllocs()
	for b.Loop() {
		r := req.Clone(req.Context())
		r.Body = readCloser{bytes.NewReader(body)}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

// BenchmarkEncryptData1KiB measures encrypt-data of 1 KiB through routing,
// signature verification, authorization, decoding, AES-256-GCM and
// encoding, without the network.
func BenchmarkEncryptData1KiB(b *testing.B) {
	s := newTestServer(b)
	id := s.benchCreate(b, `{"key_alias":"bench-aes"}`)
	body := []byte(`{"key_id":"` + id + `","plain_text":"` + strings.Repeat("k", 1024) + `"}` + "\n")
	serveLoop(b, s.srv.Handler, s.benchRequest(b, "encrypt-data", body), body)
}

// BenchmarkSignECDSAP256 measures a DIGEST sign with an EC_P256 key.
func BenchmarkSignECDSAP256(b *testing.B) {
	s := newTestServer(b)
	id := s.benchCreate(b, `{"key_alias":"bench-ec","key_spec":"EC_P256"}`)
	d := sha256.Sum256([]byte("kmsd"))
	body := []byte(`{"key_id":"` + id + `","message":"` + base64.StdEncoding.EncodeToString(d[:]) + `","signing_algorithm":"ECDSA_SHA_256","message_type":"DIGEST"}` + "\n")
	serveLoop(b, s.srv.Handler, s.benchRequest(b, "sign", body), body)
}
