package kms_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"

	"github.com/emmansun/gmsm/sm3"

	"github.com/kmsd/kmsd/internal/ciphertext"
	"github.com/kmsd/kmsd/internal/kms"
)

// digestFor is the data key digest a client computes for a CMK spec:
// SM3 for SM4 keys, SHA-256 otherwise.
func digestFor(spec string, dek []byte) []byte {
	if spec == "SM4" {
		s := sm3.Sum(dek)
		return s[:]
	}
	s := sha256.Sum256(dek)
	return s[:]
}

func TestCreateDataKey(t *testing.T) {
	f := newFixture(t, "", 0)
	ctx := t.Context()
	for _, spec := range []string{"AES_256", "SM4"} {
		k := f.symKey(t, spec, "")
		tests := []struct {
			name    string
			keySpec string
			bits    int
			hasBits bool
			want    int // bytes
		}{
			{"default", "", 0, false, 32},
			{"AES_128", "AES_128", 0, false, 16},
			{"AES_256", "AES_256", 0, false, 32},
			{"SM4", "SM4", 0, false, 16},
			{"HMAC_384", "HMAC_384", 0, false, 48},
			{"HMAC_512", "HMAC_512", 0, false, 64},
			{"HMAC_SM3", "HMAC_SM3", 0, false, 32},
			{"8 bits", "", 8, true, 1},
			{"8192 bits", "", 8192, true, 1024},
			{"length wins over spec", "AES_128", 512, true, 64},
		}
		for _, tt := range tests {
			t.Run(spec+"/"+tt.name, func(t *testing.T) {
				aad := []byte("dek context")
				dek, blob, err := f.svc.CreateDataKey(ctx, kms.CreateDataKeyInput{ProjectID: project, KeyID: k.KeyID, KeySpec: tt.keySpec, Bits: tt.bits, HasBits: tt.hasBits, AAD: aad})
				if err != nil {
					t.Fatal(err)
				}
				if len(dek) != tt.want {
					t.Errorf("data key of %d bytes, want %d", len(dek), tt.want)
				}
				if len(blob) != tt.want+ciphertext.Overhead {
					t.Errorf("ciphertext of %d bytes, want %d", len(blob), tt.want+ciphertext.Overhead)
				}
				b, err := ciphertext.Parse(blob)
				if err != nil {
					t.Fatal(err)
				}
				if b.Kind != ciphertext.KindDataKey || b.KeyID != k.KeyID {
					t.Errorf("blob header %+v", b)
				}
				got, digest, err := f.svc.DecryptDataKey(ctx, project, k.KeyID, blob, tt.want, aad)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, dek) {
					t.Error("decrypt-datakey gave another key")
				}
				if !bytes.Equal(digest, digestFor(spec, dek)) {
					t.Errorf("digest %x, want %x", digest, digestFor(spec, dek))
				}
			})
		}
	}
	a, _, err := f.svc.CreateDataKey(ctx, kms.CreateDataKeyInput{ProjectID: project, KeyID: f.symKey(t, "AES_256", "").KeyID})
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := f.svc.CreateDataKey(ctx, kms.CreateDataKeyInput{ProjectID: project, KeyID: f.symKey(t, "AES_256", "").KeyID})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, b) {
		t.Error("two data keys are equal")
	}
}

