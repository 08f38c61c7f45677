package kms

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
	"slices"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	secpecdsa "github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
	smecdh "github.com/emmansun/gmsm/ecdh"
	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"

	"github.com/kmsd/kmsd/internal/ciphertext"
)

// Message types of sign and verify (reference kms-api.md §5.E).
const (
	// MessageDigest: the message is the digest of the signing algorithm's
	// hash (for SM2DSA_SM3, SM3(Z_A‖M)). The default.
	MessageDigest = "DIGEST"
	// MessageRaw: the message is hashed by kmsd.
	MessageRaw = "RAW"
)

// MaxSignMessage bounds sign and verify messages: the decoded message
// must be shorter than this many bytes (reference kms-api.md §2.4).
const MaxSignMessage = 4096

// KeyAgreementECDH is the only key agreement algorithm of
// derive-shared-secret.
const KeyAgreementECDH = "ECDH"

// signingAlgorithm is one signing_algorithm value: the key class it needs,
// its hash and its padding.
type signingAlgorithm struct {
	class keyClass
	hash  crypto.Hash // unused for SM2DSA_SM3, whose hash is SM3
	pss   bool
}

// signingAlgorithms are the reference's signing algorithms (kms-api.md
// §2.2). Every ECDSA hash is allowed with every EC curve: ECDSA truncates
// a longer hash to the curve order's length (FIPS 186-5 §6.4.1).
var signingAlgorithms = map[string]signingAlgorithm{
	"RSASSA_PSS_SHA_256":        {classRSA, crypto.SHA256, true},
	"RSASSA_PSS_SHA_384":        {classRSA, crypto.SHA384, true},
	"RSASSA_PSS_SHA_512":        {classRSA, crypto.SHA512, true},
	"RSASSA_PKCS1_V1_5_SHA_256": {classRSA, crypto.SHA256, false},
	"RSASSA_PKCS1_V1_5_SHA_384": {classRSA, crypto.SHA384, false},
	"RSASSA_PKCS1_V1_5_SHA_512": {classRSA, crypto.SHA512, false},
	"ECDSA_SHA_256":             {classEC, crypto.SHA256, false},
	"ECDSA_SHA_384":             {classEC, crypto.SHA384, false},
	"ECDSA_SHA_512":             {classEC, crypto.SHA512, false},
	"SM2DSA_SM3":                {class: classSM2},
}

func (a signingAlgorithm) newHash() hash.Hash {
	if a.class == classSM2 {
		return sm3.New()
	}
	return a.hash.New()
}

// hashSize is newHash().Size() without making a hash.
func (a signingAlgorithm) hashSize() int {
	if a.class == classSM2 {
		return sm3.Size
	}
	return a.hash.Size()
}

// digest returns what is signed for msg: msg itself for DIGEST (whose
// length must be the hash's, KMS.0329), its hash for RAW. An SM2 RAW
// message is hashed as SM3(Z_A‖M) with the default user id
// "1234567812345678" (GB/T 32918.2, GM/T 0009).
func (a signingAlgorithm) digest(messageType string, msg []byte, priv any) ([]byte, error) {
	if messageType == MessageDigest {
		if n := a.hashSize(); len(msg) != n {
			return nil, fmt.Errorf("%w: got %d bytes, want %d", ErrDigestLength, len(msg), n)
		}
		return msg, nil
	}
	if k, ok := priv.(*sm2.PrivateKey); ok {
		return sm2.CalculateSM2Hash(&k.PublicKey, msg, nil)
	}
	h := a.newHash()
	h.Write(msg)
	return h.Sum(nil), nil
}

// SignInput are the parameters of sign and verify.
type SignInput struct {
	ProjectID string
	KeyID     string
	// Algorithm is a signing_algorithm value.
	Algorithm string
	// MessageType is MessageDigest, MessageRaw or "" (DIGEST).
	MessageType string
	Message     []byte
}

