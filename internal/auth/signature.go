package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"math/big"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
)

// ErrUnauthenticated is wrapped by every error that means "the caller could
// not be authenticated": a missing, garbled, stale or wrongly signed request,
// an unknown access key, or a bad or expired token. Callers answer all of
// them with the same public 401 (reference errors.md: APIGW.0301) and log the
// private cause.
var ErrUnauthenticated = errors.New("auth: unauthenticated")

// AuthError is an authentication failure with a private reason for logs.
// It matches [ErrUnauthenticated] with errors.Is, and Err as well when set.
// Reason and Err never contain secret keys, expected signatures or tokens,
// but they may name the access key and describe the request; they must
// never be sent to the client.
type AuthError struct {
	// Reason says what was wrong, for logs.
	Reason string
	// Err is an optional underlying error, such as the error of a
	// [SecretLookup] or [ErrTokenExpired].
	Err error
}

func (e *AuthError) Error() string {
	s := "auth: unauthenticated: " + e.Reason
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns ErrUnauthenticated and, if set, Err.
func (e *AuthError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrUnauthenticated}
	}
	return []error{ErrUnauthenticated, e.Err}
}

func authErrorf(format string, args ...any) error {
	return &AuthError{Reason: fmt.Sprintf(format, args...)}
}

// Signing algorithms, as named in the Authorization header (reference
// auth.md §3.2 and §3.6).
const (
	// AlgHMACSHA256 is the SDK default: HMAC-SHA256 keyed with the SK.
	AlgHMACSHA256 = "SDK-HMAC-SHA256"
	// AlgHMACSM3 uses SM3 for the payload hash, the canonical-request hash
	// and the HMAC.
	AlgHMACSM3 = "SDK-HMAC-SM3"
	// AlgECDSAP256SHA256 signs with a P-256 key derived from (AK, SK).
	AlgECDSAP256SHA256 = "SDK-ECDSA-P256-SHA256"
	// AlgSM2SM3 signs with an SM2 key derived from (AK, SK).
	AlgSM2SM3 = "SDK-SM2-SM3"
	// AlgV11HMACSHA256 is derived AK/SK signing: HMAC-SHA256 keyed with
	// an HKDF of the SK bound to a date, region and service.
	AlgV11HMACSHA256 = "V11-HMAC-SHA256"
)

const (
	// DateLayout is the time layout of the X-Sdk-Date header.
	DateLayout = "20060102T150405Z"
	// MaxClockSkew is how far X-Sdk-Date may be from the server clock, in
	// either direction (reference auth.md §3.4 check 4).
	MaxClockSkew = 15 * time.Minute
	// UnsignedPayload is the payload-hash header value with which a client
	// leaves the body out of the signature (reference auth.md §2).
	UnsignedPayload = "UNSIGNED-PAYLOAD"

	headerDate          = "X-Sdk-Date"
	headerAuthorization = "Authorization"
	headerContentSHA256 = "X-Sdk-Content-Sha256"
	headerContentSM3    = "X-Sdk-Content-Sm3"
	derivedDateLayout   = "20060102"
	// defaultSM2UID is the SM2 signer id the SDK uses (tjfoc/gmsm's default
	// for an empty uid); nil selects the same default in emmansun/gmsm.
	defaultSM2UID = "1234567812345678"
	// maxSignatureHex bounds the Signature parameter: a DER ECDSA or SM2
	// signature over a 256-bit curve is at most 72 bytes.
	maxSignatureHex = 2 * 80
)

// An algorithm is one way of turning a string to sign into a signature.
type algorithm struct {
	name string
	// newHash hashes the payload and the canonical request; sum is the
	// same hash as a function that does not allocate.
	newHash func() hash.Hash
	sum     func([]byte) [32]byte
	// hashID tells the verifier's reusable hashes apart (hashSHA256,
	// hashSM3).
	hashID int
	// contentHeader carries a payload hash that replaces the body's;
	// signedContentHeader is its name as SignedHeaders lists it.
	contentHeader       string
	signedContentHeader string
	kind                algKind
}

const (
	hashSHA256 = iota
	hashSM3
	numHashes
)

type algKind int

