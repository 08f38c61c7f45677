package auth

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrTokenExpired is wrapped by the error of [TokenSigner.Verify] for a
// well-formed, authentic token whose expiry has passed. It wraps
// [ErrUnauthenticated].
var ErrTokenExpired = fmt.Errorf("%w: token expired", ErrUnauthenticated)

// TokenClaims is what an IAM token says about its holder (reference auth.md
// §5): the user, the account (Huawei "domain") and, for project-scoped
// tokens, the project.
type TokenClaims struct {
	UserID      string
	UserName    string
	AccountID   string
	AccountName string
	ProjectID   string
	ProjectName string
	// Methods are the authentication methods, e.g. "password".
	Methods   []string
	IssuedAt  time.Time
	ExpiresAt time.Time
}

const (
	tokenPrefix = "kmsd1."
	// maxTokenLen bounds the work Verify does for hostile input.
	maxTokenLen = 8 << 10
	// TokenKeySize is the size of a TokenSigner key.
	TokenKeySize = 32
)

var b64 = base64.RawURLEncoding.Strict()

// tokenBody is the JSON inside a token. Field names are short and fixed;
// a change to them needs a new version prefix.
type tokenBody struct {
	UserID      string    `json:"uid"`
	UserName    string    `json:"un"`
	AccountID   string    `json:"aid"`
	AccountName string    `json:"an"`
	ProjectID   string    `json:"pid,omitempty"`
	ProjectName string    `json:"pn,omitempty"`
	Methods     []string  `json:"m"`
	IssuedAt    time.Time `json:"iat"`
	ExpiresAt   time.Time `json:"exp"`
}

// TokenSigner issues and verifies IAM tokens (the X-Subject-Token and
// X-Auth-Token values). Any server holding the same key verifies a token
// without a database lookup, so all nodes must share the key; servers
// derive it from the root key.
//
// Format, version 1:
//
//	"kmsd1." + base64url(claims JSON) + "." + base64url(HMAC-SHA256(key, "kmsd1." + base64url(claims JSON)))
//
// base64url is unpadded (RFC 4648 §5) and must be canonical. The claims JSON
// holds uid, un, aid, an, pid, pn, m, iat and exp (times in RFC 3339 with
// nanoseconds). Tokens are authenticated, not encrypted: the claims are
// readable by their holder. They cannot be revoked before they expire.
//
// A TokenSigner is safe for concurrent use.
type TokenSigner struct {
	key []byte
}

// NewTokenSigner returns a TokenSigner with a copy of key, which must be
// TokenKeySize (32) bytes.
func NewTokenSigner(key []byte) (*TokenSigner, error) {
	if len(key) != TokenKeySize {
		return nil, fmt.Errorf("auth: token key is %d bytes, want %d", len(key), TokenKeySize)
	}
	return &TokenSigner{key: bytes.Clone(key)}, nil
}

// Issue returns a token carrying c. c.ExpiresAt must be set. Times are kept
// to the nanosecond and come back from Verify in UTC.
func (s *TokenSigner) Issue(c TokenClaims) (string, error) {
	if c.ExpiresAt.IsZero() {
		return "", errors.New("auth: token claims have no expiry")
	}
	body, err := json.Marshal(tokenBody{
		UserID: c.UserID, UserName: c.UserName, AccountID: c.AccountID, AccountName: c.AccountName,
		ProjectID: c.ProjectID, ProjectName: c.ProjectName, Methods: c.Methods,
		IssuedAt: c.IssuedAt.UTC(), ExpiresAt: c.ExpiresAt.UTC(),
	})
	if err != nil {
		return "", fmt.Errorf("auth: encode token: %w", err)
	}
	signed := tokenPrefix + b64.EncodeToString(body)
	tok := signed + "." + b64.EncodeToString(s.mac(signed))
	if len(tok) > maxTokenLen {
		return "", errors.New("auth: token too long")
	}
	return tok, nil
}

// Verify checks token and returns its claims. A token that is malformed,
// of another version or not signed with s's key is an error wrapping
// [ErrUnauthenticated]; one that is authentic but not valid at now (now is
// at or after ExpiresAt) wraps [ErrTokenExpired] too. The MAC is checked,
// in constant time, before the claims are decoded.
func (s *TokenSigner) Verify(token string, now time.Time) (TokenClaims, error) {
	if len(token) > maxTokenLen {
		return TokenClaims{}, authErrorf("token too long")
	}
	if !strings.HasPrefix(token, tokenPrefix) {
		return TokenClaims{}, authErrorf("unknown token format")
	}
	i := strings.LastIndexByte(token, '.')
	if i < len(tokenPrefix) {
		return TokenClaims{}, authErrorf("malformed token")
	}
	signed, tag := token[:i], token[i+1:]
	mac, err := b64.DecodeString(tag)
	if err != nil || !hmac.Equal(mac, s.mac(signed)) {
		return TokenClaims{}, authErrorf("bad token MAC")
	}
	body, err := b64.DecodeString(signed[len(tokenPrefix):])
	if err != nil {
		return TokenClaims{}, authErrorf("malformed token claims")
	}
	var tb tokenBody
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&tb); err != nil || dec.More() {
		return TokenClaims{}, authErrorf("malformed token claims")
	}
	c := TokenClaims{
		UserID: tb.UserID, UserName: tb.UserName, AccountID: tb.AccountID, AccountName: tb.AccountName,
		ProjectID: tb.ProjectID, ProjectName: tb.ProjectName, Methods: tb.Methods,
		IssuedAt: tb.IssuedAt.UTC(), ExpiresAt: tb.ExpiresAt.UTC(),
	}
	if !now.Before(c.ExpiresAt) {
		return TokenClaims{}, &AuthError{Reason: "token of user " + c.UserID + " expired at " + c.ExpiresAt.Format(time.RFC3339), Err: ErrTokenExpired}
	}
	return c, nil
}

func (s *TokenSigner) mac(signed string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(signed))
	return m.Sum(nil)
}
