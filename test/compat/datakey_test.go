package compat

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/sm3"
	kms "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2/model"
)

// dekDigest is the digest a client appends to a data key for
// encrypt-datakey and expects from decrypt-datakey: SM3 under an SM4 CMK,
// SHA-256 otherwise.
func dekDigest(cmkSpec string, dek []byte) []byte {
	if cmkSpec == "SM4" {
		s := sm3.Sum(dek)
		return s[:]
	}
	s := sha256.Sum256(dek)
	return s[:]
}

// randomDEK returns n random bytes registered (in both hex cases) for
// TestMain's scan of the server logs.
func randomDEK(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	addDEKSecret(hex.EncodeToString(b))
	return b
}

// addDEKSecret registers a hex data key, in both cases, for the log scan.
// Keys shorter than 8 bytes are left out: their few hex digits occur in
// any log by chance.
func addDEKSecret(h string) {
	if len(h) >= 16 {
		addSecret(strings.ToUpper(h))
		addSecret(strings.ToLower(h))
	}
}

func decryptDatakey(c *kms.KmsClient, keyID, ct, length string, aad *string) (*model.DecryptDatakeyResponse, error) {
	return c.DecryptDatakey(&model.DecryptDatakeyRequest{Body: &model.DecryptDatakeyRequestBody{KeyId: keyID, CipherText: ct, DatakeyCipherLength: length, AdditionalAuthenticatedData: aad}})
}

