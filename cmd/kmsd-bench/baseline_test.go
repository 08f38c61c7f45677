package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The baseline handlers in process, with the same bodies and the same
// loop as internal/api's BenchmarkEncryptData1KiB and
// BenchmarkSignECDSAP256, so that the two pairs of figures compare
// without the network.

const benchKeyID = "0d0466b0-e727-4d9c-b35d-f84bb474a37f"

func BenchmarkBaselineEncryptData1KiB(b *testing.B) {
	body := []byte(`{"key_id":"` + benchKeyID + `","plain_text":"` + strings.Repeat("k", 1024) + `"}` + "\n")
	serveBaseline(b, "/encrypt-data", body)
}

func BenchmarkBaselineSignECDSAP256(b *testing.B) {
	d := sha256.Sum256([]byte("kmsd"))
	body := []byte(`{"key_id":"` + benchKeyID + `","message":"` + base64.StdEncoding.EncodeToString(d[:]) + `","signing_algorithm":"ECDSA_SHA_256","message_type":"DIGEST"}` + "\n")
	serveBaseline(b, "/sign", body)
}

func serveBaseline(b *testing.B, path string, body []byte) {
	h, err := baselineHandler()
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest("POST", path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json;charset=UTF-8")
	req.Header.Set("User-Agent", "huaweicloud-usdk-go/3.0; kmsd-bench")
	b.ReportAllocs()
	for b.Loop() {
		r := req.Clone(req.Context())
		r.Body = io.NopCloser(bytes.NewReader(body))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}
