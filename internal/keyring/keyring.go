package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// RootKeySize is the length in bytes of a root key.
const RootKeySize = 32

// formatV1 is the first byte of every blob produced by [Keyring.Seal].
const formatV1 byte = 0x01

// sealContext is the fixed context string at the start of the additional
// data of format version 1.
const sealContext = "kmsd keyring seal v1"

// HKDF info labels for the two subkeys derived from the root key. They are
// distinct from each other and from sealContext; changing either makes every
// existing sealed blob or derived key unusable.
const (
	sealKeyLabel   = "kmsd keyring seal key v1"
	deriveKeyLabel = "kmsd keyring derive key v1"
)

const (
	nonceSize = 12
	tagSize   = 16
	// overhead is the number of bytes Seal adds to a plaintext.
	overhead = 1 + nonceSize + tagSize
)

// ErrOpen is returned by [Keyring.Open] for every failure: a blob that is too
// short, an unknown format version, a wrong root key, a wrong binding or a
// modified blob. The causes are deliberately not distinguished.
var ErrOpen = errors.New("keyring: cannot open sealed blob")

// Binding is what a sealed blob is bound to. A blob opens only with exactly
// the Binding it was sealed with; a blob copied onto another purpose,
// project, key or version fails to open.
//
// Purpose names the kind of secret, e.g. "key-material" or
// "access-key-secret", and must not be empty. For key material, ProjectID
// and KeyID name the KMS key and Version its key version. For an access
// key's secret, ProjectID is "" (access keys belong to a user, not a
// project), KeyID holds the access key (AK) and Version is 0 unless the
// caller defines otherwise.
type Binding struct {
	Purpose   string
	ProjectID string
	KeyID     string
	Version   int
}

// Keyring seals and opens secrets under keys derived from one root key. It
// does not keep the root key: [New] derives a sealing key and a separate
// key-derivation key from it and keeps only those.
//
// A Keyring is safe for concurrent use.
type Keyring struct {
	aead cipher.AEAD // AES-256-GCM under the sealing key
	kdk  []byte      // key-derivation key for Derive; never exposed
}

// New returns a Keyring for a root key of exactly [RootKeySize] bytes. New
// does not retain root; the caller may clear it once New returns.
func New(root []byte) (*Keyring, error) {
	if len(root) != RootKeySize {
		return nil, fmt.Errorf("keyring: root key is %d bytes, want %d", len(root), RootKeySize)
	}
	sealKey, err := hkdf.Key(sha256.New, root, nil, sealKeyLabel, 32)
	if err != nil {
		return nil, fmt.Errorf("keyring: deriving sealing key: %w", err)
	}
	defer clear(sealKey)
	kdk, err := hkdf.Key(sha256.New, root, nil, deriveKeyLabel, 32)
	if err != nil {
		return nil, fmt.Errorf("keyring: deriving key-derivation key: %w", err)
	}
	block, err := aes.NewCipher(sealKey)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	return &Keyring{aead: aead, kdk: kdk}, nil
}

// Seal encrypts plaintext with AES-256-GCM under a fresh random nonce and
// binds it to b. The result is a new slice laid out as described in the
// package documentation; plaintext is neither modified nor retained.
//
// Seal returns an error only for an unusable Binding: an empty Purpose or a
// string field longer than 2³²−1 bytes.
func (k *Keyring) Seal(b Binding, plaintext []byte) ([]byte, error) {
	var nonce [nonceSize]byte
	rand.Read(nonce[:]) // Never fails; see crypto/rand.Read.
	return k.sealWithNonce(b, nonce[:], plaintext)
}

// sealWithNonce is Seal with a caller-chosen nonce, for known-answer tests.
// Production code must use Seal.
func (k *Keyring) sealWithNonce(b Binding, nonce, plaintext []byte) ([]byte, error) {
	if b.Purpose == "" {
		return nil, errors.New("keyring: seal: binding has no purpose")
	}
	if len(nonce) != nonceSize {
		return nil, fmt.Errorf("keyring: seal: nonce is %d bytes, want %d", len(nonce), nonceSize)
	}
	ad, err := additionalData(formatV1, b)
	if err != nil {
		return nil, fmt.Errorf("keyring: seal: %w", err)
	}
	out := make([]byte, 0, overhead+len(plaintext))
	out = append(out, formatV1)
	out = append(out, nonce...)
	return k.aead.Seal(out, nonce, plaintext, ad), nil
}

// Open authenticates and decrypts a blob produced by [Keyring.Seal] with the
// same root key and Binding. Every failure returns [ErrOpen]; Open never
// panics, whatever sealed holds. The returned plaintext is a new slice that
// does not alias sealed.
func (k *Keyring) Open(b Binding, sealed []byte) ([]byte, error) {
	if len(sealed) < overhead || sealed[0] != formatV1 || b.Purpose == "" {
		return nil, ErrOpen
	}
	ad, err := additionalData(formatV1, b)
	if err != nil {
		return nil, ErrOpen
	}
	nonce, ct := sealed[1:1+nonceSize], sealed[1+nonceSize:]
	pt, err := k.aead.Open(nil, nonce, ct, ad)
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}

// additionalData encodes the GCM additional data of a sealed blob: the
// context string, the format version and every field of b, each string
// prefixed by its length, so that no two distinct inputs encode alike. The
// layout is documented in the package documentation.
func additionalData(version byte, b Binding) ([]byte, error) {
	fields := []string{b.Purpose, b.ProjectID, b.KeyID}
	n := 4 + len(sealContext) + 1 + 8
	for _, f := range fields {
		if uint64(len(f)) > math.MaxUint32 {
			return nil, errors.New("binding field too long")
		}
		n += 4 + len(f)
	}
	ad := make([]byte, 0, n)
	ad = appendString(ad, sealContext)
	ad = append(ad, version)
	for _, f := range fields {
		ad = appendString(ad, f)
	}
	return binary.BigEndian.AppendUint64(ad, uint64(int64(b.Version))), nil
}

func appendString(dst []byte, s string) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(s)))
	return append(dst, s...)
}

// Derive returns an n-byte subkey for label: HKDF-Expand with SHA-256 of the
// keyring's key-derivation key, with label as the info. The result is the
// same for the same root key and label, and keys for different labels are
// independent of each other and of the sealing key. Labels should name their
// use and carry a version, e.g. "kmsd token signing v1".
//
// Derive panics if n is not between 1 and 8160 (255 SHA-256 blocks); that is
// a programming error.
func (k *Keyring) Derive(label string, n int) []byte {
	if n < 1 || n > 255*sha256.Size {
		panic(fmt.Sprintf("keyring: Derive length %d out of range [1, %d]", n, 255*sha256.Size))
	}
	key, err := hkdf.Expand(sha256.New, k.kdk, label, n)
	if err != nil {
		panic("keyring: " + err.Error())
	}
	return key
}
