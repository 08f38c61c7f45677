package compat

import (
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2/model"
)

// Audit of reference kms-api.md §5.C (encrypt-data, decrypt-data,
// re-encrypt, gen-random), §5.D (data keys and data key pairs) and §2.5
// (ciphertext formats): request member types, required members, limits,
// sequence, key states, default keys, wrong key class or usage, other
// projects, the read-only user, and the cryptography checked with Go's
// own packages.

// cryptoAuditSeq is a valid 36-character sequence.
const cryptoAuditSeq = "0f4a3a52-7a4c-4d0e-9c51-3b0c6d1e2f7a"

// cryptoAuditKeys are the keys of one audit server, by role.
type cryptoAuditKeys struct {
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

func setupCryptoAudit(t *testing.T, e *env) cryptoAuditKeys {
	t.Helper()
	c := e.admin()
	var k cryptoAuditKeys
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

// cryptoRaw sends a raw signed request as the admin of the first account
// and checks the answer: 200, or the error status and code.
func cryptoRaw(t *testing.T, e *env, op, body string, status int, code string) map[string]any {
	t.Helper()
	st, h, b := rawCall(t, e, "POST", e.projectPath(op), []byte(body+"\n"), e.ids.AdminAK, e.ids.AdminSK)
	if status != 200 {
		wantRawError(t, st, h, b, status, code)
		return nil
	}
	if st != 200 {
		t.Fatalf("%s %s: got %d %s, want 200", op, body, st, b)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: answer %q is not a JSON object: %v", op, b, err)
	}
	return m
}

// jsonObj encodes members as a JSON object, in a stable order.
func jsonObj(members ...any) string {
	var sb strings.Builder
	sb.WriteByte('{')
	for i := 0; i+1 < len(members); i += 2 {
		if i > 0 {
			sb.WriteByte(',')
		}
		k, _ := json.Marshal(members[i])
		v := members[i+1]
		var vb []byte
		if raw, ok := v.(json.RawMessage); ok {
			vb = raw
		} else {
			vb, _ = json.Marshal(v)
		}
		sb.Write(k)
		sb.WriteByte(':')
		sb.Write(vb)
	}
	sb.WriteByte('}')
	return sb.String()
}

// wantStringMembers checks that every named member of an answer is a JSON
// string, as the SDK's response models require.
func wantStringMembers(t *testing.T, op string, m map[string]any, names ...string) {
	t.Helper()
	for _, n := range names {
		v, ok := m[n]
		if !ok {
			t.Errorf("%s: answer has no %s: %v", op, n, m)
			continue
		}
		if _, ok := v.(string); !ok {
			t.Errorf("%s: %s is %T, want a JSON string", op, n, v)
		}
	}
}

// TestAuditCryptoRequests drives every operation of §5.C and §5.D with raw
// requests: the exact types of members, missing members, sequence, key id
// shape, AAD limits, key states and key classes.
func TestAuditCryptoRequests(t *testing.T) {
	t.Parallel()
	e := start(t)
	k := setupCryptoAudit(t, e)
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
		{"encrypt ok", "encrypt-data", jsonObj("key_id", k.aes, "plain_text", "x", "sequence", cryptoAuditSeq), 200, ""},
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
		{"decrypt ok", "decrypt-data", jsonObj("cipher_text", k.aesCT, "sequence", cryptoAuditSeq), 200, ""},
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
		{"random ok", "gen-random", jsonObj("random_data_length", "512", "sequence", cryptoAuditSeq), 200, ""},
		{"random float", "gen-random", jsonObj("random_data_length", n("512.0")), 400, "KMS.0202"},
		{"random missing", "gen-random", `{}`, 400, "KMS.0204"},
		{"random empty", "gen-random", jsonObj("random_data_length", ""), 400, "KMS.0204"},
		{"random sequence short", "gen-random", jsonObj("random_data_length", "512", "sequence", "x"), 400, "KMS.0206"},
		{"random 7", "gen-random", jsonObj("random_data_length", "7"), 400, "KMS.0308"},
		{"random 8193", "gen-random", jsonObj("random_data_length", "8193"), 400, "KMS.0308"},
		{"random 20", "gen-random", jsonObj("random_data_length", "20"), 400, "KMS.1802"},

		// create-datakey and create-datakey-without-plaintext
		{"datakey ok", "create-datakey", jsonObj("key_id", k.aes, "key_spec", "AES_128", "sequence", cryptoAuditSeq, "pin", "p", "pin_type", "PlainText"), 200, ""},
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
		{"datakey-wp ok", "create-datakey-without-plaintext", jsonObj("key_id", k.sm4, "key_spec", "HMAC_384", "sequence", cryptoAuditSeq), 200, ""},
		{"datakey-wp disabled", "create-datakey-without-plaintext", jsonObj("key_id", k.disabled), 400, "KMS.0209"},
		{"datakey-wp pending import", "create-datakey-without-plaintext", jsonObj("key_id", k.pendingImport), 400, "KMS.0310"},
		{"datakey-wp length 12", "create-datakey-without-plaintext", jsonObj("key_id", k.aes, "datakey_length", "12"), 400, "KMS.1903"},
		{"datakey-wp SM2", "create-datakey-without-plaintext", jsonObj("key_id", k.sm2Enc), 400, "KMS.0325"},
		{"datakey-wp default key", "create-datakey-without-plaintext", jsonObj("key_id", k.dflt), 200, ""},

		// encrypt-datakey
		{"enc-dk ok", "encrypt-datakey", jsonObj("key_id", k.aes, "plain_text", k.dekWithDigest, "datakey_plain_length", "32", "sequence", cryptoAuditSeq, "pin", "x", "pin_type", "anything", "key_spec", "RSA"), 200, ""},
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
		{"dec-dk ok", "decrypt-datakey", jsonObj("key_id", k.aes, "cipher_text", k.aesDEKHex, "datakey_cipher_length", k.aesDEKLen, "sequence", cryptoAuditSeq), 200, ""},
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
		{"rsa pair ok", "create-rsa-datakey-pair", jsonObj("key_id", k.aes, "key_spec", "RSA_2048", "with_plain_text", false, "sequence", cryptoAuditSeq), 200, ""},
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
		{"ec pair ok", "create-ec-datakey-pair", jsonObj("key_id", k.sm4, "key_spec", "ECC_NIST_P384", "pin", "1", "pin_type", "PlainText", "sequence", cryptoAuditSeq), 200, ""},
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
			cryptoRaw(t, e, tt.op, tt.body, tt.status, tt.code)
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

// TestAuditCryptoResponses checks the raw answers of §5.C and §5.D: every
// member the reference lists, each a JSON string, with the documented
// encodings (base64 for the data path, hex for data keys and random).
func TestAuditCryptoResponses(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	aes := sdkKey(t, c, "AES_256", "")
	sm4 := sdkKey(t, c, "SM4", "")
	pt := secretText(t, "resp")

	m := cryptoRaw(t, e, "encrypt-data", jsonObj("key_id", aes, "plain_text", pt), 200, "")
	wantStringMembers(t, "encrypt-data", m, "key_id", "cipher_text")
	ct, _ := m["cipher_text"].(string)
	raw, err := base64.StdEncoding.DecodeString(ct)
	if err != nil {
		t.Fatalf("cipher_text is not standard base64: %v", err)
	}
	// §2.5 / decrypt-data's input rule: ciphertexts stay inside 128–5648
	// base64 characters for 1–4096 bytes of plaintext.
	for _, size := range []int{1, 4096} {
		m := cryptoRaw(t, e, "encrypt-data", jsonObj("key_id", sm4, "plain_text", strings.Repeat("z", size)), 200, "")
		s, _ := m["cipher_text"].(string)
		if len(s) < 128 || len(s) > 5648 {
			t.Errorf("%d bytes of plaintext: cipher_text of %d characters, outside decrypt-data's 128–5648", size, len(s))
		}
		cryptoRaw(t, e, "decrypt-data", jsonObj("cipher_text", s), 200, "")
	}
	if len(raw) < 96 {
		t.Errorf("ciphertext of %d bytes, want ≥ 96", len(raw))
	}

	m = cryptoRaw(t, e, "decrypt-data", jsonObj("cipher_text", ct), 200, "")
	wantStringMembers(t, "decrypt-data", m, "key_id", "plain_text", "plain_text_base64")
	if m["key_id"] != aes || m["plain_text"] != pt || m["plain_text_base64"] != base64.StdEncoding.EncodeToString([]byte(pt)) {
		t.Errorf("decrypt-data answered key %v", m["key_id"])
	}
	// A plaintext with characters JSON escapes comes back exactly.
	tricky := pt + "\"\\\n\t<>&\u2028 é 数 \x01"
	m = cryptoRaw(t, e, "encrypt-data", jsonObj("key_id", aes, "plain_text", tricky), 200, "")
	m = cryptoRaw(t, e, "decrypt-data", jsonObj("cipher_text", m["cipher_text"]), 200, "")
	if m["plain_text"] != tricky || m["plain_text_base64"] != base64.StdEncoding.EncodeToString([]byte(tricky)) {
		t.Errorf("decrypt-data of a plaintext with escapes answered %q", m["plain_text"])
	}

	m = cryptoRaw(t, e, "gen-random", jsonObj("random_data_length", "256"), 200, "")
	wantStringMembers(t, "gen-random", m, "random_data")
	if r, _ := m["random_data"].(string); len(r) != 64 {
		t.Errorf("random_data of %d hex digits, want 64", len(r))
	}

	m = cryptoRaw(t, e, "create-datakey", jsonObj("key_id", aes, "datakey_length", "512"), 200, "")
	wantStringMembers(t, "create-datakey", m, "key_id", "plain_text", "cipher_text")
	dk, _ := m["plain_text"].(string)
	addDEKSecret(dk)
	if len(dk) != 128 {
		t.Errorf("plain_text of %d hex digits, want 128", len(dk))
	}
	dkct, _ := m["cipher_text"].(string)
	if _, err := hex.DecodeString(dkct); err != nil {
		t.Errorf("cipher_text is not hex: %v", err)
	}

	m = cryptoRaw(t, e, "create-datakey-without-plaintext", jsonObj("key_id", aes), 200, "")
	wantStringMembers(t, "create-datakey-without-plaintext", m, "key_id", "cipher_text")
	if _, ok := m["plain_text"]; ok {
		t.Error("create-datakey-without-plaintext answered a plain_text")
	}

	dek := randomDEK(t, 64)
	in := hex.EncodeToString(append(append([]byte(nil), dek...), dekDigest("AES_256", dek)...))
	m = cryptoRaw(t, e, "encrypt-datakey", jsonObj("key_id", aes, "plain_text", in, "datakey_plain_length", "64"), 200, "")
	wantStringMembers(t, "encrypt-datakey", m, "key_id", "cipher_text", "datakey_length")
	if m["datakey_length"] != "64" {
		t.Errorf("datakey_length %v, want \"64\"", m["datakey_length"])
	}
	m = cryptoRaw(t, e, "decrypt-datakey", jsonObj("key_id", aes, "cipher_text", m["cipher_text"], "datakey_cipher_length", "64"), 200, "")
	wantStringMembers(t, "decrypt-datakey", m, "data_key", "datakey_length", "datakey_dgst")
	if !strings.EqualFold(fmt.Sprint(m["data_key"]), hex.EncodeToString(dek)) || m["datakey_length"] != "64" ||
		!strings.EqualFold(fmt.Sprint(m["datakey_dgst"]), hex.EncodeToString(dekDigest("AES_256", dek))) {
		t.Errorf("decrypt-datakey answered length %v digest %v", m["datakey_length"], m["datakey_dgst"])
	}

	m = cryptoRaw(t, e, "re-encrypt", jsonObj("cipher_text", ct, "destination_key_id", sm4), 200, "")
	wantStringMembers(t, "re-encrypt", m, "key_id", "source_key_id", "source_encryption_algorithm", "destination_encryption_algorithm", "cipher_text")

	for _, op := range []struct{ name, spec string }{{"create-rsa-datakey-pair", "RSA_2048"}, {"create-ec-datakey-pair", "ECC_NIST_P256"}} {
		m = cryptoRaw(t, e, op.name, jsonObj("key_id", aes, "key_spec", op.spec), 200, "")
		wantStringMembers(t, op.name, m, "key_id", "key_spec", "public_key", "private_key_cipher_text", "private_key_plain_text")
		if s, ok := m["private_key_plain_text"].(string); ok {
			addSecret(s)
		}
		for _, absent := range []string{"wrapped_private_key", "ciphertext_recipient"} {
			if v, ok := m[absent]; ok && v != "" {
				t.Errorf("%s: %s is set alongside private_key_plain_text", op.name, absent)
			}
		}
		m = cryptoRaw(t, e, op.name, jsonObj("key_id", aes, "key_spec", op.spec, "with_plain_text", false), 200, "")
		if _, ok := m["private_key_plain_text"]; ok {
			t.Errorf("%s with_plain_text false answered private_key_plain_text", op.name)
		}
		m = cryptoRaw(t, e, op.name, jsonObj("key_id", aes, "key_spec", op.spec, "with_plain_text", true), 200, "")
		if s, ok := m["private_key_plain_text"].(string); !ok || s == "" {
			t.Errorf("%s with_plain_text true answered no private_key_plain_text", op.name)
		} else {
			addSecret(s)
		}
	}
}

// TestAuditDataKeyPairCrypto checks the data key pairs with Go's standard
// library: the private key (PKCS #8) parses and matches the public key
// (SubjectPublicKeyInfo); the private key ciphertext opens with
// decrypt-data and the AAD, and not without it.
func TestAuditDataKeyPairCrypto(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	aes := sdkKey(t, c, "AES_256", "")
	for _, tc := range []struct {
		spec string
		want func(any) bool
	}{
		{"RSA_2048", func(k any) bool { r, ok := k.(*rsa.PublicKey); return ok && r.N.BitLen() == 2048 }},
		{"RSA_3072", func(k any) bool { r, ok := k.(*rsa.PublicKey); return ok && r.N.BitLen() == 3072 }},
		{"ECC_NIST_P256", func(k any) bool { p, ok := k.(*ecdsa.PublicKey); return ok && p.Curve.Params().Name == "P-256" }},
		{"ECC_NIST_P384", func(k any) bool { p, ok := k.(*ecdsa.PublicKey); return ok && p.Curve.Params().Name == "P-384" }},
		{"ECC_NIST_P521", func(k any) bool { p, ok := k.(*ecdsa.PublicKey); return ok && p.Curve.Params().Name == "P-521" }},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			aad := "pair-aad-" + tc.spec
			p, err := createPair(t, c, aes, tc.spec, ptr(true), &aad)
			if err != nil {
				t.Fatal(err)
			}
			if p.plain == nil {
				t.Fatal("no private_key_plain_text")
			}
			addSecret(*p.plain)
			pubDER, err := base64.StdEncoding.DecodeString(p.public)
			if err != nil {
				t.Fatalf("public_key: %v", err)
			}
			pub, err := x509.ParsePKIXPublicKey(pubDER)
			if err != nil {
				t.Fatalf("public_key is not a SubjectPublicKeyInfo crypto/x509 parses: %v", err)
			}
			if !tc.want(pub) {
				t.Fatalf("public_key is a %T, not a %s key", pub, tc.spec)
			}
			privDER, err := base64.StdEncoding.DecodeString(*p.plain)
			if err != nil {
				t.Fatalf("private_key_plain_text: %v", err)
			}
			priv, err := x509.ParsePKCS8PrivateKey(privDER)
			if err != nil {
				t.Fatalf("private_key_plain_text is not PKCS #8 crypto/x509 parses: %v", err)
			}
			signer, ok := priv.(crypto.Signer)
			if !ok || !signer.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(pub) {
				t.Fatal("the private key does not match public_key")
			}
			switch k := priv.(type) {
			case *rsa.PrivateKey:
				if err := k.Validate(); err != nil {
					t.Fatalf("RSA private key: %v", err)
				}
			case *ecdsa.PrivateKey:
				if _, err := k.ECDH(); err != nil {
					t.Fatalf("EC private key: %v", err)
				}
			case ed25519.PrivateKey, *ecdh.PrivateKey:
				t.Fatalf("unexpected key type %T", k)
			}
			resp, err := c.DecryptData(&model.DecryptDataRequest{Body: &model.DecryptDataRequestBody{CipherText: p.cipher, AdditionalAuthenticatedData: &aad}})
			if err != nil {
				t.Fatalf("DecryptData of private_key_cipher_text: %v", err)
			}
			if val(resp.PlainTextBase64) != *p.plain || val(resp.KeyId) != aes {
				t.Error("decrypt-data of private_key_cipher_text is not the private key")
			}
			_, err = c.DecryptData(&model.DecryptDataRequest{Body: &model.DecryptDataRequestBody{CipherText: p.cipher}})
			wantError(t, err, 400, "KMS.0308")
		})
	}
}

// TestAuditCryptoAccess checks the read-only user (403 KMS.0307) and the
// second account (404 KMS.0207) through the SDK for every operation of
// §5.C and §5.D.
func TestAuditCryptoAccess(t *testing.T) {
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

// TestAuditDataKeySizes runs every create-datakey key_spec and a range of
// datakey_length values through the SDK and decrypts each DEK back; the
// data key ciphertext is hex (§2.5).
func TestAuditDataKeySizes(t *testing.T) {
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
