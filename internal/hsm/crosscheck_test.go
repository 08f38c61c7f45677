//go:build cgo

package hsm_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"testing"

	"github.com/kmsd/kmsd/internal/hsm"
	"github.com/kmsd/kmsd/internal/hsm/softhsm"
)

// TestRootKeyCrossCheck wraps a root key under a token key of known value
// and opens the wrapped form with Go's AES-GCM, with the additional data
// the package documentation names.
func TestRootKeyCrossCheck(t *testing.T) {
	softhsm.New(t, "root")
	tok := openToken(t, "root")
	kek := bytes.Repeat([]byte{0x42}, 32)
	if err := hsm.ImportAESKey(tok, "known", kek); err != nil {
		t.Fatal(err)
	}
	root, wrapped, err := hsm.NewRootKey(tok, "known")
	if err != nil {
		t.Fatal(err)
	}
	w, err := hsm.ParseWrappedRootKey(wrapped)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := aes.NewCipher(kek)
	gcm, _ := cipher.NewGCM(block)
	got, err := gcm.Open(nil, w.Nonce, w.Ciphertext, []byte("kmsd pkcs11 root key v1\x01\x01"))
	if err != nil {
		t.Fatalf("Go's AES-GCM cannot open the token's wrapping: %v", err)
	}
	if !bytes.Equal(got, root) {
		t.Error("Go's AES-GCM opened another root key")
	}
	// And the token opens what Go seals.
	nonce := bytes.Repeat([]byte{7}, 12)
	ct := gcm.Seal(nil, nonce, root, []byte("kmsd pkcs11 root key v1\x01\x01"))
	back, err := hsm.OpenRootKey(tok, "known", hsm.WrappedRootKey{Mechanism: 1, Nonce: nonce, Ciphertext: ct}.Marshal())
	if err != nil || !bytes.Equal(back, root) {
		t.Errorf("token cannot open Go's wrapping: %v", err)
	}
}

// TestGeneratedKeyStaysInToken checks the attributes of a generated key:
// a token object, sensitive, not extractable.
func TestGeneratedKeyStaysInToken(t *testing.T) {
	softhsm.New(t, "root")
	tok := openToken(t, "root")
	if err := tok.GenerateAESKey("k"); err != nil {
		t.Fatal(err)
	}
	token, sensitive, extractable, err := hsm.KeyAttributes(tok, "k")
	if err != nil {
		t.Fatal(err)
	}
	if !token || !sensitive || extractable {
		t.Errorf("generated key: token %v, sensitive %v, extractable %v; want true, true, false", token, sensitive, extractable)
	}
	if err := tok.DestroyKey("k"); err != nil {
		t.Fatal(err)
	}
	if ok, err := tok.HasKey("k"); ok || err != nil {
		t.Errorf("after DestroyKey: HasKey %v, %v", ok, err)
	}
}
