package kms

import (
	"context"
	"crypto"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	_ "crypto/sha1" // RSAES_OAEP_SHA_1 of re-encrypt
	_ "crypto/sha256"
	"errors"
	"fmt"

	"github.com/emmansun/gmsm/sm2"

	"github.com/kmsd/kmsd/internal/ciphertext"
)

// Encryption algorithms (reference kms-api.md §2.2, §5.C). Encrypt-data and
// decrypt-data take the first three; re-encrypt also RSAES_OAEP_SHA_1.
const (
	EncryptionSymmetricDefault = "SYMMETRIC_DEFAULT"
	EncryptionRSAOAEPSHA256    = "RSAES_OAEP_SHA_256"
	EncryptionRSAOAEPSHA1      = "RSAES_OAEP_SHA_1"
	EncryptionSM2              = "SM2_ENCRYPT"
)

// Limits of the data path (reference kms-api.md §2.4).
const (
	// MaxPlaintext is the longest plain_text of encrypt-data, in bytes.
	MaxPlaintext = 4096
	// MaxAAD is the longest additional authenticated data, in bytes.
	MaxAAD = 128
	// MinRandomBits and MaxRandomBits bound gen-random's length.
	MinRandomBits = 8
	MaxRandomBits = 8192
)

// oaepHashes are the OAEP hashes of the RSA encryption algorithms.
var oaepHashes = map[string]crypto.Hash{
	EncryptionRSAOAEPSHA256: crypto.SHA256,
	EncryptionRSAOAEPSHA1:   crypto.SHA1,
}

// knownAlgorithm reports whether alg is an encryption algorithm of the
// reference.
func knownAlgorithm(alg string) bool {
	_, rsaAlg := oaepHashes[alg]
	return rsaAlg || alg == EncryptionSymmetricDefault || alg == EncryptionSM2
}

// defaultAlgorithm returns alg, or SYMMETRIC_DEFAULT when it is empty.
func defaultAlgorithm(alg string) string {
	if alg == "" {
		return EncryptionSymmetricDefault
	}
	return alg
}

func checkAAD(aad []byte) error {
	if len(aad) > MaxAAD {
		return fmt.Errorf("%w: additional authenticated data of %d bytes, limit %d", ErrInvalidParameter, len(aad), MaxAAD)
	}
	return nil
}

// blobAlgorithm returns the ciphertext AEAD of a symmetric key spec, and
// false for any other spec.
func blobAlgorithm(specName string) (ciphertext.Algorithm, bool) {
	switch specName {
	case "AES_256":
		return ciphertext.AES256GCM, true
	case "SM4":
		return ciphertext.SM4GCM, true
	}
	return 0, false
}

// encryptionUsage checks that h may encrypt and decrypt: an HMAC key is
// ErrHMACKey (KMS.0341), a SIGN_VERIFY key ErrKeyForSigning (KMS.0335), a
// KEY_AGREEMENT key ErrInvalidKeyUsage (KMS.0308).
func encryptionUsage(h *handle) error {
	switch {
	case isHMAC(h.Spec):
		return ErrHMACKey
	case h.Usage == UsageSignVerify:
		return ErrKeyForSigning
	case h.Usage != UsageEncryptDecrypt:
		return fmt.Errorf("%w: a %s key cannot encrypt", ErrInvalidKeyUsage, h.Usage)
	}
	return nil
}

// blobAEAD returns the AEAD of version v of the symmetric key h, built once
// per handle.
func blobAEAD(h *handle, v int, alg ciphertext.Algorithm) (cipher.AEAD, error) {
	x, err := h.derived(v, "ciphertext-aead", func(m []byte) (any, error) { return ciphertext.NewAEAD(alg, m) })
	if err != nil {
		return nil, err
	}
	return x.(cipher.AEAD), nil
}

// sealBlob seals plaintext under the primary version of the symmetric key
// h as a blob of kind.
func sealBlob(h *handle, kind ciphertext.Kind, plaintext, aad []byte) ([]byte, error) {
	alg, ok := blobAlgorithm(h.Spec)
	if !ok {
		return nil, fmt.Errorf("%w: %s keys do not seal blobs", ErrAsymmetricKey, h.Spec)
	}
	if h.token != nil {
		return sealInToken(h, kind, alg, plaintext, aad)
	}
	aead, err := blobAEAD(h, h.PrimaryVersion, alg)
	if err != nil {
		return nil, err
	}
	b, err := ciphertext.AppendSeal(nil, aead, ciphertext.Blob{
		Kind: kind, Algorithm: alg, KeyVersion: uint32(h.PrimaryVersion),
		KeyID: h.KeyID, ProjectID: h.ciphertextProject(),
	}, plaintext, aad)
	if err != nil {
		return nil, fmt.Errorf("seal under key %s: %w", h.KeyID, err)
	}
	return b, nil
}

