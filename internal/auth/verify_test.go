package auth

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const (
	testAK      = "AKTEST"
	testSK      = "SKTEST"
	testProject = "0123456789abcdef0123456789abcdef"
	testDate    = "20240101T000000Z"
	testUA      = "huaweicloud-usdk-go/3.0; vector"
)

var testNow = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

var allAlgs = []string{AlgHMACSHA256, AlgHMACSM3, AlgECDSAP256SHA256, AlgSM2SM3, AlgV11HMACSHA256}

// keys is a SecretLookup over a fixed table; unknown AKs wrap
// ErrUnauthenticated like the iam package's.
func keys(m map[string]string) SecretLookup {
	return func(_ context.Context, ak string) ([]byte, error) {
		sk, ok := m[ak]
		if !ok {
			return nil, &AuthError{Reason: "ak not exist"}
		}
		return []byte(sk), nil
	}
}

var testKeys = keys(map[string]string{testAK: testSK, "AKOTHER": "SKOTHER"})

// readRequest parses raw HTTP as a server would and returns the request and
// its body.
func readRequest(t *testing.T, raw string) (*http.Request, []byte) {
	t.Helper()
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return r, body
}

// vector1 and vector2 are the SDK requests of reference auth.md §3.3.
const (
	vector1Body = `{"key_id":"0d0466b0-e727-4d9c-b35d-f84bb474a37f"}` + "\n"
	vector1     = "POST /v1.0/" + testProject + "/kms/describe-key HTTP/1.1\r\n" +
		"Host: 127.0.0.1:8080\r\n" +
		"Accept-Encoding: gzip\r\n" +
		"Authorization: SDK-HMAC-SHA256 Access=AKTEST, SignedHeaders=user-agent;x-project-id;x-sdk-date, Signature=77c3e25ba2af25f828103ae7babe0dce338bf12bbd0fbf1c9a763cec3a1050ef\r\n" +
		"Content-Length: 50\r\n" +
		"Content-Type: application/json;charset=UTF-8\r\n" +
		"User-Agent: " + testUA + "\r\n" +
		"X-Project-Id: " + testProject + "\r\n" +
		"X-Sdk-Date: " + testDate + "\r\n\r\n" + vector1Body
	vector2 = "GET /v1.0/" + testProject + "/kms/aliases?limit=2 HTTP/1.1\r\n" +
		"Host: 127.0.0.1:8080\r\n" +
		"Accept-Encoding: gzip\r\n" +
		"Authorization: SDK-HMAC-SHA256 Access=AKTEST, SignedHeaders=user-agent;x-project-id;x-sdk-date, Signature=6901bfab370fe2938366e7c3643e7e6c8339a8ace58b2e92683bb5c7772ecf36\r\n" +
		"Content-Type: application/json\r\n" +
		"User-Agent: " + testUA + "\r\n" +
		"X-Project-Id: " + testProject + "\r\n" +
		"X-Sdk-Date: " + testDate + "\r\n\r\n"
)

