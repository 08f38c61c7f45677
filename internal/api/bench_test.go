package api_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kmsd/kmsd/internal/auth"
	"github.com/kmsd/kmsd/internal/logging"
	"github.com/kmsd/kmsd/internal/server"
)

// The benchmarks of docs/performance.md. In process, a request signed once
// as the SDK signs it goes through the handler b.N times: routing, full
// signature verification, authorization, decoding, the operation and
// encoding, without the network. Through HTTP, the same pre-signed request
// goes over loopback keep-alive connections to the real server
// (server.Serve, with its timeouts), whose every request is verified in
// full; client and server share the machine's cores there.
//
//	go test -run XXX -bench . -benchtime 2000x ./internal/api/

// benchRequest returns a request signed once as the SDK signs it; the
// signature stays valid for the benchmark's duration, so the loop measures
// the server alone.
func (s *testServer) benchRequest(b *testing.B, op string, body []byte) *http.Request {
	b.Helper()
	req := httptest.NewRequest("POST", s.kms(op), bytes.NewReader(body))
	signBench(b, s, req, body)
	return req
}

func signBench(b *testing.B, s *testServer, req *http.Request, body []byte) {
	b.Helper()
	req.Header.Set("Content-Type", "application/json;charset=UTF-8")
	req.Header.Set("User-Agent", "huaweicloud-usdk-go/3.0; kmsd-bench")
	req.Header.Set("X-Project-Id", s.ids.ProjectID)
	if err := auth.SignRequest(req, body, auth.AlgHMACSHA256, s.ids.AdminAK, s.ids.AdminSK, time.Now()); err != nil {
		b.Fatal(err)
	}
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

// benchMember posts body to op and returns the string member name of the
// answer.
func (s *testServer) benchMember(b *testing.B, op, body, name string) string {
	b.Helper()
	r := s.call(b, "POST", s.kms(op), []byte(body))
	var v map[string]any
	if err := json.Unmarshal(r.body, &v); err != nil || r.status != 200 {
		b.Fatalf("%s: %d %s", op, r.status, r.body)
	}
	m, _ := v[name].(string)
	return m
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

// Bodies of the two operations the performance targets name.
func encryptBody(id string, size int) []byte {
	return []byte(`{"key_id":"` + id + `","plain_text":"` + strings.Repeat("k", size) + `"}` + "\n")
}

func signBody(id, alg, digest string) []byte {
	return []byte(`{"key_id":"` + id + `","message":"` + digest + `","signing_algorithm":"` + alg + `","message_type":"DIGEST"}` + "\n")
}

func digest(s string) string {
	d := sha256.Sum256([]byte(s))
	return base64.StdEncoding.EncodeToString(d[:])
}

// BenchmarkEncryptData1KiB measures encrypt-data of 1 KiB through routing,
// signature verification, authorization, decoding, AES-256-GCM and
// encoding, without the network.
func BenchmarkEncryptData1KiB(b *testing.B) {
	s := newTestServer(b)
	id := s.benchCreate(b, `{"key_alias":"bench-aes"}`)
	body := encryptBody(id, 1024)
	serveLoop(b, s.srv.Handler, s.benchRequest(b, "encrypt-data", body), body)
}

// BenchmarkSignECDSAP256 measures a DIGEST sign with an EC_P256 key.
func BenchmarkSignECDSAP256(b *testing.B) {
	s := newTestServer(b)
	id := s.benchCreate(b, `{"key_alias":"bench-ec","key_spec":"EC_P256"}`)
	body := signBody(id, "ECDSA_SHA_256", digest("kmsd"))
	serveLoop(b, s.srv.Handler, s.benchRequest(b, "sign", body), body)
}

// BenchmarkOperation measures each cryptographic operation in process, as
// BenchmarkEncryptData1KiB does.
func BenchmarkOperation(b *testing.B) {
	s := newTestServer(b)
	aes := s.benchCreate(b, `{"key_alias":"op-aes"}`)
	keys := map[string]string{}
	for _, spec := range []string{"RSA_2048", "EC_P256", "SM2"} {
		keys[spec] = s.benchCreate(b, `{"key_alias":"op-`+strings.ToLower(spec)+`","key_spec":"`+spec+`","key_usage":"SIGN_VERIFY"}`)
	}
	mac := s.benchCreate(b, `{"key_alias":"op-hmac","key_spec":"HMAC_256","key_usage":"GENERATE_VERIFY_MAC"}`)
	ct := s.benchMember(b, "encrypt-data", string(encryptBody(aes, 1024)), "cipher_text")
	d := digest("kmsd")
	algs := map[string]string{"RSA_2048": "RSASSA_PSS_SHA_256", "EC_P256": "ECDSA_SHA_256", "SM2": "SM2DSA_SM3"}

	type op struct{ name, op, body string }
	ops := []op{
		{"encrypt-data/AES_256/1KiB", "encrypt-data", string(encryptBody(aes, 1024))},
		{"decrypt-data/AES_256/1KiB", "decrypt-data", `{"cipher_text":"` + ct + `"}`},
		{"create-datakey/AES_256", "create-datakey", `{"key_id":"` + aes + `","datakey_length":"256"}`},
		{"generate-mac/HMAC_256", "generate-mac", `{"key_id":"` + mac + `","mac_algorithm":"HMAC_SHA_256","message":"` + d + `"}`},
		{"gen-random/256", "gen-random", `{"random_data_length":"256"}`},
	}
	for _, spec := range []string{"RSA_2048", "EC_P256", "SM2"} {
		sb := string(signBody(keys[spec], algs[spec], d))
		sig := s.benchMember(b, "sign", sb, "signature")
		ops = append(ops,
			op{"sign/" + spec, "sign", sb},
			op{"verify/" + spec, "verify", strings.TrimSuffix(sb, "}\n") + `,"signature":"` + sig + `"}`})
	}
	for _, o := range ops {
		b.Run(o.name, func(b *testing.B) {
			body := []byte(o.body)
			serveLoop(b, s.srv.Handler, s.benchRequest(b, o.op, body), body)
		})
	}
}

// BenchmarkHTTP measures the two target operations through the real
// server over loopback: net/http, the kernel's TCP and the handler. Eight
// clients each keep one connection and send the pre-signed request.
func BenchmarkHTTP(b *testing.B) {
	s := newTestServer(b)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(b.Context())
	done := make(chan error, 1)
	go func() { done <- s.srv.Serve(ctx, ln) }()
	b.Cleanup(func() { cancel(); <-done })

	aes := s.benchCreate(b, `{"key_alias":"http-aes"}`)
	ec := s.benchCreate(b, `{"key_alias":"http-ec","key_spec":"EC_P256"}`)
	for _, o := range []struct{ name, op string }{{"encrypt-data/AES_256/1KiB", "encrypt-data"}, {"sign/EC_P256", "sign"}} {
		b.Run(o.name, func(b *testing.B) {
			body := encryptBody(aes, 1024)
			if o.op == "sign" {
				body = signBody(ec, "ECDSA_SHA_256", digest("kmsd"))
			}
			req, err := http.NewRequest("POST", "http://"+ln.Addr().String()+s.kms(o.op), bytes.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			signBench(b, s, req, body)
			var raw bytes.Buffer
			if err := req.Write(&raw); err != nil {
				b.Fatal(err)
			}
			b.SetParallelism(4) // 4×GOMAXPROCS clients
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				conn, err := net.Dial("tcp", ln.Addr().String())
				if err != nil {
					b.Error(err)
					return
				}
				defer conn.Close()
				br := bufio.NewReader(conn)
				for pb.Next() {
					if _, err := conn.Write(raw.Bytes()); err != nil {
						b.Error(err)
						return
					}
					resp, err := http.ReadResponse(br, nil)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
		})
	}
}

// BenchmarkEncryptDataLogging measures encrypt-data of 1 KiB with the
// request log of `kmsd serve` at info level (successes not logged) and at
// debug level (a line per request, the dev default) written to a file
// directly or through a logging.Buffer, with the logger kmsd serve makes
// (logging.New).
func BenchmarkEncryptDataLogging(b *testing.B) {
	for _, tc := range []struct {
		name     string
		level    slog.Level
		buffered bool
	}{
		{"info", slog.LevelInfo, false},
		{"debug/direct", slog.LevelDebug, false},
		{"debug/buffered", slog.LevelDebug, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			f, err := os.Create(filepath.Join(b.TempDir(), "log"))
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			var w io.Writer = f
			if tc.buffered {
				buf := logging.NewBuffer(f)
				defer buf.Close()
				w = buf
			}
			var level slog.LevelVar
			level.Set(tc.level)
			log := logging.New(w, &level, "json") // as kmsd serve makes it
			s := newTestServerWith(b, server.Options{Logger: log})
			id := s.benchCreate(b, `{"key_alias":"bench-aes"}`)
			body := encryptBody(id, 1024)
			serveLoop(b, s.srv.Handler, s.benchRequest(b, "encrypt-data", body), body)
		})
	}
}

// BenchmarkUserInstances measures user-instances (GET, no body): the
// request path around one counter read.
func BenchmarkUserInstances(b *testing.B) {
	s := newTestServer(b)
	req := httptest.NewRequest("GET", s.kms("user-instances"), nil)
	signBench(b, s, req, nil)
	serveLoop(b, s.srv.Handler, req, nil)
}