// blobErrors are the error kinds of a blob kind: malformed, and failed to
// authenticate. Data ciphertexts answer KMS.0308 for both; data key
// ciphertexts KMS.2201 and KMS.2203.
func blobErrors(kind ciphertext.Kind) (malformed, failed error) {
	if kind == ciphertext.KindDataKey {
		return ErrInvalidDataKeyCiphertext, ErrDataKeyIntegrity
	}
	return ErrInvalidCiphertext, ErrDecryptFailed
}

// parseBlob parses a blob that must be of kind.
func parseBlob(raw []byte, kind ciphertext.Kind) (ciphertext.Blob, error) {
	malformed, _ := blobErrors(kind)
	b, err := ciphertext.Parse(raw)
	if err != nil {
		return b, fmt.Errorf("%w: %v", malformed, err)
	}
	if b.Kind != kind {
		return b, fmt.Errorf("%w: blob of kind %d, want %d", malformed, b.Kind, kind)
	}
	return b, nil
}

// openBlob opens b with the symmetric key h and aad. A blob of another key
// or project, an algorithm that is not the key's, a version the key does
// not have, a wrong AAD and a modified blob all fail with the one error of
// the blob's kind, so a caller cannot tell which was wrong.
func openBlob(h *handle, b ciphertext.Blob, aad []byte) ([]byte, error) {
	_, failed := blobErrors(b.Kind)
	alg, ok := blobAlgorithm(h.Spec)
	switch {
	case !ok || alg != b.Algorithm:
		return nil, fmt.Errorf("%w: blob algorithm %d for a %s key", failed, b.Algorithm, h.Spec)
	case b.KeyID != h.KeyID || b.ProjectID != h.ciphertextProject():
		return nil, fmt.Errorf("%w: blob of another key", failed)
	}
	v := int(b.KeyVersion)
	if _, ok := h.Material(v); !ok || v <= 0 {
		return nil, fmt.Errorf("%w: key %s has no version %d", failed, h.KeyID, b.KeyVersion)
	}
	if h.token != nil {
		return openInToken(h, b, aad)
	}
	aead, err := blobAEAD(h, v, alg)
	if err != nil {
		return nil, err
	}
	pt, err := b.Open(aead, aad)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", failed, err)
	}
	return pt, nil
}

// encryptWith encrypts plaintext with the enabled key h: a symmetric key
// seals a blob of kind under its primary version (algorithm
// SYMMETRIC_DEFAULT, else ErrSymmetricAlgorithm); an RSA or SM2 key
// encrypts raw (ciphertext kind data only, no AAD).
func encryptWith(h *handle, kind ciphertext.Kind, plaintext, aad []byte, algorithm string) ([]byte, error) {
	if err := encryptionUsage(h); err != nil {
		return nil, err
	}
	if _, ok := blobAlgorithm(h.Spec); ok {
		if algorithm != EncryptionSymmetricDefault {
			return nil, fmt.Errorf("%w: %s", ErrSymmetricAlgorithm, algorithm)
		}
		return sealBlob(h, kind, plaintext, aad)
	}
	if kind == ciphertext.KindDataKey {
		return nil, fmt.Errorf("%w: data keys need a symmetric key", ErrAsymmetricKey)
	}
	if len(aad) > 0 {
		return nil, fmt.Errorf("%w: asymmetric encryption takes no additional authenticated data", ErrInvalidParameter)
	}
	priv, err := h.privateKey(0)
	if err != nil {
		return nil, err
	}
	switch k := priv.(type) {
	case *rsa.PrivateKey:
		hash, ok := oaepHashes[algorithm]
		if !ok {
			return nil, fmt.Errorf("%w: %s", ErrRSAAlgorithm, algorithm)
		}
		if limit := k.Size() - 2*hash.Size() - 2; len(plaintext) > limit {
			return nil, fmt.Errorf("%w: %d bytes, limit %d for %s with %s", ErrRSAPlaintextTooLong, len(plaintext), limit, h.Spec, algorithm)
		}
		return rsa.EncryptOAEP(hash.New(), rand.Reader, &k.PublicKey, plaintext, nil)
	case *sm2.PrivateKey:
		if algorithm != EncryptionSM2 {
			return nil, fmt.Errorf("%w: %s with an SM2 key", ErrInvalidParameter, algorithm)
		}
		return sm2Encrypt(rand.Reader, &k.PublicKey, plaintext)
	}
	return nil, fmt.Errorf("%w: %s keys cannot encrypt", ErrAsymmetricKey, h.Spec)
}