// TestDataKeys runs create-datakey, create-datakey-without-plaintext,
// encrypt-datakey and decrypt-datakey through the SDK under AES_256 and SM4
// keys.
func TestDataKeys(t *testing.T) {
	e := start(t)
	c := e.admin()
	keySpecs := model.GetCreateDatakeyRequestBodyKeySpecEnum()
	for _, spec := range []model.CreateKeyRequestBodyKeySpec{model.GetCreateKeyRequestBodyKeySpecEnum().AES_256, model.GetCreateKeyRequestBodyKeySpecEnum().SM4} {
		keyID := cryptoKey(t, c, spec, "")
		t.Run(spec.Value()+"/create", func(t *testing.T) {
			for _, tc := range []struct {
				name    string
				keySpec *model.CreateDatakeyRequestBodyKeySpec
				length  *string
				aad     *string
				bytes   int
			}{
				{"default", nil, nil, nil, 32},
				{"AES_128", &keySpecs.AES_128, nil, nil, 16},
				{"HMAC_512", &keySpecs.HMAC_512, nil, ptr("ctx"), 64},
				{"datakey_length wins", &keySpecs.AES_128, ptr("512"), nil, 64},
				{"8 bits", nil, ptr("8"), nil, 1},
			} {
				resp, err := c.CreateDatakey(&model.CreateDatakeyRequest{Body: &model.CreateDatakeyRequestBody{KeyId: keyID, KeySpec: tc.keySpec, DatakeyLength: tc.length, AdditionalAuthenticatedData: tc.aad}})
				if err != nil {
					t.Fatalf("%s: CreateDatakey: %v", tc.name, err)
				}
				pt := text(resp.PlainText)
				addDEKSecret(pt)
				dek, err := hex.DecodeString(pt)
				if err != nil || len(dek) != tc.bytes || pt != strings.ToUpper(pt) {
					t.Fatalf("%s: plain_text %d hex digits (%v), want %d upper-case bytes", tc.name, len(pt), err, tc.bytes)
				}
				if text(resp.KeyId) != keyID {
					t.Errorf("%s: key_id %s", tc.name, text(resp.KeyId))
				}
				ct := text(resp.CipherText)
				if raw, err := hex.DecodeString(ct); err != nil || len(raw) != tc.bytes+104 {
					t.Errorf("%s: cipher_text of %d hex digits (%v)", tc.name, len(ct), err)
				}
				// Either hex case decrypts.
				for _, in := range []string{ct, strings.ToLower(ct)} {
					dec, err := decryptDatakey(c, keyID, in, strconv.Itoa(tc.bytes), tc.aad)
					if err != nil {
						t.Fatalf("%s: DecryptDatakey: %v", tc.name, err)
					}
					if text(dec.DataKey) != pt || text(dec.DatakeyLength) != strconv.Itoa(tc.bytes) ||
						text(dec.DatakeyDgst) != strings.ToUpper(hex.EncodeToString(dekDigest(spec.Value(), dek))) {
						t.Errorf("%s: DecryptDatakey answered length %s digest %s", tc.name, text(dec.DatakeyLength), text(dec.DatakeyDgst))
					}
				}
			}
		})
		t.Run(spec.Value()+"/without plaintext", func(t *testing.T) {
			resp, err := c.CreateDatakeyWithoutPlaintext(&model.CreateDatakeyWithoutPlaintextRequest{Body: &model.CreateDatakeyRequestBody{KeyId: keyID, AdditionalAuthenticatedData: ptr("wp")}})
			if err != nil {
				t.Fatal(err)
			}
			if text(resp.KeyId) != keyID {
				t.Errorf("key_id %s", text(resp.KeyId))
			}
			dec, err := decryptDatakey(c, keyID, text(resp.CipherText), "32", ptr("wp"))
			if err != nil {
				t.Fatal(err)
			}
			addDEKSecret(text(dec.DataKey))
			if dek, err := hex.DecodeString(text(dec.DataKey)); err != nil || len(dek) != 32 {
				t.Errorf("data_key %d hex digits", len(text(dec.DataKey)))
			}
		})
		t.Run(spec.Value()+"/encrypt", func(t *testing.T) {
			dek := randomDEK(t, 64)
			in := hex.EncodeToString(append(append([]byte(nil), dek...), dekDigest(spec.Value(), dek)...))
			resp, err := c.EncryptDatakey(&model.EncryptDatakeyRequest{Body: &model.EncryptDatakeyRequestBody{KeyId: keyID, PlainText: in, DatakeyPlainLength: "64", AdditionalAuthenticatedData: ptr("e")}})
			if err != nil {
				t.Fatal(err)
			}
			if text(resp.KeyId) != keyID || text(resp.DatakeyLength) != "64" {
				t.Errorf("EncryptDatakey answered %s, length %s", text(resp.KeyId), text(resp.DatakeyLength))
			}
			dec, err := decryptDatakey(c, keyID, text(resp.CipherText), "64", ptr("e"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.EqualFold(text(dec.DataKey), hex.EncodeToString(dek)) {
				t.Error("decrypt-datakey gave another key")
			}
			// Upper-case hex input is accepted too.
			if _, err := c.EncryptDatakey(&model.EncryptDatakeyRequest{Body: &model.EncryptDatakeyRequestBody{KeyId: keyID, PlainText: strings.ToUpper(in), DatakeyPlainLength: "64"}}); err != nil {
				t.Errorf("upper-case plain_text: %v", err)
			}
		})
	}
}

// TestDataKeyErrors checks the documented errors of the data key
// operations.
func TestDataKeyErrors(t *testing.T) {
	e := start(t)
	c := e.admin()
	specs := model.GetCreateKeyRequestBodyKeySpecEnum()
	aesKey := cryptoKey(t, c, specs.AES_256, "")
	sm4Key := cryptoKey(t, c, specs.SM4, "")
	other := cryptoKey(t, c, specs.AES_256, "")
	dek := randomDEK(t, 32)
	withSHA := hex.EncodeToString(append(append([]byte(nil), dek...), dekDigest("AES_256", dek)...))
	enc := func(keyID, pt, length string) error {
		_, err := c.EncryptDatakey(&model.EncryptDatakeyRequest{Body: &model.EncryptDatakeyRequestBody{KeyId: keyID, PlainText: pt, DatakeyPlainLength: length}})
		return err
	}
	t.Run("encrypt-datakey", func(t *testing.T) {
		wrong := withSHA[:len(withSHA)-2] + "00"
		if strings.HasSuffix(withSHA, "00") {
			wrong = withSHA[:len(withSHA)-2] + "01"
		}
		wantError(t, enc(aesKey, wrong, "32"), 400, "KMS.2103")
		wantError(t, enc(sm4Key, withSHA, "32"), 400, "KMS.2103") // SM4 CMKs expect SM3
		wantError(t, enc(aesKey, withSHA, "31"), 400, "KMS.2104")
		wantError(t, enc(aesKey, withSHA[:64], "32"), 400, "KMS.2104")
		wantError(t, enc(aesKey, "not hex", "32"), 400, "KMS.2101")
		wantError(t, enc(aesKey, withSHA, "0"), 400, "KMS.0308")
		wantError(t, enc(aesKey, withSHA, "1025"), 400, "KMS.0308")
	})
	resp, err := c.CreateDatakey(&model.CreateDatakeyRequest{Body: &model.CreateDatakeyRequestBody{KeyId: aesKey, AdditionalAuthenticatedData: ptr("aad")}})
	if err != nil {
		t.Fatal(err)
	}
	addDEKSecret(text(resp.PlainText))
	ct := text(resp.CipherText)
	t.Run("decrypt-datakey", func(t *testing.T) {
		_, err := decryptDatakey(c, aesKey, ct, "64", ptr("aad"))
		wantError(t, err, 400, "KMS.2204")
		_, err = decryptDatakey(c, aesKey, ct, "32", ptr("other"))
		wantError(t, err, 400, "KMS.2203")
		_, err = decryptDatakey(c, aesKey, ct, "32", nil)
		wantError(t, err, 400, "KMS.2203")
		_, err = decryptDatakey(c, other, ct, "32", ptr("aad"))
		wantError(t, err, 400, "KMS.2203")
		raw, err := hex.DecodeString(ct)
		if err != nil {
			t.Fatal(err)
		}
		raw[len(raw)-1] ^= 1
		_, err = decryptDatakey(c, aesKey, hex.EncodeToString(raw), "32", ptr("aad"))
		wantError(t, err, 400, "KMS.2203")
		_, err = decryptDatakey(c, aesKey, "zz"+ct[2:], "32", ptr("aad"))
		wantError(t, err, 400, "KMS.2201")
		_, err = decryptDatakey(c, aesKey, ct, "0", ptr("aad"))
		wantError(t, err, 400, "KMS.0308")
		_, err = decryptDatakey(e.admin2(), aesKey, ct, "32", ptr("aad"))
		wantError(t, err, 404, "KMS.0207")
	})
	t.Run("create-datakey", func(t *testing.T) {
		create := func(length string) error {
			_, err := c.CreateDatakey(&model.CreateDatakeyRequest{Body: &model.CreateDatakeyRequestBody{KeyId: aesKey, DatakeyLength: &length}})
			return err
		}
		wantError(t, create("0"), 400, "KMS.1901")
		wantError(t, create("8200"), 400, "KMS.1901")
		wantError(t, create("12"), 400, "KMS.1903")
		rsaKey := cryptoKey(t, c, specs.RSA_2048, "ENCRYPT_DECRYPT")
		_, err := c.CreateDatakey(&model.CreateDatakeyRequest{Body: &model.CreateDatakeyRequestBody{KeyId: rsaKey}})
		wantError(t, err, 400, "KMS.0325")
		_, err = c.CreateDatakeyWithoutPlaintext(&model.CreateDatakeyWithoutPlaintextRequest{Body: &model.CreateDatakeyRequestBody{KeyId: rsaKey}})
		wantError(t, err, 400, "KMS.0325")
	})
	t.Run("key states and permissions", func(t *testing.T) {
		disabled := cryptoKey(t, c, specs.AES_256, "")
		pending := cryptoKey(t, c, specs.SM4, "")
		if _, err := c.DisableKey(&model.DisableKeyRequest{Body: &model.OperateKeyRequestBody{KeyId: disabled}}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.DeleteKey(&model.DeleteKeyRequest{Body: &model.ScheduleKeyDeletionRequestBody{KeyId: pending, PendingDays: "7"}}); err != nil {
			t.Fatal(err)
		}
		_, err := c.CreateDatakey(&model.CreateDatakeyRequest{Body: &model.CreateDatakeyRequestBody{KeyId: disabled}})
		wantError(t, err, 400, "KMS.0209")
		wantError(t, enc(disabled, withSHA, "32"), 400, "KMS.0209")
		_, err = c.CreateDatakeyWithoutPlaintext(&model.CreateDatakeyWithoutPlaintextRequest{Body: &model.CreateDatakeyRequestBody{KeyId: pending}})
		wantError(t, err, 400, "KMS.0210")
		_, err = decryptDatakey(c, pending, ct, "32", ptr("aad"))
		wantError(t, err, 400, "KMS.0210")
		r := e.reader()
		_, err = r.CreateDatakey(&model.CreateDatakeyRequest{Body: &model.CreateDatakeyRequestBody{KeyId: aesKey}})
		wantError(t, err, 403, "KMS.0307")
		_, err = decryptDatakey(r, aesKey, ct, "32", ptr("aad"))
		wantError(t, err, 403, "KMS.0307")
		_, err = r.EncryptDatakey(&model.EncryptDatakeyRequest{Body: &model.EncryptDatakeyRequestBody{KeyId: aesKey, PlainText: withSHA, DatakeyPlainLength: "32"}})
		wantError(t, err, 403, "KMS.0307")
	})
	// The intact ciphertext still decrypts.
	if _, err := decryptDatakey(c, aesKey, ct, "32", ptr("aad")); err != nil {
		t.Fatalf("DecryptDatakey of the intact ciphertext: %v", err)
	}
}

// TestDataKeySizes runs every create-datakey key_spec and a range of
// datakey_length values through the SDK and decrypts each DEK back; the
// data key ciphertext is hex (§2.5).
func TestDataKeySizes(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	aes := sdkKey(t, c, "AES_256", "")
	for spec, bytes := range map[string]int{"AES_256": 32, "AES_128": 16, "SM4": 16, "HMAC_256": 32, "HMAC_384": 48, "HMAC_512": 64, "HMAC_SM3": 32} {
		s := sdkEnum[model.CreateDatakeyRequestBodyKeySpec](t, spec)
		resp, err := c.CreateDatakey(&model.CreateDatakeyRequest{Body: &model.CreateDatakeyRequestBody{KeyId: aes, KeySpec: &s}})
		if err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
		addDEKSecret(text(resp.PlainText))
		if len(text(resp.PlainText)) != 2*bytes {
			t.Errorf("%s: %d hex digits, want %d", spec, len(text(resp.PlainText)), 2*bytes)
		}
		dec, err := decryptDatakey(c, aes, text(resp.CipherText), strconv.Itoa(bytes), nil)
		if err != nil || text(dec.DataKey) != text(resp.PlainText) {
			t.Errorf("%s: DecryptDatakey: %v", spec, err)
		}
	}
	for _, bits := range []int{8, 128, 1024, 8192} {
		l := strconv.Itoa(bits)
		resp, err := c.CreateDatakeyWithoutPlaintext(&model.CreateDatakeyWithoutPlaintextRequest{Body: &model.CreateDatakeyRequestBody{KeyId: aes, DatakeyLength: &l}})
		if err != nil {
			t.Fatalf("%d bits: %v", bits, err)
		}
		dec, err := decryptDatakey(c, aes, text(resp.CipherText), strconv.Itoa(bits/8), nil)
		if err != nil {
			t.Fatalf("%d bits: DecryptDatakey: %v", bits, err)
		}
		addDEKSecret(text(dec.DataKey))
		if len(text(dec.DataKey)) != bits/4 || text(dec.DatakeyLength) != strconv.Itoa(bits/8) {
			t.Errorf("%d bits: data_key of %d hex digits, datakey_length %s", bits, len(text(dec.DataKey)), text(dec.DatakeyLength))
		}
	}
}
