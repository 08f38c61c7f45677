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
	"net/url"
	"slices"
	"strings"
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
	// newHash hashes the payload and the canonical request.
	newHash func() hash.Hash
	// contentHeader carries a payload hash that replaces the body's.
	contentHeader string
	kind          algKind
}

type algKind int

const (
	kindHMAC algKind = iota
	kindECDSA
	kindSM2
	kindDerived
)

var algorithms = map[string]*algorithm{
	AlgHMACSHA256:      {name: AlgHMACSHA256, newHash: sha256.New, contentHeader: headerContentSHA256, kind: kindHMAC},
	AlgHMACSM3:         {name: AlgHMACSM3, newHash: sm3.New, contentHeader: headerContentSM3, kind: kindHMAC},
	AlgECDSAP256SHA256: {name: AlgECDSAP256SHA256, newHash: sha256.New, contentHeader: headerContentSHA256, kind: kindECDSA},
	AlgSM2SM3:          {name: AlgSM2SM3, newHash: sm3.New, contentHeader: headerContentSM3, kind: kindSM2},
	AlgV11HMACSHA256:   {name: AlgV11HMACSHA256, newHash: sha256.New, contentHeader: headerContentSHA256, kind: kindDerived},
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
	vals := r.Header.Values(headerAuthorization)
	if len(vals) != 1 {
		return "", authErrorf("want one Authorization header, got %d", len(vals))
	}
	a, err := parseAuthorization(vals[0])
	if err != nil {
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
	t, err := time.Parse(DateLayout, date)
	if err != nil || t.Format(DateLayout) != date {
		return "", authErrorf("malformed X-Sdk-Date %q", date)
	}
	if skew := now.Sub(t); skew > MaxClockSkew || skew < -MaxClockSkew {
		return "", authErrorf("X-Sdk-Date %s is %v from the server clock", date, skew.Round(time.Second))
	}
	if a.alg.kind == kindDerived && !strings.HasPrefix(a.scope, date[:len(derivedDateLayout)]+"/") {
		return "", authErrorf("credential scope %q is not for the day of X-Sdk-Date %s", a.scope, date)
	}
	cr, err := canonicalRequest(r, body, a.signedHeaders, a.alg)
	if err != nil {
		return "", err
	}
	sts := stringToSign(a.alg, date, a.scope, cr)

	sk, err := lookup(ctx, a.ak)
	if errors.Is(err, ErrUnauthenticated) {
		return "", &AuthError{Reason: fmt.Sprintf("access key %q", a.ak), Err: err}
	}
	if err != nil {
		return "", fmt.Errorf("auth: look up access key %q: %w", a.ak, err)
	}
	if len(sk) == 0 {
		return "", authErrorf("access key %q has an empty secret key", a.ak)
	}
	if !verifySignature(a, sk, sts) {
		return "", authErrorf("%s signature mismatch for access key %q; string to sign %q", a.alg.name, a.ak, sts)
	}
	return a.ak, nil
}

// authorization is a parsed Authorization header.
type authorization struct {
	alg           *algorithm
	ak            string
	scope         string // V11 only: "yyyymmdd/region/service"
	signedHeaders []string
	signature     []byte
}

// parseAuthorization parses "ALG Access=AK, SignedHeaders=h1;h2,
// Signature=hex" (or "V11-HMAC-SHA256 Credential=AK/yyyymmdd/region/service,
// …"). Parameters may come in any order; each must appear exactly once.
func parseAuthorization(v string) (*authorization, error) {
	name, params, ok := strings.Cut(v, " ")
	if !ok {
		return nil, authErrorf("malformed Authorization header")
	}
	alg := algorithms[name]
	if alg == nil {
		return nil, authErrorf("unsupported signing algorithm %.40q", name)
	}
	credKey := "Access"
	if alg.kind == kindDerived {
		credKey = "Credential"
	}
	kv := make(map[string]string, 3)
	for p := range strings.SplitSeq(params, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || (k != credKey && k != "SignedHeaders" && k != "Signature") {
			return nil, authErrorf("malformed Authorization parameter %.40q", p)
		}
		if _, dup := kv[k]; dup {
			return nil, authErrorf("repeated Authorization parameter %s", k)
		}
		kv[k] = val
	}
	if len(kv) != 3 {
		return nil, authErrorf("Authorization needs %s, SignedHeaders and Signature", credKey)
	}
	a := &authorization{alg: alg, ak: kv[credKey]}
	if alg.kind == kindDerived {
		ak, scope, _ := strings.Cut(a.ak, "/")
		parts := strings.Split(scope, "/")
		if len(parts) != 3 || slices.Contains(parts, "") {
			return nil, authErrorf("malformed V11 credential scope")
		}
		if _, err := time.Parse(derivedDateLayout, parts[0]); err != nil {
			return nil, authErrorf("malformed V11 credential date")
		}
		a.ak, a.scope = ak, scope
	}
	if a.ak == "" {
		return nil, authErrorf("empty access key")
	}
	for h := range strings.SplitSeq(kv["SignedHeaders"], ";") {
		if h == "" || h != strings.ToLower(h) || slices.Contains(a.signedHeaders, h) {
			return nil, authErrorf("malformed SignedHeaders")
		}
		a.signedHeaders = append(a.signedHeaders, h)
	}
	sig := kv["Signature"]
	if len(sig) > maxSignatureHex {
		return nil, authErrorf("signature too long")
	}
	var err error
	if a.signature, err = hex.DecodeString(sig); err != nil || len(a.signature) == 0 {
		return nil, authErrorf("malformed signature")
	}
	return a, nil
}

// canonicalRequest builds the canonical request of reference auth.md §3.1.
func canonicalRequest(r *http.Request, body []byte, signedHeaders []string, alg *algorithm) (string, error) {
	query, err := canonicalQuery(r.URL.RawQuery)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(canonicalURI(r.URL.Path))
	b.WriteByte('\n')
	b.WriteString(query)
	b.WriteByte('\n')
	for _, name := range signedHeaders {
		var vals []string
		if name == "host" {
			if r.Host != "" {
				vals = []string{r.Host}
			}
		} else {
			vals = slices.Clone(r.Header.Values(name))
		}
		if len(vals) == 0 {
			return "", authErrorf("signed header %q is missing", name)
		}
		slices.Sort(vals)
		for _, v := range vals {
			b.WriteString(name)
			b.WriteByte(':')
			b.WriteString(strings.TrimSpace(v))
			b.WriteByte('\n')
		}
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signedHeaders, ";"))
	b.WriteByte('\n')
	payload, err := payloadHash(r.Header, body, signedHeaders, alg)
	if err != nil {
		return "", err
	}
	b.WriteString(payload)
	return b.String(), nil
}

