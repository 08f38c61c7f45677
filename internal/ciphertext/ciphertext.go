package ciphertext

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/emmansun/gmsm/sm4"
)

// FormatV1 is the first byte of every blob of this format version.
const FormatV1 byte = 0x01

// Kind says which family of operations a blob belongs to. It is part of
// the additional data, so a blob of one kind never opens as the other.
type Kind byte

const (
	// KindData is a ciphertext of encrypt-data.
	KindData Kind = 0x01
	// KindDataKey is a data key (DEK) ciphertext of create-datakey and
	// encrypt-datakey.
	KindDataKey Kind = 0x02
)

func (k Kind) valid() bool { return k == KindData || k == KindDataKey }

// Algorithm is the AEAD that sealed a blob.
type Algorithm byte

const (
	// AES256GCM is AES-256 in GCM with a 12-byte nonce and 16-byte tag.
	AES256GCM Algorithm = 0x01
	// SM4GCM is SM4 (GB/T 32907-2016) in GCM with a 12-byte nonce and
	// 16-byte tag (RFC 8998).
	SM4GCM Algorithm = 0x02
)

func (a Algorithm) valid() bool { return a == AES256GCM || a == SM4GCM }

// Sizes of the fields of format version 1.
const (
	KeyIDSize     = 36
	ProjectIDSize = 32
	NonceSize     = 12
	TagSize       = 16
	// HeaderSize is the length of the header: version, kind, algorithm,
	// reserved byte, key version, key id and project id.
	HeaderSize = 4 + 4 + KeyIDSize + ProjectIDSize
	// Overhead is how much longer a blob is than its plaintext.
	Overhead = HeaderSize + NonceSize + TagSize
)

var (
	// ErrMalformed is returned by [Parse] for anything that is not a
	// well-formed blob of a known format version.
	ErrMalformed = errors.New("ciphertext: malformed blob")
	// ErrOpen is returned by [Blob.Open] for every authentication failure:
	// a wrong key, a wrong AAD or a modified blob. The causes are
	// deliberately not distinguished.
	ErrOpen = errors.New("ciphertext: cannot open blob")
)

// Blob is one parsed ciphertext. The zero value is not a valid blob; get
// one from [Parse] or [Seal].
type Blob struct {
	Kind       Kind
	Algorithm  Algorithm
	KeyVersion uint32
	// KeyID is the lower-case UUID of the key that sealed the blob.
	KeyID string
	// ProjectID is the 32-hex id of the key's project.
	ProjectID string
	// Nonce is the GCM nonce, NonceSize bytes.
	Nonce []byte
	// Sealed is the GCM output: ciphertext followed by the tag.
	Sealed []byte
}

// PlaintextLen returns the length of the plaintext the blob holds.
func (b Blob) PlaintextLen() int { return max(len(b.Sealed)-TagSize, 0) }

// Header returns the HeaderSize header bytes of the blob, which start the
// GCM additional data.
func (b Blob) Header() []byte {
	h := make([]byte, 0, HeaderSize)
	return b.appendHeader(h)
}

func (b Blob) appendHeader(dst []byte) []byte {
	dst = append(dst, FormatV1, byte(b.Kind), byte(b.Algorithm), 0)
	dst = binary.BigEndian.AppendUint32(dst, b.KeyVersion)
	dst = append(dst, b.KeyID...)
	return append(dst, b.ProjectID...)
}

// Marshal returns the wire bytes of the blob. For a blob from [Parse] they
// equal the parsed input.
func (b Blob) Marshal() []byte {
	out := make([]byte, 0, HeaderSize+len(b.Nonce)+len(b.Sealed))
	out = b.appendHeader(out)
	out = append(out, b.Nonce...)
	return append(out, b.Sealed...)
}

// Parse parses a blob. Every failure is [ErrMalformed]; Parse never panics.
// The Blob does not alias b.
func Parse(b []byte) (Blob, error) {
	if len(b) < Overhead || b[0] != FormatV1 {
		return Blob{}, ErrMalformed
	}
	blob := Blob{
		Kind:       Kind(b[1]),
		Algorithm:  Algorithm(b[2]),
		KeyVersion: binary.BigEndian.Uint32(b[4:8]),
		KeyID:      string(b[8 : 8+KeyIDSize]),
		ProjectID:  string(b[8+KeyIDSize : HeaderSize]),
		Nonce:      append([]byte(nil), b[HeaderSize:HeaderSize+NonceSize]...),
		Sealed:     append([]byte(nil), b[HeaderSize+NonceSize:]...),
	}
	if b[3] != 0 || blob.checkHeader() != nil {
		return Blob{}, ErrMalformed
	}
	return blob, nil
}

// checkHeader checks the header fields of b.
func (b Blob) checkHeader() error {
	switch {
	case !b.Kind.valid():
		return fmt.Errorf("kind %#02x", byte(b.Kind))
	case !b.Algorithm.valid():
		return fmt.Errorf("algorithm %#02x", byte(b.Algorithm))
	case b.KeyVersion == 0:
		return errors.New("key version 0")
	case !ValidKeyID(b.KeyID):
		return fmt.Errorf("key id %q", b.KeyID)
	case !validProjectID(b.ProjectID):
		return fmt.Errorf("project id %q", b.ProjectID)
	}
	return nil
}

