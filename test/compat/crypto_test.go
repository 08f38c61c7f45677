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
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
	kms "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2/model"
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
	priv, err := smx509.ParsePKCS8PrivateKey(serverMaterial(t, e, keyID))
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

// TestRSAEncryption covers RSA_3072/RSA_4096 OAEP through
// encrypt-data and decrypt-data: plaintext limits (k − 2·32 − 2 bytes),
// local crypto/rsa encryption decrypted by kmsd, and the refusals.
func TestRSAEncryption(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	encAlg := model.GetEncryptDataRequestBodyEncryptionAlgorithmEnum()
	decAlg := model.GetDecryptDataRequestBodyEncryptionAlgorithmEnum()
	for spec, limit := range map[string]int{"RSA_3072": 384 - 66, "RSA_4096": 512 - 66} {
		t.Run(spec, func(t *testing.T) {
			t.Parallel()
			id := sdkKey(t, c, spec, "ENCRYPT_DECRYPT")
			pub := stdPublicKey(t, c, id).(*rsa.PublicKey)
			pt := strings.Repeat("p", limit)
			addSecret(pt)
			enc, err := c.EncryptData(&model.EncryptDataRequest{Body: &model.EncryptDataRequestBody{KeyId: id, PlainText: pt, EncryptionAlgorithm: &encAlg.RSAES_OAEP_SHA_256}})
			if err != nil {
				t.Fatalf("EncryptData of %d bytes: %v", limit, err)
			}
			if n := len(val(enc.CipherText)); n != base64.StdEncoding.EncodedLen(pub.Size()) {
				t.Errorf("cipher_text of %d characters, want %d", n, base64.StdEncoding.EncodedLen(pub.Size()))
			}
			dec, err := c.DecryptData(&model.DecryptDataRequest{Body: &model.DecryptDataRequestBody{CipherText: val(enc.CipherText), KeyId: &id, EncryptionAlgorithm: &decAlg.RSAES_OAEP_SHA_256}})
			if err != nil || val(dec.PlainText) != pt || val(dec.PlainTextBase64) != base64.StdEncoding.EncodeToString([]byte(pt)) || val(dec.KeyId) != id {
				t.Errorf("DecryptData: %v", err)
			}
			_, err = c.EncryptData(&model.EncryptDataRequest{Body: &model.EncryptDataRequestBody{KeyId: id, PlainText: pt + "p", EncryptionAlgorithm: &encAlg.RSAES_OAEP_SHA_256}})
			wantError(t, err, 400, "KMS.2108")
			bin := []byte{0, 0xff, 0xfe, 1}
			local, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, pub, bin, nil)
			if err != nil {
				t.Fatal(err)
			}
			dec, err = c.DecryptData(&model.DecryptDataRequest{Body: &model.DecryptDataRequestBody{CipherText: base64.StdEncoding.EncodeToString(local), KeyId: &id, EncryptionAlgorithm: &decAlg.RSAES_OAEP_SHA_256}})
			if err != nil || val(dec.PlainTextBase64) != base64.StdEncoding.EncodeToString(bin) {
				t.Errorf("DecryptData of binary plaintext: %v", err)
			}
			_, err = c.DecryptData(&model.DecryptDataRequest{Body: &model.DecryptDataRequestBody{CipherText: base64.StdEncoding.EncodeToString(local), KeyId: &id, EncryptionAlgorithm: &decAlg.SM2_ENCRYPT}})
			wantError(t, err, 400, "KMS.2106")
			_, err = c.DecryptData(&model.DecryptDataRequest{Body: &model.DecryptDataRequestBody{CipherText: base64.StdEncoding.EncodeToString(local), KeyId: &id}})
			wantError(t, err, 400, "KMS.2106")
			// Signing with an ENCRYPT_DECRYPT key.
			_, err = sign(t, c, id, "RSASSA_PSS_SHA_256", "", make([]byte, 32))
			wantError(t, err, 400, "KMS.0334")
		})
	}
}

// TestSM2LongPlaintext encrypts the longest plaintext (4096
// bytes) with an SM2 key: its ciphertext must stay inside decrypt-data's
// 5648 base64 characters and decrypt again.
func TestSM2LongPlaintext(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	encAlg := model.GetEncryptDataRequestBodyEncryptionAlgorithmEnum()
	decAlg := model.GetDecryptDataRequestBodyEncryptionAlgorithmEnum()
	id := sdkKey(t, c, "SM2", "ENCRYPT_DECRYPT")
	for _, n := range []int{1, 4096} {
		pt := strings.Repeat("s", n)
		enc, err := c.EncryptData(&model.EncryptDataRequest{Body: &model.EncryptDataRequestBody{KeyId: id, PlainText: pt, EncryptionAlgorithm: &encAlg.SM2_ENCRYPT}})
		if err != nil {
			t.Fatalf("EncryptData of %d bytes: %v", n, err)
		}
		ct := val(enc.CipherText)
		if len(ct) < 128 || len(ct) > 5648 {
			t.Errorf("%d bytes: cipher_text of %d characters, outside 128–5648", n, len(ct))
		}
		dec, err := c.DecryptData(&model.DecryptDataRequest{Body: &model.DecryptDataRequestBody{CipherText: ct, KeyId: &id, EncryptionAlgorithm: &decAlg.SM2_ENCRYPT}})
		if err != nil || val(dec.PlainText) != pt {
			t.Errorf("%d bytes: DecryptData: %v", n, err)
		}
	}
}

// cryptoFixture are the keys of one server of the crypto tests, by role.
type cryptoFixture struct {
	aes, sm4, rsaEnc, rsaSign, ec, sm2Enc, hmac    string
	disabled, pendingDeletion, pendingImport, dflt string
	aesCT, disabledCT, pendingCT, aesDEKHex        string
	disabledDEKHex, pendingDEKHex                  string
	dekWithDigest                                  string // hex DEK‖SHA-256(DEK) of 32 bytes
	otherProject                                   string // an AES key of the second account
	dfltCT                                         string
	aesPairCT                                      string
	aesPairPlain                                   string
	aesDEKLen                                      string
}

