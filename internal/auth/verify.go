package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emmansun/gmsm/sm2"
)

// SecretLookup returns the secret key of an access key. An unknown or
// inactive access key is an error that wraps [ErrUnauthenticated]; any other
// error is a failure of the store.
type SecretLookup func(ctx context.Context, ak string) (sk []byte, err error)

// VerifyRequest checks the AK/SK signature of r, whose complete body is
// body, against the secret key that lookup returns for the request's access
// key, and returns that access key. It implements reference auth.md §3:
// every algorithm of the Huawei Cloud SDKs is accepted (the Alg constants).
// r must be the request as received: its Method, URL.Path, URL.RawQuery,
// Host and Header are signed.
//
// The Authorization header must name a supported algorithm; SignedHeaders
// must include x-sdk-date and every listed header must be present ("host"
// is r.Host); X-Sdk-Date must be within [MaxClockSkew] of now. The payload
// hash is that of body, unless the algorithm's payload header
// (X-Sdk-Content-Sha256, or X-Sdk-Content-Sm3 for the SM3 algorithms) is
// present and signed: then its value is used if it is [UnsignedPayload] —
// the client chose to leave the body unauthenticated — and otherwise it must
// equal the body's hash. For AlgV11HMACSHA256 the credential scope's day
// must be that of X-Sdk-Date; its region and service are bound by the
// signature but not checked. Signatures are compared in constant time.
//
// Every failure wraps [ErrUnauthenticated] (as an [*AuthError] whose reason
// is for logs only), including an error of lookup that wraps it. Any other
// error of lookup is returned wrapped, so that the caller can answer 500.
// VerifyRequest does not read r.Body.
func VerifyRequest(ctx context.Context, r *http.Request, body []byte, now time.Time, lookup SecretLookup) (ak string, err error) {
	v := getVerifier()
	defer putVerifier(v)
	if err := v.prepare(r, body, now); err != nil {
		return "", err
	}
	sk, err := lookup(ctx, v.a.ak)
	if err := v.finish(sk, err); err != nil {
		return "", err
	}
	return v.a.ak, nil
}

// A verifier checks one request's signature. It holds the scratch space
// of the check (the parsed header, the canonical request and string to
// sign, the HMAC's hashes), so that verifying a request allocates
// nothing; verifiers are pooled (getVerifier, putVerifier).
type verifier struct {
	a authorization
	// buf holds the canonical request followed by the string to sign,
	// which is buf[sts:].
	buf []byte
	sts int
	// date is the request's X-Sdk-Date.
	date time.Time
	// inner and outer are the HMAC's hashes, by hashID, made on first use.
	inner, outer [numHashes]hash.Hash
	pad          [maxBlockSize]byte
	sum          [maxHashSize]byte
	// pre is what PrecheckSigned established with this verifier.
	pre precheck
}

// precheck is what PrecheckSigned established of a request: the
// X-Sdk-Date that checkHeaders accepted and the access key's secret and
// owner.
type precheck struct {
	date string
	sk   []byte
	id   Identity
}

const (
	// maxBlockSize and maxHashSize bound the hashes of the algorithms:
	// SHA-256 and SM3 both have 64-byte blocks and 32-byte sums.
	maxBlockSize = 64
	maxHashSize  = 32
	// maxPooledBuffer bounds the canonical-request buffer a pooled
	// verifier keeps; a request with larger headers gets its own.
	maxPooledBuffer = 16 << 10
)

var verifiers = sync.Pool{New: func() any { return &verifier{buf: make([]byte, 0, 1024)} }}

func getVerifier() *verifier { return verifiers.Get().(*verifier) }

func putVerifier(v *verifier) {
	if cap(v.buf) > maxPooledBuffer {
		v.buf = nil
	}
	v.buf = v.buf[:0]
	v.a.reset()
	v.pre = precheck{}
	clear(v.pad[:])
	clear(v.sum[:])
	verifiers.Put(v)
}

// prepare parses the Authorization header, checks the date and builds the
// string to sign: every check of VerifyRequest that needs no secret key.
func (v *verifier) prepare(r *http.Request, body []byte, now time.Time) error {
	date, err := v.checkHeaders(r, now)
	if err != nil {
		return err
	}
	return v.build(r, body, date)
}

