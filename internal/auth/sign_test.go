package auth

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSignRequestErrors(t *testing.T) {
	tests := []struct {
		name, alg, ak, sk string
	}{
		{"unknown algorithm", "SDK-HMAC-SHA1", testAK, testSK},
		{"V11 via SignRequest", AlgV11HMACSHA256, testAK, testSK},
		{"empty ak", AlgHMACSHA256, "", testSK},
		{"empty sk", AlgHMACSHA256, testAK, ""},
		{"ak with comma", AlgHMACSHA256, "A,B", testSK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := SignRequest(testRequest(t, ""), nil, tt.alg, tt.ak, tt.sk, testNow); err == nil {
				t.Error("SignRequest succeeded")
			}
		})
	}
	if err := SignRequestDerived(testRequest(t, ""), nil, testAK, testSK, "", "kms", testNow); err == nil {
		t.Error("SignRequestDerived with no region succeeded")
	}
}

func TestSignRequestDefaultAlgorithm(t *testing.T) {
	r := testRequest(t, "")
	r.Header.Set("Authorization", "stale")
	if err := SignRequest(r, nil, "", testAK, testSK, testNow); err != nil {
		t.Fatal(err)
	}
	if got := r.Header.Get("Authorization"); !strings.HasPrefix(got, AlgHMACSHA256+" Access="+testAK+", ") {
		t.Errorf("Authorization = %q", got)
	}
	verifyOK(t, r, nil, testNow)
}

func TestSignedHeaderSelection(t *testing.T) {
	h := http.Header{}
	for _, k := range []string{"Content-Type", "Content-Type-Extra", "X_Under", "Host", "Content-Length", "User-Agent", "X-Project-Id", "X-Sdk-Date", "X-Security-Token"} {
		h[k] = []string{"v"}
	}
	h["X-Empty"] = nil
	want := []string{"user-agent", "x-project-id", "x-sdk-date", "x-security-token"}
	if diff := cmp.Diff(want, signedHeaderNames(h)); diff != "" {
		t.Errorf("signedHeaderNames (-want +got):\n%s", diff)
	}
}