const (
	kindHMAC algKind = iota
	kindECDSA
	kindSM2
	kindDerived
)

var algorithms = map[string]*algorithm{
	AlgHMACSHA256:      {name: AlgHMACSHA256, newHash: sha256.New, sum: sha256.Sum256, hashID: hashSHA256, contentHeader: headerContentSHA256, kind: kindHMAC},
	AlgHMACSM3:         {name: AlgHMACSM3, newHash: sm3.New, sum: sm3.Sum, hashID: hashSM3, contentHeader: headerContentSM3, kind: kindHMAC},
	AlgECDSAP256SHA256: {name: AlgECDSAP256SHA256, newHash: sha256.New, sum: sha256.Sum256, hashID: hashSHA256, contentHeader: headerContentSHA256, kind: kindECDSA},
	AlgSM2SM3:          {name: AlgSM2SM3, newHash: sm3.New, sum: sm3.Sum, hashID: hashSM3, contentHeader: headerContentSM3, kind: kindSM2},
	AlgV11HMACSHA256:   {name: AlgV11HMACSHA256, newHash: sha256.New, sum: sha256.Sum256, hashID: hashSHA256, contentHeader: headerContentSHA256, kind: kindDerived},
}

func init() {
	for _, a := range algorithms {
		a.signedContentHeader = strings.ToLower(a.contentHeader)
	}
}

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
	// inner and outer are the HMAC's hashes, by hashID, made on first use.
	inner, outer [numHashes]hash.Hash
	pad          [maxBlockSize]byte
	sum          [maxHashSize]byte
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
	a := &v.a
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
	if skew := now.Sub(t); skew > MaxClockSkew || skew < -MaxClockSkew {
		return "", authErrorf("X-Sdk-Date %s is %v from the server clock", date, skew.Round(time.Second))
	}
	if a.alg.kind == kindDerived && !strings.HasPrefix(a.scope, date[:len(derivedDateLayout)]+"/") {
		return "", authErrorf("credential scope %q is not for the day of X-Sdk-Date %s", a.scope, date)
	}
	return date, nil
}

