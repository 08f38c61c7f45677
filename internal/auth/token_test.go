package auth

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var (
	tokenKey = bytes.Repeat([]byte{0x42}, TokenKeySize)
	issuedAt = time.Date(2024, 1, 1, 0, 0, 0, 123456789, time.UTC)
	claims   = TokenClaims{
		UserID: "u1", UserName: "alice", AccountID: "a1", AccountName: "acme",
		ProjectID: testProject, ProjectName: "cn-north-4", Methods: []string{"password"},
		IssuedAt: issuedAt, ExpiresAt: issuedAt.Add(24 * time.Hour),
	}
)

func newSigner(t testing.TB, key []byte) *TokenSigner {
	t.Helper()
	s, err := NewTokenSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestTokenKnownAnswer pins format version 1: a change to the encoding
// breaks every token in circulation and needs a new version prefix.
func TestTokenKnownAnswer(t *testing.T) {
	tok, err := newSigner(t, tokenKey).Issue(claims)
	if err != nil {
		t.Fatal(err)
	}
	const want = "kmsd1.eyJ1aWQiOiJ1MSIsInVuIjoiYWxpY2UiLCJhaWQiOiJhMSIsImFuIjoiYWNtZSIsInBpZCI6IjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5YWJjZGVmIiwicG4iOiJjbi1ub3J0aC00IiwibSI6WyJwYXNzd29yZCJdLCJpYXQiOiIyMDI0LTAxLTAxVDAwOjAwOjAwLjEyMzQ1Njc4OVoiLCJleHAiOiIyMDI0LTAxLTAyVDAwOjAwOjAwLjEyMzQ1Njc4OVoifQ.MmQiVEAsfyqo2P5yMTL4TNpukYE8A1usbV4Ec1GMY0M"
	if tok != want {
		t.Errorf("Issue =\n%s\nwant\n%s", tok, want)
	}
}

func TestTokenRoundTrip(t *testing.T) {
	s := newSigner(t, tokenKey)
	local := claims
	local.IssuedAt = local.IssuedAt.In(time.FixedZone("CST", 8*3600))
	unscoped := claims
	unscoped.ProjectID, unscoped.ProjectName, unscoped.Methods = "", "", nil
	for name, c := range map[string]TokenClaims{"project": claims, "local time": local, "unscoped": unscoped} {
		t.Run(name, func(t *testing.T) {
			tok, err := s.Issue(c)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(tok, "kmsd1.") {
				t.Errorf("token %q lacks the version prefix", tok)
			}
			got, err := s.Verify(tok, issuedAt)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c, got); diff != "" {
				t.Errorf("claims (-issued +verified):\n%s", diff)
			}
			if got.IssuedAt.Location() != time.UTC || got.ExpiresAt.Location() != time.UTC {
				t.Error("verified times are not in UTC")
			}
		})
	}
}