// newCryptoFixture creates the keys of cryptoFixture on e, in their
// states, with a ciphertext and a data key of each.
func newCryptoFixture(t *testing.T, e *env) cryptoFixture {
	t.Helper()
	c := e.admin()
	var k cryptoFixture
	k.aes = sdkKey(t, c, "AES_256", "")
	k.sm4 = sdkKey(t, c, "SM4", "")
	k.rsaEnc = sdkKey(t, c, "RSA_2048", "ENCRYPT_DECRYPT")
	k.rsaSign = sdkKey(t, c, "RSA_2048", "SIGN_VERIFY")
	k.ec = sdkKey(t, c, "EC_P256", "")
	k.sm2Enc = sdkKey(t, c, "SM2", "ENCRYPT_DECRYPT")
	k.hmac = createKeyRaw(t, e, "HMAC_256", "GENERATE_VERIFY_MAC")
	k.disabled = sdkKey(t, c, "AES_256", "")
	k.pendingDeletion = sdkKey(t, c, "AES_256", "")
	k.pendingImport = createKey(t, c, model.CreateKeyRequestBody{Origin: ptr(model.GetCreateKeyRequestBodyOriginEnum().EXTERNAL)})
	def, err := e.srv.KMS.CreateDefaultKey(t.Context(), e.ids.ProjectID, e.ids.AccountID, "obs")
	if err != nil {
		t.Fatal(err)
	}
	k.dflt = def.KeyID
	k.otherProject = newKey(t, e.admin2())

	pt := secretText(t, "audit")
	// A ciphertext with a '+' or '/' in it, so that its URL-safe spelling
	// differs (one in about 80 has neither).
	for i := 0; i < 20 && !strings.ContainsAny(k.aesCT, "+/"); i++ {
		k.aesCT = encryptData(t, c, k.aes, pt, nil)
	}
	if !strings.ContainsAny(k.aesCT, "+/") {
		t.Fatal("20 ciphertexts without '+' or '/'")
	}
	k.disabledCT = encryptData(t, c, k.disabled, pt, nil)
	k.pendingCT = encryptData(t, c, k.pendingDeletion, pt, nil)
	k.dfltCT = encryptData(t, c, k.dflt, pt, nil)
	dek := func(keyID string) string {
		resp, err := c.CreateDatakey(&model.CreateDatakeyRequest{Body: &model.CreateDatakeyRequestBody{KeyId: keyID}})
		if err != nil {
			t.Fatalf("CreateDatakey: %v", err)
		}
		addDEKSecret(text(resp.PlainText))
		return text(resp.CipherText)
	}
	k.aesDEKHex = dek(k.aes)
	k.aesDEKLen = "32"
	k.disabledDEKHex = dek(k.disabled)
	k.pendingDEKHex = dek(k.pendingDeletion)
	raw := randomDEK(t, 32)
	k.dekWithDigest = hex.EncodeToString(append(append([]byte(nil), raw...), dekDigest("AES_256", raw)...))
	if _, err := c.DisableKey(&model.DisableKeyRequest{Body: &model.OperateKeyRequestBody{KeyId: k.disabled}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteKey(&model.DeleteKeyRequest{Body: &model.ScheduleKeyDeletionRequestBody{KeyId: k.pendingDeletion, PendingDays: "7"}}); err != nil {
		t.Fatal(err)
	}
	return k
}

// TestCryptoRawRequests drives every operation of §5.C and §5.D with raw
// requests: the exact types of members, missing members, sequence, key id
// shape, AAD limits, key states and key classes.
func TestCryptoRawRequests(t *testing.T) {
	t.Parallel()
	e := start(t)
	k := newCryptoFixture(t, e)
	n := func(s string) json.RawMessage { return json.RawMessage(s) }
	aad129 := strings.Repeat("a", 129)
	aad128 := strings.Repeat("a", 128)
	cjk43 := strings.Repeat("数", 43) // 129 bytes of UTF-8
	tests := []struct {
		name, op, body string
		status         int
		code           string
	}{
		// encrypt-data
		{"encrypt ok", "encrypt-data", jsonObj("key_id", k.aes, "plain_text", "x", "sequence", validSequence), 200, ""},
		{"encrypt AAD 128", "encrypt-data", jsonObj("key_id", k.aes, "plain_text", "x", "additional_authenticated_data", aad128), 200, ""},
		{"encrypt AAD 129", "encrypt-data", jsonObj("key_id", k.aes, "plain_text", "x", "additional_authenticated_data", aad129), 400, "KMS.0308"},
		{"encrypt AAD 129 bytes", "encrypt-data", jsonObj("key_id", k.aes, "plain_text", "x", "additional_authenticated_data", cjk43), 400, "KMS.0308"},
		{"encrypt key_id number", "encrypt-data", jsonObj("key_id", n("5"), "plain_text", "x"), 400, "KMS.0202"},
		{"encrypt plain_text number", "encrypt-data", jsonObj("key_id", k.aes, "plain_text", n("5")), 400, "KMS.0202"},
		{"encrypt algorithm number", "encrypt-data", jsonObj("key_id", k.aes, "plain_text", "x", "encryption_algorithm", n("1")), 400, "KMS.0202"},
		{"encrypt AAD number", "encrypt-data", jsonObj("key_id", k.aes, "plain_text", "x", "additional_authenticated_data", n("1")), 400, "KMS.0202"},
		{"encrypt sequence number", "encrypt-data", jsonObj("key_id", k.aes, "plain_text", "x", "sequence", n("1")), 400, "KMS.0202"},
		{"encrypt sequence short", "encrypt-data", jsonObj("key_id", k.aes, "plain_text", "x", "sequence", "abc"), 400, "KMS.0206"},
		{"encrypt no key_id", "encrypt-data", jsonObj("plain_text", "x"), 400, "KMS.0204"},
		{"encrypt no plain_text", "encrypt-data", jsonObj("key_id", k.aes), 400, "KMS.0204"},
		{"encrypt plain_text null", "encrypt-data", jsonObj("key_id", k.aes, "plain_text", nil), 400, "KMS.0204"},
		{"encrypt alias as key_id", "encrypt-data", jsonObj("key_id", "alias/compat", "plain_text", "x"), 400, "KMS.0205"},
		{"encrypt upper-case key_id", "encrypt-data", jsonObj("key_id", strings.ToUpper(k.aes), "plain_text", "x"), 400, "KMS.0205"},
		{"encrypt unknown key", "encrypt-data", jsonObj("key_id", unknownKeyID, "plain_text", "x"), 404, "KMS.0207"},
		{"encrypt other project", "encrypt-data", jsonObj("key_id", k.otherProject, "plain_text", "x"), 404, "KMS.0207"},
		{"encrypt unknown algorithm", "encrypt-data", jsonObj("key_id", k.aes, "plain_text", "x", "encryption_algorithm", "AES_GCM"), 400, "KMS.0308"},
		{"encrypt 4096 bytes", "encrypt-data", jsonObj("key_id", k.aes, "plain_text", strings.Repeat("é", 2048)), 200, ""},
		{"encrypt 4097 bytes", "encrypt-data", jsonObj("key_id", k.aes, "plain_text", strings.Repeat("é", 2048)+"x"), 400, "KMS.0308"},
		{"encrypt disabled", "encrypt-data", jsonObj("key_id", k.disabled, "plain_text", "x"), 400, "KMS.0209"},
		{"encrypt pending deletion", "encrypt-data", jsonObj("key_id", k.pendingDeletion, "plain_text", "x"), 400, "KMS.0210"},
		{"encrypt pending import", "encrypt-data", jsonObj("key_id", k.pendingImport, "plain_text", "x"), 400, "KMS.0310"},
		{"encrypt default key", "encrypt-data", jsonObj("key_id", k.dflt, "plain_text", "x"), 200, ""},
		{"encrypt signing RSA", "encrypt-data", jsonObj("key_id", k.rsaSign, "plain_text", "x", "encryption_algorithm", "RSAES_OAEP_SHA_256"), 400, "KMS.0335"},
		{"encrypt EC", "encrypt-data", jsonObj("key_id", k.ec, "plain_text", "x"), 400, "KMS.0335"},
		{"encrypt HMAC", "encrypt-data", jsonObj("key_id", k.hmac, "plain_text", "x"), 400, "KMS.0341"},
		{"encrypt SM4 with SM2_ENCRYPT", "encrypt-data", jsonObj("key_id", k.sm4, "plain_text", "x", "encryption_algorithm", "SM2_ENCRYPT"), 400, "KMS.2105"},
		{"encrypt RSA with SM2_ENCRYPT", "encrypt-data", jsonObj("key_id", k.rsaEnc, "plain_text", "x", "encryption_algorithm", "SM2_ENCRYPT"), 400, "KMS.2106"},
		{"encrypt RSA 190 bytes", "encrypt-data", jsonObj("key_id", k.rsaEnc, "plain_text", strings.Repeat("r", 190), "encryption_algorithm", "RSAES_OAEP_SHA_256"), 200, ""},
		{"encrypt RSA 191 bytes", "encrypt-data", jsonObj("key_id", k.rsaEnc, "plain_text", strings.Repeat("r", 191), "encryption_algorithm", "RSAES_OAEP_SHA_256"), 400, "KMS.2108"},
		{"encrypt body not an object", "encrypt-data", `["x"]`, 400, "KMS.0202"},
		{"encrypt malformed JSON", "encrypt-data", `{"key_id":`, 400, "KMS.0202"},

		// decrypt-data
		{"decrypt ok", "decrypt-data", jsonObj("cipher_text", k.aesCT, "sequence", validSequence), 200, ""},
		{"decrypt ok with key_id", "decrypt-data", jsonObj("cipher_text", k.aesCT, "key_id", k.aes, "encryption_algorithm", "SYMMETRIC_DEFAULT"), 200, ""},
		{"decrypt default key", "decrypt-data", jsonObj("cipher_text", k.dfltCT), 200, ""},
		{"decrypt no cipher_text", "decrypt-data", jsonObj("key_id", k.aes), 400, "KMS.0204"},
		{"decrypt cipher_text number", "decrypt-data", jsonObj("cipher_text", n("5")), 400, "KMS.0202"},
		{"decrypt key_id number", "decrypt-data", jsonObj("cipher_text", k.aesCT, "key_id", n("5")), 400, "KMS.0202"},
		{"decrypt bad key_id", "decrypt-data", jsonObj("cipher_text", k.aesCT, "key_id", "nope"), 400, "KMS.0205"},
		{"decrypt sequence short", "decrypt-data", jsonObj("cipher_text", k.aesCT, "sequence", "1"), 400, "KMS.0206"},
		{"decrypt 127 chars", "decrypt-data", jsonObj("cipher_text", strings.Repeat("A", 127)), 400, "KMS.0308"},
		{"decrypt 5649 chars", "decrypt-data", jsonObj("cipher_text", strings.Repeat("A", 5649)), 400, "KMS.0308"},
		{"decrypt newline inside", "decrypt-data", jsonObj("cipher_text", k.aesCT[:64]+"\n"+k.aesCT[64:]), 400, "KMS.0308"},
		{"decrypt CR LF inside", "decrypt-data", jsonObj("cipher_text", k.aesCT[:64]+"\r\n"+k.aesCT[64:]), 400, "KMS.0308"},
		{"decrypt URL-safe alphabet", "decrypt-data", jsonObj("cipher_text", strings.NewReplacer("+", "-", "/", "_").Replace(k.aesCT)), 400, "KMS.0308"},
		{"decrypt AAD 129", "decrypt-data", jsonObj("cipher_text", k.aesCT, "additional_authenticated_data", aad129), 400, "KMS.0308"},
		{"decrypt disabled", "decrypt-data", jsonObj("cipher_text", k.disabledCT), 400, "KMS.0209"},
		{"decrypt pending deletion", "decrypt-data", jsonObj("cipher_text", k.pendingCT), 400, "KMS.0210"},
		{"decrypt other project key_id", "decrypt-data", jsonObj("cipher_text", k.aesCT, "key_id", k.otherProject), 404, "KMS.0207"},
		{"decrypt unknown algorithm", "decrypt-data", jsonObj("cipher_text", k.aesCT, "encryption_algorithm", "RSAES_OAEP_SHA_1"), 400, "KMS.0308"},
		{"decrypt RSA without key_id", "decrypt-data", jsonObj("cipher_text", k.aesCT, "encryption_algorithm", "RSAES_OAEP_SHA_256"), 400, "KMS.0204"},
		{"decrypt data key ciphertext", "decrypt-data", jsonObj("cipher_text", b64OfHex(t, k.aesDEKHex)), 400, "KMS.0308"},

		// gen-random
		{"random ok", "gen-random", jsonObj("random_data_length", "512", "sequence", validSequence), 200, ""},
		{"random float", "gen-random", jsonObj("random_data_length", n("512.0")), 400, "KMS.0202"},
		{"random missing", "gen-random", `{}`, 400, "KMS.0204"},
		{"random empty", "gen-random", jsonObj("random_data_length", ""), 400, "KMS.0204"},
		{"random sequence short", "gen-random", jsonObj("random_data_length", "512", "sequence", "x"), 400, "KMS.0206"},
		{"random 7", "gen-random", jsonObj("random_data_length", "7"), 400, "KMS.0308"},
		{"random 8193", "gen-random", jsonObj("random_data_length", "8193"), 400, "KMS.0308"},
		{"random 20", "gen-random", jsonObj("random_data_length", "20"), 400, "KMS.1802"},

		// create-datakey and create-datakey-without-plaintext
		{"datakey ok", "create-datakey", jsonObj("key_id", k.aes, "key_spec", "AES_128", "sequence", validSequence, "pin", "p", "pin_type", "PlainText"), 200, ""},
		{"datakey default key", "create-datakey", jsonObj("key_id", k.dflt), 200, ""},
		{"datakey length float", "create-datakey", jsonObj("key_id", k.aes, "datakey_length", n("256.0")), 400, "KMS.0202"},
		{"datakey key_spec number", "create-datakey", jsonObj("key_id", k.aes, "key_spec", n("1")), 400, "KMS.0202"},
		{"datakey key_spec unknown", "create-datakey", jsonObj("key_id", k.aes, "key_spec", "AES_512"), 400, "KMS.1902"},
		{"datakey-wp key_spec unknown", "create-datakey-without-plaintext", jsonObj("key_id", k.aes, "key_spec", "DES", "datakey_length", "64"), 400, "KMS.1902"},
		{"datakey pin number", "create-datakey", jsonObj("key_id", k.aes, "pin", n("1")), 400, "KMS.0202"},
		{"datakey pin_type unknown", "create-datakey", jsonObj("key_id", k.aes, "pin_type", "Other"), 400, "KMS.0308"},
		{"datakey no key_id", "create-datakey", jsonObj("datakey_length", "256"), 400, "KMS.0204"},
		{"datakey sequence short", "create-datakey", jsonObj("key_id", k.aes, "sequence", "x"), 400, "KMS.0206"},
		{"datakey length 0", "create-datakey", jsonObj("key_id", k.aes, "datakey_length", "0"), 400, "KMS.1901"},
		{"datakey length 8200", "create-datakey", jsonObj("key_id", k.aes, "datakey_length", "8200"), 400, "KMS.1901"},
		{"datakey length 8192", "create-datakey", jsonObj("key_id", k.aes, "datakey_length", "8192"), 200, ""},
		{"datakey length 100", "create-datakey", jsonObj("key_id", k.aes, "datakey_length", "100"), 400, "KMS.1903"},
		{"datakey AAD 129", "create-datakey", jsonObj("key_id", k.aes, "additional_authenticated_data", aad129), 400, "KMS.0308"},
		{"datakey disabled", "create-datakey", jsonObj("key_id", k.disabled), 400, "KMS.0209"},
		{"datakey pending deletion", "create-datakey", jsonObj("key_id", k.pendingDeletion), 400, "KMS.0210"},
		{"datakey pending import", "create-datakey", jsonObj("key_id", k.pendingImport), 400, "KMS.0310"},
		{"datakey other project", "create-datakey", jsonObj("key_id", k.otherProject), 404, "KMS.0207"},
		{"datakey RSA", "create-datakey", jsonObj("key_id", k.rsaEnc), 400, "KMS.0325"},
		{"datakey EC", "create-datakey", jsonObj("key_id", k.ec), 400, "KMS.0325"},
		{"datakey HMAC", "create-datakey", jsonObj("key_id", k.hmac), 400, "KMS.0341"},
		{"datakey-wp ok", "create-datakey-without-plaintext", jsonObj("key_id", k.sm4, "key_spec", "HMAC_384", "sequence", validSequence), 200, ""},
		{"datakey-wp disabled", "create-datakey-without-plaintext", jsonObj("key_id", k.disabled), 400, "KMS.0209"},
		{"datakey-wp pending import", "create-datakey-without-plaintext", jsonObj("key_id", k.pendingImport), 400, "KMS.0310"},
		{"datakey-wp length 12", "create-datakey-without-plaintext", jsonObj("key_id", k.aes, "datakey_length", "12"), 400, "KMS.1903"},
		{"datakey-wp SM2", "create-datakey-without-plaintext", jsonObj("key_id", k.sm2Enc), 400, "KMS.0325"},
		{"datakey-wp default key", "create-datakey-without-plaintext", jsonObj("key_id", k.dflt), 200, ""},

		// encrypt-datakey
		{"enc-dk ok", "encrypt-datakey", jsonObj("key_id", k.aes, "plain_text", k.dekWithDigest, "datakey_plain_length", "32", "sequence", validSequence, "pin", "x", "pin_type", "anything", "key_spec", "RSA"), 200, ""},
		{"enc-dk default key", "encrypt-datakey", jsonObj("key_id", k.dflt, "plain_text", k.dekWithDigest, "datakey_plain_length", "32"), 200, ""},
		{"enc-dk length float", "encrypt-datakey", jsonObj("key_id", k.aes, "plain_text", k.dekWithDigest, "datakey_plain_length", n("32.0")), 400, "KMS.0202"},
		{"enc-dk no length", "encrypt-datakey", jsonObj("key_id", k.aes, "plain_text", k.dekWithDigest), 400, "KMS.0204"},
		{"enc-dk no plain_text", "encrypt-datakey", jsonObj("key_id", k.aes, "datakey_plain_length", "32"), 400, "KMS.0204"},
		{"enc-dk sequence short", "encrypt-datakey", jsonObj("key_id", k.aes, "plain_text", k.dekWithDigest, "datakey_plain_length", "32", "sequence", "x"), 400, "KMS.0206"},
		{"enc-dk key_spec unknown", "encrypt-datakey", jsonObj("key_id", k.aes, "plain_text", k.dekWithDigest, "datakey_plain_length", "32", "key_spec", "AES_256"), 400, "KMS.0308"},
		{"enc-dk odd hex", "encrypt-datakey", jsonObj("key_id", k.aes, "plain_text", k.dekWithDigest[1:], "datakey_plain_length", "32"), 400, "KMS.2101"},
		{"enc-dk AAD 129", "encrypt-datakey", jsonObj("key_id", k.aes, "plain_text", k.dekWithDigest, "datakey_plain_length", "32", "additional_authenticated_data", aad129), 400, "KMS.0308"},
		{"enc-dk disabled", "encrypt-datakey", jsonObj("key_id", k.disabled, "plain_text", k.dekWithDigest, "datakey_plain_length", "32"), 400, "KMS.0209"},
		{"enc-dk pending deletion", "encrypt-datakey", jsonObj("key_id", k.pendingDeletion, "plain_text", k.dekWithDigest, "datakey_plain_length", "32"), 400, "KMS.0210"},
		{"enc-dk pending import", "encrypt-datakey", jsonObj("key_id", k.pendingImport, "plain_text", k.dekWithDigest, "datakey_plain_length", "32"), 400, "KMS.0310"},
		{"enc-dk other project", "encrypt-datakey", jsonObj("key_id", k.otherProject, "plain_text", k.dekWithDigest, "datakey_plain_length", "32"), 404, "KMS.0207"},
		{"enc-dk RSA", "encrypt-datakey", jsonObj("key_id", k.rsaEnc, "plain_text", k.dekWithDigest, "datakey_plain_length", "32"), 400, "KMS.0325"},
		{"enc-dk HMAC", "encrypt-datakey", jsonObj("key_id", k.hmac, "plain_text", k.dekWithDigest, "datakey_plain_length", "32"), 400, "KMS.0341"},

		// decrypt-datakey
		{"dec-dk ok", "decrypt-datakey", jsonObj("key_id", k.aes, "cipher_text", k.aesDEKHex, "datakey_cipher_length", k.aesDEKLen, "sequence", validSequence), 200, ""},
		{"dec-dk length float", "decrypt-datakey", jsonObj("key_id", k.aes, "cipher_text", k.aesDEKHex, "datakey_cipher_length", n("32.0")), 400, "KMS.0202"},
		{"dec-dk no length", "decrypt-datakey", jsonObj("key_id", k.aes, "cipher_text", k.aesDEKHex), 400, "KMS.0204"},
		{"dec-dk no cipher_text", "decrypt-datakey", jsonObj("key_id", k.aes, "datakey_cipher_length", "32"), 400, "KMS.0204"},
		{"dec-dk no key_id", "decrypt-datakey", jsonObj("cipher_text", k.aesDEKHex, "datakey_cipher_length", "32"), 400, "KMS.0204"},
		{"dec-dk sequence short", "decrypt-datakey", jsonObj("key_id", k.aes, "cipher_text", k.aesDEKHex, "datakey_cipher_length", "32", "sequence", "x"), 400, "KMS.0206"},
		{"dec-dk encrypt-data ciphertext", "decrypt-datakey", jsonObj("key_id", k.aes, "cipher_text", hexOfB64(t, k.aesCT), "datakey_cipher_length", "32"), 400, "KMS.2201"},
		{"dec-dk length 1025", "decrypt-datakey", jsonObj("key_id", k.aes, "cipher_text", k.aesDEKHex, "datakey_cipher_length", "1025"), 400, "KMS.0308"},
		{"dec-dk AAD 129", "decrypt-datakey", jsonObj("key_id", k.aes, "cipher_text", k.aesDEKHex, "datakey_cipher_length", "32", "additional_authenticated_data", aad129), 400, "KMS.0308"},
		{"dec-dk disabled", "decrypt-datakey", jsonObj("key_id", k.disabled, "cipher_text", k.disabledDEKHex, "datakey_cipher_length", "32"), 400, "KMS.0209"},
		{"dec-dk pending deletion", "decrypt-datakey", jsonObj("key_id", k.pendingDeletion, "cipher_text", k.pendingDEKHex, "datakey_cipher_length", "32"), 400, "KMS.0210"},
		{"dec-dk pending import", "decrypt-datakey", jsonObj("key_id", k.pendingImport, "cipher_text", k.aesDEKHex, "datakey_cipher_length", "32"), 400, "KMS.0310"},
		{"dec-dk other project", "decrypt-datakey", jsonObj("key_id", k.otherProject, "cipher_text", k.aesDEKHex, "datakey_cipher_length", "32"), 404, "KMS.0207"},
		{"dec-dk wrong CMK", "decrypt-datakey", jsonObj("key_id", k.sm4, "cipher_text", k.aesDEKHex, "datakey_cipher_length", "32"), 400, "KMS.2203"},

		// create-rsa-datakey-pair and create-ec-datakey-pair
		{"rsa pair ok", "create-rsa-datakey-pair", jsonObj("key_id", k.aes, "key_spec", "RSA_2048", "with_plain_text", false, "sequence", validSequence), 200, ""},
		{"rsa pair no key_spec", "create-rsa-datakey-pair", jsonObj("key_id", k.aes), 400, "KMS.0204"},
		{"rsa pair key_spec number", "create-rsa-datakey-pair", jsonObj("key_id", k.aes, "key_spec", n("2048")), 400, "KMS.0202"},
		{"rsa pair EC spec", "create-rsa-datakey-pair", jsonObj("key_id", k.aes, "key_spec", "ECC_NIST_P256"), 400, "KMS.0308"},
		{"rsa pair with_plain_text string", "create-rsa-datakey-pair", jsonObj("key_id", k.aes, "key_spec", "RSA_2048", "with_plain_text", "true"), 400, "KMS.0202"},
		{"rsa pair AAD number", "create-rsa-datakey-pair", jsonObj("key_id", k.aes, "key_spec", "RSA_2048", "additional_authenticated_data", n("1")), 400, "KMS.0202"},
		{"rsa pair sequence short", "create-rsa-datakey-pair", jsonObj("key_id", k.aes, "key_spec", "RSA_2048", "sequence", "x"), 400, "KMS.0206"},
		{"rsa pair no key_id", "create-rsa-datakey-pair", jsonObj("key_spec", "RSA_2048"), 400, "KMS.0204"},
		{"rsa pair bad key_id", "create-rsa-datakey-pair", jsonObj("key_id", "x", "key_spec", "RSA_2048"), 400, "KMS.0205"},
		{"rsa pair disabled", "create-rsa-datakey-pair", jsonObj("key_id", k.disabled, "key_spec", "RSA_2048"), 400, "KMS.0209"},
		{"rsa pair pending deletion", "create-rsa-datakey-pair", jsonObj("key_id", k.pendingDeletion, "key_spec", "RSA_2048"), 400, "KMS.0210"},
		{"rsa pair pending import", "create-rsa-datakey-pair", jsonObj("key_id", k.pendingImport, "key_spec", "RSA_2048"), 400, "KMS.0310"},
		{"rsa pair other project", "create-rsa-datakey-pair", jsonObj("key_id", k.otherProject, "key_spec", "RSA_2048"), 404, "KMS.0207"},
		{"rsa pair RSA CMK", "create-rsa-datakey-pair", jsonObj("key_id", k.rsaEnc, "key_spec", "RSA_2048"), 400, "KMS.0325"},
		{"rsa pair default key", "create-rsa-datakey-pair", jsonObj("key_id", k.dflt, "key_spec", "RSA_2048", "with_plain_text", false), 200, ""},
		{"ec pair ok", "create-ec-datakey-pair", jsonObj("key_id", k.sm4, "key_spec", "ECC_NIST_P384", "pin", "1", "pin_type", "PlainText", "sequence", validSequence), 200, ""},
		{"ec pair RSA spec", "create-ec-datakey-pair", jsonObj("key_id", k.aes, "key_spec", "RSA_2048"), 400, "KMS.0308"},
		{"ec pair EC_P256 spelling", "create-ec-datakey-pair", jsonObj("key_id", k.aes, "key_spec", "EC_P256"), 400, "KMS.0308"},
		{"ec pair empty key_spec", "create-ec-datakey-pair", jsonObj("key_id", k.aes, "key_spec", ""), 400, "KMS.0204"},
		{"ec pair pin number", "create-ec-datakey-pair", jsonObj("key_id", k.aes, "key_spec", "SM2", "pin", n("1")), 400, "KMS.0202"},
		{"ec pair AAD 129", "create-ec-datakey-pair", jsonObj("key_id", k.aes, "key_spec", "SM2", "additional_authenticated_data", aad129), 400, "KMS.0308"},
		{"ec pair disabled", "create-ec-datakey-pair", jsonObj("key_id", k.disabled, "key_spec", "SM2"), 400, "KMS.0209"},
		{"ec pair pending deletion", "create-ec-datakey-pair", jsonObj("key_id", k.pendingDeletion, "key_spec", "SM2"), 400, "KMS.0210"},
		{"ec pair pending import", "create-ec-datakey-pair", jsonObj("key_id", k.pendingImport, "key_spec", "SM2"), 400, "KMS.0310"},
		{"ec pair other project", "create-ec-datakey-pair", jsonObj("key_id", k.otherProject, "key_spec", "SM2"), 404, "KMS.0207"},
		{"ec pair HMAC CMK", "create-ec-datakey-pair", jsonObj("key_id", k.hmac, "key_spec", "SM2"), 400, "KMS.0341"},
		{"ec pair default key", "create-ec-datakey-pair", jsonObj("key_id", k.dflt, "key_spec", "ECC_NIST_P256"), 200, ""},

		// re-encrypt
		{"re-encrypt ok", "re-encrypt", jsonObj("cipher_text", k.aesCT, "destination_key_id", k.sm4), 200, ""},
		{"re-encrypt to default key", "re-encrypt", jsonObj("cipher_text", k.aesCT, "destination_key_id", k.dflt), 200, ""},
		{"re-encrypt no destination", "re-encrypt", jsonObj("cipher_text", k.aesCT), 400, "KMS.0204"},
		{"re-encrypt no cipher_text", "re-encrypt", jsonObj("destination_key_id", k.sm4), 400, "KMS.0204"},
		{"re-encrypt destination number", "re-encrypt", jsonObj("cipher_text", k.aesCT, "destination_key_id", n("1")), 400, "KMS.0202"},
		{"re-encrypt length float", "re-encrypt", jsonObj("cipher_text", k.aesDEKHex, "destination_key_id", k.sm4, "datakey_cipher_length", n("32.0")), 400, "KMS.0202"},
		{"re-encrypt bad destination", "re-encrypt", jsonObj("cipher_text", k.aesCT, "destination_key_id", "x"), 400, "KMS.0205"},
		{"re-encrypt destination disabled", "re-encrypt", jsonObj("cipher_text", k.aesCT, "destination_key_id", k.disabled), 400, "KMS.0209"},
		{"re-encrypt destination pending deletion", "re-encrypt", jsonObj("cipher_text", k.aesCT, "destination_key_id", k.pendingDeletion), 400, "KMS.0210"},
		{"re-encrypt destination pending import", "re-encrypt", jsonObj("cipher_text", k.aesCT, "destination_key_id", k.pendingImport), 400, "KMS.0310"},
		{"re-encrypt source disabled", "re-encrypt", jsonObj("cipher_text", k.disabledCT, "destination_key_id", k.sm4), 400, "KMS.0209"},
		{"re-encrypt source pending deletion", "re-encrypt", jsonObj("cipher_text", k.pendingCT, "destination_key_id", k.sm4), 400, "KMS.0210"},
		{"re-encrypt destination other project", "re-encrypt", jsonObj("cipher_text", k.aesCT, "destination_key_id", k.otherProject), 404, "KMS.0207"},
		{"re-encrypt destination HMAC", "re-encrypt", jsonObj("cipher_text", k.aesCT, "destination_key_id", k.hmac), 400, "KMS.0341"},
		{"re-encrypt destination signing", "re-encrypt", jsonObj("cipher_text", k.aesCT, "destination_key_id", k.rsaSign, "destination_encryption_algorithm", "RSAES_OAEP_SHA_256"), 400, "KMS.0335"},
		{"re-encrypt data key to RSA", "re-encrypt", jsonObj("cipher_text", k.aesDEKHex, "datakey_cipher_length", "32", "destination_key_id", k.rsaEnc, "destination_encryption_algorithm", "RSAES_OAEP_SHA_256"), 400, "KMS.0325"},
		{"re-encrypt unknown algorithm", "re-encrypt", jsonObj("cipher_text", k.aesCT, "destination_key_id", k.sm4, "destination_encryption_algorithm", "AES"), 400, "KMS.0308"},
		{"re-encrypt source AAD 129", "re-encrypt", jsonObj("cipher_text", k.aesCT, "destination_key_id", k.sm4, "source_additional_authenticated_data", aad129), 400, "KMS.0308"},
		{"re-encrypt destination AAD 129", "re-encrypt", jsonObj("cipher_text", k.aesCT, "destination_key_id", k.sm4, "destination_additional_authenticated_data", aad129), 400, "KMS.0308"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rawAnswer(t, e, tt.op, tt.body, tt.status, tt.code)
		})
	}
}

func b64OfHex(t *testing.T, h string) string {
	t.Helper()
	b, err := hex.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func hexOfB64(t *testing.T, s string) string {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// TestCryptoRawResponses checks the raw answers of §5.C and §5.D: every
// member the reference lists, each a JSON string, with the documented
// encodings (base64 for the data path, hex for data keys and random).
func TestCryptoRawResponses(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	aes := sdkKey(t, c, "AES_256", "")
	sm4 := sdkKey(t, c, "SM4", "")
	pt := secretText(t, "resp")

	m := rawAnswer(t, e, "encrypt-data", jsonObj("key_id", aes, "plain_text", pt), 200, "")
	wantStrings(t, "encrypt-data", m, "key_id", "cipher_text")
	ct, _ := m["cipher_text"].(string)
	raw, err := base64.StdEncoding.DecodeString(ct)
	if err != nil {
		t.Fatalf("cipher_text is not standard base64: %v", err)
	}
	// §2.5 / decrypt-data's input rule: ciphertexts stay inside 128–5648
	// base64 characters for 1–4096 bytes of plaintext.
	for _, size := range []int{1, 4096} {
		m := rawAnswer(t, e, "encrypt-data", jsonObj("key_id", sm4, "plain_text", strings.Repeat("z", size)), 200, "")
		s, _ := m["cipher_text"].(string)
		if len(s) < 128 || len(s) > 5648 {
			t.Errorf("%d bytes of plaintext: cipher_text of %d characters, outside decrypt-data's 128–5648", size, len(s))
		}
		rawAnswer(t, e, "decrypt-data", jsonObj("cipher_text", s), 200, "")
	}
	if len(raw) < 96 {
		t.Errorf("ciphertext of %d bytes, want ≥ 96", len(raw))
	}

	m = rawAnswer(t, e, "decrypt-data", jsonObj("cipher_text", ct), 200, "")
	wantStrings(t, "decrypt-data", m, "key_id", "plain_text", "plain_text_base64")
	if m["key_id"] != aes || m["plain_text"] != pt || m["plain_text_base64"] != base64.StdEncoding.EncodeToString([]byte(pt)) {
		t.Errorf("decrypt-data answered key %v", m["key_id"])
	}
	// A plaintext with characters JSON escapes comes back exactly.
	tricky := pt + "\"\\\n\t<>&\u2028 é 数 \x01"
	m = rawAnswer(t, e, "encrypt-data", jsonObj("key_id", aes, "plain_text", tricky), 200, "")
	m = rawAnswer(t, e, "decrypt-data", jsonObj("cipher_text", m["cipher_text"]), 200, "")
	if m["plain_text"] != tricky || m["plain_text_base64"] != base64.StdEncoding.EncodeToString([]byte(tricky)) {
		t.Errorf("decrypt-data of a plaintext with escapes answered %q", m["plain_text"])
	}

	m = rawAnswer(t, e, "gen-random", jsonObj("random_data_length", "256"), 200, "")
	wantStrings(t, "gen-random", m, "random_data")
	if r, _ := m["random_data"].(string); len(r) != 64 {
		t.Errorf("random_data of %d hex digits, want 64", len(r))
	}

	m = rawAnswer(t, e, "create-datakey", jsonObj("key_id", aes, "datakey_length", "512"), 200, "")
	wantStrings(t, "create-datakey", m, "key_id", "plain_text", "cipher_text")
	dk, _ := m["plain_text"].(string)
	addDEKSecret(dk)
	if len(dk) != 128 {
		t.Errorf("plain_text of %d hex digits, want 128", len(dk))
	}
	dkct, _ := m["cipher_text"].(string)
	if _, err := hex.DecodeString(dkct); err != nil {
		t.Errorf("cipher_text is not hex: %v", err)
	}

	m = rawAnswer(t, e, "create-datakey-without-plaintext", jsonObj("key_id", aes), 200, "")
	wantStrings(t, "create-datakey-without-plaintext", m, "key_id", "cipher_text")
	if _, ok := m["plain_text"]; ok {
		t.Error("create-datakey-without-plaintext answered a plain_text")
	}

	dek := randomDEK(t, 64)
	in := hex.EncodeToString(append(append([]byte(nil), dek...), dekDigest("AES_256", dek)...))
	m = rawAnswer(t, e, "encrypt-datakey", jsonObj("key_id", aes, "plain_text", in, "datakey_plain_length", "64"), 200, "")
	wantStrings(t, "encrypt-datakey", m, "key_id", "cipher_text", "datakey_length")
	if m["datakey_length"] != "64" {
		t.Errorf("datakey_length %v, want \"64\"", m["datakey_length"])
	}
	m = rawAnswer(t, e, "decrypt-datakey", jsonObj("key_id", aes, "cipher_text", m["cipher_text"], "datakey_cipher_length", "64"), 200, "")
	wantStrings(t, "decrypt-datakey", m, "data_key", "datakey_length", "datakey_dgst")
	if !strings.EqualFold(fmt.Sprint(m["data_key"]), hex.EncodeToString(dek)) || m["datakey_length"] != "64" ||
		!strings.EqualFold(fmt.Sprint(m["datakey_dgst"]), hex.EncodeToString(dekDigest("AES_256", dek))) {
		t.Errorf("decrypt-datakey answered length %v digest %v", m["datakey_length"], m["datakey_dgst"])
	}

	m = rawAnswer(t, e, "re-encrypt", jsonObj("cipher_text", ct, "destination_key_id", sm4), 200, "")
	wantStrings(t, "re-encrypt", m, "key_id", "source_key_id", "source_encryption_algorithm", "destination_encryption_algorithm", "cipher_text")

	for _, op := range []struct{ name, spec string }{{"create-rsa-datakey-pair", "RSA_2048"}, {"create-ec-datakey-pair", "ECC_NIST_P256"}} {
		m = rawAnswer(t, e, op.name, jsonObj("key_id", aes, "key_spec", op.spec), 200, "")
		wantStrings(t, op.name, m, "key_id", "key_spec", "public_key", "private_key_cipher_text", "private_key_plain_text")
		if s, ok := m["private_key_plain_text"].(string); ok {
			addSecret(s)
		}
		for _, absent := range []string{"wrapped_private_key", "ciphertext_recipient"} {
			if v, ok := m[absent]; ok && v != "" {
				t.Errorf("%s: %s is set alongside private_key_plain_text", op.name, absent)
			}
		}
		m = rawAnswer(t, e, op.name, jsonObj("key_id", aes, "key_spec", op.spec, "with_plain_text", false), 200, "")
		if _, ok := m["private_key_plain_text"]; ok {
			t.Errorf("%s with_plain_text false answered private_key_plain_text", op.name)
		}
		m = rawAnswer(t, e, op.name, jsonObj("key_id", aes, "key_spec", op.spec, "with_plain_text", true), 200, "")
		if s, ok := m["private_key_plain_text"].(string); !ok || s == "" {
			t.Errorf("%s with_plain_text true answered no private_key_plain_text", op.name)
		} else {
			addSecret(s)
		}
	}
}

// TestCryptoAccess checks the read-only user (403 KMS.0307) and the
// second account (404 KMS.0207) through the SDK for every operation of
// §5.C and §5.D.
func TestCryptoAccess(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	aes := sdkKey(t, c, "AES_256", "")
	pt := secretText(t, "access")
	ct := encryptData(t, c, aes, pt, nil)
	dk, err := c.CreateDatakey(&model.CreateDatakeyRequest{Body: &model.CreateDatakeyRequestBody{KeyId: aes}})
	if err != nil {
		t.Fatal(err)
	}
	addDEKSecret(text(dk.PlainText))
	dek := randomDEK(t, 16)
	in := hex.EncodeToString(append(append([]byte(nil), dek...), dekDigest("AES_256", dek)...))
	for _, who := range []struct {
		name   string
		status int
		code   string
	}{{"reader", 403, "KMS.0307"}, {"other account", 404, "KMS.0207"}} {
		cl := e.reader()
		if who.status == 404 {
			cl = e.admin2()
		}
		ops := map[string]func() error{
			"EncryptData": func() error {
				_, err := cl.EncryptData(&model.EncryptDataRequest{Body: &model.EncryptDataRequestBody{KeyId: aes, PlainText: pt}})
				return err
			},
			"DecryptData": func() error {
				_, err := cl.DecryptData(&model.DecryptDataRequest{Body: &model.DecryptDataRequestBody{CipherText: ct}})
				return err
			},
			"CreateDatakey": func() error {
				_, err := cl.CreateDatakey(&model.CreateDatakeyRequest{Body: &model.CreateDatakeyRequestBody{KeyId: aes}})
				return err
			},
			"CreateDatakeyWithoutPlaintext": func() error {
				_, err := cl.CreateDatakeyWithoutPlaintext(&model.CreateDatakeyWithoutPlaintextRequest{Body: &model.CreateDatakeyRequestBody{KeyId: aes}})
				return err
			},
			"EncryptDatakey": func() error {
				_, err := cl.EncryptDatakey(&model.EncryptDatakeyRequest{Body: &model.EncryptDatakeyRequestBody{KeyId: aes, PlainText: in, DatakeyPlainLength: "16"}})
				return err
			},
			"DecryptDatakey": func() error {
				_, err := decryptDatakey(cl, aes, text(dk.CipherText), "32", nil)
				return err
			},
			"CreateRsaDatakeyPair": func() error {
				_, err := cl.CreateRsaDatakeyPair(&model.CreateRsaDatakeyPairRequest{Body: &model.CreateRsaDatakeyPairRequestBody{
					KeyId: aes, KeySpec: sdkEnum[model.CreateRsaDatakeyPairRequestBodyKeySpec](t, "RSA_2048")}})
				return err
			},
			"CreateEcDatakeyPair": func() error {
				_, err := cl.CreateEcDatakeyPair(&model.CreateEcDatakeyPairRequest{Body: &model.CreateEcDatakeyPairRequestBody{
					KeyId: aes, KeySpec: sdkEnum[model.CreateEcDatakeyPairRequestBodyKeySpec](t, "ECC_NIST_P256")}})
				return err
			},
			"ReEncrypt": func() error {
				_, err := cl.ReEncrypt(&model.ReEncryptRequest{Body: &model.ReEncryptRequestBody{CipherText: ct, DestinationKeyId: aes}})
				return err
			},
		}
		for name, call := range ops {
			t.Run(who.name+"/"+name, func(t *testing.T) {
				wantError(t, call(), who.status, who.code)
			})
		}
	}
	// The other account's gen-random works: it needs no key.
	if _, err := e.admin2().CreateRandom(&model.CreateRandomRequest{Body: &model.GenRandomRequestBody{RandomDataLength: "64"}}); err != nil {
		t.Errorf("CreateRandom of the second account: %v", err)
	}
}