// asymmetricDecrypt decrypts a raw RSA-OAEP or SM2 ciphertext with the
// enabled asymmetric key h. A symmetric key is ErrSymmetricAlgorithm; an
// RSA failure ErrRSADecryptFailed (KMS.0311); an SM2 failure, including a
// ciphertext that is not GM/T 0009 ASN.1, ErrDecryptFailed.
func asymmetricDecrypt(h *handle, ct, aad []byte, algorithm string) ([]byte, error) {
	if err := encryptionUsage(h); err != nil {
		return nil, err
	}
	if _, ok := blobAlgorithm(h.Spec); ok {
		return nil, fmt.Errorf("%w: %s", ErrSymmetricAlgorithm, algorithm)
	}
	if len(aad) > 0 {
		return nil, fmt.Errorf("%w: asymmetric decryption takes no additional authenticated data", ErrInvalidParameter)
	}
	priv, err := h.privateKey(0)
	if err != nil {
		return nil, err
	}
	switch k := priv.(type) {
	case *rsa.PrivateKey:
		hash, ok := oaepHashes[algorithm]
		if !ok {
			return nil, fmt.Errorf("%w: %s", ErrRSAAlgorithm, algorithm)
		}
		pt, err := rsa.DecryptOAEP(hash.New(), nil, k, ct, nil)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrRSADecryptFailed, err)
		}
		return pt, nil
	case *sm2.PrivateKey:
		if algorithm != EncryptionSM2 {
			return nil, fmt.Errorf("%w: %s with an SM2 key", ErrInvalidParameter, algorithm)
		}
		// The ASN.1 encoding that Encrypt produces (GM/T 0009), or the raw
		// 04‖C1‖C3‖C2 of GB/T 32918.4 that gmsm's sm2.Encrypt and many
		// other SM2 libraries make by default (sm2Decrypt).
		pt, err := sm2Decrypt(k, ct)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrDecryptFailed, err)
		}
		return pt, nil
	}
	return nil, fmt.Errorf("%w: %s keys cannot decrypt", ErrAsymmetricKey, h.Spec)
}

// Encrypt is encrypt-data: it encrypts 1–4096 bytes of plaintext with an
// enabled ENCRYPT_DECRYPT key of the project. A symmetric key (algorithm
// "" or SYMMETRIC_DEFAULT) returns a self-describing blob (package
// ciphertext, kind data) sealed under its primary version with aad bound;
// an RSA key returns RSA-OAEP (RSAES_OAEP_SHA_256 or RSAES_OAEP_SHA_1), an
// SM2 key SM2 (SM2_ENCRYPT) in GM/T 0009 ASN.1.
//
// Errors: plaintext or aad out of range, an unknown algorithm →
// ErrInvalidParameter; the key's state (usableKey); its usage
// (encryptionUsage); an algorithm the key does not take →
// ErrSymmetricAlgorithm or ErrRSAAlgorithm (SM2: ErrInvalidParameter);
// AAD with an asymmetric key → ErrInvalidParameter; too long for RSA →
// ErrRSAPlaintextTooLong.
func (s *Service) Encrypt(ctx context.Context, projectID, keyID string, plaintext, aad []byte, algorithm string) ([]byte, error) {
	if len(plaintext) < 1 || len(plaintext) > MaxPlaintext {
		return nil, fmt.Errorf("%w: plaintext of %d bytes, want 1–%d", ErrInvalidParameter, len(plaintext), MaxPlaintext)
	}
	if err := checkAAD(aad); err != nil {
		return nil, err
	}
	algorithm = defaultAlgorithm(algorithm)
	if !knownAlgorithm(algorithm) {
		return nil, fmt.Errorf("%w: encryption algorithm %q", ErrInvalidParameter, algorithm)
	}
	h, err := s.usableKey(ctx, projectID, keyID)
	if err != nil {
		return nil, err
	}
	return encryptWith(h, ciphertext.KindData, plaintext, aad, algorithm)
}