func TestTokenTamper(t *testing.T) {
	s := newSigner(t, tokenKey)
	tok, err := s.Issue(claims)
	if err != nil {
		t.Fatal(err)
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
	// Every single-character change, at every position, must fail.
	for i := range len(tok) {
		for _, c := range []byte(alphabet) {
			if c == tok[i] {
				continue
			}
			bad := tok[:i] + string(c) + tok[i+1:]
			if _, err := s.Verify(bad, issuedAt); !errors.Is(err, ErrUnauthenticated) {
				t.Fatalf("Verify accepted %q (position %d changed to %q): %v", bad, i, c, err)
			}
		}
	}
	for name, bad := range map[string]string{
		"empty":          "",
		"no prefix":      strings.TrimPrefix(tok, "kmsd1."),
		"other version":  "kmsd2." + strings.TrimPrefix(tok, "kmsd1."),
		"truncated":      tok[:len(tok)-1],
		"appended":       tok + "A",
		"no MAC":         tok[:strings.LastIndexByte(tok, '.')],
		"empty MAC":      tok[:strings.LastIndexByte(tok, '.')+1],
		"extra part":     tok + ".x",
		"prefix only":    "kmsd1.",
		"padded base64":  tok + "=",
		"too long":       "kmsd1." + strings.Repeat("A", maxTokenLen),
		"whitespace":     " " + tok,
		"other MAC":      tok[:strings.LastIndexByte(tok, '.')+1] + strings.Repeat("A", 43),
		"swapped halves": tok[strings.LastIndexByte(tok, '.')+1:] + "." + tok[:strings.LastIndexByte(tok, '.')],
	} {
		t.Run(name, func(t *testing.T) {
			_, err := s.Verify(bad, issuedAt)
			if !errors.Is(err, ErrUnauthenticated) {
				t.Errorf("Verify = %v, want ErrUnauthenticated", err)
			}
			if errors.Is(err, ErrTokenExpired) {
				t.Errorf("Verify = %v, want not ErrTokenExpired", err)
			}
		})
	}
}

func TestTokenExpiry(t *testing.T) {
	s := newSigner(t, tokenKey)
	tok, err := s.Issue(claims)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		now     time.Time
		expired bool
	}{
		{claims.IssuedAt, false},
		{claims.ExpiresAt.Add(-time.Nanosecond), false},
		{claims.ExpiresAt, true},
		{claims.ExpiresAt.Add(time.Nanosecond), true},
		{claims.ExpiresAt.Add(365 * 24 * time.Hour), true},
	}
	for _, tt := range tests {
		t.Run(tt.now.Format(time.RFC3339Nano), func(t *testing.T) {
			_, err := s.Verify(tok, tt.now)
			if !tt.expired {
				if err != nil {
					t.Errorf("Verify: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrTokenExpired) || !errors.Is(err, ErrUnauthenticated) {
				t.Errorf("Verify = %v, want ErrTokenExpired and ErrUnauthenticated", err)
			}
			var ae *AuthError
			if !errors.As(err, &ae) || !strings.Contains(ae.Reason, "expired") {
				t.Errorf("Verify = %v, want an *AuthError saying expired", err)
			}
		})
	}
}

func TestTokenWrongKey(t *testing.T) {
	tok, err := newSigner(t, tokenKey).Issue(claims)
	if err != nil {
		t.Fatal(err)
	}
	other := bytes.Clone(tokenKey)
	other[31] ^= 1
	_, err = newSigner(t, other).Verify(tok, issuedAt)
	if !errors.Is(err, ErrUnauthenticated) || errors.Is(err, ErrTokenExpired) {
		t.Errorf("Verify with another key = %v, want ErrUnauthenticated", err)
	}
}

func TestNewTokenSigner(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33, 64} {
		if _, err := NewTokenSigner(make([]byte, n)); err == nil {
			t.Errorf("NewTokenSigner accepted a %d-byte key", n)
		}
	}
	// The signer keeps its own copy of the key.
	key := bytes.Clone(tokenKey)
	s := newSigner(t, key)
	tok, err := s.Issue(claims)
	if err != nil {
		t.Fatal(err)
	}
	key[0] ^= 1
	if _, err := s.Verify(tok, issuedAt); err != nil {
		t.Errorf("Verify after the caller changed its key slice: %v", err)
	}
}

func TestIssueErrors(t *testing.T) {
	s := newSigner(t, tokenKey)
	c := claims
	c.ExpiresAt = time.Time{}
	if _, err := s.Issue(c); err == nil {
		t.Error("Issue accepted claims without expiry")
	}
	c = claims
	c.UserName = strings.Repeat("x", maxTokenLen)
	if _, err := s.Issue(c); err == nil {
		t.Error("Issue accepted an oversized token")
	}
}

// FuzzTokenVerify checks that Verify never panics and accepts only tokens
// that Issue would produce, byte for byte.
func FuzzTokenVerify(f *testing.F) {
	s := newSigner(f, tokenKey)
	for _, c := range []TokenClaims{claims, {ExpiresAt: issuedAt.Add(time.Hour)}} {
		tok, err := s.Issue(c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(tok)
	}
	f.Add("kmsd1..")
	f.Add("kmsd1.e30.AAAA")
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := s.Verify(tok, issuedAt)
		if err != nil {
			if !errors.Is(err, ErrUnauthenticated) {
				t.Errorf("Verify = %v, want ErrUnauthenticated", err)
			}
			return
		}
		again, err := s.Issue(c)
		if err != nil {
			t.Fatal(err)
		}
		if again != tok {
			t.Errorf("Verify accepted %q, which Issue encodes as %q", tok, again)
		}
	})
}