// signingKey checks the request and returns the key's private key, the algorithm
// and the digest to sign or verify. Errors, in the order they are checked:
// unknown algorithm or message type, message too long → ErrInvalidParameter;
// the key's state (usableKey); a symmetric key → ErrSymmetricKey, an HMAC
// key → ErrHMACKey; an ENCRYPT_DECRYPT key → ErrKeyForEncryption, a
// KEY_AGREEMENT key → ErrInvalidKeyUsage; an algorithm of another key class
// → ErrAlgorithmMismatch; a DIGEST of the wrong length → ErrDigestLength.
func (s *Service) signingKey(ctx context.Context, in SignInput) (any, []byte, signingAlgorithm, error) {
	alg, ok := signingAlgorithms[in.Algorithm]
	if !ok {
		return nil, nil, alg, fmt.Errorf("%w: signing_algorithm %q", ErrInvalidParameter, in.Algorithm)
	}
	mt := in.MessageType
	if mt == "" {
		mt = MessageDigest
	}
	if mt != MessageDigest && mt != MessageRaw {
		return nil, nil, alg, fmt.Errorf("%w: message_type %q", ErrInvalidParameter, in.MessageType)
	}
	if len(in.Message) >= MaxSignMessage {
		return nil, nil, alg, fmt.Errorf("%w: message of %d bytes, limit %d", ErrInvalidParameter, len(in.Message), MaxSignMessage-1)
	}
	h, err := s.usableKey(ctx, in.ProjectID, in.KeyID)
	if err != nil {
		return nil, nil, alg, err
	}
	if err := requireAsymmetric(h.Spec); err != nil {
		return nil, nil, alg, err
	}
	switch h.Usage {
	case UsageSignVerify:
	case UsageEncryptDecrypt:
		return nil, nil, alg, ErrKeyForEncryption
	default:
		return nil, nil, alg, fmt.Errorf("%w: a %s key cannot sign", ErrInvalidKeyUsage, h.Usage)
	}
	if specs[h.Spec].class != alg.class {
		return nil, nil, alg, fmt.Errorf("%w: %s with a %s key", ErrAlgorithmMismatch, in.Algorithm, h.Spec)
	}
	priv, err := h.privateKey(0)
	if err != nil {
		return nil, nil, alg, err
	}
	digest, err := alg.digest(mt, in.Message, priv)
	if err != nil {
		return nil, nil, alg, err
	}
	return priv, digest, alg, nil
}

// requireAsymmetric refuses symmetric (KMS.0331) and HMAC (KMS.0341) keys.
func requireAsymmetric(specName string) error {
	switch specs[specName].class {
	case classSymmetric:
		return ErrSymmetricKey
	case classHMAC:
		return ErrHMACKey
	}
	return nil
}

// Sign signs a message with an enabled SIGN_VERIFY key and returns the
// signature: PKCS #1 v1.5 or PSS (salt length = hash length) for RSA, ASN.1
// DER for ECDSA and SM2. Errors are those of signingKey.
func (s *Service) Sign(ctx context.Context, in SignInput) ([]byte, error) {
	priv, digest, alg, err := s.signingKey(ctx, in)
	if err != nil {
		return nil, err
	}
	var sig []byte
	switch k := priv.(type) {
	case *rsa.PrivateKey:
		if alg.pss {
			sig, err = rsa.SignPSS(rand.Reader, k, alg.hash, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		} else {
			sig, err = rsa.SignPKCS1v15(nil, k, alg.hash, digest)
		}
	case *ecdsa.PrivateKey:
		sig, err = ecdsa.SignASN1(rand.Reader, k, digest)
	case *sm2.PrivateKey:
		sig, err = sm2.SignASN1(rand.Reader, k, digest, nil)
	case *secp256k1.PrivateKey:
		sig = secpecdsa.Sign(k, digest).Serialize()
	default:
		err = fmt.Errorf("unexpected private key type %T", priv)
	}
	if err != nil {
		return nil, fmt.Errorf("sign with key %s: %w", in.KeyID, err)
	}
	return sig, nil
}

// Verify reports whether sig is a valid signature of the message under an
// enabled SIGN_VERIFY key. A wrong or malformed signature is (false, nil);
// errors are those of signingKey. RSA-PSS signatures of any salt length are
// accepted.
func (s *Service) Verify(ctx context.Context, in SignInput, sig []byte) (bool, error) {
	priv, digest, alg, err := s.signingKey(ctx, in)
	if err != nil {
		return false, err
	}
	switch k := priv.(type) {
	case *rsa.PrivateKey:
		if alg.pss {
			return rsa.VerifyPSS(&k.PublicKey, alg.hash, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto}) == nil, nil
		}
		return rsa.VerifyPKCS1v15(&k.PublicKey, alg.hash, digest, sig) == nil, nil
	case *ecdsa.PrivateKey:
		return ecdsa.VerifyASN1(&k.PublicKey, digest, sig), nil
	case *sm2.PrivateKey:
		return sm2.VerifyASN1(&k.PublicKey, digest, sig), nil
	case *secp256k1.PrivateKey:
		parsed, err := secpecdsa.ParseDERSignature(sig)
		if err != nil {
			return false, nil
		}
		return parsed.Verify(digest, k.PubKey()), nil
	}
	return false, fmt.Errorf("unexpected private key type %T", priv)
}

