package compat

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
	kms "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2/model"

	"github.com/kmsd/kmsd/internal/keyring"
	kmsdkms "github.com/kmsd/kmsd/internal/kms"
	"github.com/kmsd/kmsd/internal/store"
)

var cryptoAliasSeq atomic.Int64

// cryptoKey creates a key of spec (and usage, when not "") and returns its
// id.
func cryptoKey(t *testing.T, c *kms.KmsClient, spec model.CreateKeyRequestBodyKeySpec, usage string) string {
	t.Helper()
	body := &model.CreateKeyRequestBody{KeyAlias: fmt.Sprintf("crypto-%d", cryptoAliasSeq.Add(1)), KeySpec: &spec}
	if usage != "" {
		u := model.GetCreateKeyRequestBodyKeyUsageEnum().ENCRYPT_DECRYPT
		if usage == "SIGN_VERIFY" {
			u = model.GetCreateKeyRequestBodyKeyUsageEnum().SIGN_VERIFY
		}
		body.KeyUsage = &u
	}
	resp, err := c.CreateKey(&model.CreateKeyRequest{Body: body})
	if err != nil {
		t.Fatalf("CreateKey %s: %v", spec.Value(), err)
	}
	if resp.KeyInfo == nil || resp.KeyInfo.KeyId == nil {
		t.Fatalf("CreateKey answered %v", resp)
	}
	return *resp.KeyInfo.KeyId
}

// secretText returns a plaintext unlikely to occur in a log by chance and
// registers it for TestMain's scan of the server logs.
func secretText(t *testing.T, label string) string {
	t.Helper()
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	s := "compat-" + label + "-" + hex.EncodeToString(b[:])
	addSecret(s)
	return s
}

func encryptData(t *testing.T, c *kms.KmsClient, keyID, plaintext string, aad *string) string {
	t.Helper()
	resp, err := c.EncryptData(&model.EncryptDataRequest{Body: &model.EncryptDataRequestBody{KeyId: keyID, PlainText: plaintext, AdditionalAuthenticatedData: aad}})
	if err != nil {
		t.Fatalf("EncryptData: %v", err)
	}
	if text(resp.KeyId) != keyID || resp.CipherText == nil {
		t.Fatalf("EncryptData answered %v", resp)
	}
	return *resp.CipherText
}

func decryptData(c *kms.KmsClient, ct string, aad, keyID *string) (*model.DecryptDataResponse, error) {
	return c.DecryptData(&model.DecryptDataRequest{Body: &model.DecryptDataRequestBody{CipherText: ct, AdditionalAuthenticatedData: aad, KeyId: keyID}})
}

// flipByte returns the base64 ciphertext ct with byte i of its decoded
// form changed.
func flipByte(t *testing.T, ct string, i int) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(ct)
	if err != nil {
		t.Fatal(err)
	}
	if i < 0 {
		i += len(b)
	}
	b[i] ^= 0x01
	return base64.StdEncoding.EncodeToString(b)
}

