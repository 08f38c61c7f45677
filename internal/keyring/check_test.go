package keyring

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"
)

// checkKAT is the check value of testRoot (bytes 0x00..0x1f).
const checkKAT = "0147b19a87dd1f12372926a374663db76e42156c4e7f440c6b92d83ba101710eff"

func TestCheckValueKnownAnswer(t *testing.T) {
	got := newTestKeyring(t).CheckValue()
	if hex.EncodeToString(got) != checkKAT {
		t.Errorf("CheckValue: got %x, want %s", got, checkKAT)
	}
	// Recompute with Go's HKDF, as the package documentation describes it.
	kdk, err := hkdf.Key(sha256.New, testRoot, nil, "kmsd keyring derive key v1", 32)
	if err != nil {
		t.Fatal(err)
	}
	v, err := hkdf.Expand(sha256.New, kdk, "kmsd root key check v1", 32)
	if err != nil {
		t.Fatal(err)
	}
	if want := append([]byte{0x01}, v...); !bytes.Equal(got, want) {
		t.Errorf("CheckValue: got %x, want %x", got, want)
	}
}

func TestVerifyCheckValue(t *testing.T) {
	k := newTestKeyring(t)
	other, err := New(bytes.Repeat([]byte{0xaa}, RootKeySize))
	if err != nil {
		t.Fatal(err)
	}
	good := k.CheckValue()
	tests := []struct {
		name   string
		stored []byte
		want   error
	}{
		{"same root", good, nil},
		{"other root", other.CheckValue(), ErrCheckMismatch},
		{"flipped bit", func() []byte { b := bytes.Clone(good); b[20] ^= 1; return b }(), ErrCheckMismatch},
		{"unknown version", append([]byte{0x02}, good[1:]...), ErrCheckMalformed},
		{"short", good[:32], ErrCheckMalformed},
		{"long", append(bytes.Clone(good), 0), ErrCheckMalformed},
		{"empty", nil, ErrCheckMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := k.VerifyCheckValue(tc.stored); !errors.Is(err, tc.want) {
				t.Errorf("VerifyCheckValue: got %v, want %v", err, tc.want)
			}
		})
	}
}

// FuzzVerifyCheckValue checks that no stored value other than the root
// key's own check value verifies, and that none panics.
func FuzzVerifyCheckValue(f *testing.F) {
	k := newTestKeyring(f)
	good := k.CheckValue()
	for _, s := range [][]byte{good, good[:1], {}, append([]byte{0x02}, good[1:]...)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, stored []byte) {
		err := k.VerifyCheckValue(stored)
		if (err == nil) != bytes.Equal(stored, good) {
			t.Errorf("VerifyCheckValue(%x): got %v", stored, err)
		}
	})
}
