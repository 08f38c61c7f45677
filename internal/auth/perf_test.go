package auth

import (
	"context"
	"crypto/hmac"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestVerifierMAC checks the verifier's HMAC, built on reused hashes,
// against crypto/hmac for both hashes, keys shorter than, as long as and
// longer than the block, and a verifier reused across them.
func TestVerifierMAC(t *testing.T) {
	v := getVerifier()
	defer putVerifier(v)
	for _, name := range []string{AlgHMACSHA256, AlgHMACSM3} {
		alg := algorithms[name]
		for _, keyLen := range []int{0, 1, 20, 40, 63, 64, 65, 128, 200} {
			for _, msgLen := range []int{0, 1, 55, 64, 100, 1000} {
				key := []byte(strings.Repeat("k", keyLen))
				msg := strings.Repeat("m", msgLen)
				want := macOf(alg.newHash, key, msg)
				if got := v.mac(alg, key, []byte(msg)); !hmac.Equal(got, want) {
					t.Errorf("%s key %d msg %d: got %x, want %x", name, keyLen, msgLen, got, want)
				}
				if v.pad != [maxBlockSize]byte{} {
					t.Fatalf("%s: pad not cleared", name)
				}
			}
		}
	}
}

// TestMatchActionUnicode checks that text outside ASCII is still compared
// by Unicode case rules: the Kelvin sign lower-cases to "k".
func TestMatchActionUnicode(t *testing.T) {
	if !matchAction("kms:cm\u212a:get", "kms:cmk:get") {
		t.Error("Kelvin sign K did not match k")
	}
	if matchAction("kms:cmk:get\u00e9", "kms:cmk:get") {
		t.Error("é matched nothing")
	}
}

// TestHotPathAllocs keeps request verification and authorization free of
// allocations: they run on every request.
func TestHotPathAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's sync.Pool drops items")
	}
	r := sdkLike(t)
	body := []byte(`{"key_id":"k"}`)
	sk := []byte(testSK)
	lookup := func(context.Context, string) ([]byte, error) { return sk, nil }
	full, _ := SystemRole(RoleKMSCMKFullAccess)
	policies := []Policy{allow("kms:cmk:get*"), full}
	tests := map[string]func(){
		"VerifyRequest": func() {
			if _, err := VerifyRequest(t.Context(), r, body, testNow, lookup); err != nil {
				t.Fatal(err)
			}
		},
		"Allowed": func() {
			if !Allowed(policies, "kms:cmk:getInstance") {
				t.Fatal("not allowed")
			}
		},
	}
	for name, f := range tests {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s: %v allocations, want 0", name, n)
		}
	}
}

// sdkLike returns a request signed like the SDK's data-path calls: three
// signed headers, no query.
func sdkLike(t testing.TB) *http.Request {
	r, err := http.NewRequest("POST", "http://kms.test/v1.0/"+testProject+"/kms/encrypt-data", strings.NewReader(`{"key_id":"k"}`))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/json;charset=UTF-8")
	r.Header.Set("User-Agent", testUA)
	r.Header.Set("X-Project-Id", testProject)
	if err := SignRequest(r, []byte(`{"key_id":"k"}`), AlgHMACSHA256, testAK, testSK, testNow); err != nil {
		t.Fatal(err)
	}
	return r
}

func BenchmarkVerifyRequest(b *testing.B) {
	for _, size := range []int{0, 1024} {
		b.Run(fmt.Sprintf("body=%d", size), func(b *testing.B) {
			body := []byte(strings.Repeat("x", size))
			r, err := http.NewRequest("POST", "http://kms.test/v1.0/"+testProject+"/kms/encrypt-data", nil)
			if err != nil {
				b.Fatal(err)
			}
			r.Header.Set("User-Agent", testUA)
			r.Header.Set("X-Project-Id", testProject)
			if err := SignRequest(r, body, AlgHMACSHA256, testAK, testSK, testNow); err != nil {
				b.Fatal(err)
			}
			sk := []byte(testSK)
			lookup := func(context.Context, string) ([]byte, error) { return sk, nil }
			b.ReportAllocs()
			for b.Loop() {
				if _, err := VerifyRequest(b.Context(), r, body, testNow, lookup); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkAllowed(b *testing.B) {
	p, _ := SystemRole(RoleKMSCMKFullAccess)
	policies := []Policy{p}
	b.ReportAllocs()
	for b.Loop() {
		Allowed(policies, "kms:cmk:crypto")
	}
}

// FuzzParseDate checks parseDate against time.Parse with the round trip
// VerifyRequest used to make: the same dates are accepted, as the same
// instants.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{testDate, "20240229T235959Z", "20230229T000000Z", "20241231T240000Z", "20240101T006000Z",
		"20240101T000060Z", "2024010T1000000Z", "20240101t000000Z", "20240101T000000z", "00000101T000000Z", "-0010101T000000Z",
		"+0240101T000000Z", "2024 101T000000Z", "20241301T000000Z", "20240100T000000Z", "20240431T000000Z", "9999123 T235959Z",
		"20240101T1:0000Z", "20240101T000000Z ", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseDate(s)
		want, err := time.Parse(DateLayout, s)
		wantOK := err == nil && want.Format(DateLayout) == s
		if ok != wantOK || ok && !got.Equal(want) {
			t.Fatalf("parseDate(%q) = %v, %v; time.Parse gives %v, %v", s, got, ok, want, wantOK)
		}
	})
}