// parseDate parses an X-Sdk-Date: exactly DateLayout, every field two
// digits (the year four) and in range. It accepts what time.Parse accepts
// and formats back to the same text (FuzzParseDate compares the two),
// at a fraction of the cost.
func parseDate(s string) (time.Time, bool) {
	if len(s) != len(DateLayout) || s[8] != 'T' || s[15] != 'Z' {
		return time.Time{}, false
	}
	num := func(i, n int) int {
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	year, month, day := num(0, 4), num(4, 2), num(6, 2)
	hour, minute, sec := num(9, 2), num(11, 2), num(13, 2)
	if year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || sec < 0 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC)
	if t.Day() != day { // past the end of the month
		return time.Time{}, false
	}
	return t, true
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

// authorization is a parsed Authorization header. signedHeaders and
// signature use the arrays of the struct unless they are unusually long.
type authorization struct {
	alg           *algorithm
	ak            string
	scope         string // V11 only: "yyyymmdd/region/service"
	signedHeaders []string
	signature     []byte

	headerArray    [8]string
	signatureArray [maxSignatureHex / 2]byte
}

func (a *authorization) reset() { *a = authorization{} }

// parseAuthorization parses an Authorization header (see parse).
func parseAuthorization(v string) (*authorization, error) {
	a := new(authorization)
	if err := a.parse(v); err != nil {
		return nil, err
	}
	return a, nil
}

// parse parses "ALG Access=AK, SignedHeaders=h1;h2, Signature=hex" (or
// "V11-HMAC-SHA256 Credential=AK/yyyymmdd/region/service, …") into a.
// Parameters may come in any order; each must appear exactly once.
func (a *authorization) parse(v string) error {
	a.reset()
	name, params, ok := strings.Cut(v, " ")
	if !ok {
		return authErrorf("malformed Authorization header")
	}
	alg := algorithms[name]
	if alg == nil {
		return authErrorf("unsupported signing algorithm %.40q", name)
	}
	credKey := "Access"
	if alg.kind == kindDerived {
		credKey = "Credential"
	}
	// vals are the values of credKey, SignedHeaders and Signature.
	var vals [3]string
	var seen [3]bool
	for p := range strings.SplitSeq(params, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
		i := -1
		switch {
		case !ok:
		case k == credKey:
			i = 0
		case k == "SignedHeaders":
			i = 1
		case k == "Signature":
			i = 2
		}
		if i < 0 {
			return authErrorf("malformed Authorization parameter %.40q", p)
		}
		if seen[i] {
			return authErrorf("repeated Authorization parameter %s", k)
		}
		seen[i], vals[i] = true, val
	}
	if seen != [3]bool{true, true, true} {
		return authErrorf("Authorization needs %s, SignedHeaders and Signature", credKey)
	}
	a.alg, a.ak = alg, vals[0]
	if alg.kind == kindDerived {
		ak, scope, _ := strings.Cut(a.ak, "/")
		parts := strings.Split(scope, "/")
		if len(parts) != 3 || slices.Contains(parts, "") {
			return authErrorf("malformed V11 credential scope")
		}
		if _, err := time.Parse(derivedDateLayout, parts[0]); err != nil {
			return authErrorf("malformed V11 credential date")
		}
		a.ak, a.scope = ak, scope
	}
	if a.ak == "" {
		return authErrorf("empty access key")
	}
	a.signedHeaders = a.headerArray[:0]
	for h := range strings.SplitSeq(vals[1], ";") {
		if h == "" || h != strings.ToLower(h) || slices.Contains(a.signedHeaders, h) {
			return authErrorf("malformed SignedHeaders")
		}
		a.signedHeaders = append(a.signedHeaders, h)
	}
	sig := vals[2]
	if len(sig) > maxSignatureHex {
		return authErrorf("signature too long")
	}
	if len(sig) == 0 || len(sig)%2 != 0 {
		return authErrorf("malformed signature")
	}
	a.signature = a.signatureArray[:len(sig)/2]
	for i := range a.signature {
		hi, ok1 := fromHex(sig[2*i])
		lo, ok2 := fromHex(sig[2*i+1])
		if !ok1 || !ok2 {
			return authErrorf("malformed signature")
		}
		a.signature[i] = hi<<4 | lo
	}
	return nil
}

// fromHex decodes one hex digit of either case, as encoding/hex does.
func fromHex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// canonicalRequest builds the canonical request of reference auth.md §3.1.
func canonicalRequest(r *http.Request, body []byte, signedHeaders []string, alg *algorithm) (string, error) {
	b, err := appendCanonicalRequest(nil, r, body, signedHeaders, alg)
	return string(b), err
}

// appendCanonicalRequest appends the canonical request of reference
// auth.md §3.1 to dst.
func appendCanonicalRequest(dst []byte, r *http.Request, body []byte, signedHeaders []string, alg *algorithm) ([]byte, error) {
	dst = append(dst, r.Method...)
	dst = append(dst, '\n')
	dst = appendCanonicalURI(dst, r.URL.Path)
	dst = append(dst, '\n')
	if r.URL.RawQuery != "" {
		query, err := canonicalQuery(r.URL.RawQuery)
		if err != nil {
			return dst, err
		}
		dst = append(dst, query...)
	}
	dst = append(dst, '\n')
	for _, name := range signedHeaders {
		if name == "host" {
			if r.Host == "" {
				return dst, authErrorf("signed header %q is missing", name)
			}
			dst = appendHeaderLine(dst, name, r.Host)
			continue
		}
		vals := r.Header[headerKey(name)]
		if len(vals) == 0 {
			return dst, authErrorf("signed header %q is missing", name)
		}
		if !slices.IsSorted(vals) {
			vals = slices.Sorted(slices.Values(vals))
		}
		for _, v := range vals {
			dst = appendHeaderLine(dst, name, v)
		}
	}
	dst = append(dst, '\n')
	for i, name := range signedHeaders {
		if i > 0 {
			dst = append(dst, ';')
		}
		dst = append(dst, name...)
	}
	dst = append(dst, '\n')
	return appendPayloadHash(dst, r.Header, body, signedHeaders, alg)
}

func appendHeaderLine(dst []byte, name, value string) []byte {
	dst = append(dst, name...)
	dst = append(dst, ':')
	dst = append(dst, strings.TrimSpace(value)...)
	return append(dst, '\n')
}

// canonicalHeaderKeys maps the lower-case names of the headers requests
// usually sign to their canonical form, which http.Header is keyed by;
// headerKey computes it for other names.
var canonicalHeaderKeys = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{"x-sdk-date", "x-project-id", "user-agent", "content-type", "x-domain-id",
		"x-sdk-content-sha256", "x-sdk-content-sm3", "x-auth-token", "x-security-token", "accept"} {
		m[k] = textproto.CanonicalMIMEHeaderKey(k)
	}
	return m
}()