// payloadHash returns the hex hash of body, or the value of the algorithm's
// payload header when it is present (see VerifyRequest).
func payloadHash(h http.Header, body []byte, signedHeaders []string, alg *algorithm) (string, error) {
	sum := hexHash(alg.newHash, body)
	vals := h.Values(alg.contentHeader)
	switch {
	case len(vals) == 0:
		return sum, nil
	case len(vals) > 1:
		return "", authErrorf("repeated %s header", alg.contentHeader)
	case !slices.Contains(signedHeaders, strings.ToLower(alg.contentHeader)):
		// An unsigned override would let anyone swap the body.
		return "", authErrorf("%s is present but not signed", alg.contentHeader)
	case vals[0] == UnsignedPayload:
		return UnsignedPayload, nil
	case vals[0] != sum:
		return "", authErrorf("%s does not match the body", alg.contentHeader)
	}
	return sum, nil
}

// canonicalURI segment-escapes the decoded path and ends it with "/".
func canonicalURI(path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		segs[i] = escape(s)
	}
	p := strings.Join(segs, "/")
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
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
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

func stringToSign(alg *algorithm, date, scope, canonicalRequest string) string {
	cr := hexHash(alg.newHash, []byte(canonicalRequest))
	if alg.kind == kindDerived {
		return alg.name + "\n" + date + "\n" + scope + "\n" + cr
	}
	return alg.name + "\n" + date + "\n" + cr
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

// verifySignature checks a.signature over sts with the key that sk (and, for
// the asymmetric algorithms and V11, the access key) determines.
func verifySignature(a *authorization, sk []byte, sts string) bool {
	switch a.alg.kind {
	case kindHMAC:
		return hmac.Equal(a.signature, macOf(a.alg.newHash, sk, sts))
	case kindDerived:
		key, err := derivedKey(a.ak, sk, a.scope)
		if err != nil {
			return false
		}
		return hmac.Equal(a.signature, macOf(a.alg.newHash, key, sts))
	case kindECDSA:
		priv, err := ecdsaKey(a.ak, sk)
		if err != nil {
			return false
		}
		digest := sha256.Sum256([]byte(sts))
		return ecdsa.VerifyASN1(&priv.PublicKey, digest[:], a.signature)
	case kindSM2:
		priv, err := sm2Key(a.ak, sk)
		if err != nil {
			return false
		}
		return sm2.VerifyASN1WithSM2(&priv.PublicKey, []byte(defaultSM2UID), []byte(sts), a.signature)
	}
	return false
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