func TestAuthMDVectors(t *testing.T) {
	signed := []string{"user-agent", "x-project-id", "x-sdk-date"}
	t.Run("vector1", func(t *testing.T) {
		r, body := readRequest(t, vector1)
		if got, want := len(body), 50; got != want {
			t.Fatalf("body is %d bytes, want %d", got, want)
		}
		cr, err := canonicalRequest(r, body, signed, algorithms[AlgHMACSHA256])
		if err != nil {
			t.Fatal(err)
		}
		wantCR := "POST\n" +
			"/v1.0/0123456789abcdef0123456789abcdef/kms/describe-key/\n" +
			"\n" +
			"user-agent:huaweicloud-usdk-go/3.0; vector\n" +
			"x-project-id:0123456789abcdef0123456789abcdef\n" +
			"x-sdk-date:20240101T000000Z\n" +
			"\n" +
			"user-agent;x-project-id;x-sdk-date\n" +
			"3196fcb87ec59c791239e49ebbd3c6f04f85eccb99a9bfe2d0e80e1de82acbef"
		if diff := cmp.Diff(wantCR, cr); diff != "" {
			t.Errorf("canonical request (-want +got):\n%s", diff)
		}
		sts := stringToSign(algorithms[AlgHMACSHA256], testDate, "", cr)
		if want := "SDK-HMAC-SHA256\n20240101T000000Z\n8b43a8454fb42ec6c32b4d2983abe6be6c60ca95b97017bd0cca8743e16187b1"; sts != want {
			t.Errorf("string to sign = %q, want %q", sts, want)
		}
		if got, want := hex.EncodeToString(macOf(algorithms[AlgHMACSHA256].newHash, []byte(testSK), sts)), "77c3e25ba2af25f828103ae7babe0dce338bf12bbd0fbf1c9a763cec3a1050ef"; got != want {
			t.Errorf("signature = %s, want %s", got, want)
		}
		verifyOK(t, r, body, testNow)
	})
	t.Run("vector2", func(t *testing.T) {
		r, body := readRequest(t, vector2)
		cr, err := canonicalRequest(r, body, signed, algorithms[AlgHMACSHA256])
		if err != nil {
			t.Fatal(err)
		}
		wantCR := "GET\n/v1.0/" + testProject + "/kms/aliases/\nlimit=2\n" +
			"user-agent:" + testUA + "\nx-project-id:" + testProject + "\nx-sdk-date:" + testDate + "\n\n" +
			"user-agent;x-project-id;x-sdk-date\n" +
			"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
		if diff := cmp.Diff(wantCR, cr); diff != "" {
			t.Errorf("canonical request (-want +got):\n%s", diff)
		}
		verifyOK(t, r, body, testNow)
	})
	// SignRequest reproduces the SDK's headers byte for byte.
	for name, raw := range map[string]string{"vector1": vector1, "vector2": vector2} {
		t.Run(name+"/SignRequest", func(t *testing.T) {
			r, body := readRequest(t, raw)
			c := clientCopy(t, r, body)
			if err := SignRequest(c, body, AlgHMACSHA256, testAK, testSK, testNow); err != nil {
				t.Fatal(err)
			}
			if got, want := c.Header.Get("Authorization"), r.Header.Get("Authorization"); got != want {
				t.Errorf("Authorization = %q, want %q", got, want)
			}
			if got := c.Header.Get("X-Sdk-Date"); got != testDate {
				t.Errorf("X-Sdk-Date = %q, want %q", got, testDate)
			}
		})
	}
}

func verifyOK(t *testing.T, r *http.Request, body []byte, now time.Time) {
	t.Helper()
	ak, err := VerifyRequest(t.Context(), r, body, now, testKeys)
	if err != nil {
		t.Fatalf("VerifyRequest: %v", err)
	}
	if ak != testAK {
		t.Errorf("ak = %q, want %q", ak, testAK)
	}
}

