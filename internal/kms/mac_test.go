package kms_test

import (
	"bytes"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/kmsd/kmsd/internal/kms"
)

var aliasN atomic.Int64

// createUsage creates a key of spec with usage ("" for the default).
func (f *fixture) createUsage(t *testing.T, spec, usage string) kms.Key {
	t.Helper()
	alias := fmt.Sprintf("crypto-%d", aliasN.Add(1))
	k, err := f.svc.CreateKey(t.Context(), kms.CreateKeyInput{ProjectID: project, AccountID: account, Alias: alias, Spec: spec, Usage: usage})
	if err != nil {
		t.Fatalf("create %s %s: %v", spec, usage, err)
	}
	return k
}

// TestMAC generates and verifies a MAC with every HMAC spec; a changed
// message, MAC or algorithm does not verify, and each key gives its own MAC.
func TestMAC(t *testing.T) {
	f := newFixture(t, "", 0)
	msg := []byte("a message to authenticate")
	for spec, alg := range map[string]string{"HMAC_256": "HMAC_SHA_256", "HMAC_384": "HMAC_SHA_384", "HMAC_512": "HMAC_SHA_512", "HMAC_SM3": "HMAC_SM3"} {
		t.Run(spec, func(t *testing.T) {
			k1, k2 := f.createUsage(t, spec, ""), f.createUsage(t, spec, kms.UsageMAC)
			in := kms.MACInput{ProjectID: project, KeyID: k1.KeyID, Algorithm: alg, Message: msg}
			mac, err := f.svc.GenerateMAC(t.Context(), in)
			if err != nil {
				t.Fatal(err)
			}
			if want := map[string]int{"HMAC_384": 48, "HMAC_512": 64}[spec]; want != 0 && len(mac) != want || want == 0 && len(mac) != 32 {
				t.Errorf("MAC of %d bytes", len(mac))
			}
			again, _ := f.svc.GenerateMAC(t.Context(), in)
			if !bytes.Equal(again, mac) {
				t.Error("the MAC is not deterministic")
			}
			if ok, err := f.svc.VerifyMAC(t.Context(), in, mac); err != nil || !ok {
				t.Errorf("VerifyMAC: got %v, %v, want true", ok, err)
			}
			bad := bytes.Clone(mac)
			bad[0] ^= 1
			changed := in
			changed.Message = []byte("a message to authenticatE")
			other := in
			other.KeyID = k2.KeyID
			for name, c := range map[string]struct {
				in  kms.MACInput
				mac []byte
			}{
				"changed MAC":     {in, bad},
				"truncated MAC":   {in, mac[:len(mac)-1]},
				"extended MAC":    {in, append(bytes.Clone(mac), 0)},
				"empty MAC":       {in, nil},
				"changed message": {changed, mac},
				"another key":     {other, mac},
			} {
				if ok, err := f.svc.VerifyMAC(t.Context(), c.in, c.mac); err != nil || ok {
					t.Errorf("%s: got %v, %v, want false", name, ok, err)
				}
			}
		})
	}
}

// TestMACErrors checks each refusal of generate-mac and verify-mac.
func TestMACErrors(t *testing.T) {
	f := newFixture(t, "", 0)
	h256 := f.createUsage(t, "HMAC_256", "")
	aes := f.createUsage(t, "AES_256", "")
	ec := f.createUsage(t, "EC_P256", "")
	disabled := f.createUsage(t, "HMAC_SM3", "")
	if _, err := f.svc.DisableKey(t.Context(), project, disabled.KeyID); err != nil {
		t.Fatal(err)
	}
	pending := f.createUsage(t, "HMAC_SM3", "")
	if _, err := f.svc.ScheduleKeyDeletion(t.Context(), project, pending.KeyID, 7); err != nil {
		t.Fatal(err)
	}
	m := []byte("m")
	tests := []struct {
		name string
		in   kms.MACInput
		want error
	}{
		{"unknown algorithm", kms.MACInput{KeyID: h256.KeyID, Algorithm: "HMAC_SHA_1", Message: m}, kms.ErrInvalidParameter},
		{"empty message", kms.MACInput{KeyID: h256.KeyID, Algorithm: "HMAC_SHA_256"}, kms.ErrInvalidParameter},
		{"message of 4097 bytes", kms.MACInput{KeyID: h256.KeyID, Algorithm: "HMAC_SHA_256", Message: make([]byte, 4097)}, kms.ErrInvalidParameter},
		{"algorithm of another spec", kms.MACInput{KeyID: h256.KeyID, Algorithm: "HMAC_SHA_512", Message: m}, kms.ErrAlgorithmMismatch},
		{"SM3 with a SHA-256 key", kms.MACInput{KeyID: h256.KeyID, Algorithm: "HMAC_SM3", Message: m}, kms.ErrAlgorithmMismatch},
		{"symmetric key", kms.MACInput{KeyID: aes.KeyID, Algorithm: "HMAC_SHA_256", Message: m}, kms.ErrSymmetricKey},
		{"asymmetric key", kms.MACInput{KeyID: ec.KeyID, Algorithm: "HMAC_SHA_256", Message: m}, kms.ErrAsymmetricKey},
		{"disabled", kms.MACInput{KeyID: disabled.KeyID, Algorithm: "HMAC_SM3", Message: m}, kms.ErrKeyDisabled},
		{"pending deletion", kms.MACInput{KeyID: pending.KeyID, Algorithm: "HMAC_SM3", Message: m}, kms.ErrKeyPendingDeletion},
		{"unknown key", kms.MACInput{KeyID: "00000000-0000-4000-8000-000000000000", Algorithm: "HMAC_SHA_256", Message: m}, kms.ErrKeyNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.ProjectID = project
			if _, err := f.svc.GenerateMAC(t.Context(), tt.in); !errors.Is(err, tt.want) {
				t.Errorf("GenerateMAC: got %v, want %v", err, tt.want)
			}
			if _, err := f.svc.VerifyMAC(t.Context(), tt.in, make([]byte, 32)); !errors.Is(err, tt.want) {
				t.Errorf("VerifyMAC: got %v, want %v", err, tt.want)
			}
		})
	}
	// The largest message is accepted.
	in := kms.MACInput{ProjectID: project, KeyID: h256.KeyID, Algorithm: "HMAC_SHA_256", Message: make([]byte, 4096)}
	if _, err := f.svc.GenerateMAC(t.Context(), in); err != nil {
		t.Errorf("4096-byte message: %v", err)
	}
}