// build builds the canonical request and the string to sign, once
// checkHeaders has accepted the headers (date is the X-Sdk-Date it
// returned).
func (v *verifier) build(r *http.Request, body []byte, date string) error {
	a := &v.a
	var err error
	v.buf, err = appendCanonicalRequest(v.buf[:0], r, body, a.signedHeaders, a.alg)
	if err != nil {
		return err
	}
	v.sts = len(v.buf)
	v.buf = appendStringToSign(v.buf, a.alg, date, a.scope, v.buf[:v.sts])
	return nil
}

// checkHeaders parses the Authorization header into v.a and checks the
// signed X-Sdk-Date against now: the checks that need neither the body
// nor a secret key. It returns the date.
func (v *verifier) checkHeaders(r *http.Request, now time.Time) (string, error) {
	vals := r.Header.Values(headerAuthorization)
	if len(vals) != 1 {
		return "", authErrorf("want one Authorization header, got %d", len(vals))
	}
	a := &v.a
	if err := a.parse(vals[0]); err != nil {
		return "", err
	}
	if !slices.Contains(a.signedHeaders, "x-sdk-date") {
		return "", authErrorf("x-sdk-date is not signed")
	}
	dates := r.Header.Values(headerDate)
	if len(dates) != 1 {
		return "", authErrorf("want one X-Sdk-Date header, got %d", len(dates))
	}
	date := dates[0]
	t, ok := parseDate(date)
	if !ok {
		return "", authErrorf("malformed X-Sdk-Date %q", date)
	}
	v.date = t
	if skew := now.Sub(t); skew > MaxClockSkew || skew < -MaxClockSkew {
		side := "behind"
		if skew < 0 {
			side, skew = "ahead of", -skew
		}
		return "", authErrorf("X-Sdk-Date %s is %v %s the server clock (at most %v either way); set the client's clock right", date, skew.Round(time.Second), side, MaxClockSkew)
	}
	if a.alg.kind == kindDerived && !strings.HasPrefix(a.scope, date[:len(derivedDateLayout)]+"/") {
		return "", authErrorf("credential scope %q is not for the day of X-Sdk-Date %s", a.scope, date)
	}
	return date, nil
}

// finish checks the signature with the secret key that the lookup of the
// access key returned, or maps the lookup's error (see VerifyRequest).
func (v *verifier) finish(sk []byte, err error) error {
	a := &v.a
	if errors.Is(err, ErrUnauthenticated) {
		return &AuthError{Reason: fmt.Sprintf("access key %q", a.ak), Err: err}
	}
	if err != nil {
		return fmt.Errorf("auth: look up access key %q: %w", a.ak, err)
	}
	if len(sk) == 0 {
		return authErrorf("access key %q has an empty secret key", a.ak)
	}
	if !v.verifySignature(sk) {
		return authErrorf("%s signature mismatch for access key %q; string to sign %q", a.alg.name, a.ak, v.buf[v.sts:])
	}
	return nil
}

// verifySignature checks the signature over the string to sign with the
// key that sk (and, for the asymmetric algorithms and V11, the access key)
// determines.
func (v *verifier) verifySignature(sk []byte) bool {
	a := &v.a
	sts := v.buf[v.sts:]
	switch a.alg.kind {
	case kindHMAC:
		return hmac.Equal(a.signature, v.mac(a.alg, sk, sts))
	case kindDerived:
		key, err := derivedKey(a.ak, sk, a.scope)
		if err != nil {
			return false
		}
		return hmac.Equal(a.signature, v.mac(a.alg, key, sts))
	case kindECDSA:
		priv, err := ecdsaKey(a.ak, sk)
		if err != nil {
			return false
		}
		digest := sha256.Sum256(sts)
		return ecdsa.VerifyASN1(&priv.PublicKey, digest[:], a.signature)
	case kindSM2:
		priv, err := sm2Key(a.ak, sk)
		if err != nil {
			return false
		}
		return sm2.VerifyASN1WithSM2(&priv.PublicKey, []byte(defaultSM2UID), sts, a.signature)
	}
	return false
}