// clientCopy rebuilds, as a client request, what the SDK held before
// signing a request that a server received as r: the headers it signed and
// those its rule leaves out (Content-Type, names with "_"), but not the ones
// net/http added (Accept-Encoding, Content-Length, a default User-Agent).
func clientCopy(t *testing.T, r *http.Request, body []byte) *http.Request {
	t.Helper()
	a, err := parseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := http.NewRequest(r.Method, "http://"+r.Host+r.RequestURI, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range r.Header {
		lk := strings.ToLower(k)
		if (slices.Contains(a.signedHeaders, lk) || lk == "content-type" || strings.Contains(k, "_")) && lk != "x-sdk-date" {
			c.Header[k] = v
		}
	}
	return c
}

type sdkVector struct {
	Name    string `json:"name"`
	AK      string `json:"ak"`
	SK      string `json:"sk"`
	Now     string `json:"now"`
	Request string `json:"request"`
}

func loadSDKVectors(t testing.TB) []sdkVector {
	t.Helper()
	b, err := os.ReadFile("testdata/sdk_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vs []sdkVector
	if err := json.Unmarshal(b, &vs); err != nil {
		t.Fatal(err)
	}
	if len(vs) == 0 {
		t.Fatal("no vectors")
	}
	return vs
}

// TestSDKVectors checks requests captured from the official SDK (see
// testdata/sdkgen) for every algorithm: the server accepts them, and for the
// deterministic algorithms SignRequest produces the SDK's Authorization.
func TestSDKVectors(t *testing.T) {
	seen := map[string]bool{}
	for _, v := range loadSDKVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			now, err := time.Parse(DateLayout, v.Now)
			if err != nil {
				t.Fatal(err)
			}
			r, body := readRequest(t, v.Request)
			lookup := keys(map[string]string{v.AK: v.SK})
			ak, err := VerifyRequest(t.Context(), r, body, now, lookup)
			if err != nil {
				t.Fatalf("VerifyRequest: %v", err)
			}
			if ak != v.AK {
				t.Errorf("ak = %q, want %q", ak, v.AK)
			}
			a, err := parseAuthorization(r.Header.Get("Authorization"))
			if err != nil {
				t.Fatal(err)
			}
			seen[a.alg.name] = true

			// Any change to the body or path breaks the signature.
			r2, _ := readRequest(t, v.Request)
			if _, err := VerifyRequest(t.Context(), r2, append(slices.Clone(body), ' '), now, lookup); err == nil && r.Header.Get("X-Sdk-Content-Sha256")+r.Header.Get("X-Sdk-Content-Sm3") != UnsignedPayload {
				t.Error("VerifyRequest accepted a changed body")
			}
			r2.URL.Path += "x"
			if _, err := VerifyRequest(t.Context(), r2, body, now, lookup); err == nil {
				t.Error("VerifyRequest accepted a changed path")
			}

			c := clientCopy(t, r, body)
			switch a.alg.kind {
			case kindECDSA, kindSM2:
				// Randomized: check that our signature verifies and
				// signs the same headers.
				if err := SignRequest(c, body, a.alg.name, v.AK, v.SK, now); err != nil {
					t.Fatal(err)
				}
				if _, err := VerifyRequest(t.Context(), c, body, now, lookup); err != nil {
					t.Errorf("VerifyRequest(SignRequest): %v", err)
				}
				ca, err := parseAuthorization(c.Header.Get("Authorization"))
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(a.signedHeaders, ca.signedHeaders); diff != "" {
					t.Errorf("signed headers (-sdk +ours):\n%s", diff)
				}
				return
			case kindDerived:
				parts := strings.Split(a.scope, "/")
				err = SignRequestDerived(c, body, v.AK, v.SK, parts[1], parts[2], now)
			default:
				err = SignRequest(c, body, a.alg.name, v.AK, v.SK, now)
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, want := c.Header.Get("Authorization"), r.Header.Get("Authorization"); got != want {
				t.Errorf("Authorization\n got %q\nwant %q", got, want)
			}
		})
	}
	for _, alg := range allAlgs {
		if !seen[alg] {
			t.Errorf("no SDK vector for %s", alg)
		}
	}
}