// PublicKey returns the public key of an enabled asymmetric key as a DER
// SubjectPublicKeyInfo: PKIX RSA or id-ecPublicKey with the named curve
// (P-256, P-384, secp256k1 1.3.132.0.10, SM2 1.2.156.10197.1.301) and the
// uncompressed point. Symmetric keys → ErrSymmetricKey, HMAC keys →
// ErrHMACKey.
func (s *Service) PublicKey(ctx context.Context, projectID, keyID string) ([]byte, error) {
	h, err := s.usableKey(ctx, projectID, keyID)
	if err != nil {
		return nil, err
	}
	if err := requireAsymmetric(h.Spec); err != nil {
		return nil, err
	}
	priv, err := h.privateKey(0)
	if err != nil {
		return nil, err
	}
	der, err := h.derived(0, "spki", func([]byte) (any, error) { return marshalPublicKey(priv) })
	if err != nil {
		return nil, err
	}
	return slices.Clone(der.([]byte)), nil
}

// Named-curve object identifiers (RFC 5480, SEC 2, GM/T 0006).
var (
	oidECPublicKey = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidP256        = asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}
	oidP384        = asn1.ObjectIdentifier{1, 3, 132, 0, 34}
	oidSecp256k1   = asn1.ObjectIdentifier{1, 3, 132, 0, 10}
	oidSM2         = asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 301}
)

// subjectPublicKeyInfo is the X.509 SubjectPublicKeyInfo (RFC 5280).
type subjectPublicKeyInfo struct {
	Algorithm pkix.AlgorithmIdentifier
	PublicKey asn1.BitString
}

// marshalPublicKey returns the DER SubjectPublicKeyInfo of priv's public
// key. crypto/x509 encodes RSA and NIST keys, smx509 SM2 keys; secp256k1,
// which neither knows, is encoded here.
func marshalPublicKey(priv any) ([]byte, error) {
	switch k := priv.(type) {
	case *rsa.PrivateKey:
		return x509.MarshalPKIXPublicKey(&k.PublicKey)
	case *ecdsa.PrivateKey:
		return x509.MarshalPKIXPublicKey(&k.PublicKey)
	case *sm2.PrivateKey:
		return smx509.MarshalPKIXPublicKey(&k.PublicKey)
	case *secp256k1.PrivateKey:
		return marshalSecp256k1PublicKey(k.PubKey())
	}
	return nil, fmt.Errorf("unexpected private key type %T", priv)
}

func marshalSecp256k1PublicKey(pub *secp256k1.PublicKey) ([]byte, error) {
	params, err := asn1.Marshal(oidSecp256k1)
	if err != nil {
		return nil, err
	}
	point := pub.SerializeUncompressed()
	return asn1.Marshal(subjectPublicKeyInfo{
		Algorithm: pkix.AlgorithmIdentifier{Algorithm: oidECPublicKey, Parameters: asn1.RawValue{FullBytes: params}},
		PublicKey: asn1.BitString{Bytes: point, BitLength: 8 * len(point)},
	})
}