func TestCreateDataKeyErrors(t *testing.T) {
	f := newFixture(t, "", 0)
	ctx := t.Context()
	aes := f.symKey(t, "AES_256", "")
	rsaKey := f.symKey(t, "RSA_2048", kms.UsageEncryptDecrypt)
	sm2Key := f.symKey(t, "SM2", "")
	hmacKey := f.symKey(t, "HMAC_256", "")
	disabled := f.symKey(t, "SM4", "")
	if _, err := f.svc.DisableKey(ctx, project, disabled.KeyID); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   kms.CreateDataKeyInput
		want error
	}{
		{"0 bits", kms.CreateDataKeyInput{KeyID: aes.KeyID, HasBits: true}, kms.ErrDataKeyLengthRange},
		{"negative", kms.CreateDataKeyInput{KeyID: aes.KeyID, Bits: -8, HasBits: true}, kms.ErrDataKeyLengthRange},
		{"8200 bits", kms.CreateDataKeyInput{KeyID: aes.KeyID, Bits: 8200, HasBits: true}, kms.ErrDataKeyLengthRange},
		{"12 bits", kms.CreateDataKeyInput{KeyID: aes.KeyID, Bits: 12, HasBits: true}, kms.ErrDataKeyLengthMultiple},
		{"unknown spec", kms.CreateDataKeyInput{KeyID: aes.KeyID, KeySpec: "AES_512"}, kms.ErrDataKeySpec},
		{"unknown spec with a length", kms.CreateDataKeyInput{KeyID: aes.KeyID, KeySpec: "DES", Bits: 64, HasBits: true}, kms.ErrDataKeySpec},
		{"AAD too long", kms.CreateDataKeyInput{KeyID: aes.KeyID, AAD: make([]byte, 129)}, kms.ErrInvalidParameter},
		{"RSA key", kms.CreateDataKeyInput{KeyID: rsaKey.KeyID}, kms.ErrAsymmetricKey},
		{"SM2 key", kms.CreateDataKeyInput{KeyID: sm2Key.KeyID}, kms.ErrAsymmetricKey},
		{"HMAC key", kms.CreateDataKeyInput{KeyID: hmacKey.KeyID}, kms.ErrHMACKey},
		{"disabled key", kms.CreateDataKeyInput{KeyID: disabled.KeyID}, kms.ErrKeyDisabled},
		{"unknown key", kms.CreateDataKeyInput{KeyID: "00000000-0000-4000-8000-000000000000"}, kms.ErrKeyNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.ProjectID = project
			dek, blob, err := f.svc.CreateDataKey(ctx, tt.in)
			if !errors.Is(err, tt.want) {
				t.Errorf("got %x %x, %v; want %v", dek, blob, err, tt.want)
			}
		})
	}
	in := kms.CreateDataKeyInput{ProjectID: other, KeyID: aes.KeyID}
	if _, _, err := f.svc.CreateDataKey(ctx, in); !errors.Is(err, kms.ErrKeyNotFound) {
		t.Errorf("other project: got %v, want ErrKeyNotFound", err)
	}
}

func TestEncryptDataKey(t *testing.T) {
	f := newFixture(t, "", 0)
	ctx := t.Context()
	for _, spec := range []string{"AES_256", "SM4"} {
		k := f.symKey(t, spec, "")
		for _, n := range []int{1, 64, 1024} {
			t.Run(fmt.Sprintf("%s/%d", spec, n), func(t *testing.T) {
				dek := bytes.Repeat([]byte{byte(n)}, n)
				in := append(bytes.Clone(dek), digestFor(spec, dek)...)
				blob, err := f.svc.EncryptDataKey(ctx, project, k.KeyID, in, n, []byte("a"))
				if err != nil {
					t.Fatal(err)
				}
				if len(blob) != n+ciphertext.Overhead {
					t.Errorf("ciphertext of %d bytes, want %d", len(blob), n+ciphertext.Overhead)
				}
				got, digest, err := f.svc.DecryptDataKey(ctx, project, k.KeyID, blob, n, []byte("a"))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, dek) || !bytes.Equal(digest, digestFor(spec, dek)) {
					t.Errorf("decrypt-datakey: %x %x", got, digest)
				}
			})
		}
	}
	aes := f.symKey(t, "AES_256", "")
	sm4 := f.symKey(t, "SM4", "")
	rsaKey := f.symKey(t, "RSA_2048", kms.UsageEncryptDecrypt)
	dek := bytes.Repeat([]byte{7}, 32)
	good := append(bytes.Clone(dek), digestFor("AES_256", dek)...)
	wrongDigest := bytes.Clone(good)
	wrongDigest[len(wrongDigest)-1] ^= 1
	tests := []struct {
		name   string
		keyID  string
		in     []byte
		length int
		want   error
	}{
		{"wrong digest", aes.KeyID, wrongDigest, 32, kms.ErrDataKeyDigest},
		{"SHA-256 digest for an SM4 key", sm4.KeyID, good, 32, kms.ErrDataKeyDigest},
		{"length too small", aes.KeyID, good, 31, kms.ErrDataKeyPlainLength},
		{"length too large", aes.KeyID, good, 33, kms.ErrDataKeyPlainLength},
		{"no digest", aes.KeyID, dek, 32, kms.ErrDataKeyPlainLength},
		{"length 0", aes.KeyID, good, 0, kms.ErrInvalidParameter},
		{"length 1025", aes.KeyID, good, 1025, kms.ErrInvalidParameter},
		{"RSA key", rsaKey.KeyID, good, 32, kms.ErrAsymmetricKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if blob, err := f.svc.EncryptDataKey(ctx, project, tt.keyID, tt.in, tt.length, nil); !errors.Is(err, tt.want) {
				t.Errorf("got %x, %v; want %v", blob, err, tt.want)
			}
		})
	}
}

