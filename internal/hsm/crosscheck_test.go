//go:build cgo

package hsm_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"errors"
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

// unwrapKWP is the RFC 5649 unwrap of wrapped under kek with Go's AES, to
// check the token's CKM_AES_KEY_WRAP_PAD.
func unwrapKWP(t *testing.T, kek, wrapped []byte) []byte {
	t.Helper()
	block, err := aes.NewCipher(kek)
	if err != nil {
		t.Fatal(err)
	}
	n := len(wrapped)/8 - 1
	a := append([]byte(nil), wrapped[:8]...)
	r := make([][]byte, n+1)
	for i := 1; i <= n; i++ {
		r[i] = append([]byte(nil), wrapped[8*i:8*i+8]...)
	}
	b := make([]byte, 16)
	for j := 5; j >= 0; j-- {
		for i := n; i >= 1; i-- {
			tv := uint64(n*j + i)
			for k := 0; k < 8; k++ {
				a[7-k] ^= byte(tv >> (8 * k))
			}
			copy(b, a)
			copy(b[8:], r[i])
			block.Decrypt(b, b)
			copy(a, b[:8])
			copy(r[i], b[8:])
		}
	}
	if !bytes.Equal(a[:4], []byte{0xa6, 0x59, 0x59, 0xa6}) {
		t.Fatalf("RFC 5649 integrity check failed: %x", a)
	}
	mli := int(a[4])<<24 | int(a[5])<<16 | int(a[6])<<8 | int(a[7])
	var out []byte
	for i := 1; i <= n; i++ {
		out = append(out, r[i]...)
	}
	return out[:mli]
}

// TestRootKeyKeyWrap wraps a root key with CKM_AES_KEY_WRAP_PAD, the
// mechanism kmsd uses where a token lacks AES-GCM, unwraps it, refuses a
// changed wrapping and checks the wrapping with an RFC 5649 unwrap in Go.
func TestRootKeyKeyWrap(t *testing.T) {
	softhsm.New(t, "root")
	tok := openToken(t, "root")
	gcm, kwp, err := tok.Mechanisms()
	if err != nil {
		t.Fatal(err)
	}
	if !gcm {
		t.Error("SoftHSM2 reports no CKM_AES_GCM")
	}
	if !kwp {
		t.Skip("skipping: this SoftHSM2 has no CKM_AES_KEY_WRAP_PAD")
	}
	kek := bytes.Repeat([]byte{0x24}, 32)
	if err := hsm.ImportAESKey(tok, "known", kek); err != nil {
		t.Fatal(err)
	}
	root, wrapped, err := hsm.NewRootKeyWith(tok, "known", 0x02)
	if err != nil {
		t.Fatal(err)
	}
	if len(wrapped) != 42 || wrapped[0] != 0x01 || wrapped[1] != 0x02 {
		t.Fatalf("wrapped root key %x: want 42 bytes, version 1, mechanism 2", wrapped)
	}
	if got := unwrapKWP(t, kek, wrapped[2:]); !bytes.Equal(got, root) {
		t.Error("Go's RFC 5649 unwrap returned another root key")
	}
	got, err := hsm.OpenRootKey(tok, "known", wrapped)
	if err != nil || !bytes.Equal(got, root) {
		t.Fatalf("OpenRootKey: %v", err)
	}
	tampered := bytes.Clone(wrapped)
	tampered[10] ^= 1
	if _, err := hsm.OpenRootKey(tok, "known", tampered); !errors.Is(err, hsm.ErrDecrypt) {
		t.Errorf("tampered key wrap: got %v, want ErrDecrypt", err)
	}
}
