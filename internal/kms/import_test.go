package kms_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"

	"github.com/kmsd/kmsd/internal/keyring"
	"github.com/kmsd/kmsd/internal/kms"
	"github.com/kmsd/kmsd/internal/store"
)

var importAliasN atomic.Int64

// impKey creates a key of origin external, pending import.
func (f *fixture) impKey(t *testing.T, projectID, spec string) kms.Key {
	t.Helper()
	alias := fmt.Sprintf("byok-%d", importAliasN.Add(1))
	k, err := f.svc.CreateKey(t.Context(), kms.CreateKeyInput{ProjectID: projectID, AccountID: account, Alias: alias, Spec: spec, Origin: kms.OriginExternal})
	if err != nil {
		t.Fatalf("create external %s: %v", spec, err)
	}
	if k.State != kms.StatePendingImport || k.PrimaryVersion != 0 {
		t.Fatalf("new external key: state %q, primary version %d; want pending import without material", k.State, k.PrimaryVersion)
	}
	return k
}

// impParams calls GetParametersForImport and fails the test on an error.
func (f *fixture) impParams(t *testing.T, k kms.Key, alg, spec string) kms.ImportParameters {
	t.Helper()
	p, err := f.svc.GetParametersForImport(t.Context(), kms.ImportParametersInput{ProjectID: k.ProjectID, KeyID: k.KeyID, WrappingAlgorithm: alg, WrappingKeySpec: spec})
	if err != nil {
		t.Fatalf("GetParametersForImport %s %s: %v", alg, spec, err)
	}
	return p
}

