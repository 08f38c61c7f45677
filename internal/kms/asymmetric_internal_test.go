package kms

import (
	"bytes"
	"errors"
	"testing"

	"github.com/kmsd/kmsd/internal/ciphertext"
)

// TestDataKeyPairCiphertextOpens opens the encrypted private key of a data
// key pair with the package ciphertext and the CMK's known material, as
// decrypt-data does: it opens with the AAD it was made with and no other.
func TestDataKeyPairCiphertextOpens(t *testing.T) {
	s := New(nil, nil, Config{}, nil)
	for i, tc := range []struct {
		spec string
		alg  ciphertext.Algorithm
		key  []byte
	}{
		{"AES_256", ciphertext.AES256GCM, bytes.Repeat([]byte{0xa5}, 32)},
		{"SM4", ciphertext.SM4GCM, bytes.Repeat([]byte{0x5a}, 16)},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			h := &handle{
				Key:      Key{ProjectID: "0123456789abcdef0123456789abcdef", KeyID: testKeyID(100 + i), Spec: tc.spec, Usage: UsageEncryptDecrypt, State: StateEnabled, PrimaryVersion: 3},
				material: map[int][]byte{3: tc.key},
			}
			s.cache.put(h, s.cache.generation(), s.Now())
			aad := []byte("context")
			p, err := s.CreateDataKeyPair(t.Context(), DataKeyPairInput{ProjectID: h.ProjectID, KeyID: h.KeyID, Spec: "ECC_NIST_P256", AAD: aad})
			if err != nil {
				t.Fatal(err)
			}
			blob, err := ciphertext.Parse(p.PrivateKeyCiphertext)
			if err != nil {
				t.Fatal(err)
			}
			if blob.KeyVersion != 3 || blob.Algorithm != tc.alg || blob.Kind != ciphertext.KindData {
				t.Errorf("blob header %+v", blob)
			}
			aead, err := ciphertext.NewAEAD(tc.alg, tc.key)
			if err != nil {
				t.Fatal(err)
			}
			got, err := blob.Open(aead, aad)
			if err != nil || !bytes.Equal(got, p.PrivateKey) {
				t.Errorf("Open: %v; plaintext equal: %v", err, bytes.Equal(got, p.PrivateKey))
			}
			if _, err := blob.Open(aead, []byte("other")); !errors.Is(err, ciphertext.ErrOpen) {
				t.Errorf("Open with another AAD: got %v, want ErrOpen", err)
			}
		})
	}
}
