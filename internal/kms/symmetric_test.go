package kms_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"

	"github.com/kmsd/kmsd/internal/ciphertext"
	"github.com/kmsd/kmsd/internal/keyring"
	"github.com/kmsd/kmsd/internal/kms"
	"github.com/kmsd/kmsd/internal/store"
)

var symAliasN atomic.Int64

// symKey creates a key of spec and usage ("" for the spec's default).
func (f *fixture) symKey(t *testing.T, spec, usage string) kms.Key {
	t.Helper()
	alias := fmt.Sprintf("sym-%d", symAliasN.Add(1))
	k, err := f.svc.CreateKey(t.Context(), kms.CreateKeyInput{ProjectID: project, AccountID: account, Alias: alias, Spec: spec, Usage: usage})
	if err != nil {
		t.Fatalf("create %s %s: %v", spec, usage, err)
	}
	return k
}

// symMaterial opens a key version's material straight from the store, as
// an independent party holding the keyring would.
func (f *fixture) symMaterial(t *testing.T, keyID string, version int) []byte {
	t.Helper()
	var v store.KeyVersion
	err := f.st.View(t.Context(), func(tx store.Tx) error {
		var err error
		v, err = tx.GetKeyVersion(project, keyID, version)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	m, err := f.kr.Open(keyring.Binding{Purpose: kms.PurposeKeyMaterial, ProjectID: project, KeyID: keyID, Version: version}, v.Sealed)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// symPrivate returns the parsed private key of an asymmetric key.
func (f *fixture) symPrivate(t *testing.T, keyID string) any {
	t.Helper()
	priv, err := smx509.ParsePKCS8PrivateKey(f.symMaterial(t, keyID, 1))
	if err != nil {
		t.Fatal(err)
	}
	return priv
}

// symRotate adds a new version with fresh material to a symmetric key and
// makes it primary, as rotation does, and returns its number.
func (f *fixture) symRotate(t *testing.T, k kms.Key) int {
	t.Helper()
	n := 32
	if k.Spec == "SM4" {
		n = 16
	}
	m := make([]byte, n)
	rand.Read(m)
	var version int
	err := f.st.Update(t.Context(), func(tx store.Tx) error {
		cur, err := tx.GetKey(project, k.KeyID)
		if err != nil {
			return err
		}
		version = cur.PrimaryVersion + 1
		sealed, err := f.kr.Seal(keyring.Binding{Purpose: kms.PurposeKeyMaterial, ProjectID: project, KeyID: k.KeyID, Version: version}, m)
		if err != nil {
			return err
		}
		if err := tx.PutKeyVersion(store.KeyVersion{ProjectID: project, KeyID: k.KeyID, Version: version, Sealed: sealed, CreatedAt: time.Now()}); err != nil {
			return err
		}
		cur.PrimaryVersion = version
		return tx.UpdateKey(cur)
	})
	if err != nil {
		t.Fatal(err)
	}
	f.svc.InvalidateKey(project, k.KeyID)
	return version
}

func TestEncryptDecrypt(t *testing.T) {
	f := newFixture(t, "", 0)
	ctx := t.Context()
	for _, spec := range []string{"AES_256", "SM4"} {
		k := f.symKey(t, spec, "")
		for _, tc := range []struct {
			name string
			pt   []byte
			aad  []byte
		}{
			{"1 byte", []byte("x"), nil},
			{"text with AAD", []byte("hello, kmsd — 你好"), []byte("bucket=photos")},
			{"4096 bytes, 128-byte AAD", bytes.Repeat([]byte{0xfe}, kms.MaxPlaintext), bytes.Repeat([]byte("a"), kms.MaxAAD)},
		} {
			t.Run(spec+"/"+tc.name, func(t *testing.T) {
				ct, err := f.svc.Encrypt(ctx, project, k.KeyID, tc.pt, tc.aad, "")
				if err != nil {
					t.Fatal(err)
				}
				if len(ct) != len(tc.pt)+ciphertext.Overhead {
					t.Errorf("ciphertext of %d bytes, want %d", len(ct), len(tc.pt)+ciphertext.Overhead)
				}
				b, err := ciphertext.Parse(ct)
				if err != nil {
					t.Fatal(err)
				}
				wantAlg := map[string]ciphertext.Algorithm{"AES_256": ciphertext.AES256GCM, "SM4": ciphertext.SM4GCM}[spec]
				if b.Kind != ciphertext.KindData || b.Algorithm != wantAlg || b.KeyVersion != 1 || b.KeyID != k.KeyID || b.ProjectID != project {
					t.Errorf("blob header %+v", b)
				}
				if len(tc.pt) >= 8 && bytes.Contains(ct, tc.pt) {
					t.Error("the ciphertext contains the plaintext")
				}
				// The ciphertext opens with the key's material directly.
				aead, err := ciphertext.NewAEAD(wantAlg, f.symMaterial(t, k.KeyID, 1))
				if err != nil {
					t.Fatal(err)
				}
				if pt, err := b.Open(aead, tc.aad); err != nil || !bytes.Equal(pt, tc.pt) {
					t.Errorf("independent open: %v", err)
				}
				for _, keyID := range []string{"", k.KeyID} {
					id, pt, err := f.svc.Decrypt(ctx, project, ct, tc.aad, keyID, "")
					if err != nil {
						t.Fatalf("Decrypt (key id %q): %v", keyID, err)
					}
					if id != k.KeyID || !bytes.Equal(pt, tc.pt) {
						t.Errorf("Decrypt: got %s %q, want %s %q", id, pt, k.KeyID, tc.pt)
					}
				}
				again, err := f.svc.Encrypt(ctx, project, k.KeyID, tc.pt, tc.aad, kms.EncryptionSymmetricDefault)
				if err != nil {
					t.Fatal(err)
				}
				if bytes.Equal(again, ct) {
					t.Error("two encryptions gave the same ciphertext")
				}
			})
		}
	}
}

// TestDecryptFailures checks that every way a symmetric decryption can
// fail gives the documented error and never plaintext; a wrong key and a
// wrong AAD give the same one.
func TestDecryptFailures(t *testing.T) {
	f := newFixture(t, "", 0)
	ctx := t.Context()
	k := f.symKey(t, "AES_256", "")
	k2 := f.symKey(t, "AES_256", "")
	pt := []byte("the secret")
	aad := []byte("context")
	ct, err := f.svc.Encrypt(ctx, project, k.KeyID, pt, aad, "")
	if err != nil {
		t.Fatal(err)
	}
	_, dekBlob, err := f.svc.CreateDataKey(ctx, kms.CreateDataKeyInput{ProjectID: project, KeyID: k.KeyID, AAD: aad})
	if err != nil {
		t.Fatal(err)
	}
	// A blob that names k2 but was sealed by k: the header is
	// authenticated, so it must not open under either key.
	swapped := bytes.Clone(ct)
	copy(swapped[8:44], k2.KeyID)
	tests := []struct {
		name    string
		project string
		ct      []byte
		aad     []byte
		keyID   string
		want    error
	}{
		{"wrong AAD", project, ct, []byte("contexT"), "", kms.ErrDecryptFailed},
		{"missing AAD", project, ct, nil, "", kms.ErrDecryptFailed},
		{"other key named", project, ct, aad, k2.KeyID, kms.ErrDecryptFailed},
		{"header names another key", project, swapped, aad, "", kms.ErrDecryptFailed},
		{"other project", other, ct, aad, "", kms.ErrKeyNotFound},
		{"data key blob", project, dekBlob, aad, "", kms.ErrInvalidCiphertext},
		{"truncated", project, ct[:len(ct)-1], aad, "", kms.ErrDecryptFailed},
		{"too short", project, ct[:ciphertext.Overhead-1], aad, "", kms.ErrInvalidCiphertext},
		{"garbage", project, bytes.Repeat([]byte{0x02}, 200), aad, "", kms.ErrInvalidCiphertext},
		{"empty", project, nil, aad, "", kms.ErrInvalidCiphertext},
		{"AAD too long", project, ct, bytes.Repeat([]byte("a"), kms.MaxAAD+1), "", kms.ErrInvalidParameter},
		{"unknown algorithm", project, ct, aad, "", kms.ErrInvalidParameter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			alg := ""
			if tt.name == "unknown algorithm" {
				alg = "AES_GCM"
			}
			_, got, err := f.svc.Decrypt(ctx, tt.project, tt.ct, tt.aad, tt.keyID, alg)
			if !errors.Is(err, tt.want) {
				t.Errorf("got %q, %v; want %v", got, err, tt.want)
			}
			if got != nil {
				t.Errorf("got plaintext %q with an error", got)
			}
		})
	}
	if _, pt2, err := f.svc.Decrypt(ctx, project, ct, aad, "", ""); err != nil || !bytes.Equal(pt2, pt) {
		t.Fatalf("the untouched ciphertext: %q, %v", pt2, err)
	}
}

// TestDecryptTamper flips every bit of a real ciphertext: each must fail
// with a documented error and never give plaintext.
func TestDecryptTamper(t *testing.T) {
	f := newFixture(t, "", 0)
	ctx := t.Context()
	k := f.symKey(t, "SM4", "")
	ct, err := f.svc.Encrypt(ctx, project, k.KeyID, []byte("tamper me"), []byte("aad"), "")
	if err != nil {
		t.Fatal(err)
	}
	for i := range len(ct) * 8 {
		tampered := bytes.Clone(ct)
		tampered[i/8] ^= 1 << (i % 8)
		_, pt, err := f.svc.Decrypt(ctx, project, tampered, []byte("aad"), "", "")
		// A flipped key id or project id names a key that does not exist
		// (here); everything else is a malformed or unauthentic blob.
		if !errors.Is(err, kms.ErrDecryptFailed) && !errors.Is(err, kms.ErrInvalidCiphertext) && !errors.Is(err, kms.ErrKeyNotFound) {
			t.Errorf("bit %d: got %v, want ErrDecryptFailed, ErrInvalidCiphertext or ErrKeyNotFound", i, err)
		}
		if pt != nil {
			t.Fatalf("bit %d: got plaintext %q", i, pt)
		}
	}
}

// TestRotatedKeyDecrypts encrypts under two versions: new ciphertexts use
// the primary version, old ones still decrypt with theirs.
func TestRotatedKeyDecrypts(t *testing.T) {
	f := newFixture(t, "", 0)
	ctx := t.Context()
	for _, spec := range []string{"AES_256", "SM4"} {
		t.Run(spec, func(t *testing.T) {
			k := f.symKey(t, spec, "")
			old, err := f.svc.Encrypt(ctx, project, k.KeyID, []byte("old"), nil, "")
			if err != nil {
				t.Fatal(err)
			}
			_, oldDEK, err := f.svc.CreateDataKey(ctx, kms.CreateDataKeyInput{ProjectID: project, KeyID: k.KeyID})
			if err != nil {
				t.Fatal(err)
			}
			if v := f.symRotate(t, k); v != 2 {
				t.Fatalf("rotated to version %d", v)
			}
			cur, err := f.svc.Encrypt(ctx, project, k.KeyID, []byte("new"), nil, "")
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				ct      []byte
				version uint32
				pt      string
			}{{old, 1, "old"}, {cur, 2, "new"}} {
				b, err := ciphertext.Parse(c.ct)
				if err != nil {
					t.Fatal(err)
				}
				if b.KeyVersion != c.version {
					t.Errorf("%s: version %d, want %d", c.pt, b.KeyVersion, c.version)
				}
				if _, pt, err := f.svc.Decrypt(ctx, project, c.ct, nil, "", ""); err != nil || string(pt) != c.pt {
					t.Errorf("%s: Decrypt: %q, %v", c.pt, pt, err)
				}
			}
			if _, _, err := f.svc.DecryptDataKey(ctx, project, k.KeyID, oldDEK, 32, nil); err != nil {
				t.Errorf("old data key: %v", err)
			}
			// A blob naming a version the key does not have fails like any
			// unauthentic blob.
			future := bytes.Clone(cur)
			future[7] = 3
			if _, pt, err := f.svc.Decrypt(ctx, project, future, nil, "", ""); !errors.Is(err, kms.ErrDecryptFailed) {
				t.Errorf("version 3: got %q, %v; want ErrDecryptFailed", pt, err)
			}
		})
	}
}

func TestEncryptKeyChecks(t *testing.T) {
	f := newFixture(t, "", 0)
	ctx := t.Context()
	aes := f.symKey(t, "AES_256", "")
	rsaEnc := f.symKey(t, "RSA_2048", kms.UsageEncryptDecrypt)
	rsaSign := f.symKey(t, "RSA_2048", kms.UsageSignVerify)
	sm2Enc := f.symKey(t, "SM2", kms.UsageEncryptDecrypt)
	ec := f.symKey(t, "EC_P256", "")
	hmacKey := f.symKey(t, "HMAC_256", "")
	disabled := f.symKey(t, "AES_256", "")
	if _, err := f.svc.DisableKey(ctx, project, disabled.KeyID); err != nil {
		t.Fatal(err)
	}
	pending := f.symKey(t, "SM4", "")
	if _, err := f.svc.ScheduleKeyDeletion(ctx, project, pending.KeyID, 7); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		keyID string
		pt    []byte
		aad   []byte
		alg   string
		want  error
	}{
		{"empty plaintext", aes.KeyID, nil, nil, "", kms.ErrInvalidParameter},
		{"4097 bytes", aes.KeyID, make([]byte, 4097), nil, "", kms.ErrInvalidParameter},
		{"AAD of 129 bytes", aes.KeyID, []byte("x"), make([]byte, 129), "", kms.ErrInvalidParameter},
		{"unknown algorithm", aes.KeyID, []byte("x"), nil, "AES_GCM", kms.ErrInvalidParameter},
		{"symmetric key, RSA algorithm", aes.KeyID, []byte("x"), nil, kms.EncryptionRSAOAEPSHA256, kms.ErrSymmetricAlgorithm},
		{"symmetric key, SM2 algorithm", aes.KeyID, []byte("x"), nil, kms.EncryptionSM2, kms.ErrSymmetricAlgorithm},
		{"RSA key, default algorithm", rsaEnc.KeyID, []byte("x"), nil, "", kms.ErrRSAAlgorithm},
		{"RSA key, SM2 algorithm", rsaEnc.KeyID, []byte("x"), nil, kms.EncryptionSM2, kms.ErrRSAAlgorithm},
		{"RSA key, AAD", rsaEnc.KeyID, []byte("x"), []byte("a"), kms.EncryptionRSAOAEPSHA256, kms.ErrInvalidParameter},
		{"RSA-2048 OAEP-SHA256, 191 bytes", rsaEnc.KeyID, make([]byte, 191), nil, kms.EncryptionRSAOAEPSHA256, kms.ErrRSAPlaintextTooLong},
		{"RSA-2048 OAEP-SHA1, 215 bytes", rsaEnc.KeyID, make([]byte, 215), nil, kms.EncryptionRSAOAEPSHA1, kms.ErrRSAPlaintextTooLong},
		{"SM2 key, RSA algorithm", sm2Enc.KeyID, []byte("x"), nil, kms.EncryptionRSAOAEPSHA256, kms.ErrInvalidParameter},
		{"SM2 key, default algorithm", sm2Enc.KeyID, []byte("x"), nil, "", kms.ErrInvalidParameter},
		{"signing key", rsaSign.KeyID, []byte("x"), nil, kms.EncryptionRSAOAEPSHA256, kms.ErrKeyForSigning},
		{"EC key", ec.KeyID, []byte("x"), nil, "", kms.ErrKeyForSigning},
		{"HMAC key", hmacKey.KeyID, []byte("x"), nil, "", kms.ErrHMACKey},
		{"disabled", disabled.KeyID, []byte("x"), nil, "", kms.ErrKeyDisabled},
		{"pending deletion", pending.KeyID, []byte("x"), nil, "", kms.ErrKeyPendingDeletion},
		{"unknown key", "00000000-0000-4000-8000-000000000000", []byte("x"), nil, "", kms.ErrKeyNotFound},
		{"malformed key id", "nope", []byte("x"), nil, "", kms.ErrInvalidKeyID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct, err := f.svc.Encrypt(ctx, project, tt.keyID, tt.pt, tt.aad, tt.alg)
			if !errors.Is(err, tt.want) {
				t.Errorf("got %x, %v; want %v", ct, err, tt.want)
			}
		})
	}
	// The longest plaintexts RSA-2048 takes.
	for alg, n := range map[string]int{kms.EncryptionRSAOAEPSHA256: 190, kms.EncryptionRSAOAEPSHA1: 214} {
		if _, err := f.svc.Encrypt(ctx, project, rsaEnc.KeyID, make([]byte, n), nil, alg); err != nil {
			t.Errorf("%s with %d bytes: %v", alg, n, err)
		}
	}
	// Decryption refuses the same keys; a disabled or pending key is
	// refused even though its ciphertext is intact.
	ct, err := f.svc.Encrypt(ctx, project, aes.KeyID, []byte("x"), nil, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, keyID, alg string
		want             error
	}{
		{"RSA key named, default algorithm", rsaEnc.KeyID, "", kms.ErrRSAAlgorithm},
		{"SM2 key named, default algorithm", sm2Enc.KeyID, "", kms.ErrInvalidParameter},
		{"symmetric key, RSA algorithm", aes.KeyID, kms.EncryptionRSAOAEPSHA256, kms.ErrSymmetricAlgorithm},
		{"HMAC key", hmacKey.KeyID, "", kms.ErrHMACKey},
		{"signing key", rsaSign.KeyID, kms.EncryptionRSAOAEPSHA256, kms.ErrKeyForSigning},
		{"asymmetric algorithm without key", "", kms.EncryptionRSAOAEPSHA256, kms.ErrInvalidParameter},
	} {
		t.Run("decrypt/"+tc.name, func(t *testing.T) {
			if _, pt, err := f.svc.Decrypt(ctx, project, ct, nil, tc.keyID, tc.alg); !errors.Is(err, tc.want) {
				t.Errorf("got %q, %v; want %v", pt, err, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		key  kms.Key
		want error
	}{{disabled, kms.ErrKeyDisabled}, {pending, kms.ErrKeyPendingDeletion}} {
		k := f.symKey(t, tc.key.Spec, "")
		ct, err := f.svc.Encrypt(ctx, project, k.KeyID, []byte("x"), nil, "")
		if err != nil {
			t.Fatal(err)
		}
		if tc.want == kms.ErrKeyDisabled {
			_, err = f.svc.DisableKey(ctx, project, k.KeyID)
		} else {
			_, err = f.svc.ScheduleKeyDeletion(ctx, project, k.KeyID, 7)
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, pt, err := f.svc.Decrypt(ctx, project, ct, nil, "", ""); !errors.Is(err, tc.want) {
			t.Errorf("decrypt under a %s key: got %q, %v; want %v", tc.key.State, pt, err, tc.want)
		}
	}
}

// TestAsymmetricEncryption round-trips RSA-OAEP and SM2 between the
// service and the standard library or gmsm holding the same key.
func TestAsymmetricEncryption(t *testing.T) {
	f := newFixture(t, "", 0)
	ctx := t.Context()
	rsaKey := f.symKey(t, "RSA_2048", kms.UsageEncryptDecrypt)
	sm2Key := f.symKey(t, "SM2", kms.UsageEncryptDecrypt)
	rsaPriv := f.symPrivate(t, rsaKey.KeyID).(*rsa.PrivateKey)
	sm2Priv := f.symPrivate(t, sm2Key.KeyID).(*sm2.PrivateKey)
	msg := []byte("asymmetric plaintext")

	for _, alg := range []string{kms.EncryptionRSAOAEPSHA256, kms.EncryptionRSAOAEPSHA1} {
		t.Run(alg, func(t *testing.T) {
			h := sha256.New()
			if alg == kms.EncryptionRSAOAEPSHA1 {
				h = sha1.New()
			}
			ct, err := f.svc.Encrypt(ctx, project, rsaKey.KeyID, msg, nil, alg)
			if err != nil {
				t.Fatal(err)
			}
			if pt, err := rsa.DecryptOAEP(h, nil, rsaPriv, ct, nil); err != nil || !bytes.Equal(pt, msg) {
				t.Errorf("local decryption of the service's ciphertext: %q, %v", pt, err)
			}
			h.Reset()
			local, err := rsa.EncryptOAEP(h, rand.Reader, &rsaPriv.PublicKey, msg, nil)
			if err != nil {
				t.Fatal(err)
			}
			id, pt, err := f.svc.Decrypt(ctx, project, local, nil, rsaKey.KeyID, alg)
			if err != nil || id != rsaKey.KeyID || !bytes.Equal(pt, msg) {
				t.Errorf("service decryption of a local ciphertext: %s %q, %v", id, pt, err)
			}
		})
	}
	t.Run("RSA with the other OAEP hash", func(t *testing.T) {
		local, err := rsa.EncryptOAEP(sha1.New(), rand.Reader, &rsaPriv.PublicKey, msg, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, pt, err := f.svc.Decrypt(ctx, project, local, nil, rsaKey.KeyID, kms.EncryptionRSAOAEPSHA256); !errors.Is(err, kms.ErrRSADecryptFailed) {
			t.Errorf("got %q, %v; want ErrRSADecryptFailed", pt, err)
		}
		if _, pt, err := f.svc.Decrypt(ctx, project, []byte("garbage"), nil, rsaKey.KeyID, kms.EncryptionRSAOAEPSHA256); !errors.Is(err, kms.ErrRSADecryptFailed) {
			t.Errorf("garbage: got %q, %v; want ErrRSADecryptFailed", pt, err)
		}
		if _, _, err := f.svc.Decrypt(ctx, project, local, []byte("aad"), rsaKey.KeyID, kms.EncryptionRSAOAEPSHA1); !errors.Is(err, kms.ErrInvalidParameter) {
			t.Errorf("with AAD: got %v, want ErrInvalidParameter", err)
		}
	})
	t.Run("SM2", func(t *testing.T) {
		ct, err := f.svc.Encrypt(ctx, project, sm2Key.KeyID, msg, nil, kms.EncryptionSM2)
		if err != nil {
			t.Fatal(err)
		}
		if ct[0] != 0x30 {
			t.Errorf("SM2 ciphertext starts %#02x, want an ASN.1 SEQUENCE", ct[0])
		}
		if pt, err := sm2Priv.Decrypt(nil, ct, sm2.ASN1DecrypterOpts); err != nil || !bytes.Equal(pt, msg) {
			t.Errorf("local decryption of the service's ciphertext: %q, %v", pt, err)
		}
		local, err := sm2.EncryptASN1(rand.Reader, &sm2Priv.PublicKey, msg)
		if err != nil {
			t.Fatal(err)
		}
		id, pt, err := f.svc.Decrypt(ctx, project, local, nil, sm2Key.KeyID, kms.EncryptionSM2)
		if err != nil || id != sm2Key.KeyID || !bytes.Equal(pt, msg) {
			t.Errorf("service decryption of a local ciphertext: %s %q, %v", id, pt, err)
		}
		raw, err := sm2.Encrypt(rand.Reader, &sm2Priv.PublicKey, msg, sm2.NewPlainEncrypterOpts(sm2.MarshalUncompressed, sm2.C1C3C2))
		if err != nil {
			t.Fatal(err)
		}
		if _, pt, err := f.svc.Decrypt(ctx, project, raw, nil, sm2Key.KeyID, kms.EncryptionSM2); err != nil || !bytes.Equal(pt, msg) {
			t.Errorf("service decryption of a raw 04‖C1‖C3‖C2 ciphertext: %q, %v", pt, err)
		}
		for _, bad := range []struct {
			name string
			ct   []byte
		}{
			{"raw C1C2C3 order", func() []byte {
				c, err := sm2.Encrypt(rand.Reader, &sm2Priv.PublicKey, msg, sm2.NewPlainEncrypterOpts(sm2.MarshalUncompressed, sm2.C1C2C3))
				if err != nil {
					t.Fatal(err)
				}
				return c
			}()},
			{"compressed point", func() []byte {
				c, err := sm2.Encrypt(rand.Reader, &sm2Priv.PublicKey, msg, sm2.NewPlainEncrypterOpts(sm2.MarshalCompressed, sm2.C1C3C2))
				if err != nil {
					t.Fatal(err)
				}
				return c
			}()},
			{"tampered raw", func() []byte { c := bytes.Clone(raw); c[len(c)-1] ^= 1; return c }()},
		} {
			if _, pt, err := f.svc.Decrypt(ctx, project, bad.ct, nil, sm2Key.KeyID, kms.EncryptionSM2); !errors.Is(err, kms.ErrDecryptFailed) {
				t.Errorf("%s: got %q, %v; want ErrDecryptFailed", bad.name, pt, err)
			}
		}
		tampered := bytes.Clone(local)
		tampered[len(tampered)-1] ^= 1
		if _, pt, err := f.svc.Decrypt(ctx, project, tampered, nil, sm2Key.KeyID, kms.EncryptionSM2); !errors.Is(err, kms.ErrDecryptFailed) {
			t.Errorf("tampered: got %q, %v; want ErrDecryptFailed", pt, err)
		}
	})
}

func TestReEncrypt(t *testing.T) {
	f := newFixture(t, "", 0)
	ctx := t.Context()
	aesKey := f.symKey(t, "AES_256", "")
	sm4Key := f.symKey(t, "SM4", "")
	rsaKey := f.symKey(t, "RSA_2048", kms.UsageEncryptDecrypt)
	sm2Key := f.symKey(t, "SM2", kms.UsageEncryptDecrypt)
	msg := []byte("move me")
	ct, err := f.svc.Encrypt(ctx, project, aesKey.KeyID, msg, []byte("src"), "")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("AES to SM4", func(t *testing.T) {
		out, err := f.svc.ReEncrypt(ctx, kms.ReEncryptInput{ProjectID: project, Ciphertext: ct, SourceAAD: []byte("src"), DestinationKeyID: sm4Key.KeyID, DestinationAAD: []byte("dst")})
		if err != nil {
			t.Fatal(err)
		}
		if out.KeyID != sm4Key.KeyID || out.SourceKeyID != aesKey.KeyID || out.DataKey ||
			out.SourceAlgorithm != kms.EncryptionSymmetricDefault || out.DestinationAlgorithm != kms.EncryptionSymmetricDefault {
			t.Errorf("output %+v", out)
		}
		id, pt, err := f.svc.Decrypt(ctx, project, out.Ciphertext, []byte("dst"), "", "")
		if err != nil || id != sm4Key.KeyID || !bytes.Equal(pt, msg) {
			t.Errorf("decrypt the result: %s %q, %v", id, pt, err)
		}
		if _, _, err := f.svc.Decrypt(ctx, project, out.Ciphertext, []byte("src"), "", ""); !errors.Is(err, kms.ErrDecryptFailed) {
			t.Errorf("the result under the source AAD: %v", err)
		}
	})
	t.Run("data key stays a data key", func(t *testing.T) {
		dek, blob, err := f.svc.CreateDataKey(ctx, kms.CreateDataKeyInput{ProjectID: project, KeyID: aesKey.KeyID, Bits: 512, HasBits: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{0, 64} {
			out, err := f.svc.ReEncrypt(ctx, kms.ReEncryptInput{ProjectID: project, Ciphertext: blob, SourceKeyID: aesKey.KeyID, DestinationKeyID: sm4Key.KeyID, DataKeyLength: n})
			if err != nil {
				t.Fatal(err)
			}
			if !out.DataKey {
				t.Error("the result is not a data key")
			}
			got, digest, err := f.svc.DecryptDataKey(ctx, project, sm4Key.KeyID, out.Ciphertext, 64, nil)
			if err != nil || !bytes.Equal(got, dek) || len(digest) != 32 {
				t.Errorf("decrypt-datakey of the result: %v", err)
			}
			if _, _, err := f.svc.Decrypt(ctx, project, out.Ciphertext, nil, "", ""); !errors.Is(err, kms.ErrInvalidCiphertext) {
				t.Errorf("decrypt-data of the data key result: %v", err)
			}
		}
		if _, err := f.svc.ReEncrypt(ctx, kms.ReEncryptInput{ProjectID: project, Ciphertext: blob, DestinationKeyID: sm4Key.KeyID, DataKeyLength: 32}); !errors.Is(err, kms.ErrDataKeyCipherLength) {
			t.Errorf("wrong datakey_cipher_length: got %v", err)
		}
		if _, err := f.svc.ReEncrypt(ctx, kms.ReEncryptInput{ProjectID: project, Ciphertext: ct, SourceAAD: []byte("src"), DestinationKeyID: sm4Key.KeyID, DataKeyLength: 7}); !errors.Is(err, kms.ErrInvalidDataKeyCiphertext) {
			t.Errorf("a data ciphertext with datakey_cipher_length: got %v", err)
		}
		if _, err := f.svc.ReEncrypt(ctx, kms.ReEncryptInput{ProjectID: project, Ciphertext: blob, DestinationKeyID: rsaKey.KeyID, DestinationAlgorithm: kms.EncryptionRSAOAEPSHA256}); !errors.Is(err, kms.ErrAsymmetricKey) {
			t.Errorf("data key to an RSA key: got %v", err)
		}
		if _, err := f.svc.ReEncrypt(ctx, kms.ReEncryptInput{ProjectID: project, Ciphertext: blob, SourceAAD: []byte("x"), DestinationKeyID: sm4Key.KeyID}); !errors.Is(err, kms.ErrDataKeyIntegrity) {
			t.Errorf("data key with a wrong AAD: got %v", err)
		}
	})
	t.Run("symmetric to RSA and SM2 and back", func(t *testing.T) {
		for _, dst := range []struct {
			key kms.Key
			alg string
		}{{rsaKey, kms.EncryptionRSAOAEPSHA256}, {rsaKey, kms.EncryptionRSAOAEPSHA1}, {sm2Key, kms.EncryptionSM2}} {
			out, err := f.svc.ReEncrypt(ctx, kms.ReEncryptInput{ProjectID: project, Ciphertext: ct, SourceAAD: []byte("src"), DestinationKeyID: dst.key.KeyID, DestinationAlgorithm: dst.alg})
			if err != nil {
				t.Fatalf("%s: %v", dst.alg, err)
			}
			if _, pt, err := f.svc.Decrypt(ctx, project, out.Ciphertext, nil, dst.key.KeyID, dst.alg); err != nil || !bytes.Equal(pt, msg) {
				t.Errorf("%s: decrypt the result: %q, %v", dst.alg, pt, err)
			}
			back, err := f.svc.ReEncrypt(ctx, kms.ReEncryptInput{ProjectID: project, Ciphertext: out.Ciphertext, SourceKeyID: dst.key.KeyID, SourceAlgorithm: dst.alg, DestinationKeyID: aesKey.KeyID})
			if err != nil {
				t.Fatalf("%s back: %v", dst.alg, err)
			}
			if back.SourceKeyID != dst.key.KeyID || back.SourceAlgorithm != dst.alg || back.DataKey {
				t.Errorf("%s back: %+v", dst.alg, back)
			}
			if _, pt, err := f.svc.Decrypt(ctx, project, back.Ciphertext, nil, "", ""); err != nil || !bytes.Equal(pt, msg) {
				t.Errorf("%s back: decrypt: %q, %v", dst.alg, pt, err)
			}
		}
	})
	t.Run("errors", func(t *testing.T) {
		tests := []struct {
			name string
			in   kms.ReEncryptInput
			want error
		}{
			{"wrong source AAD", kms.ReEncryptInput{Ciphertext: ct, SourceAAD: []byte("x"), DestinationKeyID: sm4Key.KeyID}, kms.ErrDecryptFailed},
			{"other source key named", kms.ReEncryptInput{Ciphertext: ct, SourceKeyID: sm4Key.KeyID, SourceAAD: []byte("src"), DestinationKeyID: sm4Key.KeyID}, kms.ErrDecryptFailed},
			{"asymmetric source without key", kms.ReEncryptInput{Ciphertext: ct, SourceAlgorithm: kms.EncryptionRSAOAEPSHA256, DestinationKeyID: sm4Key.KeyID}, kms.ErrInvalidParameter},
			{"unknown algorithm", kms.ReEncryptInput{Ciphertext: ct, SourceAAD: []byte("src"), DestinationKeyID: sm4Key.KeyID, DestinationAlgorithm: "X"}, kms.ErrInvalidParameter},
			{"destination AAD too long", kms.ReEncryptInput{Ciphertext: ct, SourceAAD: []byte("src"), DestinationKeyID: sm4Key.KeyID, DestinationAAD: make([]byte, 129)}, kms.ErrInvalidParameter},
			{"destination symmetric with RSA algorithm", kms.ReEncryptInput{Ciphertext: ct, SourceAAD: []byte("src"), DestinationKeyID: sm4Key.KeyID, DestinationAlgorithm: kms.EncryptionRSAOAEPSHA256}, kms.ErrSymmetricAlgorithm},
			{"destination RSA with AAD", kms.ReEncryptInput{Ciphertext: ct, SourceAAD: []byte("src"), DestinationKeyID: rsaKey.KeyID, DestinationAlgorithm: kms.EncryptionRSAOAEPSHA256, DestinationAAD: []byte("a")}, kms.ErrInvalidParameter},
			{"destination unknown", kms.ReEncryptInput{Ciphertext: ct, SourceAAD: []byte("src"), DestinationKeyID: "00000000-0000-4000-8000-000000000000"}, kms.ErrKeyNotFound},
			{"malformed", kms.ReEncryptInput{Ciphertext: []byte("nope"), DestinationKeyID: sm4Key.KeyID}, kms.ErrInvalidCiphertext},
		}
		for _, tt := range tests {
			tt.in.ProjectID = project
			if _, err := f.svc.ReEncrypt(ctx, tt.in); !errors.Is(err, tt.want) {
				t.Errorf("%s: got %v, want %v", tt.name, err, tt.want)
			}
		}
		in := kms.ReEncryptInput{ProjectID: other, Ciphertext: ct, SourceAAD: []byte("src"), DestinationKeyID: sm4Key.KeyID}
		if _, err := f.svc.ReEncrypt(ctx, in); !errors.Is(err, kms.ErrKeyNotFound) {
			t.Errorf("other project: got %v, want ErrKeyNotFound", err)
		}
	})
}

func TestGenerateRandom(t *testing.T) {
	f := newFixture(t, "", 0)
	for _, bits := range []int{8, 512, 8192} {
		a, err := f.svc.GenerateRandom(bits)
		if err != nil {
			t.Fatal(err)
		}
		b, err := f.svc.GenerateRandom(bits)
		if err != nil {
			t.Fatal(err)
		}
		if len(a) != bits/8 || len(b) != bits/8 {
			t.Errorf("%d bits: got %d and %d bytes", bits, len(a), len(b))
		}
		if bits >= 64 && bytes.Equal(a, b) {
			t.Errorf("%d bits: two draws are equal", bits)
		}
	}
	for bits, want := range map[int]error{0: kms.ErrInvalidParameter, 7: kms.ErrInvalidParameter, -8: kms.ErrInvalidParameter, 12: kms.ErrRandomLength, 8191: kms.ErrRandomLength, 8193: kms.ErrInvalidParameter, 8200: kms.ErrInvalidParameter} {
		if b, err := f.svc.GenerateRandom(bits); !errors.Is(err, want) {
			t.Errorf("%d bits: got %x, %v; want %v", bits, b, err, want)
		}
	}
}

// TestCryptoConcurrently runs encryptions and decryptions on one key from
// many goroutines (run with -race): the handle's AEAD is shared.
func TestCryptoConcurrently(t *testing.T) {
	f := newFixture(t, "", 0)
	ctx := t.Context()
	k := f.symKey(t, "AES_256", "")
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			msg := []byte(fmt.Sprintf("message %d", i))
			for range 50 {
				ct, err := f.svc.Encrypt(ctx, project, k.KeyID, msg, nil, "")
				if err != nil {
					errc <- err
					return
				}
				_, pt, err := f.svc.Decrypt(ctx, project, ct, nil, "", "")
				if err != nil || !bytes.Equal(pt, msg) {
					errc <- fmt.Errorf("decrypt: %q, %v", pt, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
}
