package hsm_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/kmsd/kmsd/internal/hsm"
	"github.com/kmsd/kmsd/internal/hsm/softhsm"
)

func openToken(t *testing.T, label string) *hsm.Token {
	t.Helper()
	tok, err := hsm.Open(softhsm.Module(), label, []byte(softhsm.PIN))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tok.Close() })
	return tok
}

// wrappedKAT is the encoding of a wrapped root key with nonce 0x00..0x0b
// and ciphertext 0x00..0x2f.
const wrappedKAT = "0101000102030405060708090a0b000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f"

func seq(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

func TestWrappedRootKeyFormat(t *testing.T) {
	w := hsm.WrappedRootKey{Mechanism: 0x01, Nonce: seq(12), Ciphertext: seq(48)}
	got := w.Marshal()
	if hex.EncodeToString(got) != wrappedKAT {
		t.Errorf("Marshal: got %x, want %s", got, wrappedKAT)
	}
	p, err := hsm.ParseWrappedRootKey(got)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(p.Marshal(), got) {
		t.Errorf("round trip: got %x, want %x", p.Marshal(), got)
	}
	kwp := hsm.WrappedRootKey{Mechanism: 0x02, Ciphertext: seq(40)}.Marshal()
	if want := "0102" + hex.EncodeToString(seq(40)); hex.EncodeToString(kwp) != want {
		t.Errorf("Marshal key wrap: got %x, want %s", kwp, want)
	}
	if p, err := hsm.ParseWrappedRootKey(kwp); err != nil || !bytes.Equal(p.Marshal(), kwp) {
		t.Errorf("key wrap round trip: %v", err)
	}
	bad := map[string][]byte{
		"key wrap short":    kwp[:41],
		"key wrap as GCM":   append([]byte{0x01, 0x01}, kwp[2:]...),
		"empty":             nil,
		"short":             got[:len(got)-1],
		"long":              append(bytes.Clone(got), 0),
		"unknown version":   append([]byte{0x02}, got[1:]...),
		"unknown mechanism": append([]byte{0x01, 0x02}, got[2:]...),
	}
	for name, b := range bad {
		if _, err := hsm.ParseWrappedRootKey(b); !errors.Is(err, hsm.ErrMalformed) {
			t.Errorf("%s: got %v, want ErrMalformed", name, err)
		}
	}
}

func FuzzParseWrappedRootKey(f *testing.F) {
	kat, _ := hex.DecodeString(wrappedKAT)
	kwp := append([]byte{0x01, 0x02}, make([]byte, 40)...)
	for _, s := range [][]byte{kat, kat[:10], {}, {0x01, 0x01}, kwp} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		w, err := hsm.ParseWrappedRootKey(b)
		if err != nil {
			return
		}
		if !bytes.Equal(w.Marshal(), b) {
			t.Errorf("round trip of %x: got %x", b, w.Marshal())
		}
	})
}

// TestRootKeyInSoftHSM wraps a root key with a token key and unwraps it
// again; a changed blob, another token key and a missing key all fail.
func TestRootKeyInSoftHSM(t *testing.T) {
	softhsm.New(t, "root")
	tok := openToken(t, "root")
	if err := tok.GenerateAESKey("kmsd-root"); err != nil {
		t.Fatal(err)
	}
	if err := tok.GenerateAESKey("kmsd-root"); !errors.Is(err, hsm.ErrKeyExists) {
		t.Errorf("second GenerateAESKey: got %v, want ErrKeyExists", err)
	}
	root, wrapped, err := hsm.NewRootKey(tok, "kmsd-root")
	if err != nil {
		t.Fatal(err)
	}
	if len(root) != 32 || bytes.Contains(wrapped, root) {
		t.Fatalf("NewRootKey: root %d bytes, or root in the clear in the wrapped key", len(root))
	}
	got, err := hsm.OpenRootKey(tok, "kmsd-root", wrapped)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, root) {
		t.Error("OpenRootKey returned another key")
	}
	tampered := bytes.Clone(wrapped)
	tampered[20] ^= 1
	if _, err := hsm.OpenRootKey(tok, "kmsd-root", tampered); !errors.Is(err, hsm.ErrDecrypt) {
		t.Errorf("tampered: got %v, want ErrDecrypt", err)
	}
	if err := tok.GenerateAESKey("other"); err != nil {
		t.Fatal(err)
	}
	if _, err := hsm.OpenRootKey(tok, "other", wrapped); !errors.Is(err, hsm.ErrDecrypt) {
		t.Errorf("other token key: got %v, want ErrDecrypt", err)
	}
	if _, err := hsm.OpenRootKey(tok, "missing", wrapped); !errors.Is(err, hsm.ErrNoKey) {
		t.Errorf("missing token key: got %v, want ErrNoKey", err)
	}
}

func TestOpenErrors(t *testing.T) {
	softhsm.New(t, "root")
	if _, err := hsm.Open(softhsm.Module(), "nope", []byte(softhsm.PIN)); !errors.Is(err, hsm.ErrNoToken) {
		t.Errorf("unknown token: got %v, want ErrNoToken", err)
	}
	if _, err := hsm.Open(softhsm.Module(), "root", []byte("9999")); !errors.Is(err, hsm.ErrWrongPIN) {
		t.Errorf("wrong PIN: got %v, want ErrWrongPIN", err)
	}
	if _, err := hsm.Open("/nonexistent/libnothing.so", "root", []byte(softhsm.PIN)); err == nil {
		t.Error("missing module: got nil error")
	}
}
