//go:build !cgo

package hsm

// Supported reports whether this kmsd was built with PKCS#11 support.
const Supported = false

// Token is a session on a PKCS#11 token. This kmsd was built without cgo,
// so no token can be opened.
type Token struct{}

// Open always fails with [ErrUnsupported]: PKCS#11 modules are C
// libraries, and this kmsd was built with CGO_ENABLED=0.
func Open(path, tokenLabel string, pin []byte) (*Token, error) { return nil, ErrUnsupported }

// Label is the token's label.
func (t *Token) Label() string { return "" }

// Close does nothing.
func (t *Token) Close() error { return nil }

// HasKey fails with [ErrUnsupported].
func (t *Token) HasKey(label string) (bool, error) { return false, ErrUnsupported }

// GenerateAESKey fails with [ErrUnsupported].
func (t *Token) GenerateAESKey(label string) error { return ErrUnsupported }

// DestroyKey fails with [ErrUnsupported].
func (t *Token) DestroyKey(label string) error { return ErrUnsupported }

// SealGCM fails with [ErrUnsupported].
func (t *Token) SealGCM(label string, nonce, plaintext, aad []byte) ([]byte, error) {
	return nil, ErrUnsupported
}

// OpenGCM fails with [ErrUnsupported].
func (t *Token) OpenGCM(label string, nonce, ciphertext, aad []byte) ([]byte, error) {
	return nil, ErrUnsupported
}

// Random fails with [ErrUnsupported].
func (t *Token) Random(n int) ([]byte, error) { return nil, ErrUnsupported }

// Mechanisms fails with [ErrUnsupported].
func (t *Token) Mechanisms() (gcm, kwp bool, err error) { return false, false, ErrUnsupported }

// WrapSecret fails with [ErrUnsupported].
func (t *Token) WrapSecret(label string, secret []byte) ([]byte, error) { return nil, ErrUnsupported }

// UnwrapSecret fails with [ErrUnsupported].
func (t *Token) UnwrapSecret(label string, wrapped []byte) ([]byte, error) {
	return nil, ErrUnsupported
}