// impWrap encrypts material with the wrapping public key as a
// client would: RSA-OAEP with the algorithm's hash, or SM2 (ASN.1).
func impWrap(t *testing.T, alg string, publicDER, material []byte) []byte {
	t.Helper()
	pub, err := smx509.ParsePKIXPublicKey(publicDER)
	if err != nil {
		t.Fatalf("wrapping public key: %v", err)
	}
	var out []byte
	switch alg {
	case kms.WrappingRSAOAEPSHA256, kms.WrappingRSAOAEPSHA1:
		h := sha256.New
		if alg == kms.WrappingRSAOAEPSHA1 {
			h = func() hash.Hash { return sha1.New() }
		}
		out, err = rsa.EncryptOAEP(h(), rand.Reader, pub.(*rsa.PublicKey), material, nil)
	case kms.WrappingSM2:
		out, err = sm2.EncryptASN1(rand.Reader, pub.(*ecdsa.PublicKey), material)
	default:
		t.Fatalf("unknown algorithm %s", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// impImport imports material into k through a fresh token.
func (f *fixture) impImport(t *testing.T, k kms.Key, material []byte, expires time.Time) (kms.Key, error) {
	t.Helper()
	p := f.impParams(t, k, kms.WrappingRSAOAEPSHA256, "")
	return f.svc.ImportKeyMaterial(t.Context(), kms.ImportMaterialInput{
		ProjectID: k.ProjectID, KeyID: k.KeyID, Token: p.Token,
		EncryptedMaterial: impWrap(t, kms.WrappingRSAOAEPSHA256, p.PublicKey, material), ExpiresAt: expires,
	})
}

func impRandom(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// impGetKey reads a key straight from the store.
func (f *fixture) impGetKey(t *testing.T, projectID, keyID string) store.Key {
	t.Helper()
	var k store.Key
	err := f.st.View(t.Context(), func(tx store.Tx) (err error) {
		k, err = tx.GetKey(projectID, keyID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// impVersions returns the number of stored versions of a key.
func (f *fixture) impVersions(t *testing.T, keyID string) int {
	t.Helper()
	var n int
	err := f.st.View(t.Context(), func(tx store.Tx) error {
		vs, err := tx.ListKeyVersions(project, keyID)
		n = len(vs)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestImportKeyMaterial imports material into AES_256 and SM4 keys with
// every wrapping algorithm and checks that the stored version is exactly
// the material and that the key encrypts and decrypts with it.
func TestImportKeyMaterial(t *testing.T) {
	f := newFixture(t, "", 0)
	f.now = time.Date(2026, 3, 14, 15, 9, 26, 535_000_000, time.UTC)
	tests := []struct {
		keySpec, alg, wrapSpec string
		wantBits               int // 0: SM2
	}{
		{"AES_256", kms.WrappingRSAOAEPSHA256, "", 2048},
		{"AES_256", kms.WrappingRSAOAEPSHA1, "", 2048},
		{"AES_256", kms.WrappingRSAOAEPSHA256, "RSA_3072", 3072},
		{"AES_256", kms.WrappingRSAOAEPSHA1, "RSA_4096", 4096},
		{"AES_256", kms.WrappingSM2, "", 0},
		{"SM4", kms.WrappingRSAOAEPSHA256, "RSA_2048", 2048},
		{"SM4", kms.WrappingSM2, "SM2", 0},
	}
	for _, tt := range tests {
		t.Run(tt.keySpec+"/"+tt.alg+"/"+tt.wrapSpec, func(t *testing.T) {
			k := f.impKey(t, project, tt.keySpec)
			p := f.impParams(t, k, tt.alg, tt.wrapSpec)
			if p.KeyID != k.KeyID {
				t.Errorf("got key id %s, want %s", p.KeyID, k.KeyID)
			}
			if want := time.Date(2026, 3, 15, 15, 9, 26, 0, time.UTC); !p.ExpiresAt.Equal(want) {
				t.Errorf("token expires at %v, want %v (24 h, whole seconds)", p.ExpiresAt, want)
			}
			if n := len(p.Token); n < 200 || n > 6144 {
				t.Errorf("token of %d characters, want 200–6144", n)
			}
			if _, err := base64.StdEncoding.DecodeString(p.Token); err != nil {
				t.Errorf("token is not base64: %v", err)
			}
			pub, err := smx509.ParsePKIXPublicKey(p.PublicKey)
			if err != nil {
				t.Fatal(err)
			}
			switch pk := pub.(type) {
			case *rsa.PublicKey:
				if pk.N.BitLen() != tt.wantBits {
					t.Errorf("got an RSA-%d wrapping key, want RSA-%d", pk.N.BitLen(), tt.wantBits)
				}
			case *ecdsa.PublicKey:
				if tt.wantBits != 0 || pk.Curve != sm2.P256() {
					t.Errorf("got an EC wrapping key on %v, want RSA-%d", pk.Curve.Params().Name, tt.wantBits)
				}
			default:
				t.Fatalf("wrapping key of type %T", pub)
			}

			material := impRandom(t, map[string]int{"AES_256": 32, "SM4": 16}[tt.keySpec])
			got, err := f.svc.ImportKeyMaterial(t.Context(), kms.ImportMaterialInput{
				ProjectID: project, KeyID: k.KeyID, Token: p.Token,
				EncryptedMaterial: impWrap(t, tt.alg, p.PublicKey, material),
			})
			if err != nil {
				t.Fatalf("ImportKeyMaterial: %v", err)
			}
			if got.State != kms.StateEnabled || got.PrimaryVersion != 1 || !got.MaterialExpiresAt.IsZero() {
				t.Errorf("after import: state %q, primary %d, expiry %v; want enabled, 1, none", got.State, got.PrimaryVersion, got.MaterialExpiresAt)
			}
			if stored := f.impGetKey(t, project, k.KeyID); stored.State != store.StateEnabled || stored.Revision != got.Revision {
				t.Errorf("stored key: state %q revision %d; returned revision %d", stored.State, stored.Revision, got.Revision)
			}
			if m := f.symMaterial(t, k.KeyID, 1); !bytes.Equal(m, material) {
				t.Errorf("stored material differs from the imported material")
			}
			ct, err := f.svc.Encrypt(t.Context(), project, k.KeyID, []byte("byok"), nil, "")
			if err != nil {
				t.Fatalf("Encrypt: %v", err)
			}
			if _, pt, err := f.svc.Decrypt(t.Context(), project, ct, nil, "", ""); err != nil || string(pt) != "byok" {
				t.Errorf("Decrypt: %q, %v", pt, err)
			}
			// The token is spent.
			_, err = f.svc.ImportKeyMaterial(t.Context(), kms.ImportMaterialInput{
				ProjectID: project, KeyID: k.KeyID, Token: p.Token,
				EncryptedMaterial: impWrap(t, tt.alg, p.PublicKey, material),
			})
			if !errors.Is(err, kms.ErrNotPendingImport) {
				t.Errorf("import into the enabled key: got %v, want ErrNotPendingImport", err)
			}
		})
	}
}

// TestReimport checks the rule that a key id always means the same key:
// the same material imported again after a deletion decrypts what was
// encrypted before; other material is refused.
func TestReimport(t *testing.T) {
	f := newFixture(t, "", 0)
	ctx := t.Context()
	k := f.impKey(t, project, "AES_256")
	material := impRandom(t, 32)
	if _, err := f.impImport(t, k, material, time.Time{}); err != nil {
		t.Fatal(err)
	}
	ct, err := f.svc.Encrypt(ctx, project, k.KeyID, []byte("before"), []byte("aad"), "")
	if err != nil {
		t.Fatal(err)
	}
	fp := f.impGetKey(t, project, k.KeyID).MaterialFingerprint
	if len(fp) != 32 || bytes.Contains(fp, material[:8]) {
		t.Fatalf("fingerprint %x: want a 32-byte keyed hash that does not hold the material", fp)
	}

	deleted, err := f.svc.DeleteImportedKeyMaterial(ctx, project, k.KeyID)
	if err != nil {
		t.Fatal(err)
	}
	if deleted.State != kms.StatePendingImport || deleted.PrimaryVersion != 0 {
		t.Errorf("after deletion: state %q primary %d, want pending import, 0", deleted.State, deleted.PrimaryVersion)
	}
	if n := f.impVersions(t, k.KeyID); n != 0 {
		t.Errorf("%d versions after deletion, want 0", n)
	}
	if got := f.impGetKey(t, project, k.KeyID).MaterialFingerprint; !bytes.Equal(got, fp) {
		t.Errorf("fingerprint after deletion: got %x, want %x", got, fp)
	}
	// The cache must not keep serving the deleted material.
	if _, err := f.svc.Encrypt(ctx, project, k.KeyID, []byte("x"), nil, ""); !errors.Is(err, kms.ErrKeyPendingImport) {
		t.Errorf("Encrypt after deletion: got %v, want ErrKeyPendingImport", err)
	}
	if _, _, err := f.svc.Decrypt(ctx, project, ct, []byte("aad"), "", ""); !errors.Is(err, kms.ErrKeyPendingImport) {
		t.Errorf("Decrypt after deletion: got %v, want ErrKeyPendingImport", err)
	}

	other := impRandom(t, 32)
	if _, err := f.impImport(t, k, other, time.Time{}); !errors.Is(err, kms.ErrMaterialMismatch) {
		t.Fatalf("import of other material: got %v, want ErrMaterialMismatch", err)
	}
	if got := f.impGetKey(t, project, k.KeyID); got.State != store.StatePendingImport || f.impVersions(t, k.KeyID) != 0 {
		t.Errorf("refused import changed the key: state %q, %d versions", got.State, f.impVersions(t, k.KeyID))
	}

	if _, err := f.impImport(t, k, material, time.Time{}); err != nil {
		t.Fatalf("import of the same material: %v", err)
	}
	_, pt, err := f.svc.Decrypt(ctx, project, ct, []byte("aad"), "", "")
	if err != nil || string(pt) != "before" {
		t.Errorf("Decrypt of the earlier ciphertext: %q, %v", pt, err)
	}

	// A disabled key's material can be deleted too; the key returns to
	// pending import and an import enables it.
	if _, err := f.svc.DisableKey(ctx, project, k.KeyID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.DeleteImportedKeyMaterial(ctx, project, k.KeyID); err != nil {
		t.Fatalf("delete from disabled: %v", err)
	}
	if got, err := f.impImport(t, k, material, time.Time{}); err != nil || got.State != kms.StateEnabled {
		t.Errorf("import after deleting a disabled key's material: state %q, %v", got.State, err)
	}
}

// TestFingerprintBinding checks that the fingerprint is bound to the key:
// the same material in two keys has two fingerprints, so one key's
// fingerprint says nothing about another's material.
func TestFingerprintBinding(t *testing.T) {
	f := newFixture(t, "", 0)
	material := impRandom(t, 32)
	a, b := f.impKey(t, project, "AES_256"), f.impKey(t, project, "AES_256")
	for _, k := range []kms.Key{a, b} {
		if _, err := f.impImport(t, k, material, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	fa, fb := f.impGetKey(t, project, a.KeyID).MaterialFingerprint, f.impGetKey(t, project, b.KeyID).MaterialFingerprint
	if bytes.Equal(fa, fb) {
		t.Error("two keys with the same material have the same fingerprint")
	}
	// Under another root key the fingerprint of the same material differs,
	// so it cannot be checked against guesses without the root key.
	g := impFixtureWithRoot(t, bytes.Repeat([]byte{9}, 32))
	c := g.impKey(t, project, "AES_256")
	if _, err := g.impImport(t, c, material, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if fc := g.impGetKey(t, project, c.KeyID).MaterialFingerprint; bytes.Equal(fc, fa) || bytes.Equal(fc, fb) {
		t.Error("the fingerprint does not depend on the root key")
	}
}

// impFixtureWithRoot is newFixture with another root key.
func impFixtureWithRoot(t *testing.T, root []byte) *fixture {
	t.Helper()
	f := newFixture(t, "", 0)
	kr, err := keyring.New(root)
	if err != nil {
		t.Fatal(err)
	}
	f.kr = kr
	f.svc = kms.New(f.st, kr, kms.Config{Region: "cn-north-4"}, nil)
	f.svc.Now = func() time.Time { return f.now }
	return f
}

// TestImportTokenErrors checks every way a token is refused.
func TestImportTokenErrors(t *testing.T) {
	f := newFixture(t, "", 0)
	ctx := t.Context()
	k := f.impKey(t, project, "AES_256")
	p := f.impParams(t, k, kms.WrappingRSAOAEPSHA256, "")
	material := impRandom(t, 32)
	wrapped := impWrap(t, kms.WrappingRSAOAEPSHA256, p.PublicKey, material)
	imp := func(keyID, token string) error {
		_, err := f.svc.ImportKeyMaterial(ctx, kms.ImportMaterialInput{ProjectID: project, KeyID: keyID, Token: token, EncryptedMaterial: wrapped})
		return err
	}

	otherKey := f.impKey(t, project, "AES_256")
	otherParams := f.impParams(t, otherKey, kms.WrappingRSAOAEPSHA256, "")
	otherProject := f.impKey(t, other, "AES_256")
	otherProjectParams := f.impParams(t, otherProject, kms.WrappingRSAOAEPSHA256, "")
	foreign := impFixtureWithRoot(t, bytes.Repeat([]byte{9}, 32))
	foreignParams := foreign.impParams(t, foreign.impKey(t, project, "AES_256"), kms.WrappingRSAOAEPSHA256, "")

	raw, err := base64.StdEncoding.DecodeString(p.Token)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) string {
		b := bytes.Clone(raw)
		b[i] ^= 0x01
		return base64.StdEncoding.EncodeToString(b)
	}
	tests := []struct {
		name, keyID, token string
		want               error
	}{
		{"another key's token", k.KeyID, otherParams.Token, kms.ErrImportTokenKey},
		{"token for another key", otherKey.KeyID, p.Token, kms.ErrImportTokenKey},
		{"another project's token", k.KeyID, otherProjectParams.Token, kms.ErrImportTokenKey},
		{"another root key's token", k.KeyID, foreignParams.Token, kms.ErrImportTokenInvalid},
		{"altered version", k.KeyID, flip(0), kms.ErrImportTokenInvalid},
		{"altered token id", k.KeyID, flip(5), kms.ErrImportTokenInvalid},
		{"altered expiry", k.KeyID, flip(40), kms.ErrImportTokenInvalid},
		{"altered key id", k.KeyID, flip(len(raw) - 60), kms.ErrImportTokenInvalid},
		{"altered MAC", k.KeyID, flip(len(raw) - 1), kms.ErrImportTokenInvalid},
		{"truncated", k.KeyID, base64.StdEncoding.EncodeToString(raw[:len(raw)-1]), kms.ErrImportTokenInvalid},
		{"extended", k.KeyID, base64.StdEncoding.EncodeToString(append(bytes.Clone(raw), 0)), kms.ErrImportTokenInvalid},
		{"not base64", k.KeyID, "%%%%", kms.ErrImportTokenInvalid},
		{"unpadded base64", k.KeyID, base64.RawStdEncoding.EncodeToString(raw[:len(raw)-1]), kms.ErrImportTokenInvalid},
		{"empty", k.KeyID, "", kms.ErrImportTokenInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := imp(tt.keyID, tt.token); !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
	if got := f.impGetKey(t, project, k.KeyID); got.State != store.StatePendingImport {
		t.Fatalf("refused imports changed the key's state to %q", got.State)
	}

	t.Run("expired", func(t *testing.T) {
		saved := f.now
		defer func() { f.now = saved }()
		f.now = p.ExpiresAt
		if err := imp(k.KeyID, p.Token); !errors.Is(err, kms.ErrImportTokenExpired) {
			t.Errorf("at the expiry: got %v, want ErrImportTokenExpired", err)
		}
		// Once the job has removed the row, the token is still named
		// expired, not unknown.
		if _, n, err := f.svc.ExpireImportedMaterial(ctx); err != nil || n < 1 {
			t.Fatalf("ExpireImportedMaterial removed %d tokens, %v; want at least 1", n, err)
		}
		if err := imp(k.KeyID, p.Token); !errors.Is(err, kms.ErrImportTokenExpired) {
			t.Errorf("after the job: got %v, want ErrImportTokenExpired", err)
		}
	})

	t.Run("spent", func(t *testing.T) {
		p := f.impParams(t, k, kms.WrappingRSAOAEPSHA256, "")
		spare := f.impParams(t, k, kms.WrappingRSAOAEPSHA256, "")
		if _, err := f.svc.ImportKeyMaterial(ctx, kms.ImportMaterialInput{ProjectID: project, KeyID: k.KeyID, Token: p.Token,
			EncryptedMaterial: impWrap(t, kms.WrappingRSAOAEPSHA256, p.PublicKey, material)}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.DeleteImportedKeyMaterial(ctx, project, k.KeyID); err != nil {
			t.Fatal(err)
		}
		// Both the used token and the other one issued before the import
		// are spent.
		for _, tok := range []kms.ImportParameters{p, spare} {
			_, err := f.svc.ImportKeyMaterial(ctx, kms.ImportMaterialInput{ProjectID: project, KeyID: k.KeyID, Token: tok.Token,
				EncryptedMaterial: impWrap(t, kms.WrappingRSAOAEPSHA256, tok.PublicKey, material)})
			if !errors.Is(err, kms.ErrImportTokenInvalid) {
				t.Errorf("spent token: got %v, want ErrImportTokenInvalid", err)
			}
		}
	})
}

// TestImportErrors checks the state, origin, parameter and material
// errors of the three operations.
func TestImportErrors(t *testing.T) {
	f := newFixture(t, "", 0)
	ctx := t.Context()
	native := f.create(t, "native", "AES_256")
	aes := f.impKey(t, project, "AES_256")
	sm4 := f.impKey(t, project, "SM4")
	pAES := f.impParams(t, aes, kms.WrappingRSAOAEPSHA256, "")
	pSM4 := f.impParams(t, sm4, kms.WrappingSM2, "")
	pAES2 := f.impParams(t, aes, kms.WrappingRSAOAEPSHA1, "")

	t.Run("parameters", func(t *testing.T) {
		tests := []struct {
			name            string
			keyID, alg, spc string
			want            error
		}{
			{"origin kms", native.KeyID, kms.WrappingRSAOAEPSHA256, "", kms.ErrNotExternal},
			{"unknown algorithm", aes.KeyID, "RSAES_PKCS1_V1_5", "", kms.ErrInvalidParameter},
			{"empty algorithm", aes.KeyID, "", "", kms.ErrInvalidParameter},
			{"SM2 spec with RSA", aes.KeyID, kms.WrappingRSAOAEPSHA256, "SM2", kms.ErrInvalidParameter},
			{"RSA spec with SM2", aes.KeyID, kms.WrappingSM2, "RSA_2048", kms.ErrInvalidParameter},
			{"RSA_1024", aes.KeyID, kms.WrappingRSAOAEPSHA256, "RSA_1024", kms.ErrInvalidParameter},
			{"unknown key", "00000000-0000-4000-8000-000000000000", kms.WrappingRSAOAEPSHA256, "", kms.ErrKeyNotFound},
			{"malformed key id", "key", kms.WrappingRSAOAEPSHA256, "", kms.ErrInvalidKeyID},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := f.svc.GetParametersForImport(ctx, kms.ImportParametersInput{ProjectID: project, KeyID: tt.keyID, WrappingAlgorithm: tt.alg, WrappingKeySpec: tt.spc})
				if !errors.Is(err, tt.want) {
					t.Errorf("got %v, want %v", err, tt.want)
				}
			})
		}
		// Another project's key does not exist here.
		_, err := f.svc.GetParametersForImport(ctx, kms.ImportParametersInput{ProjectID: other, KeyID: aes.KeyID, WrappingAlgorithm: kms.WrappingRSAOAEPSHA256})
		if !errors.Is(err, kms.ErrKeyNotFound) {
			t.Errorf("another project's key: got %v, want ErrKeyNotFound", err)
		}
	})

	t.Run("import", func(t *testing.T) {
		w := func(p kms.ImportParameters, alg string, n int) []byte {
			return impWrap(t, alg, p.PublicKey, impRandom(t, n))
		}
		garbage := impRandom(t, 256)
		tests := []struct {
			name string
			in   kms.ImportMaterialInput
			want error
		}{
			{"AES_256 with 16 bytes", kms.ImportMaterialInput{KeyID: aes.KeyID, Token: pAES.Token, EncryptedMaterial: w(pAES, kms.WrappingRSAOAEPSHA256, 16)}, kms.ErrMaterialLength},
			{"AES_256 with 33 bytes", kms.ImportMaterialInput{KeyID: aes.KeyID, Token: pAES.Token, EncryptedMaterial: w(pAES, kms.WrappingRSAOAEPSHA256, 33)}, kms.ErrMaterialLength},
			{"SM4 with 32 bytes", kms.ImportMaterialInput{KeyID: sm4.KeyID, Token: pSM4.Token, EncryptedMaterial: w(pSM4, kms.WrappingSM2, 32)}, kms.ErrMaterialLength},
			{"garbage", kms.ImportMaterialInput{KeyID: aes.KeyID, Token: pAES.Token, EncryptedMaterial: garbage}, kms.ErrUnwrapFailed},
			{"empty", kms.ImportMaterialInput{KeyID: aes.KeyID, Token: pAES.Token}, kms.ErrUnwrapFailed},
			{"wrapped for another token", kms.ImportMaterialInput{KeyID: aes.KeyID, Token: pAES.Token, EncryptedMaterial: w(pAES2, kms.WrappingRSAOAEPSHA256, 32)}, kms.ErrUnwrapFailed},
			{"SHA-1 for a SHA-256 token", kms.ImportMaterialInput{KeyID: aes.KeyID, Token: pAES.Token, EncryptedMaterial: w(pAES, kms.WrappingRSAOAEPSHA1, 32)}, kms.ErrUnwrapFailed},
			{"SHA-256 for a SHA-1 token", kms.ImportMaterialInput{KeyID: aes.KeyID, Token: pAES2.Token, EncryptedMaterial: w(pAES2, kms.WrappingRSAOAEPSHA256, 32)}, kms.ErrUnwrapFailed},
			{"expiry now", kms.ImportMaterialInput{KeyID: aes.KeyID, Token: pAES.Token, EncryptedMaterial: w(pAES, kms.WrappingRSAOAEPSHA256, 32), ExpiresAt: f.now}, kms.ErrMaterialExpiryPast},
			{"expiry past", kms.ImportMaterialInput{KeyID: aes.KeyID, Token: pAES.Token, EncryptedMaterial: w(pAES, kms.WrappingRSAOAEPSHA256, 32), ExpiresAt: time.Unix(0, 0)}, kms.ErrMaterialExpiryPast},
			{"expiry after 9999", kms.ImportMaterialInput{KeyID: aes.KeyID, Token: pAES.Token, EncryptedMaterial: w(pAES, kms.WrappingRSAOAEPSHA256, 32), ExpiresAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, kms.ErrInvalidParameter},
			{"encrypted private key", kms.ImportMaterialInput{KeyID: aes.KeyID, Token: pAES.Token, EncryptedMaterial: w(pAES, kms.WrappingRSAOAEPSHA256, 32), EncryptedPrivateKey: []byte("pk")}, kms.ErrInvalidParameter},
			{"origin kms", kms.ImportMaterialInput{KeyID: native.KeyID, Token: pAES.Token, EncryptedMaterial: w(pAES, kms.WrappingRSAOAEPSHA256, 32)}, kms.ErrNotExternal},
			{"unknown key", kms.ImportMaterialInput{KeyID: "00000000-0000-4000-8000-000000000000", Token: pAES.Token}, kms.ErrKeyNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				tt.in.ProjectID = project
				if _, err := f.svc.ImportKeyMaterial(ctx, tt.in); !errors.Is(err, tt.want) {
					t.Errorf("got %v, want %v", err, tt.want)
				}
			})
		}
		for _, k := range []kms.Key{aes, sm4} {
			if got := f.impGetKey(t, project, k.KeyID); got.State != store.StatePendingImport || got.MaterialFingerprint != nil || f.impVersions(t, k.KeyID) != 0 {
				t.Errorf("refused imports changed key %s: state %q, fingerprint %x", k.Spec, got.State, got.MaterialFingerprint)
			}
		}
	})

	t.Run("states", func(t *testing.T) {
		k := f.impKey(t, project, "AES_256")
		if _, err := f.svc.DeleteImportedKeyMaterial(ctx, project, k.KeyID); !errors.Is(err, kms.ErrMaterialNotDeletable) {
			t.Errorf("delete while pending import: got %v, want ErrMaterialNotDeletable", err)
		}
		if _, err := f.svc.DeleteImportedKeyMaterial(ctx, project, native.KeyID); !errors.Is(err, kms.ErrNotExternal) {
			t.Errorf("delete from an origin kms key: got %v, want ErrNotExternal", err)
		}
		if _, err := f.impImport(t, k, impRandom(t, 32), time.Time{}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.GetParametersForImport(ctx, kms.ImportParametersInput{ProjectID: project, KeyID: k.KeyID, WrappingAlgorithm: kms.WrappingRSAOAEPSHA256}); !errors.Is(err, kms.ErrNotPendingImport) {
			t.Errorf("parameters for an enabled key: got %v, want ErrNotPendingImport", err)
		}
		if _, err := f.svc.ScheduleKeyDeletion(ctx, project, k.KeyID, 7); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.DeleteImportedKeyMaterial(ctx, project, k.KeyID); !errors.Is(err, kms.ErrMaterialNotDeletable) {
			t.Errorf("delete while pending deletion: got %v, want ErrMaterialNotDeletable", err)
		}
		if _, err := f.svc.GetParametersForImport(ctx, kms.ImportParametersInput{ProjectID: project, KeyID: k.KeyID, WrappingAlgorithm: kms.WrappingRSAOAEPSHA256}); !errors.Is(err, kms.ErrNotPendingImport) {
			t.Errorf("parameters for a key pending deletion: got %v, want ErrNotPendingImport", err)
		}
	})

	t.Run("key spec", func(t *testing.T) {
		_, err := f.svc.CreateKey(ctx, kms.CreateKeyInput{ProjectID: project, AccountID: account, Alias: "byok-rsa", Spec: "RSA_2048", Origin: kms.OriginExternal})
		if !errors.Is(err, kms.ErrInvalidParameter) {
			t.Errorf("external RSA key: got %v, want ErrInvalidParameter", err)
		}
	})
}

// TestImportExpiry runs the expiry of imported material and of import
// tokens with the service's clock, across a restart.
func TestImportExpiry(t *testing.T) {
	f := newFixture(t, "", 0)
	ctx := t.Context()
	start := f.now
	hour := start.Add(time.Hour).Truncate(time.Second)
	material := impRandom(t, 32)
	enabled := f.impKey(t, project, "AES_256")
	disabled := f.impKey(t, project, "AES_256")
	deleting := f.impKey(t, project, "AES_256")
	later := f.impKey(t, project, "AES_256")
	forever := f.impKey(t, project, "AES_256")
	for _, k := range []kms.Key{enabled, disabled, deleting} {
		got, err := f.impImport(t, k, material, hour)
		if err != nil {
			t.Fatal(err)
		}
		if !got.MaterialExpiresAt.Equal(hour) {
			t.Errorf("material expires at %v, want %v", got.MaterialExpiresAt, hour)
		}
	}
	if _, err := f.impImport(t, later, material, start.Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.impImport(t, forever, material, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.DisableKey(ctx, project, disabled.KeyID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ScheduleKeyDeletion(ctx, project, deleting.KeyID, 7); err != nil {
		t.Fatal(err)
	}
	ct, err := f.svc.Encrypt(ctx, project, enabled.KeyID, []byte("expiring"), nil, "")
	if err != nil {
		t.Fatal(err)
	}
	pending := f.impKey(t, project, "AES_256")
	f.impParams(t, pending, kms.WrappingRSAOAEPSHA256, "") // expires after 24 h

	if keys, tokens, err := f.svc.ExpireImportedMaterial(ctx); err != nil || keys != 0 || tokens != 0 {
		t.Fatalf("before any expiry: %d keys, %d tokens, %v; want none", keys, tokens, err)
	}

	// Restart: a new service over the reopened database, an hour later.
	f.st.Close()
	f = newFixture(t, f.path, 0)
	f.now = hour
	// Two nodes run the job at once; each key expires once.
	var wg sync.WaitGroup
	var total atomic.Int64
	for range 2 {
		wg.Go(func() {
			keys, _, err := f.svc.ExpireImportedMaterial(ctx)
			if err != nil {
				t.Error(err)
			}
			total.Add(int64(keys))
		})
	}
	wg.Wait()
	if total.Load() != 3 {
		t.Errorf("expired %d keys, want 3", total.Load())
	}
	for _, tc := range []struct {
		k     kms.Key
		state string
	}{
		{enabled, store.StatePendingImport},
		{disabled, store.StatePendingImport},
		{deleting, store.StatePendingDeletion},
	} {
		got := f.impGetKey(t, project, tc.k.KeyID)
		if got.State != tc.state || got.PrimaryVersion != 0 || !got.MaterialExpiresAt.IsZero() || f.impVersions(t, tc.k.KeyID) != 0 {
			t.Errorf("expired key: state %q, primary %d, expiry %v, %d versions; want %q without material",
				got.State, got.PrimaryVersion, got.MaterialExpiresAt, f.impVersions(t, tc.k.KeyID), tc.state)
		}
	}
	for _, k := range []kms.Key{later, forever} {
		if got := f.impGetKey(t, project, k.KeyID); got.State != store.StateEnabled || f.impVersions(t, k.KeyID) != 1 {
			t.Errorf("unexpired key: state %q, %d versions; want enabled with its material", got.State, f.impVersions(t, k.KeyID))
		}
	}
	if _, err := f.svc.Encrypt(ctx, project, enabled.KeyID, []byte("x"), nil, ""); !errors.Is(err, kms.ErrKeyPendingImport) {
		t.Errorf("Encrypt after expiry: got %v, want ErrKeyPendingImport", err)
	}
	// Cancelling the deletion of a key whose material expired returns it
	// to pending import.
	if got, err := f.svc.CancelKeyDeletion(ctx, project, deleting.KeyID); err != nil || got.State != kms.StatePendingImport {
		t.Errorf("CancelKeyDeletion: state %q, %v; want pending import", got.State, err)
	}
	// The same material comes back and opens what it sealed before.
	if _, err := f.impImport(t, enabled, material, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, pt, err := f.svc.Decrypt(ctx, project, ct, nil, "", ""); err != nil || string(pt) != "expiring" {
		t.Errorf("Decrypt after re-import: %q, %v", pt, err)
	}

	// Tokens expire after 24 h.
	f.now = start.Add(kms.ImportTokenTTL - time.Second)
	if _, tokens, err := f.svc.ExpireImportedMaterial(ctx); err != nil || tokens != 0 {
		t.Errorf("before 24 h: removed %d tokens, %v; want 0", tokens, err)
	}
	f.now = start.Add(kms.ImportTokenTTL)
	if keys, tokens, err := f.svc.ExpireImportedMaterial(ctx); err != nil || tokens != 1 || keys != 0 {
		t.Errorf("after 24 h: removed %d keys, %d tokens, %v; want 0, 1", keys, tokens, err)
	}

	// The job loop runs until its context ends.
	f.now = start.Add(49 * time.Hour)
	jctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { f.svc.RunImportExpiryJob(jctx, time.Hour); close(done) }()
	for f.impVersions(t, later.KeyID) != 0 {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if got := f.impGetKey(t, project, later.KeyID); got.State != store.StatePendingImport {
		t.Errorf("after the job: state %q, want pending import", got.State)
	}
}