// parseECPublicKey parses a DER SubjectPublicKeyInfo of an id-ecPublicKey
// key and returns its named curve and encoded point.
func parseECPublicKey(der []byte) (asn1.ObjectIdentifier, []byte, error) {
	var info subjectPublicKeyInfo
	rest, err := asn1.Unmarshal(der, &info)
	if err != nil {
		return nil, nil, err
	}
	if len(rest) != 0 {
		return nil, nil, errors.New("trailing data after the SubjectPublicKeyInfo")
	}
	if !info.Algorithm.Algorithm.Equal(oidECPublicKey) {
		return nil, nil, fmt.Errorf("algorithm %v is not id-ecPublicKey", info.Algorithm.Algorithm)
	}
	var curve asn1.ObjectIdentifier
	rest, err = asn1.Unmarshal(info.Algorithm.Parameters.FullBytes, &curve)
	if err != nil || len(rest) != 0 {
		return nil, nil, errors.New("parameters are not a named curve")
	}
	if info.PublicKey.BitLength != 8*len(info.PublicKey.Bytes) {
		return nil, nil, errors.New("public key is not a whole number of bytes")
	}
	return curve, info.PublicKey.Bytes, nil
}

// agreementCurves maps the key specs that allow KEY_AGREEMENT to their
// curve's identifier.
var agreementCurves = map[string]asn1.ObjectIdentifier{
	"EC_P256":   oidP256,
	"EC_P384":   oidP384,
	"SECP256K1": oidSecp256k1,
	"SM2":       oidSM2,
}

// DeriveSharedSecret runs ECDH between an enabled KEY_AGREEMENT key and the
// peer's public key (DER SubjectPublicKeyInfo, uncompressed point on the
// key's curve) and returns the shared secret: the x-coordinate of the
// shared point, without a KDF (SEC 1 §3.3.1; for SM2 plain ECDH on the
// SM2 curve, not the SM2 key exchange protocol). Errors: algorithm not ECDH
// or a peer key that does not parse or is not on the key's curve →
// ErrInvalidParameter; the key's state (usableKey); symmetric →
// ErrSymmetricKey; HMAC → ErrHMACKey; ENCRYPT_DECRYPT → ErrKeyForEncryption;
// SIGN_VERIFY → ErrKeyForSigning.
func (s *Service) DeriveSharedSecret(ctx context.Context, projectID, keyID, algorithm string, peer []byte) ([]byte, error) {
	if algorithm != KeyAgreementECDH {
		return nil, fmt.Errorf("%w: key_agreement_algorithm %q", ErrInvalidParameter, algorithm)
	}
	h, err := s.usableKey(ctx, projectID, keyID)
	if err != nil {
		return nil, err
	}
	if err := requireAsymmetric(h.Spec); err != nil {
		return nil, err
	}
	switch h.Usage {
	case UsageKeyAgreement:
	case UsageEncryptDecrypt:
		return nil, ErrKeyForEncryption
	case UsageSignVerify:
		return nil, ErrKeyForSigning
	default:
		return nil, fmt.Errorf("%w: a %s key cannot agree keys", ErrInvalidKeyUsage, h.Usage)
	}
	want, ok := agreementCurves[h.Spec]
	if !ok {
		return nil, fmt.Errorf("%w: %s keys cannot agree keys", ErrInvalidKeyUsage, h.Spec)
	}
	curve, point, err := parseECPublicKey(peer)
	if err != nil {
		return nil, fmt.Errorf("%w: peer public key: %v", ErrInvalidParameter, err)
	}
	if !curve.Equal(want) {
		return nil, fmt.Errorf("%w: peer key on curve %v, key %s on %v", ErrInvalidParameter, curve, keyID, want)
	}
	priv, err := h.privateKey(0)
	if err != nil {
		return nil, err
	}
	secret, err := ecdhSecret(priv, point)
	if err != nil {
		return nil, fmt.Errorf("%w: peer public key: %v", ErrInvalidParameter, err)
	}
	return secret, nil
}