// testRequest returns a client request with a body, a query, an escaped
// path and the headers the SDK sends.
func testRequest(t *testing.T, body string) *http.Request {
	t.Helper()
	r, err := http.NewRequest("POST", "http://kms.test/v1.0/"+testProject+"/kms/a%20b+c/%C3%A9?b=2&a=1&a=0&empty&sp=x%20y%2Bz", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/json;charset=UTF-8")
	r.Header.Set("User-Agent", testUA)
	r.Header.Set("X-Project-Id", testProject)
	r.Header.Add("X-Multi", "b")
	r.Header.Add("X-Multi", " a ")
	return r
}

// signed signs a fresh testRequest with alg at testNow.
func signed(t *testing.T, alg, body string) *http.Request {
	t.Helper()
	r := testRequest(t, body)
	var err error
	if alg == AlgV11HMACSHA256 {
		err = SignRequestDerived(r, []byte(body), testAK, testSK, "cn-north-4", "kms", testNow)
	} else {
		err = SignRequest(r, []byte(body), alg, testAK, testSK, testNow)
	}
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRoundTrip(t *testing.T) {
	for _, alg := range allAlgs {
		t.Run(alg, func(t *testing.T) {
			const body = `{"key_id":"k"}` + "\n"
			r := signed(t, alg, body)
			if got := r.Header.Get("Authorization"); !strings.HasPrefix(got, alg+" ") || !strings.Contains(got, "SignedHeaders=user-agent;x-multi;x-project-id;x-sdk-date,") {
				t.Errorf("Authorization = %q", got)
			}
			verifyOK(t, r, []byte(body), testNow)
		})
	}
}

// TestRoundTripHTTP sends signed requests through net/http to a server that
// verifies them, for every algorithm.
func TestRoundTripHTTP(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		if _, err := VerifyRequest(r.Context(), r, body, time.Now(), testKeys); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
		}
	}))
	defer srv.Close()
	for _, alg := range allAlgs {
		for _, path := range []string{"/", "/v1.0/" + testProject + "/kms/describe-key", "/v1.0/p/kms/k/tags/a%20b+c;d%2Fe?x=1&x=&y=%2B"} {
			t.Run(alg+path, func(t *testing.T) {
				body := []byte(`{"a":"b"}`)
				r, err := http.NewRequestWithContext(t.Context(), "POST", srv.URL+path, bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				r.Header.Set("Content-Type", "application/json")
				r.Header.Set("User-Agent", testUA)
				r.Header.Set("X-Security-Token", "sts")
				if alg == AlgV11HMACSHA256 {
					err = SignRequestDerived(r, body, testAK, testSK, "cn-north-4", "kms", time.Now())
				} else {
					err = SignRequest(r, body, alg, testAK, testSK, time.Now())
				}
				if err != nil {
					t.Fatal(err)
				}
				resp, err := srv.Client().Do(r)
				if err != nil {
					t.Fatal(err)
				}
				msg, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Errorf("status %d: %s", resp.StatusCode, msg)
				}
			})
		}
	}
}

func TestTamper(t *testing.T) {
	const body = `{"key_id":"k"}` + "\n"
	tests := []struct {
		name   string
		body   string
		mutate func(r *http.Request)
		ok     bool
	}{
		{name: "unchanged", ok: true},
		{name: "unsigned header added", mutate: func(r *http.Request) { r.Header.Set("X-Forwarded-For", "1.2.3.4") }, ok: true},
		{name: "content-type changed", mutate: func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }, ok: true},
		{name: "host changed", mutate: func(r *http.Request) { r.Host = "other.test" }, ok: true},
		{name: "body", body: `{"key_id":"x"}` + "\n"},
		{name: "body truncated", body: `{"key_id":"k"}`},
		{name: "method", mutate: func(r *http.Request) { r.Method = "PUT" }},
		{name: "path", mutate: func(r *http.Request) { r.URL.Path = strings.Replace(r.URL.Path, testProject, "f"+testProject[1:], 1) }},
		{name: "path trailing slash", mutate: func(r *http.Request) { r.URL.Path += "/x" }},
		{name: "query value", mutate: func(r *http.Request) { r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "b=2", "b=3", 1) }},
		{name: "query added", mutate: func(r *http.Request) { r.URL.RawQuery += "&c=1" }},
		{name: "query removed", mutate: func(r *http.Request) { r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "&empty", "", 1) }},
		{name: "signed header value", mutate: func(r *http.Request) { r.Header.Set("X-Project-Id", "other") }},
		{name: "signed header value added", mutate: func(r *http.Request) { r.Header.Add("X-Multi", "c") }},
		{name: "signed header removed", mutate: func(r *http.Request) { r.Header.Del("User-Agent") }},
		{name: "date", mutate: func(r *http.Request) { r.Header.Set("X-Sdk-Date", "20240101T000001Z") }},
		{name: "access key", mutate: func(r *http.Request) {
			setAuthParam(r, "Access", "AKOTHER")
			setAuthParam(r, "Credential", "AKOTHER/20240101/cn-north-4/kms")
		}},
		{name: "signed headers list", mutate: func(r *http.Request) { setAuthParam(r, "SignedHeaders", "user-agent;x-multi;x-sdk-date") }},
		{name: "signature", mutate: func(r *http.Request) { flipSignature(r) }},
		{name: "algorithm", mutate: func(r *http.Request) {
			v := r.Header.Get("Authorization")
			for _, alg := range allAlgs {
				if strings.HasPrefix(v, alg+" ") && alg != AlgV11HMACSHA256 {
					other := AlgHMACSM3
					if alg == AlgHMACSM3 {
						other = AlgHMACSHA256
					}
					r.Header.Set("Authorization", other+strings.TrimPrefix(v, alg))
				}
			}
			if strings.HasPrefix(v, AlgV11HMACSHA256) {
				setAuthParam(r, "Credential", testAK+"/20240101/cn-north-5/kms")
			}
		}},
		{name: "unsigned payload header", body: `{"key_id":"x"}` + "\n", mutate: func(r *http.Request) {
			r.Header.Set("X-Sdk-Content-Sha256", hexHash(algorithms[AlgHMACSHA256].newHash, []byte(body)))
			r.Header.Set("X-Sdk-Content-Sm3", hexHash(algorithms[AlgHMACSM3].newHash, []byte(body)))
		}},
		{name: "unsigned UNSIGNED-PAYLOAD", body: "anything", mutate: func(r *http.Request) {
			r.Header.Set("X-Sdk-Content-Sha256", UnsignedPayload)
			r.Header.Set("X-Sdk-Content-Sm3", UnsignedPayload)
		}},
	}
	for _, alg := range allAlgs {
		for _, tt := range tests {
			t.Run(alg+"/"+tt.name, func(t *testing.T) {
				r := signed(t, alg, body)
				if tt.mutate != nil {
					tt.mutate(r)
				}
				b := body
				if tt.body != "" {
					b = tt.body
				}
				_, err := VerifyRequest(t.Context(), r, []byte(b), testNow, testKeys)
				if tt.ok && err != nil {
					t.Errorf("VerifyRequest: %v", err)
				}
				if !tt.ok && !errors.Is(err, ErrUnauthenticated) {
					t.Errorf("VerifyRequest = %v, want ErrUnauthenticated", err)
				}
				if err != nil && strings.Contains(err.Error(), testSK) {
					t.Errorf("error reveals the secret key: %v", err)
				}
			})
		}
	}
}

