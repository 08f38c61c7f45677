package auth

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/emmansun/gmsm/sm2"
)

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