func TestDecryptDataKeyErrors(t *testing.T) {
	f := newFixture(t, "", 0)
	ctx := t.Context()
	k := f.symKey(t, "AES_256", "")
	k2 := f.symKey(t, "AES_256", "")
	hmacKey := f.symKey(t, "HMAC_512", "")
	aad := []byte("aad")
	_, blob, err := f.svc.CreateDataKey(ctx, kms.CreateDataKeyInput{ProjectID: project, KeyID: k.KeyID, AAD: aad})
	if err != nil {
		t.Fatal(err)
	}
	data, err := f.svc.Encrypt(ctx, project, k.KeyID, bytes.Repeat([]byte("x"), 32), aad, "")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		project string
		keyID   string
		blob    []byte
		length  int
		aad     []byte
		want    error
	}{
		{"wrong AAD", project, k.KeyID, blob, 32, []byte("aaD"), kms.ErrDataKeyIntegrity},
		{"missing AAD", project, k.KeyID, blob, 32, nil, kms.ErrDataKeyIntegrity},
		{"other key", project, k2.KeyID, blob, 32, aad, kms.ErrDataKeyIntegrity},
		{"wrong length", project, k.KeyID, blob, 64, aad, kms.ErrDataKeyCipherLength},
		{"length 0", project, k.KeyID, blob, 0, aad, kms.ErrInvalidParameter},
		{"length 1025", project, k.KeyID, blob, 1025, aad, kms.ErrInvalidParameter},
		{"data ciphertext", project, k.KeyID, data, 32, aad, kms.ErrInvalidDataKeyCiphertext},
		{"garbage", project, k.KeyID, []byte("not a data key ciphertext"), 32, aad, kms.ErrInvalidDataKeyCiphertext},
		{"HMAC key", project, hmacKey.KeyID, blob, 32, aad, kms.ErrHMACKey},
		{"other project", other, k.KeyID, blob, 32, aad, kms.ErrKeyNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dek, digest, err := f.svc.DecryptDataKey(ctx, tt.project, tt.keyID, tt.blob, tt.length, tt.aad)
			if !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
			if dek != nil || digest != nil {
				t.Errorf("got a data key %x with an error", dek)
			}
		})
	}
	// Every flipped bit fails with a documented data key error.
	for i := range len(blob) * 8 {
		tampered := bytes.Clone(blob)
		tampered[i/8] ^= 1 << (i % 8)
		dek, _, err := f.svc.DecryptDataKey(ctx, project, k.KeyID, tampered, 32, aad)
		if !errors.Is(err, kms.ErrDataKeyIntegrity) && !errors.Is(err, kms.ErrInvalidDataKeyCiphertext) {
			t.Errorf("bit %d: got %v, want ErrDataKeyIntegrity or ErrInvalidDataKeyCiphertext", i, err)
		}
		if dek != nil {
			t.Fatalf("bit %d: got a data key", i)
		}
	}
}
