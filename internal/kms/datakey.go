package kms

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"

	"github.com/emmansun/gmsm/sm3"

	"github.com/kmsd/kmsd/internal/ciphertext"
)

// Limits of the data key operations (reference kms-api.md §2.4).
const (
	// MinDataKeyBits and MaxDataKeyBits bound datakey_length;
	// DefaultDataKeyBits applies when neither it nor key_spec is given.
	MinDataKeyBits     = 8
	MaxDataKeyBits     = 8192
	DefaultDataKeyBits = 256
	// MinDataKeyBytes and MaxDataKeyBytes bound datakey_plain_length and
	// datakey_cipher_length.
	MinDataKeyBytes = 1
	MaxDataKeyBytes = 1024
	// DataKeyDigestSize is the length of the digest encrypt-datakey
	// expects after the data key: SHA-256 or SM3.
	DataKeyDigestSize = 32
)

// dataKeySpecBits are the lengths of create-datakey's key_spec values.
var dataKeySpecBits = map[string]int{
	"AES_256": 256, "AES_128": 128, "SM4": 128,
	"HMAC_256": 256, "HMAC_384": 384, "HMAC_512": 512, "HMAC_SM3": 256,
}

// CreateDataKeyInput are the parameters of create-datakey and
// create-datakey-without-plaintext.
type CreateDataKeyInput struct {
	ProjectID string
	KeyID     string
	// KeySpec is "" or one of DataKeySpecs.
	KeySpec string
	// Bits is datakey_length when HasBits; it wins over KeySpec.
	Bits    int
	HasBits bool
	AAD     []byte
}

// dataKeyCMK returns the enabled key keyID (usableKey) if it can protect
// data keys: only symmetric keys do. An HMAC key is ErrHMACKey
// (KMS.0341), an asymmetric one ErrAsymmetricKey (KMS.0325) — kmsd does
// not wrap data keys with RSA keys.
func (s *Service) dataKeyCMK(ctx context.Context, projectID, keyID string) (*handle, error) {
	h, err := s.usableKey(ctx, projectID, keyID)
	if err != nil {
		return nil, err
	}
	switch specs[h.Spec].class {
	case classSymmetric:
		return h, nil
	case classHMAC:
		return nil, ErrHMACKey
	}
	return nil, fmt.Errorf("%w: data keys need a symmetric key", ErrAsymmetricKey)
}

// dataKeyDigest returns the digest of a data key under the CMK h: SM3 for
// SM4 keys, SHA-256 otherwise (reference kms-api.md §5.D).
func dataKeyDigest(h *handle, dek []byte) []byte {
	if h.Spec == "SM4" {
		sum := sm3.Sum(dek)
		return sum[:]
	}
	sum := sha256.Sum256(dek)
	return sum[:]
}

// CreateDataKey generates a random data key and returns it with its
// ciphertext: a data key blob (package ciphertext, kind data key) sealed
// under the primary version of an enabled symmetric key with in.AAD bound.
// The plaintext key is the caller's to clear.
//
// Errors, in order: an unknown key_spec → ErrDataKeySpec (KMS.1902);
// datakey_length out of 8–8192 → ErrDataKeyLengthRange (KMS.1901), not a
// multiple of 8 → ErrDataKeyLengthMultiple (KMS.1903); an AAD over 128
// bytes → ErrInvalidParameter; the key's state (usableKey); a key that is
// not symmetric (dataKeyCMK).
func (s *Service) CreateDataKey(ctx context.Context, in CreateDataKeyInput) (plaintext, blob []byte, err error) {
	if _, ok := dataKeySpecBits[in.KeySpec]; in.KeySpec != "" && !ok {
		return nil, nil, fmt.Errorf("%w: key_spec %q", ErrDataKeySpec, in.KeySpec)
	}
	bits := DefaultDataKeyBits
	switch {
	case in.HasBits:
		if in.Bits < MinDataKeyBits || in.Bits > MaxDataKeyBits {
			return nil, nil, fmt.Errorf("%w: %d bits", ErrDataKeyLengthRange, in.Bits)
		}
		if in.Bits%8 != 0 {
			return nil, nil, fmt.Errorf("%w: %d bits", ErrDataKeyLengthMultiple, in.Bits)
		}
		bits = in.Bits
	case in.KeySpec != "":
		bits = dataKeySpecBits[in.KeySpec]
	}
	if err := checkAAD(in.AAD); err != nil {
		return nil, nil, err
	}
	h, err := s.dataKeyCMK(ctx, in.ProjectID, in.KeyID)
	if err != nil {
		return nil, nil, err
	}
	dek := make([]byte, bits/8)
	rand.Read(dek) // Never fails; see crypto/rand.Read.
	blob, err = sealBlob(h, ciphertext.KindDataKey, dek, in.AAD)
	if err != nil {
		clear(dek)
		return nil, nil, err
	}
	return dek, blob, nil
}

