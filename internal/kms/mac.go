package kms

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"

	"github.com/emmansun/gmsm/sm3"
)

// MAC message limits: 1–4096 bytes after base64 decoding (reference
// kms-api.md §2.4).
const (
	MinMACMessage = 1
	MaxMACMessage = 4096
)

// macAlgorithm is one mac_algorithm value and the HMAC key spec it needs.
type macAlgorithm struct {
	spec    string
	newHash func() hash.Hash
}

// macAlgorithms are the reference's MAC algorithms (kms-api.md §2.2), each
// usable with exactly one HMAC key spec.
var macAlgorithms = map[string]macAlgorithm{
	"HMAC_SHA_256": {"HMAC_256", sha256.New},
	"HMAC_SHA_384": {"HMAC_384", sha512.New384},
	"HMAC_SHA_512": {"HMAC_512", sha512.New},
	"HMAC_SM3":     {"HMAC_SM3", sm3.New},
}

// MACInput are the parameters of generate-mac and verify-mac.
type MACInput struct {
	ProjectID string
	KeyID     string
	// Algorithm is a mac_algorithm value.
	Algorithm string
	Message   []byte
}

// macKey checks the request and returns the key material and the algorithm. Errors,
// in the order they are checked: unknown algorithm or a message outside
// 1–4096 bytes → ErrInvalidParameter; the key's state (usableKey); a
// symmetric encryption key → ErrSymmetricKey, an asymmetric key →
// ErrAsymmetricKey; an algorithm of another HMAC spec →
// ErrAlgorithmMismatch.
func (s *Service) macKey(ctx context.Context, in MACInput) ([]byte, macAlgorithm, error) {
	alg, ok := macAlgorithms[in.Algorithm]
	if !ok {
		return nil, alg, fmt.Errorf("%w: mac_algorithm %q", ErrInvalidParameter, in.Algorithm)
	}
	if n := len(in.Message); n < MinMACMessage || n > MaxMACMessage {
		return nil, alg, fmt.Errorf("%w: message of %d bytes, want %d–%d", ErrInvalidParameter, n, MinMACMessage, MaxMACMessage)
	}
	h, err := s.usableKey(ctx, in.ProjectID, in.KeyID)
	if err != nil {
		return nil, alg, err
	}
	switch specs[h.Spec].class {
	case classHMAC:
	case classSymmetric:
		return nil, alg, ErrSymmetricKey
	default:
		return nil, alg, ErrAsymmetricKey
	}
	if h.Usage != UsageMAC {
		return nil, alg, fmt.Errorf("%w: a %s key cannot make MACs", ErrInvalidKeyUsage, h.Usage)
	}
	if h.Spec != alg.spec {
		return nil, alg, fmt.Errorf("%w: %s with a %s key", ErrAlgorithmMismatch, in.Algorithm, h.Spec)
	}
	m, ok := h.Material(0)
	if !ok {
		return nil, alg, fmt.Errorf("%w: key %s has no primary material", ErrKeyNotFound, in.KeyID)
	}
	return m, alg, nil
}

// GenerateMAC returns the HMAC of the message under an enabled
// GENERATE_VERIFY_MAC key's primary version. Errors are those of macKey.
func (s *Service) GenerateMAC(ctx context.Context, in MACInput) ([]byte, error) {
	key, alg, err := s.macKey(ctx, in)
	if err != nil {
		return nil, err
	}
	return computeMAC(alg, key, in.Message), nil
}

// VerifyMAC reports whether mac is the HMAC of the message under the key;
// the comparison takes constant time. A MAC of the wrong length is (false,
// nil). Errors are those of macKey.
func (s *Service) VerifyMAC(ctx context.Context, in MACInput, mac []byte) (bool, error) {
	key, alg, err := s.macKey(ctx, in)
	if err != nil {
		return false, err
	}
	return hmac.Equal(computeMAC(alg, key, in.Message), mac), nil
}

func computeMAC(alg macAlgorithm, key, msg []byte) []byte {
	m := hmac.New(alg.newHash, key)
	m.Write(msg)
	return m.Sum(nil)
}