// setAuthParam replaces one parameter of the Authorization header.
func setAuthParam(r *http.Request, key, value string) {
	v := r.Header.Get("Authorization")
	alg, params, _ := strings.Cut(v, " ")
	ps := strings.Split(params, ", ")
	for i, p := range ps {
		if strings.HasPrefix(p, key+"=") {
			ps[i] = key + "=" + value
		}
	}
	r.Header.Set("Authorization", alg+" "+strings.Join(ps, ", "))
}

func flipSignature(r *http.Request) {
	v := r.Header.Get("Authorization")
	i := strings.Index(v, "Signature=") + len("Signature=") + 10
	c := byte('0')
	if v[i] == '0' {
		c = '1'
	}
	r.Header.Set("Authorization", v[:i]+string(c)+v[i+1:])
}

func TestPayloadHeader(t *testing.T) {
	const body = `{"a":1}`
	for _, alg := range allAlgs {
		h := "X-Sdk-Content-Sha256"
		if alg == AlgHMACSM3 || alg == AlgSM2SM3 {
			h = "X-Sdk-Content-Sm3"
		}
		tests := []struct {
			name, value, verifyBody string
			ok                      bool
		}{
			{"unsigned payload", UnsignedPayload, "other body", true},
			{"body hash", hexHash(algorithms[alg].newHash, []byte(body)), body, true},
			{"wrong hash", hexHash(algorithms[alg].newHash, []byte("x")), body, false},
			{"garbage", "xyz", body, false},
		}
		for _, tt := range tests {
			t.Run(alg+"/"+tt.name, func(t *testing.T) {
				r := testRequest(t, body)
				r.Header.Set(h, tt.value)
				var err error
				if alg == AlgV11HMACSHA256 {
					err = SignRequestDerived(r, []byte(body), testAK, testSK, "r", "kms", testNow)
				} else {
					err = SignRequest(r, []byte(body), alg, testAK, testSK, testNow)
				}
				if !tt.ok {
					// SignRequest refuses to sign a wrong payload hash.
					if err == nil {
						t.Errorf("SignRequest accepted %s: %q", h, tt.value)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(r.Header.Get("Authorization"), strings.ToLower(h)) {
					t.Errorf("%s not signed: %s", h, r.Header.Get("Authorization"))
				}
				if _, err := VerifyRequest(t.Context(), r, []byte(tt.verifyBody), testNow, testKeys); err != nil {
					t.Errorf("VerifyRequest: %v", err)
				}
			})
		}
	}
}

func TestClockSkew(t *testing.T) {
	tests := []struct {
		offset time.Duration
		ok     bool
	}{
		{0, true},
		{MaxClockSkew, true},
		{-MaxClockSkew, true},
		{MaxClockSkew + time.Second, false},
		{-MaxClockSkew - time.Second, false},
		{24 * time.Hour, false},
	}
	for _, alg := range allAlgs {
		for _, tt := range tests {
			t.Run(alg+"/"+tt.offset.String(), func(t *testing.T) {
				r := signed(t, alg, "")
				_, err := VerifyRequest(t.Context(), r, nil, testNow.Add(tt.offset), testKeys)
				if tt.ok && err != nil {
					t.Errorf("VerifyRequest: %v", err)
				}
				if !tt.ok && !errors.Is(err, ErrUnauthenticated) {
					t.Errorf("VerifyRequest = %v, want ErrUnauthenticated", err)
				}
				// The log reason says which way the client's clock is off.
				side := "behind the server clock"
				if tt.offset < 0 {
					side = "ahead of the server clock"
				}
				if !tt.ok && !strings.Contains(err.Error(), side) {
					t.Errorf("VerifyRequest = %v, want it to say %q", err, side)
				}
			})
		}
	}
}

// signWith signs r with a chosen SignedHeaders list, bypassing the checks
// of SignRequest, so that VerifyRequest's own rules can be tested.
func signWith(t *testing.T, r *http.Request, body []byte, signedHeaders []string) {
	t.Helper()
	alg := algorithms[AlgHMACSHA256]
	cr, err := canonicalRequest(r, body, signedHeaders, alg)
	if err != nil {
		t.Fatal(err)
	}
	sts := stringToSign(alg, r.Header.Get("X-Sdk-Date"), "", cr)
	r.Header.Set("Authorization", AlgHMACSHA256+" Access="+testAK+", SignedHeaders="+strings.Join(signedHeaders, ";")+
		", Signature="+hex.EncodeToString(macOf(alg.newHash, []byte(testSK), sts)))
}

func TestSignedHeaderRules(t *testing.T) {
	t.Run("x-sdk-date not signed", func(t *testing.T) {
		r := testRequest(t, "")
		r.Header.Set("X-Sdk-Date", testDate)
		signWith(t, r, nil, []string{"user-agent", "x-project-id"})
		if _, err := VerifyRequest(t.Context(), r, nil, testNow, testKeys); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("VerifyRequest = %v, want ErrUnauthenticated", err)
		}
	})
	t.Run("host signed", func(t *testing.T) {
		r := testRequest(t, "")
		r.Header.Set("X-Sdk-Date", testDate)
		signWith(t, r, nil, []string{"host", "x-sdk-date"})
		verifyOK(t, r, nil, testNow)
		r.Host = "evil.test"
		if _, err := VerifyRequest(t.Context(), r, nil, testNow, testKeys); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("VerifyRequest with another Host = %v, want ErrUnauthenticated", err)
		}
	})
	t.Run("listed header absent", func(t *testing.T) {
		r := testRequest(t, "")
		r.Header.Set("X-Sdk-Date", testDate)
		r.Header.Set("X-Gone", "v")
		signWith(t, r, nil, []string{"x-gone", "x-sdk-date"})
		r.Header.Del("X-Gone")
		if _, err := VerifyRequest(t.Context(), r, nil, testNow, testKeys); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("VerifyRequest = %v, want ErrUnauthenticated", err)
		}
	})
	t.Run("header order is the signer's", func(t *testing.T) {
		r := testRequest(t, "")
		r.Header.Set("X-Sdk-Date", testDate)
		signWith(t, r, nil, []string{"x-sdk-date", "user-agent"})
		verifyOK(t, r, nil, testNow)
	})
}