// headerKey returns the http.Header key of a header name, as
// http.Header.Values would look it up.
func headerKey(name string) string {
	if k, ok := canonicalHeaderKeys[name]; ok {
		return k
	}
	return textproto.CanonicalMIMEHeaderKey(name)
}

// appendPayloadHash appends the hex hash of body, or the value of the
// algorithm's payload header when it is present (see VerifyRequest).
func appendPayloadHash(dst []byte, h http.Header, body []byte, signedHeaders []string, alg *algorithm) ([]byte, error) {
	sum := alg.sum(body)
	start := len(dst)
	dst = hex.AppendEncode(dst, sum[:])
	vals := h.Values(alg.contentHeader)
	switch {
	case len(vals) == 0:
		return dst, nil
	case len(vals) > 1:
		return dst, authErrorf("repeated %s header", alg.contentHeader)
	case !slices.Contains(signedHeaders, alg.signedContentHeader):
		// An unsigned override would let anyone swap the body.
		return dst, authErrorf("%s is present but not signed", alg.contentHeader)
	case vals[0] == UnsignedPayload:
		return append(dst[:start], UnsignedPayload...), nil
	case vals[0] != string(dst[start:]):
		return dst, authErrorf("%s does not match the body", alg.contentHeader)
	}
	return dst, nil
}

// canonicalURI segment-escapes the decoded path and ends it with "/".
func canonicalURI(path string) string { return string(appendCanonicalURI(nil, path)) }

func appendCanonicalURI(dst []byte, path string) []byte {
	start := len(dst)
	for i := 0; i < len(path); i++ {
		if path[i] == '/' {
			dst = append(dst, '/')
		} else {
			dst = appendEscaped(dst, path[i])
		}
	}
	if len(dst) == start || dst[len(dst)-1] != '/' {
		dst = append(dst, '/')
	}
	return dst
}

// canonicalQuery sorts the query by key, then each key's values, and
// escapes both; a bare key is "key=".
func canonicalQuery(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return "", authErrorf("malformed query")
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		vals := slices.Clone(q[k])
		slices.Sort(vals)
		for _, v := range vals {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(escape(k))
			b.WriteByte('=')
			b.WriteString(escape(v))
		}
	}
	return b.String(), nil
}

// escape percent-encodes everything but the RFC 3986 unreserved set, with
// upper-case hex.
func escape(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		b = appendEscaped(b, s[i])
	}
	return string(b)
}

func appendEscaped(dst []byte, c byte) []byte {
	const hexDigits = "0123456789ABCDEF"
	if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
		return append(dst, c)
	}
	return append(dst, '%', hexDigits[c>>4], hexDigits[c&15])
}

func stringToSign(alg *algorithm, date, scope, canonicalRequest string) string {
	return string(appendStringToSign(nil, alg, date, scope, []byte(canonicalRequest)))
}

// appendStringToSign appends the string to sign of a canonical request.
func appendStringToSign(dst []byte, alg *algorithm, date, scope string, canonicalRequest []byte) []byte {
	sum := alg.sum(canonicalRequest)
	dst = append(dst, alg.name...)
	dst = append(dst, '\n')
	dst = append(dst, date...)
	dst = append(dst, '\n')
	if alg.kind == kindDerived {
		dst = append(dst, scope...)
		dst = append(dst, '\n')
	}
	return hex.AppendEncode(dst, sum[:])
}