// Decrypt is decrypt-data and returns the key id and the plaintext.
//
// With algorithm "" or SYMMETRIC_DEFAULT the ciphertext is an Encrypt
// blob: the key and its version come from the blob, keyID is optional and
// must then name the same key. A blob of another project is
// ErrKeyNotFound. A malformed blob is ErrInvalidCiphertext; a wrong key,
// wrong AAD or modified blob is ErrDecryptFailed — both KMS.0308, and
// never telling which was wrong. Any other algorithm needs keyID and
// decrypts raw RSA-OAEP or SM2 (asymmetricDecrypt).
func (s *Service) Decrypt(ctx context.Context, projectID string, ct, aad []byte, keyID, algorithm string) (string, []byte, error) {
	if err := checkAAD(aad); err != nil {
		return "", nil, err
	}
	algorithm = defaultAlgorithm(algorithm)
	if !knownAlgorithm(algorithm) {
		return "", nil, fmt.Errorf("%w: encryption algorithm %q", ErrInvalidParameter, algorithm)
	}
	if algorithm != EncryptionSymmetricDefault {
		if keyID == "" {
			return "", nil, fmt.Errorf("%w: %s needs the key id", ErrInvalidParameter, algorithm)
		}
		h, err := s.usableKey(ctx, projectID, keyID)
		if err != nil {
			return "", nil, err
		}
		pt, err := asymmetricDecrypt(h, ct, aad, algorithm)
		return h.KeyID, pt, err
	}
	if keyID != "" {
		// A named key is checked first, so an asymmetric key gets its
		// algorithm error rather than a malformed-ciphertext one.
		h, err := s.usableKey(ctx, projectID, keyID)
		if err != nil {
			return "", nil, err
		}
		if err := encryptionUsage(h); err != nil {
			return "", nil, err
		}
		if _, ok := blobAlgorithm(h.Spec); !ok {
			if specs[h.Spec].class == classRSA {
				return "", nil, fmt.Errorf("%w: %s", ErrRSAAlgorithm, algorithm)
			}
			return "", nil, fmt.Errorf("%w: %s with a %s key", ErrInvalidParameter, algorithm, h.Spec)
		}
	}
	b, h, err := s.blobKey(ctx, projectID, ct, ciphertext.KindData, keyID)
	if err != nil {
		return "", nil, err
	}
	pt, err := openBlob(h, b, aad)
	return h.KeyID, pt, err
}

// blobKey parses a blob of kind and returns it with its enabled key. A
// blob of another project is ErrKeyNotFound; a blob of another key than
// keyID (when not empty) fails like a wrong key.
func (s *Service) blobKey(ctx context.Context, projectID string, raw []byte, kind ciphertext.Kind, keyID string) (ciphertext.Blob, *handle, error) {
	b, err := parseBlob(raw, kind)
	if err != nil {
		return b, nil, err
	}
	if keyID != "" && keyID != b.KeyID {
		_, failed := blobErrors(kind)
		return b, nil, fmt.Errorf("%w: ciphertext of another key", failed)
	}
	h, err := s.usableKey(ctx, projectID, b.KeyID)
	if err != nil {
		if errors.Is(err, ErrInvalidKeyID) {
			malformed, _ := blobErrors(kind)
			return b, nil, fmt.Errorf("%w: %v", malformed, err)
		}
		return b, nil, err
	}
	// A multi-region key's ciphertexts name the project it was first
	// created in, in every region.
	if b.ProjectID != h.ciphertextProject() {
		return b, nil, fmt.Errorf("%w: ciphertext of another project", ErrKeyNotFound)
	}
	if err := encryptionUsage(h); err != nil {
		return b, nil, err
	}
	return b, h, nil
}

// ReEncryptInput are the parameters of re-encrypt.
type ReEncryptInput struct {
	ProjectID  string
	Ciphertext []byte
	// SourceKeyID is optional for a blob and required for asymmetric
	// ciphertext.
	SourceKeyID     string
	SourceAlgorithm string // "" means SYMMETRIC_DEFAULT
	SourceAAD       []byte
	// DestinationKeyID is the key that encrypts the result.
	DestinationKeyID     string
	DestinationAlgorithm string // "" means SYMMETRIC_DEFAULT
	DestinationAAD       []byte
	// DataKeyLength, when positive, is datakey_cipher_length: the input
	// must be a data key blob whose plaintext has that many bytes.
	DataKeyLength int
}

// ReEncryptOutput is the result of re-encrypt.
type ReEncryptOutput struct {
	KeyID                string // the destination key
	SourceKeyID          string
	SourceAlgorithm      string
	DestinationAlgorithm string
	Ciphertext           []byte
	// DataKey reports that Ciphertext is a data key blob (hex on the
	// wire) rather than an encrypt-data ciphertext (base64).
	DataKey bool
}