// serverPrivateKey opens an asymmetric key's material the way an
// independent holder of the root key would: the root key file and the
// database of the dev server's data directory. The tests use it to
// decrypt locally what kmsd encrypted.
func serverPrivateKey(t *testing.T, e *env, keyID string) any {
	t.Helper()
	root, err := keyring.LoadRootKeyFile(filepath.Join(e.dir, "root.key"))
	if err != nil {
		t.Fatal(err)
	}
	kr, err := keyring.New(root)
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t, e.dir)
	var v store.KeyVersion
	err = st.View(t.Context(), func(tx store.Tx) error {
		var err error
		v, err = tx.GetKeyVersion(e.ids.ProjectID, keyID, 1)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	m, err := kr.Open(keyring.Binding{Purpose: kmsdkms.PurposeKeyMaterial, ProjectID: e.ids.ProjectID, KeyID: keyID, Version: 1}, v.Sealed)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := smx509.ParsePKCS8PrivateKey(m)
	if err != nil {
		t.Fatal(err)
	}
	return priv
}

// publicKey fetches a key's public key through get-publickey.
func publicKey(t *testing.T, c *kms.KmsClient, keyID string) any {
	t.Helper()
	resp, err := c.ShowPublicKey(&model.ShowPublicKeyRequest{Body: &model.OperateKeyRequestBody{KeyId: keyID}})
	if err != nil {
		t.Fatalf("ShowPublicKey: %v", err)
	}
	block, _ := pem.Decode([]byte(text(resp.PublicKey)))
	if block == nil || block.Type != "PUBLIC KEY" {
		t.Fatalf("ShowPublicKey answered %q, want a PEM public key", text(resp.PublicKey))
	}
	pub, err := smx509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

// TestEncryptDecryptData round-trips encrypt-data and decrypt-data through
// the SDK with AES_256 and SM4 keys, with and without AAD.
func TestEncryptDecryptData(t *testing.T) {
	e := start(t)
	c := e.admin()
	for _, spec := range []model.CreateKeyRequestBodyKeySpec{model.GetCreateKeyRequestBodyKeySpecEnum().AES_256, model.GetCreateKeyRequestBodyKeySpecEnum().SM4} {
		keyID := cryptoKey(t, c, spec, "")
		long := strings.Repeat(secretText(t, "long"), 120)[:4096]
		for _, tc := range []struct {
			name string
			pt   string
			aad  *string
		}{
			{"short", secretText(t, "short"), nil},
			{"unicode with AAD", secretText(t, "数据") + " — 你好", ptr("bucket=photos;object=1")},
			{"4096 bytes, 128-byte AAD", long, ptr(strings.Repeat("a", 128))},
		} {
			t.Run(spec.Value()+"/"+tc.name, func(t *testing.T) {
				ct := encryptData(t, c, keyID, tc.pt, tc.aad)
				raw, err := base64.StdEncoding.DecodeString(ct)
				if err != nil {
					t.Fatalf("cipher_text is not base64: %v", err)
				}
				if len(raw) != len(tc.pt)+104 || raw[0] != 0x01 || raw[1] != 0x01 {
					t.Errorf("ciphertext of %d bytes starting %x, want %d bytes starting 0101", len(raw), raw[:2], len(tc.pt)+104)
				}
				if !bytes.Contains(raw, []byte(keyID)) {
					t.Error("the ciphertext does not name its key")
				}
				for _, id := range []*string{nil, &keyID} {
					resp, err := decryptData(c, ct, tc.aad, id)
					if err != nil {
						t.Fatalf("DecryptData: %v", err)
					}
					if text(resp.KeyId) != keyID || text(resp.PlainText) != tc.pt || text(resp.PlainTextBase64) != base64.StdEncoding.EncodeToString([]byte(tc.pt)) {
						t.Errorf("DecryptData answered key %s, %d bytes", text(resp.KeyId), len(text(resp.PlainText)))
					}
				}
			})
		}
	}
}

// TestDecryptDataFailures checks the failures of the symmetric data path:
// none gives plaintext, and a wrong AAD, a missing AAD, a wrong key and a
// modified ciphertext are the same KMS.0308.
func TestDecryptDataFailures(t *testing.T) {
	e := start(t)
	c := e.admin()
	keyID := cryptoKey(t, c, model.GetCreateKeyRequestBodyKeySpecEnum().AES_256, "")
	other := cryptoKey(t, c, model.GetCreateKeyRequestBodyKeySpecEnum().AES_256, "")
	pt := secretText(t, "failures")
	aad := ptr("order=42")
	ct := encryptData(t, c, keyID, pt, aad)
	tests := []struct {
		name   string
		ct     string
		aad    *string
		keyID  *string
		status int
		code   string
	}{
		{"wrong AAD", ct, ptr("order=43"), nil, 400, "KMS.0308"},
		{"missing AAD", ct, nil, nil, 400, "KMS.0308"},
		{"another key named", ct, aad, &other, 400, "KMS.0308"},
		{"version byte changed", flipByte(t, ct, 0), aad, nil, 400, "KMS.0308"},
		{"kind changed", flipByte(t, ct, 1), aad, nil, 400, "KMS.0308"},
		{"key version changed", flipByte(t, ct, 7), aad, nil, 400, "KMS.0308"},
		{"nonce changed", flipByte(t, ct, 80), aad, nil, 400, "KMS.0308"},
		{"ciphertext changed", flipByte(t, ct, 90), aad, nil, 400, "KMS.0308"},
		{"tag changed", flipByte(t, ct, -1), aad, nil, 400, "KMS.0308"},
		{"truncated", ct[:160], aad, nil, 400, "KMS.0308"},
		{"not base64", strings.Repeat("*", 200), aad, nil, 400, "KMS.0308"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := decryptData(c, tt.ct, tt.aad, tt.keyID)
			if err == nil {
				t.Fatalf("DecryptData succeeded: %v", resp)
			}
			wantError(t, err, tt.status, tt.code)
		})
	}
	t.Run("another account", func(t *testing.T) {
		_, err := decryptData(e.admin2(), ct, aad, nil)
		wantError(t, err, 404, "KMS.0207")
		_, err = decryptData(e.admin2(), ct, aad, &keyID)
		wantError(t, err, 404, "KMS.0207")
	})
	t.Run("read-only user", func(t *testing.T) {
		_, err := decryptData(e.reader(), ct, aad, nil)
		wantError(t, err, 403, "KMS.0307")
		_, err = e.reader().EncryptData(&model.EncryptDataRequest{Body: &model.EncryptDataRequestBody{KeyId: keyID, PlainText: pt}})
		wantError(t, err, 403, "KMS.0307")
	})
	t.Run("symmetric key with an RSA algorithm", func(t *testing.T) {
		alg := model.GetEncryptDataRequestBodyEncryptionAlgorithmEnum().RSAES_OAEP_SHA_256
		_, err := c.EncryptData(&model.EncryptDataRequest{Body: &model.EncryptDataRequestBody{KeyId: keyID, PlainText: pt, EncryptionAlgorithm: &alg}})
		wantError(t, err, 400, "KMS.2105")
	})
	t.Run("plaintext too long", func(t *testing.T) {
		_, err := c.EncryptData(&model.EncryptDataRequest{Body: &model.EncryptDataRequestBody{KeyId: keyID, PlainText: strings.Repeat("x", 4097)}})
		wantError(t, err, 400, "KMS.0308")
	})
	t.Run("disabled and pending deletion", func(t *testing.T) {
		disabled := cryptoKey(t, c, model.GetCreateKeyRequestBodyKeySpecEnum().SM4, "")
		pending := cryptoKey(t, c, model.GetCreateKeyRequestBodyKeySpecEnum().AES_256, "")
		ctDisabled := encryptData(t, c, disabled, pt, nil)
		ctPending := encryptData(t, c, pending, pt, nil)
		if _, err := c.DisableKey(&model.DisableKeyRequest{Body: &model.OperateKeyRequestBody{KeyId: disabled}}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.DeleteKey(&model.DeleteKeyRequest{Body: &model.ScheduleKeyDeletionRequestBody{KeyId: pending, PendingDays: "7"}}); err != nil {
			t.Fatal(err)
		}
		_, err := decryptData(c, ctDisabled, nil, nil)
		wantError(t, err, 400, "KMS.0209")
		_, err = c.EncryptData(&model.EncryptDataRequest{Body: &model.EncryptDataRequestBody{KeyId: disabled, PlainText: pt}})
		wantError(t, err, 400, "KMS.0209")
		_, err = decryptData(c, ctPending, nil, nil)
		wantError(t, err, 400, "KMS.0210")
		_, err = c.EncryptData(&model.EncryptDataRequest{Body: &model.EncryptDataRequestBody{KeyId: pending, PlainText: pt}})
		wantError(t, err, 400, "KMS.0210")
	})
	// The intact ciphertext still decrypts.
	resp, err := decryptData(c, ct, aad, nil)
	if err != nil || text(resp.PlainText) != pt {
		t.Fatalf("DecryptData of the intact ciphertext: %v", err)
	}
}

// TestAsymmetricDataEncryption encrypts locally with the public key from
// get-publickey and decrypts through kmsd, and decrypts locally what kmsd
// encrypted, for RSA-OAEP and SM2.
func TestAsymmetricDataEncryption(t *testing.T) {
	e := start(t)
	c := e.admin()
	specs := model.GetCreateKeyRequestBodyKeySpecEnum()
	encAlg := model.GetEncryptDataRequestBodyEncryptionAlgorithmEnum()
	decAlg := model.GetDecryptDataRequestBodyEncryptionAlgorithmEnum()

	t.Run("RSA", func(t *testing.T) {
		keyID := cryptoKey(t, c, specs.RSA_2048, "ENCRYPT_DECRYPT")
		pub, ok := publicKey(t, c, keyID).(*rsa.PublicKey)
		if !ok {
			t.Fatal("get-publickey of an RSA key is not an RSA key")
		}
		priv := serverPrivateKey(t, e, keyID).(*rsa.PrivateKey)
		if !priv.PublicKey.Equal(pub) {
			t.Fatal("get-publickey does not match the key's private key")
		}
		msg := secretText(t, "rsa")
		local, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, pub, []byte(msg), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.DecryptData(&model.DecryptDataRequest{Body: &model.DecryptDataRequestBody{
			CipherText: base64.StdEncoding.EncodeToString(local), KeyId: &keyID, EncryptionAlgorithm: &decAlg.RSAES_OAEP_SHA_256}})
		if err != nil {
			t.Fatalf("DecryptData of a local RSA-OAEP ciphertext: %v", err)
		}
		if text(resp.PlainText) != msg || text(resp.KeyId) != keyID {
			t.Errorf("DecryptData answered %s, %d bytes", text(resp.KeyId), len(text(resp.PlainText)))
		}
		enc, err := c.EncryptData(&model.EncryptDataRequest{Body: &model.EncryptDataRequestBody{KeyId: keyID, PlainText: msg, EncryptionAlgorithm: &encAlg.RSAES_OAEP_SHA_256}})
		if err != nil {
			t.Fatalf("EncryptData with RSA: %v", err)
		}
		ct, err := base64.StdEncoding.DecodeString(text(enc.CipherText))
		if err != nil {
			t.Fatal(err)
		}
		if pt, err := rsa.DecryptOAEP(sha256.New(), nil, priv, ct, nil); err != nil || string(pt) != msg {
			t.Errorf("local RSA-OAEP decryption of kmsd's ciphertext: %v", err)
		}
		// Errors: too long, the symmetric algorithm, a bad ciphertext.
		_, err = c.EncryptData(&model.EncryptDataRequest{Body: &model.EncryptDataRequestBody{KeyId: keyID, PlainText: strings.Repeat("r", 191), EncryptionAlgorithm: &encAlg.RSAES_OAEP_SHA_256}})
		wantError(t, err, 400, "KMS.2108")
		_, err = c.EncryptData(&model.EncryptDataRequest{Body: &model.EncryptDataRequestBody{KeyId: keyID, PlainText: msg}})
		wantError(t, err, 400, "KMS.2106")
		_, err = c.DecryptData(&model.DecryptDataRequest{Body: &model.DecryptDataRequestBody{
			CipherText: base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 256)), KeyId: &keyID, EncryptionAlgorithm: &decAlg.RSAES_OAEP_SHA_256}})
		wantError(t, err, 400, "KMS.0311")
	})
	t.Run("SM2", func(t *testing.T) {
		keyID := cryptoKey(t, c, specs.SM2, "ENCRYPT_DECRYPT")
		pub, ok := publicKey(t, c, keyID).(*ecdsa.PublicKey)
		if !ok {
			t.Fatal("get-publickey of an SM2 key is not an EC key")
		}
		priv := serverPrivateKey(t, e, keyID).(*sm2.PrivateKey)
		if !priv.PublicKey.Equal(pub) {
			t.Fatal("get-publickey does not match the key's private key")
		}
		msg := secretText(t, "sm2")
		local, err := sm2.EncryptASN1(rand.Reader, pub, []byte(msg))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.DecryptData(&model.DecryptDataRequest{Body: &model.DecryptDataRequestBody{
			CipherText: base64.StdEncoding.EncodeToString(local), KeyId: &keyID, EncryptionAlgorithm: &decAlg.SM2_ENCRYPT}})
		if err != nil {
			t.Fatalf("DecryptData of a local SM2 ciphertext: %v", err)
		}
		if text(resp.PlainText) != msg {
			t.Errorf("DecryptData answered %d bytes", len(text(resp.PlainText)))
		}
		// gmsm's default form, raw 04‖C1‖C3‖C2, decrypts too.
		raw, err := sm2.Encrypt(rand.Reader, pub, []byte(msg), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err = c.DecryptData(&model.DecryptDataRequest{Body: &model.DecryptDataRequestBody{
			CipherText: base64.StdEncoding.EncodeToString(raw), KeyId: &keyID, EncryptionAlgorithm: &decAlg.SM2_ENCRYPT}})
		if err != nil {
			t.Fatalf("DecryptData of a raw C1C3C2 SM2 ciphertext: %v", err)
		}
		if text(resp.PlainText) != msg {
			t.Errorf("DecryptData of a raw ciphertext answered %d bytes", len(text(resp.PlainText)))
		}
		enc, err := c.EncryptData(&model.EncryptDataRequest{Body: &model.EncryptDataRequestBody{KeyId: keyID, PlainText: msg, EncryptionAlgorithm: &encAlg.SM2_ENCRYPT}})
		if err != nil {
			t.Fatalf("EncryptData with SM2: %v", err)
		}
		ct, err := base64.StdEncoding.DecodeString(text(enc.CipherText))
		if err != nil {
			t.Fatal(err)
		}
		if pt, err := priv.Decrypt(nil, ct, sm2.ASN1DecrypterOpts); err != nil || string(pt) != msg {
			t.Errorf("local SM2 decryption of kmsd's ciphertext: %v", err)
		}
		_, err = c.DecryptData(&model.DecryptDataRequest{Body: &model.DecryptDataRequestBody{CipherText: text(enc.CipherText), EncryptionAlgorithm: &decAlg.SM2_ENCRYPT}})
		wantError(t, err, 400, "KMS.0204")
	})
	t.Run("signing key", func(t *testing.T) {
		keyID := cryptoKey(t, c, specs.RSA_2048, "SIGN_VERIFY")
		_, err := c.EncryptData(&model.EncryptDataRequest{Body: &model.EncryptDataRequestBody{KeyId: keyID, PlainText: "x", EncryptionAlgorithm: &encAlg.RSAES_OAEP_SHA_256}})
		wantError(t, err, 400, "KMS.0335")
	})
}

// TestReEncrypt moves ciphertexts between keys through the SDK.
func TestReEncrypt(t *testing.T) {
	e := start(t)
	c := e.admin()
	specs := model.GetCreateKeyRequestBodyKeySpecEnum()
	aesKey := cryptoKey(t, c, specs.AES_256, "")
	sm4Key := cryptoKey(t, c, specs.SM4, "")
	msg := secretText(t, "reencrypt")
	ct := encryptData(t, c, aesKey, msg, ptr("src"))

	t.Run("AES to SM4", func(t *testing.T) {
		resp, err := c.ReEncrypt(&model.ReEncryptRequest{Body: &model.ReEncryptRequestBody{
			CipherText: ct, SourceAdditionalAuthenticatedData: ptr("src"),
			DestinationKeyId: sm4Key, DestinationAdditionalAuthenticatedData: ptr("dst")}})
		if err != nil {
			t.Fatal(err)
		}
		if text(resp.KeyId) != sm4Key || text(resp.SourceKeyId) != aesKey ||
			text(resp.SourceEncryptionAlgorithm) != "SYMMETRIC_DEFAULT" || text(resp.DestinationEncryptionAlgorithm) != "SYMMETRIC_DEFAULT" {
			t.Errorf("ReEncrypt answered %v", resp)
		}
		dec, err := decryptData(c, text(resp.CipherText), ptr("dst"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if text(dec.KeyId) != sm4Key || text(dec.PlainText) != msg {
			t.Errorf("the re-encrypted ciphertext decrypts under %s to %d bytes", text(dec.KeyId), len(text(dec.PlainText)))
		}
		_, err = decryptData(c, text(resp.CipherText), ptr("src"), nil)
		wantError(t, err, 400, "KMS.0308")
	})
	t.Run("data key", func(t *testing.T) {
		dk, err := c.CreateDatakey(&model.CreateDatakeyRequest{Body: &model.CreateDatakeyRequestBody{KeyId: aesKey}})
		if err != nil {
			t.Fatal(err)
		}
		addDEKSecret(text(dk.PlainText))
		resp, err := c.ReEncrypt(&model.ReEncryptRequest{Body: &model.ReEncryptRequestBody{
			CipherText: text(dk.CipherText), DatakeyCipherLength: ptr("32"), DestinationKeyId: sm4Key}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := hex.DecodeString(text(resp.CipherText)); err != nil {
			t.Fatalf("a re-encrypted data key is not hex: %v", err)
		}
		dec, err := c.DecryptDatakey(&model.DecryptDatakeyRequest{Body: &model.DecryptDatakeyRequestBody{KeyId: sm4Key, CipherText: text(resp.CipherText), DatakeyCipherLength: "32"}})
		if err != nil {
			t.Fatal(err)
		}
		if text(dec.DataKey) != text(dk.PlainText) {
			t.Error("the re-encrypted data key decrypts to another key")
		}
		_, err = c.ReEncrypt(&model.ReEncryptRequest{Body: &model.ReEncryptRequestBody{
			CipherText: text(dk.CipherText), DatakeyCipherLength: ptr("64"), DestinationKeyId: sm4Key}})
		wantError(t, err, 400, "KMS.2204")
	})
	t.Run("RSA source", func(t *testing.T) {
		rsaKey := cryptoKey(t, c, specs.RSA_3072, "ENCRYPT_DECRYPT")
		pub := publicKey(t, c, rsaKey).(*rsa.PublicKey)
		local, err := rsa.EncryptOAEP(sha1.New(), rand.Reader, pub, []byte(msg), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.ReEncrypt(&model.ReEncryptRequest{Body: &model.ReEncryptRequestBody{
			CipherText: base64.StdEncoding.EncodeToString(local), SourceKeyId: &rsaKey, SourceEncryptionAlgorithm: ptr("RSAES_OAEP_SHA_1"),
			DestinationKeyId: aesKey}})
		if err != nil {
			t.Fatal(err)
		}
		if text(resp.SourceKeyId) != rsaKey || text(resp.SourceEncryptionAlgorithm) != "RSAES_OAEP_SHA_1" {
			t.Errorf("ReEncrypt answered %v", resp)
		}
		dec, err := decryptData(c, text(resp.CipherText), nil, nil)
		if err != nil || text(dec.PlainText) != msg {
			t.Fatalf("decrypt the re-encrypted RSA ciphertext: %v", err)
		}
		_, err = c.ReEncrypt(&model.ReEncryptRequest{Body: &model.ReEncryptRequestBody{
			CipherText: base64.StdEncoding.EncodeToString(local), SourceEncryptionAlgorithm: ptr("RSAES_OAEP_SHA_1"), DestinationKeyId: aesKey}})
		wantError(t, err, 400, "KMS.0204")
	})
	t.Run("errors", func(t *testing.T) {
		_, err := c.ReEncrypt(&model.ReEncryptRequest{Body: &model.ReEncryptRequestBody{CipherText: ct, SourceAdditionalAuthenticatedData: ptr("other"), DestinationKeyId: sm4Key}})
		wantError(t, err, 400, "KMS.0308")
		_, err = e.admin2().ReEncrypt(&model.ReEncryptRequest{Body: &model.ReEncryptRequestBody{CipherText: ct, SourceAdditionalAuthenticatedData: ptr("src"), DestinationKeyId: sm4Key}})
		wantError(t, err, 404, "KMS.0207")
		_, err = e.reader().ReEncrypt(&model.ReEncryptRequest{Body: &model.ReEncryptRequestBody{CipherText: ct, SourceAdditionalAuthenticatedData: ptr("src"), DestinationKeyId: sm4Key}})
		wantError(t, err, 403, "KMS.0307")
	})
}

// TestCreateRandom checks gen-random's lengths, encoding and errors.
func TestCreateRandom(t *testing.T) {
	e := start(t)
	c := e.admin()
	for _, bits := range []int{8, 512, 8192} {
		var seen []string
		for range 2 {
			resp, err := c.CreateRandom(&model.CreateRandomRequest{Body: &model.GenRandomRequestBody{RandomDataLength: fmt.Sprint(bits)}})
			if err != nil {
				t.Fatalf("CreateRandom %d: %v", bits, err)
			}
			r := text(resp.RandomData)
			if len(r) != bits/4 {
				t.Errorf("%d bits: %d hex digits, want %d", bits, len(r), bits/4)
			}
			if _, err := hex.DecodeString(r); err != nil || r != strings.ToUpper(r) {
				t.Errorf("%d bits: random_data %q is not upper-case hex", bits, r)
			}
			seen = append(seen, r)
		}
		if bits >= 64 && seen[0] == seen[1] {
			t.Errorf("%d bits: two draws are equal", bits)
		}
	}
	for length, code := range map[string]string{"12": "KMS.1802", "0": "KMS.0308", "8200": "KMS.0308", "many": "KMS.0308"} {
		_, err := c.CreateRandom(&model.CreateRandomRequest{Body: &model.GenRandomRequestBody{RandomDataLength: length}})
		wantError(t, err, 400, code)
	}
	_, err := e.reader().CreateRandom(&model.CreateRandomRequest{Body: &model.GenRandomRequestBody{RandomDataLength: "512"}})
	wantError(t, err, 403, "KMS.0307")
}

// text returns *p, or "<absent>" for nil, so that a missing member fails
// an equality check readably.
func text(p *string) string {
	if p == nil {
		return "<absent>"
	}
	return *p
}