// ecdhSecret returns the x-coordinate of priv·peer, where peer is an
// encoded point of priv's curve; a point not on the curve is an error.
func ecdhSecret(priv any, point []byte) ([]byte, error) {
	switch k := priv.(type) {
	case *ecdsa.PrivateKey:
		e, err := k.ECDH()
		if err != nil {
			return nil, err
		}
		pub, err := e.Curve().NewPublicKey(point)
		if err != nil {
			return nil, err
		}
		return e.ECDH(pub)
	case *sm2.PrivateKey:
		e, err := k.ECDH()
		if err != nil {
			return nil, err
		}
		pub, err := smecdh.P256().NewPublicKey(point)
		if err != nil {
			return nil, err
		}
		return e.ECDH(pub)
	case *secp256k1.PrivateKey:
		if len(point) != 65 || point[0] != 4 {
			return nil, errors.New("secp256k1 point is not uncompressed")
		}
		pub, err := secp256k1.ParsePubKey(point)
		if err != nil {
			return nil, err
		}
		return secp256k1.GenerateSharedSecret(k, pub), nil
	}
	return nil, fmt.Errorf("unexpected private key type %T", priv)
}

// dataKeyPairSpecs generate the data key pairs of create-rsa-datakey-pair
// and create-ec-datakey-pair (reference kms-api.md §2.2, §5.D): each
// returns the private key as PKCS #8 DER and the public key as a DER
// SubjectPublicKeyInfo.
var dataKeyPairSpecs = map[string]func() (private, public []byte, err error){
	"RSA_2048":        rsaPair(2048),
	"RSA_3072":        rsaPair(3072),
	"RSA_4096":        rsaPair(4096),
	"ECC_NIST_P256":   ecPair(elliptic.P256()),
	"ECC_NIST_P384":   ecPair(elliptic.P384()),
	"ECC_NIST_P521":   ecPair(elliptic.P521()),
	"ECC_SECG_P256K1": secp256k1Pair,
	"SM2":             sm2Pair,
}

func rsaPair(bits int) func() ([]byte, []byte, error) {
	return func() ([]byte, []byte, error) {
		k, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			return nil, nil, err
		}
		return encodePair(k, &k.PublicKey, x509.MarshalPKCS8PrivateKey, x509.MarshalPKIXPublicKey)
	}
}

