package auth

import (
	"crypto/sha256"
	"hash"
	"strings"
	"time"

	"github.com/emmansun/gmsm/sm3"
)

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