// EncryptDataKey is encrypt-datakey: plainWithDigest is a data key of
// plainLength bytes followed by its 32-byte digest (SHA-256, or SM3 for an
// SM4 key); the result is a data key blob as CreateDataKey makes.
//
// Errors, in order: plainLength out of 1–1024 or an AAD over 128 bytes →
// ErrInvalidParameter; the key's state (usableKey); a key that is not
// symmetric (dataKeyCMK); a length other than plainLength+32 →
// ErrDataKeyPlainLength (KMS.2104); a wrong digest → ErrDataKeyDigest
// (KMS.2103).
func (s *Service) EncryptDataKey(ctx context.Context, projectID, keyID string, plainWithDigest []byte, plainLength int, aad []byte) ([]byte, error) {
	if plainLength < MinDataKeyBytes || plainLength > MaxDataKeyBytes {
		return nil, fmt.Errorf("%w: datakey_plain_length %d, want %d–%d", ErrInvalidParameter, plainLength, MinDataKeyBytes, MaxDataKeyBytes)
	}
	if err := checkAAD(aad); err != nil {
		return nil, err
	}
	h, err := s.dataKeyCMK(ctx, projectID, keyID)
	if err != nil {
		return nil, err
	}
	if len(plainWithDigest) != plainLength+DataKeyDigestSize {
		return nil, fmt.Errorf("%w: %d bytes for a %d-byte key and its %d-byte digest", ErrDataKeyPlainLength, len(plainWithDigest), plainLength, DataKeyDigestSize)
	}
	dek, digest := plainWithDigest[:plainLength], plainWithDigest[plainLength:]
	if subtle.ConstantTimeCompare(digest, dataKeyDigest(h, dek)) != 1 {
		return nil, ErrDataKeyDigest
	}
	return sealBlob(h, ciphertext.KindDataKey, dek, aad)
}

// DecryptDataKey is decrypt-datakey: it opens a data key blob of the
// enabled symmetric key keyID and returns the data key and its digest
// (SHA-256, or SM3 for an SM4 key). The data key is the caller's to clear.
//
// Errors, in order: cipherLength out of 1–1024 or an AAD over 128 bytes →
// ErrInvalidParameter; the key's state (usableKey); a key that is not
// symmetric (dataKeyCMK); a blob that does not parse or is not a data key
// blob → ErrInvalidDataKeyCiphertext (KMS.2201); a data key of another
// length than cipherLength → ErrDataKeyCipherLength (KMS.2204); a blob of
// another key or project, a wrong AAD or a modified blob →
// ErrDataKeyIntegrity (KMS.2203), never telling which.
func (s *Service) DecryptDataKey(ctx context.Context, projectID, keyID string, blob []byte, cipherLength int, aad []byte) (dek, digest []byte, err error) {
	if cipherLength < MinDataKeyBytes || cipherLength > MaxDataKeyBytes {
		return nil, nil, fmt.Errorf("%w: datakey_cipher_length %d, want %d–%d", ErrInvalidParameter, cipherLength, MinDataKeyBytes, MaxDataKeyBytes)
	}
	if err := checkAAD(aad); err != nil {
		return nil, nil, err
	}
	h, err := s.dataKeyCMK(ctx, projectID, keyID)
	if err != nil {
		return nil, nil, err
	}
	b, err := parseBlob(blob, ciphertext.KindDataKey)
	if err != nil {
		return nil, nil, err
	}
	if b.PlaintextLen() != cipherLength {
		return nil, nil, fmt.Errorf("%w: ciphertext holds %d bytes, datakey_cipher_length %d", ErrDataKeyCipherLength, b.PlaintextLen(), cipherLength)
	}
	if dek, err = openBlob(h, b, aad); err != nil {
		return nil, nil, err
	}
	return dek, dataKeyDigest(h, dek), nil
}
