package hsm

import (
	"crypto/rand"
	"errors"
	"fmt"
)

// RootKeySize is the length of the root key that a wrapped root key holds
// (keyring.RootKeySize; this package does not import keyring).
const RootKeySize = 32

// Wrapped root key, format version 1 (see the package documentation).
const (
	wrappedV1   byte = 0x01
	mechAESGCM  byte = 0x01
	gcmNonce         = 12
	gcmTag           = 16
	wrappedSize      = 2 + gcmNonce + RootKeySize + gcmTag
	rootKeyAAD       = "kmsd pkcs11 root key v1"
)

// ErrMalformed is returned by [ParseWrappedRootKey] for bytes that are not
// a wrapped root key of a known format version.
var ErrMalformed = errors.New("hsm: malformed wrapped root key")

// WrappedRootKey is a root key encrypted by a token's AES key.
type WrappedRootKey struct {
	// Mechanism is how the token encrypted it; 0x01 is AES-GCM.
	Mechanism byte
	// Nonce is the 12-byte GCM nonce.
	Nonce []byte
	// Ciphertext is the encrypted root key followed by the 16-byte tag.
	Ciphertext []byte
}

// Marshal encodes w in format version 1.
func (w WrappedRootKey) Marshal() []byte {
	out := make([]byte, 0, wrappedSize)
	out = append(out, wrappedV1, w.Mechanism)
	out = append(out, w.Nonce...)
	return append(out, w.Ciphertext...)
}

// ParseWrappedRootKey decodes what [WrappedRootKey.Marshal] returned. The
// result does not alias b.
func ParseWrappedRootKey(b []byte) (WrappedRootKey, error) {
	if len(b) != wrappedSize || b[0] != wrappedV1 || b[1] != mechAESGCM {
		return WrappedRootKey{}, ErrMalformed
	}
	return WrappedRootKey{
		Mechanism:  b[1],
		Nonce:      append([]byte(nil), b[2:2+gcmNonce]...),
		Ciphertext: append([]byte(nil), b[2+gcmNonce:]...),
	}, nil
}

// aad is the GCM additional data of a wrapped root key: the context string
// then the format version and mechanism bytes.
func (w WrappedRootKey) aad() []byte {
	return append([]byte(rootKeyAAD), wrappedV1, w.Mechanism)
}

// NewRootKey makes a random root key and has the token's AES key labelled
// keyLabel encrypt it. It returns the root key, which the caller clears
// after use, and its wrapped form, which the caller stores.
func NewRootKey(t *Token, keyLabel string) (root []byte, wrapped []byte, err error) {
	root = make([]byte, RootKeySize)
	rand.Read(root) // Never fails; see crypto/rand.Read.
	w := WrappedRootKey{Mechanism: mechAESGCM, Nonce: make([]byte, gcmNonce)}
	rand.Read(w.Nonce)
	w.Ciphertext, err = t.SealGCM(keyLabel, w.Nonce, root, w.aad())
	if err != nil {
		clear(root)
		return nil, nil, err
	}
	return root, w.Marshal(), nil
}

// OpenRootKey has the token's AES key labelled keyLabel decrypt a wrapped
// root key. A wrapped key that another token key made, or that was
// changed, fails with [ErrDecrypt].
func OpenRootKey(t *Token, keyLabel string, wrapped []byte) ([]byte, error) {
	w, err := ParseWrappedRootKey(wrapped)
	if err != nil {
		return nil, err
	}
	root, err := t.OpenGCM(keyLabel, w.Nonce, w.Ciphertext, w.aad())
	if err != nil {
		return nil, err
	}
	if len(root) != RootKeySize {
		clear(root)
		return nil, fmt.Errorf("hsm: unwrapped root key is %d bytes, want %d", len(root), RootKeySize)
	}
	return root, nil
}