// ReEncrypt decrypts a ciphertext with its source key and encrypts the
// plaintext with the destination key; the plaintext never leaves the
// service. A data key blob stays a data key blob (so its destination must
// be symmetric, else ErrAsymmetricKey) and an encrypt-data ciphertext
// stays one. Errors are those of Decrypt for the source (for a data key
// blob: ErrInvalidDataKeyCiphertext, ErrDataKeyIntegrity, and
// ErrDataKeyCipherLength when DataKeyLength differs) and of Encrypt for the
// destination.
func (s *Service) ReEncrypt(ctx context.Context, in ReEncryptInput) (ReEncryptOutput, error) {
	out := ReEncryptOutput{
		SourceAlgorithm:      defaultAlgorithm(in.SourceAlgorithm),
		DestinationAlgorithm: defaultAlgorithm(in.DestinationAlgorithm),
	}
	for _, alg := range []string{out.SourceAlgorithm, out.DestinationAlgorithm} {
		if !knownAlgorithm(alg) {
			return out, fmt.Errorf("%w: encryption algorithm %q", ErrInvalidParameter, alg)
		}
	}
	if err := checkAAD(in.SourceAAD); err != nil {
		return out, err
	}
	if err := checkAAD(in.DestinationAAD); err != nil {
		return out, err
	}
	if in.DataKeyLength < 0 || in.DataKeyLength > MaxDataKeyBytes {
		return out, fmt.Errorf("%w: datakey_cipher_length %d, want 1–%d", ErrInvalidParameter, in.DataKeyLength, MaxDataKeyBytes)
	}
	var pt []byte
	kind := ciphertext.KindData
	if out.SourceAlgorithm == EncryptionSymmetricDefault {
		raw, err := ciphertext.Parse(in.Ciphertext)
		if err == nil {
			kind = raw.Kind
		}
		if in.DataKeyLength > 0 {
			kind = ciphertext.KindDataKey
		}
		b, h, err := s.blobKey(ctx, in.ProjectID, in.Ciphertext, kind, in.SourceKeyID)
		if err != nil {
			return out, err
		}
		if in.DataKeyLength > 0 && b.PlaintextLen() != in.DataKeyLength {
			return out, fmt.Errorf("%w: ciphertext holds %d bytes, datakey_cipher_length %d", ErrDataKeyCipherLength, b.PlaintextLen(), in.DataKeyLength)
		}
		if pt, err = openBlob(h, b, in.SourceAAD); err != nil {
			return out, err
		}
		out.SourceKeyID = h.KeyID
	} else {
		if in.SourceKeyID == "" {
			return out, fmt.Errorf("%w: %s needs source_key_id", ErrInvalidParameter, out.SourceAlgorithm)
		}
		if in.DataKeyLength > 0 {
			return out, fmt.Errorf("%w: data key ciphertexts are symmetric", ErrInvalidParameter)
		}
		h, err := s.usableKey(ctx, in.ProjectID, in.SourceKeyID)
		if err != nil {
			return out, err
		}
		if pt, err = asymmetricDecrypt(h, in.Ciphertext, in.SourceAAD, out.SourceAlgorithm); err != nil {
			return out, err
		}
		out.SourceKeyID = h.KeyID
	}
	defer clear(pt)
	dst, err := s.usableKey(ctx, in.ProjectID, in.DestinationKeyID)
	if err != nil {
		return out, err
	}
	if out.Ciphertext, err = encryptWith(dst, kind, pt, in.DestinationAAD, out.DestinationAlgorithm); err != nil {
		return out, err
	}
	out.KeyID = dst.KeyID
	out.DataKey = kind == ciphertext.KindDataKey
	return out, nil
}

// GenerateRandom is gen-random: bits random bits from crypto/rand. bits
// must be 8–8192 (ErrInvalidParameter) and a multiple of 8
// (ErrRandomLength, KMS.1802).
func (s *Service) GenerateRandom(bits int) ([]byte, error) {
	if bits < MinRandomBits || bits > MaxRandomBits {
		return nil, fmt.Errorf("%w: random_data_length %d, want %d–%d", ErrInvalidParameter, bits, MinRandomBits, MaxRandomBits)
	}
	if bits%8 != 0 {
		return nil, fmt.Errorf("%w: %d", ErrRandomLength, bits)
	}
	b := make([]byte, bits/8)
	rand.Read(b) // Never fails; see crypto/rand.Read.
	return b, nil
}