// ValidKeyID reports whether s has the key id shape of the reference,
// ^[0-9a-z]{8}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{12}$. It is a
// loop rather than a regexp because every key operation checks one.
func ValidKeyID(s string) bool {
	if len(s) != KeyIDSize {
		return false
	}
	for i := range len(s) {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z') {
				return false
			}
		}
	}
	return true
}

// validProjectID reports whether s is 32 lower-case hex digits.
func validProjectID(s string) bool {
	if len(s) != ProjectIDSize {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// NewAEAD returns the GCM AEAD of alg under key: AES-256-GCM for a 32-byte
// key, SM4-GCM for a 16-byte key.
func NewAEAD(alg Algorithm, key []byte) (cipher.AEAD, error) {
	var block cipher.Block
	var err error
	switch alg {
	case AES256GCM:
		if len(key) != 32 {
			return nil, fmt.Errorf("ciphertext: AES-256 key of %d bytes", len(key))
		}
		block, err = aes.NewCipher(key)
	case SM4GCM:
		block, err = sm4.NewCipher(key)
	default:
		return nil, fmt.Errorf("ciphertext: unknown algorithm %#02x", byte(alg))
	}
	if err != nil {
		return nil, fmt.Errorf("ciphertext: %w", err)
	}
	return cipher.NewGCM(block)
}

// AdditionalData returns the GCM additional data of a blob with the header
// fields of b and the caller's aad: the header, then SHA-256(aad). A
// sealer outside this package (an HSM that runs AES-GCM itself) seals
// with it so that the blob is the one [Blob.Open] would open.
func (b Blob) AdditionalData(aad []byte) []byte { return b.additionalData(aad) }

// additionalData returns the GCM additional data of a blob with header
// fields of b: the header, then SHA-256(aad).
func (b Blob) additionalData(aad []byte) []byte {
	ad := make([]byte, 0, HeaderSize+sha256.Size)
	ad = b.appendHeader(ad)
	sum := sha256.Sum256(aad)
	return append(ad, sum[:]...)
}

// Seal encrypts plaintext under aead with a fresh random nonce and returns
// the blob with the header fields of h (whose Nonce and Sealed are
// ignored). aead must be the AEAD of h.Algorithm under the material of
// key version h.KeyVersion, as [NewAEAD] makes it; aad is bound to the blob
// and must be given again to open it. Seal returns an error only for
// header fields that [Parse] would reject or an AEAD of another shape.
func Seal(aead cipher.AEAD, h Blob, plaintext, aad []byte) (Blob, error) {
	nonce := make([]byte, NonceSize)
	rand.Read(nonce) // Never fails; see crypto/rand.Read.
	return sealWithNonce(aead, h, nonce, plaintext, aad)
}

// AppendSeal is [Seal] followed by [Blob.Marshal]: it appends the wire
// bytes of the sealed blob to dst and returns the extended slice, growing
// dst at most once. The data path uses it, as it needs only the bytes.
func AppendSeal(dst []byte, aead cipher.AEAD, h Blob, plaintext, aad []byte) ([]byte, error) {
	dst = slices.Grow(dst, Overhead+len(plaintext))
	// Draw the nonce straight into its place in the blob.
	at := len(dst) + HeaderSize
	nonce := dst[at : at+NonceSize]
	rand.Read(nonce) // Never fails; see crypto/rand.Read.
	return appendSealWithNonce(dst, aead, h, nonce, plaintext, aad)
}

// sealWithNonce is Seal with a caller-chosen nonce, for known-answer tests.
// Production code must use Seal.
func sealWithNonce(aead cipher.AEAD, h Blob, nonce, plaintext, aad []byte) (Blob, error) {
	b, err := appendSealWithNonce(nil, aead, h, nonce, plaintext, aad)
	if err != nil {
		return Blob{}, err
	}
	h.Nonce = b[HeaderSize : HeaderSize+NonceSize : HeaderSize+NonceSize]
	h.Sealed = b[HeaderSize+NonceSize:]
	return h, nil
}

// appendSealWithNonce appends the wire bytes of h sealed with nonce, which
// may be the very bytes of dst's spare capacity where the nonce goes.
func appendSealWithNonce(dst []byte, aead cipher.AEAD, h Blob, nonce, plaintext, aad []byte) ([]byte, error) {
	if err := h.checkHeader(); err != nil {
		return nil, fmt.Errorf("ciphertext: seal: %w", err)
	}
	if aead.NonceSize() != NonceSize || aead.Overhead() != TagSize || len(nonce) != NonceSize {
		return nil, errors.New("ciphertext: seal: AEAD or nonce of the wrong size")
	}
	dst = slices.Grow(dst, Overhead+len(plaintext))
	dst = h.appendHeader(dst)
	dst = append(dst, nonce...)
	nonce = dst[len(dst)-NonceSize:]
	return aead.Seal(dst, nonce, plaintext, h.additionalData(aad)), nil
}

// Open authenticates and decrypts the blob with aead, the AEAD of
// b.Algorithm under the material of key version b.KeyVersion, and the aad
// it was sealed with. Every failure returns [ErrOpen]. The plaintext does
// not alias the blob.
func (b Blob) Open(aead cipher.AEAD, aad []byte) ([]byte, error) {
	if b.checkHeader() != nil || len(b.Nonce) != NonceSize || len(b.Sealed) < TagSize ||
		aead.NonceSize() != NonceSize || aead.Overhead() != TagSize {
		return nil, ErrOpen
	}
	pt, err := aead.Open(nil, b.Nonce, b.Sealed, b.additionalData(aad))
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}