func ecPair(c elliptic.Curve) func() ([]byte, []byte, error) {
	return func() ([]byte, []byte, error) {
		k, err := ecdsa.GenerateKey(c, rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		return encodePair(k, &k.PublicKey, x509.MarshalPKCS8PrivateKey, x509.MarshalPKIXPublicKey)
	}
}

func sm2Pair() ([]byte, []byte, error) {
	k, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	return encodePair(k, &k.PublicKey, smx509.MarshalPKCS8PrivateKey, smx509.MarshalPKIXPublicKey)
}

func secp256k1Pair() ([]byte, []byte, error) {
	k, err := secp256k1.GeneratePrivateKey()
	if err != nil {
		return nil, nil, err
	}
	return encodePair(k, k.PubKey(),
		func(any) ([]byte, error) { return marshalSecp256k1PKCS8(k) },
		func(any) ([]byte, error) { return marshalSecp256k1PublicKey(k.PubKey()) })
}

// encodePair encodes a generated pair with the given encoders.
func encodePair(priv, pub any, marshalPrivate, marshalPublic func(any) ([]byte, error)) ([]byte, []byte, error) {
	private, err := marshalPrivate(priv)
	if err != nil {
		return nil, nil, err
	}
	public, err := marshalPublic(pub)
	if err != nil {
		clear(private)
		return nil, nil, err
	}
	return private, public, nil
}

// ecPrivateKey is SEC 1's ECPrivateKey (RFC 5915 §3).
type ecPrivateKey struct {
	Version       int
	PrivateKey    []byte
	NamedCurveOID asn1.ObjectIdentifier `asn1:"optional,explicit,tag:0"`
	PublicKey     asn1.BitString        `asn1:"optional,explicit,tag:1"`
}

// pkcs8 is PKCS #8's PrivateKeyInfo (RFC 5208 §5).
type pkcs8 struct {
	Version    int
	Algo       pkix.AlgorithmIdentifier
	PrivateKey []byte
}

// marshalSecp256k1PKCS8 encodes k as crypto/x509 encodes NIST keys: a
// PrivateKeyInfo naming id-ecPublicKey and the curve, holding an
// ECPrivateKey with the 32-byte scalar and the public point.
func marshalSecp256k1PKCS8(k *secp256k1.PrivateKey) ([]byte, error) {
	params, err := asn1.Marshal(oidSecp256k1)
	if err != nil {
		return nil, err
	}
	point := k.PubKey().SerializeUncompressed()
	scalar := k.Serialize()
	defer clear(scalar)
	inner, err := asn1.Marshal(ecPrivateKey{Version: 1, PrivateKey: scalar, PublicKey: asn1.BitString{Bytes: point, BitLength: 8 * len(point)}})
	if err != nil {
		return nil, err
	}
	defer clear(inner)
	return asn1.Marshal(pkcs8{
		Algo:       pkix.AlgorithmIdentifier{Algorithm: oidECPublicKey, Parameters: asn1.RawValue{FullBytes: params}},
		PrivateKey: inner,
	})
}

// DataKeyPairInput are the parameters of the data key pair operations.
type DataKeyPairInput struct {
	ProjectID string
	// KeyID is the symmetric ENCRYPT_DECRYPT key that encrypts the
	// private key.
	KeyID string
	// Spec is a data key pair spec: RSA_2048/3072/4096, ECC_NIST_P256/
	// P384/P521, ECC_SECG_P256K1 or SM2.
	Spec string
	// AAD is bound to the encrypted private key (at most 128 bytes).
	AAD []byte
}

// DataKeyPair is a generated key pair.
type DataKeyPair struct {
	// PublicKey is a DER SubjectPublicKeyInfo.
	PublicKey []byte
	// PrivateKey is the private key as PKCS #8 DER. It is the caller's to
	// clear.
	PrivateKey []byte
	// PrivateKeyCiphertext is PrivateKey sealed under the key's primary
	// version as an encrypt-data ciphertext blob (package ciphertext,
	// kind KindData) with AAD, so decrypt-data opens it.
	PrivateKeyCiphertext []byte
}

// CreateDataKeyPair generates a key pair and seals its private key under
// an enabled symmetric ENCRYPT_DECRYPT key. Errors: an unknown spec or an
// AAD over 128 bytes → ErrInvalidParameter; the key's state (usableKey);
// an asymmetric key → ErrAsymmetricKey; an HMAC key → ErrHMACKey.
func (s *Service) CreateDataKeyPair(ctx context.Context, in DataKeyPairInput) (DataKeyPair, error) {
	generate, ok := dataKeyPairSpecs[in.Spec]
	if !ok {
		return DataKeyPair{}, fmt.Errorf("%w: data key pair spec %q", ErrInvalidParameter, in.Spec)
	}
	if err := checkAAD(in.AAD); err != nil {
		return DataKeyPair{}, err
	}
	h, err := s.usableKey(ctx, in.ProjectID, in.KeyID)
	if err != nil {
		return DataKeyPair{}, err
	}
	switch specs[h.Spec].class {
	case classSymmetric:
	case classHMAC:
		return DataKeyPair{}, ErrHMACKey
	default:
		return DataKeyPair{}, ErrAsymmetricKey
	}
	if h.Usage != UsageEncryptDecrypt {
		return DataKeyPair{}, fmt.Errorf("%w: a %s key cannot encrypt", ErrInvalidKeyUsage, h.Usage)
	}
	private, public, err := generate()
	if err != nil {
		return DataKeyPair{}, fmt.Errorf("generate %s pair: %w", in.Spec, err)
	}
	sealed, err := sealBlob(h, ciphertext.KindData, private, in.AAD)
	if err != nil {
		clear(private)
		return DataKeyPair{}, err
	}
	return DataKeyPair{PublicKey: public, PrivateKey: private, PrivateKeyCiphertext: sealed}, nil
}