func TestMalformed(t *testing.T) {
	good := signed(t, AlgHMACSHA256, "").Header.Get("Authorization")
	_, params, _ := strings.Cut(good, " ")
	sig := good[strings.Index(good, "Signature=")+len("Signature="):]
	tests := []struct {
		name string
		auth []string // nil: no header
		date []string
	}{
		{name: "no Authorization", date: []string{testDate}},
		{name: "empty", auth: []string{""}},
		{name: "two Authorization", auth: []string{good, good}},
		{name: "algorithm only", auth: []string{AlgHMACSHA256}},
		{name: "unknown algorithm", auth: []string{"SDK-HMAC-SHA1 " + params}},
		{name: "lower-case algorithm", auth: []string{"sdk-hmac-sha256 " + params}},
		{name: "AWS", auth: []string{"AWS4-HMAC-SHA256 Credential=AKTEST/20240101/r/s/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + sig}},
		{name: "no Signature", auth: []string{AlgHMACSHA256 + " Access=AKTEST, SignedHeaders=user-agent;x-multi;x-project-id;x-sdk-date"}},
		{name: "empty Signature", auth: []string{AlgHMACSHA256 + " Access=AKTEST, SignedHeaders=x-sdk-date, Signature="}},
		{name: "extra parameter", auth: []string{good + ", Extra=1"}},
		{name: "repeated parameter", auth: []string{good + ", Access=AKTEST"}},
		{name: "empty access key", auth: []string{AlgHMACSHA256 + " Access=, SignedHeaders=x-sdk-date, Signature=" + sig}},
		{name: "Credential for SDK algorithm", auth: []string{AlgHMACSHA256 + " Credential=AKTEST, SignedHeaders=x-sdk-date, Signature=" + sig}},
		{name: "Access for V11", auth: []string{AlgV11HMACSHA256 + " Access=AKTEST, SignedHeaders=x-sdk-date, Signature=" + sig}},
		{name: "V11 short scope", auth: []string{AlgV11HMACSHA256 + " Credential=AKTEST/20240101/r, SignedHeaders=x-sdk-date, Signature=" + sig}},
		{name: "V11 bad scope date", auth: []string{AlgV11HMACSHA256 + " Credential=AKTEST/2024-1-1/r/kms, SignedHeaders=x-sdk-date, Signature=" + sig}},
		{name: "V11 other day", auth: []string{AlgV11HMACSHA256 + " Credential=AKTEST/20231231/r/kms, SignedHeaders=x-sdk-date, Signature=" + sig}},
		{name: "signature not hex", auth: []string{strings.Replace(good, "Signature=", "Signature=zz", 1)}},
		{name: "signature too long", auth: []string{good + strings.Repeat("00", 100)}},
		{name: "upper-case signed header", auth: []string{strings.Replace(good, "user-agent", "User-Agent", 1)}},
		{name: "empty signed header", auth: []string{strings.Replace(good, "user-agent;", "user-agent;;", 1)}},
		{name: "repeated signed header", auth: []string{strings.Replace(good, "user-agent;", "user-agent;user-agent;", 1)}},
		{name: "no X-Sdk-Date", auth: []string{good}},
		{name: "two X-Sdk-Date", auth: []string{good}, date: []string{testDate, testDate}},
		{name: "ISO date", auth: []string{good}, date: []string{"2024-01-01T00:00:00Z"}},
		{name: "date without Z", auth: []string{good}, date: []string{"20240101T000000"}},
		{name: "invalid date", auth: []string{good}, date: []string{"20241301T000000Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := testRequest(t, "")
			r.Header["Authorization"] = tt.auth
			r.Header["X-Sdk-Date"] = tt.date
			if tt.auth != nil && tt.date == nil && !strings.Contains(tt.name, "X-Sdk-Date") {
				r.Header.Set("X-Sdk-Date", testDate)
			}
			called := false
			lookup := func(ctx context.Context, ak string) ([]byte, error) {
				called = true
				return testKeys(ctx, ak)
			}
			_, err := VerifyRequest(t.Context(), r, nil, testNow, lookup)
			if !errors.Is(err, ErrUnauthenticated) {
				t.Fatalf("VerifyRequest = %v, want ErrUnauthenticated", err)
			}
			var ae *AuthError
			if !errors.As(err, &ae) || ae.Reason == "" {
				t.Errorf("error %v carries no reason", err)
			}
			if called {
				t.Error("looked up the access key of a malformed request")
			}
		})
	}
}

func TestMalformedQuery(t *testing.T) {
	r := signed(t, AlgHMACSHA256, "")
	r.URL.RawQuery = "a=%zz"
	if _, err := VerifyRequest(t.Context(), r, nil, testNow, testKeys); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("VerifyRequest = %v, want ErrUnauthenticated", err)
	}
}

func TestLookupErrors(t *testing.T) {
	errStore := errors.New("store is down")
	tests := []struct {
		name        string
		lookup      SecretLookup
		wantUnauth  bool
		wantWrapped error
	}{
		{"unknown access key", keys(nil), true, nil},
		{"wrapped unauthenticated", func(context.Context, string) ([]byte, error) {
			return nil, errors.Join(errors.New("disabled"), ErrUnauthenticated)
		}, true, nil},
		{"store failure", func(context.Context, string) ([]byte, error) { return nil, errStore }, false, errStore},
		{"empty secret", func(context.Context, string) ([]byte, error) { return nil, nil }, true, nil},
		{"wrong secret", keys(map[string]string{testAK: "SKWRONG"}), true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := signed(t, AlgHMACSHA256, "")
			_, err := VerifyRequest(t.Context(), r, nil, testNow, tt.lookup)
			if err == nil {
				t.Fatal("VerifyRequest succeeded")
			}
			if got := errors.Is(err, ErrUnauthenticated); got != tt.wantUnauth {
				t.Errorf("errors.Is(%v, ErrUnauthenticated) = %v, want %v", err, got, tt.wantUnauth)
			}
			if tt.wantWrapped != nil && !errors.Is(err, tt.wantWrapped) {
				t.Errorf("error %v does not wrap %v", err, tt.wantWrapped)
			}
		})
	}
}

