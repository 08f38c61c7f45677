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
	wrappedV1  byte = 0x01
	mechAESGCM byte = 0x01
	// mechAESKWP is CKM_AES_KEY_WRAP_PAD (RFC 5649): for a 32-byte key,
	// 40 bytes of wrapped key and no nonce.
	mechAESKWP byte = 0x02
	gcmNonce        = 12
	gcmTag          = 16
	kwpSize         = RootKeySize + 8
	rootKeyAAD      = "kmsd pkcs11 root key v1"
)

// wrappedSizes are the lengths of a wrapped root key by mechanism.
var wrappedSizes = map[byte]int{
	mechAESGCM: 2 + gcmNonce + RootKeySize + gcmTag,
	mechAESKWP: 2 + kwpSize,
}

// ErrMalformed is returned by [ParseWrappedRootKey] for bytes that are not
// a wrapped root key of a known format version.
var ErrMalformed = errors.New("hsm: malformed wrapped root key")

// WrappedRootKey is a root key encrypted by a token's AES key.
type WrappedRootKey struct {
	// Mechanism is how the token encrypted it: 0x01 AES-GCM, 0x02 AES
	// key wrap with padding.
	Mechanism byte
	// Nonce is the 12-byte GCM nonce; empty for key wrap.
	Nonce []byte
	// Ciphertext is the encrypted root key followed by the 16-byte GCM
	// tag, or the 40-byte wrapped key.
	Ciphertext []byte
}

// Marshal encodes w in format version 1.
func (w WrappedRootKey) Marshal() []byte {
	out := make([]byte, 0, 2+len(w.Nonce)+len(w.Ciphertext))
	out = append(out, wrappedV1, w.Mechanism)
	out = append(out, w.Nonce...)
	return append(out, w.Ciphertext...)
}

// ParseWrappedRootKey decodes what [WrappedRootKey.Marshal] returned. The
// result does not alias b.
func ParseWrappedRootKey(b []byte) (WrappedRootKey, error) {
	if len(b) < 2 || b[0] != wrappedV1 || len(b) != wrappedSizes[b[1]] {
		return WrappedRootKey{}, ErrMalformed
	}
	n := 0
	if b[1] == mechAESGCM {
		n = gcmNonce
	}
	return WrappedRootKey{
		Mechanism:  b[1],
		Nonce:      append([]byte(nil), b[2:2+n]...),
		Ciphertext: append([]byte(nil), b[2+n:]...),
	}, nil
}

// aad is the GCM additional data of a wrapped root key: the context string
// then the format version and mechanism bytes.
func (w WrappedRootKey) aad() []byte {
	return append([]byte(rootKeyAAD), wrappedV1, w.Mechanism)
}

// NewRootKey makes a random root key and has the token's AES key labelled
// keyLabel encrypt it: with AES-GCM when the token offers it, else with
// AES key wrap with padding; a token with neither is [ErrMechanism]. It
// returns the root key, which the caller clears after use, and its
// wrapped form, which the caller stores.
func NewRootKey(t *Token, keyLabel string) (root []byte, wrapped []byte, err error) {
	gcm, kwp, err := t.Mechanisms()
	switch {
	case err != nil:
		return nil, nil, err
	case gcm:
		return newRootKey(t, keyLabel, mechAESGCM)
	case kwp:
		return newRootKey(t, keyLabel, mechAESKWP)
	}
	return nil, nil, fmt.Errorf("hsm: token %q: %w: neither CKM_AES_GCM nor CKM_AES_KEY_WRAP_PAD", t.Label(), ErrMechanism)
}

// newRootKey is NewRootKey with the mechanism chosen.
func newRootKey(t *Token, keyLabel string, mech byte) (root []byte, wrapped []byte, err error) {
	root = make([]byte, RootKeySize)
	rand.Read(root) // Never fails; see crypto/rand.Read.
	w := WrappedRootKey{Mechanism: mech}
	if mech == mechAESGCM {
		w.Nonce = make([]byte, gcmNonce)
		rand.Read(w.Nonce)
		w.Ciphertext, err = t.SealGCM(keyLabel, w.Nonce, root, w.aad())
	} else {
		w.Ciphertext, err = t.WrapSecret(keyLabel, root)
	}
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
	var root []byte
	if w.Mechanism == mechAESGCM {
		root, err = t.OpenGCM(keyLabel, w.Nonce, w.Ciphertext, w.aad())
	} else {
		root, err = t.UnwrapSecret(keyLabel, w.Ciphertext)
	}
	if err != nil {
		return nil, err
	}
	if len(root) != RootKeySize {
		clear(root)
		return nil, fmt.Errorf("hsm: unwrapped root key is %d bytes, want %d", len(root), RootKeySize)
	}
	return root, nil
}