func hexHash(newHash func() hash.Hash, b []byte) string {
	h := newHash()
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

func macOf(newHash func() hash.Hash, key []byte, msg string) []byte {
	m := hmac.New(newHash, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// derivedKey is the V11 signing key: the hex of HKDF-SHA256(secret=SK,
// salt=AK, info=scope), 32 bytes, used as ASCII (reference auth.md §3.6).
func derivedKey(ak string, sk []byte, scope string) ([]byte, error) {
	k, err := hkdf.Key(sha256.New, sk, []byte(ak), scope, 32)
	if err != nil {
		return nil, err
	}
	return []byte(hex.EncodeToString(k)), nil
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

// mac returns HMAC(key, msg) (RFC 2104) with alg's hash, in v.sum. It is
// the construction of crypto/hmac (TestVerifierMAC compares the two) on
// hashes the verifier keeps, because hmac.New allocates two hashes and
// both pads on every call; the pads are cleared before it returns.
func (v *verifier) mac(alg *algorithm, key, msg []byte) []byte {
	inner, outer := v.inner[alg.hashID], v.outer[alg.hashID]
	if inner == nil {
		inner, outer = alg.newHash(), alg.newHash()
		v.inner[alg.hashID], v.outer[alg.hashID] = inner, outer
	}
	pad := v.pad[:inner.BlockSize()]
	clear(pad)
	if len(key) > len(pad) {
		outer.Reset()
		outer.Write(key)
		outer.Sum(pad[:0])
	} else {
		copy(pad, key)
	}
	for i := range pad {
		pad[i] ^= 0x36
	}
	inner.Reset()
	inner.Write(pad)
	inner.Write(msg)
	for i := range pad {
		pad[i] ^= 0x36 ^ 0x5c
	}
	outer.Reset()
	outer.Write(pad)
	clear(pad)
	outer.Write(inner.Sum(v.sum[:0]))
	sum := outer.Sum(v.sum[:0])
	inner.Reset()
	outer.Reset()
	return sum
}

// deriveScalar derives the private scalar of the asymmetric algorithms from
// (AK, SK) as the SDK does (reference auth.md §3.6): for counter 0..255,
// c = HMAC(key=SK, 00000001 ‖ alg ‖ 00 ‖ AK ‖ counter ‖ 00000100); the first
// c ≤ n−2 gives d = c+1, as a 32-byte big-endian integer.
func deriveScalar(alg string, newHash func() hash.Hash, n *big.Int, ak string, sk []byte) ([]byte, error) {
	nMinus2 := new(big.Int).Sub(n, big.NewInt(2))
	data := make([]byte, 0, 4+len(alg)+1+len(ak)+1+4)
	for counter := 0; counter <= 0xff; counter++ {
		data = data[:0]
		data = append(data, 0, 0, 0, 1)
		data = append(data, alg...)
		data = append(data, 0)
		data = append(data, ak...)
		data = append(data, byte(counter))
		data = append(data, 0, 0, 1, 0)
		m := hmac.New(newHash, sk)
		m.Write(data)
		c := new(big.Int).SetBytes(m.Sum(nil))
		if c.Cmp(nMinus2) <= 0 {
			return c.Add(c, big.NewInt(1)).FillBytes(make([]byte, (n.BitLen()+7)/8)), nil
		}
	}
	return nil, errors.New("auth: no private scalar in 256 tries")
}

func ecdsaKey(ak string, sk []byte) (*ecdsa.PrivateKey, error) {
	c := elliptic.P256()
	d, err := deriveScalar(AlgECDSAP256SHA256, sha256.New, c.Params().N, ak, sk)
	if err != nil {
		return nil, err
	}
	return ecdsa.ParseRawPrivateKey(c, d)
}

func sm2Key(ak string, sk []byte) (*sm2.PrivateKey, error) {
	d, err := deriveScalar(AlgSM2SM3, sm3.New, sm2.P256().Params().N, ak, sk)
	if err != nil {
		return nil, err
	}
	return sm2.NewPrivateKey(d)
}

// SignRequest signs r, whose body is body, for access key ak with secret key
// sk as a Huawei Cloud SDK would: it sets X-Sdk-Date to now and sets
// Authorization. alg is one of AlgHMACSHA256 (also when empty), AlgHMACSM3,
// AlgECDSAP256SHA256 and AlgSM2SM3; use [SignRequestDerived] for
// AlgV11HMACSHA256.
//
// The signed headers are those of r.Header, lower-cased, except names that
// start with "content-type" or contain "_" (the SDK's rule) and the headers
// that net/http writes itself (Host, Content-Length, Transfer-Encoding,
// Trailer, Connection). Set every header to send, User-Agent included,
// before calling. The body is always hashed; a payload header that the
// caller set is honored as in VerifyRequest. SignRequest does not read or
// set r.Body.
func SignRequest(r *http.Request, body []byte, alg, ak, sk string, now time.Time) error {
	if alg == "" {
		alg = AlgHMACSHA256
	}
	a := algorithms[alg]
	if a == nil || a.kind == kindDerived {
		return fmt.Errorf("auth: SignRequest: unsupported algorithm %q", alg)
	}
	return sign(r, body, a, ak, sk, "", now)
}

// SignRequestDerived signs r like [SignRequest] with AlgV11HMACSHA256, whose
// key is bound to the UTC day of now, region and service (the SDK's
// derivedAuthServiceName).
func SignRequestDerived(r *http.Request, body []byte, ak, sk, region, service string, now time.Time) error {
	if region == "" || service == "" || strings.Contains(region, "/") || strings.Contains(service, "/") {
		return errors.New("auth: SignRequestDerived: bad region or service")
	}
	scope := now.UTC().Format(derivedDateLayout) + "/" + region + "/" + service
	return sign(r, body, algorithms[AlgV11HMACSHA256], ak, sk, scope, now)
}

func sign(r *http.Request, body []byte, alg *algorithm, ak, sk, scope string, now time.Time) error {
	if ak == "" || sk == "" || strings.ContainsAny(ak, "/, ") {
		return errors.New("auth: sign: bad access key or empty secret key")
	}
	date := now.UTC().Format(DateLayout)
	r.Header.Del(headerAuthorization)
	r.Header.Set(headerDate, date)
	signed := signedHeaderNames(r.Header)
	cr, err := canonicalRequest(r, body, signed, alg)
	if err != nil {
		return fmt.Errorf("auth: sign: %w", err)
	}
	sts := stringToSign(alg, date, scope, cr)
	var sig []byte
	switch alg.kind {
	case kindHMAC:
		sig = macOf(alg.newHash, []byte(sk), sts)
	case kindDerived:
		key, err := derivedKey(ak, []byte(sk), scope)
		if err != nil {
			return fmt.Errorf("auth: sign: %w", err)
		}
		sig = macOf(alg.newHash, key, sts)
	case kindECDSA:
		priv, err := ecdsaKey(ak, []byte(sk))
		if err != nil {
			return fmt.Errorf("auth: sign: %w", err)
		}
		digest := sha256.Sum256([]byte(sts))
		if sig, err = ecdsa.SignASN1(rand.Reader, priv, digest[:]); err != nil {
			return fmt.Errorf("auth: sign: %w", err)
		}
	case kindSM2:
		priv, err := sm2Key(ak, []byte(sk))
		if err != nil {
			return fmt.Errorf("auth: sign: %w", err)
		}
		if sig, err = sm2.SignASN1(rand.Reader, priv, []byte(sts), sm2.NewSM2SignerOption(true, []byte(defaultSM2UID))); err != nil {
			return fmt.Errorf("auth: sign: %w", err)
		}
	}
	cred := "Access=" + ak
	if alg.kind == kindDerived {
		cred = "Credential=" + ak + "/" + scope
	}
	r.Header.Set(headerAuthorization, fmt.Sprintf("%s %s, SignedHeaders=%s, Signature=%x",
		alg.name, cred, strings.Join(signed, ";"), sig))
	return nil
}

// signedHeaderNames applies the SDK's header selection rule to h.
func signedHeaderNames(h http.Header) []string {
	var names []string
	for k, v := range h {
		lk := strings.ToLower(k)
		switch {
		case len(v) == 0, strings.HasPrefix(lk, "content-type"), strings.Contains(k, "_"):
		case lk == "host", lk == "content-length", lk == "transfer-encoding", lk == "trailer", lk == "connection", lk == "authorization":
		default:
			names = append(names, lk)
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}