// TestImports enforces the package's allowed imports: the standard library
// and github.com/emmansun/gmsm (golang.org/x/crypto is allowed too).
func TestImports(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range af.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			first, _, _ := strings.Cut(p, "/")
			if strings.Contains(first, ".") && !strings.HasPrefix(p, "github.com/emmansun/gmsm/") && !strings.HasPrefix(p, "golang.org/x/crypto/") {
				t.Errorf("%s imports %s", f, p)
			}
		}
	}
}

func FuzzVerifyRequest(f *testing.F) {
	for _, v := range loadSDKVectors(f) {
		i := strings.Index(v.Request, "Authorization: ") + len("Authorization: ")
		f.Add(v.Request[i:i+strings.Index(v.Request[i:], "\r\n")], v.Now, "/v1.0/p/kms/describe-key", "a=1")
	}
	f.Add("V11-HMAC-SHA256 Credential=a/20240101/r/s, SignedHeaders=x-sdk-date, Signature=00", testDate, "/", "")
	f.Fuzz(func(t *testing.T, auth, date, path, query string) {
		r := &http.Request{Method: "POST", URL: &url.URL{Path: path, RawQuery: query}, Header: http.Header{}, Host: "h"}
		r.Header.Set("Authorization", auth)
		r.Header.Set("X-Sdk-Date", date)
		r.Header.Set("User-Agent", testUA)
		r.Header.Set("X-Project-Id", testProject)
		ak, err := VerifyRequest(t.Context(), r, nil, testNow, testKeys)
		if err == nil {
			// Reaching here needs a valid signature over the fuzzed
			// request: only possible for the seeds' exact requests.
			if ak != testAK {
				t.Errorf("accepted ak %q", ak)
			}
			return
		}
		if !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("VerifyRequest = %v, want ErrUnauthenticated", err)
		}
	})
}
