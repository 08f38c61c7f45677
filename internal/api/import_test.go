package api_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

// importWireTests returns the TestWireErrors cases of the three import
// operations (reference kms-api.md §5.K). id is an enabled key of origin
// kms; keyCasesOf adds the key_id cases. No case imports anything: each
// fails before the material is stored.
func importWireTests(t *testing.T, s *testServer, id string, keyCasesOf func(kid, valid string, extra ...wireCase) []wireCase) []struct {
	op    string
	valid string
	cases []wireCase
} {
	t.Helper()
	external := func(alias string) string {
		r := s.call(t, "POST", s.kms("create-key"), []byte(`{"key_alias":"`+alias+`","origin":"external"}`))
		var v struct {
			KeyInfo struct {
				KeyID string `json:"key_id"`
			} `json:"key_info"`
		}
		if err := json.Unmarshal(r.body, &v); r.status != 200 || err != nil {
			t.Fatalf("create-key external: %d %s", r.status, r.body)
		}
		return v.KeyInfo.KeyID
	}
	ext, ext2, deleting := external("wire-ext"), external("wire-ext-2"), external("wire-ext-deleting")
	if r := s.call(t, "POST", s.kms("schedule-key-deletion"), []byte(`{"key_id":"`+deleting+`","pending_days":"7"}`)); r.status != 200 {
		t.Fatalf("schedule-key-deletion: %d %s", r.status, r.body)
	}
	params := func(kid string) (token string, pub *rsa.PublicKey) {
		r := s.call(t, "POST", s.kms("get-parameters-for-import"), []byte(`{"key_id":"`+kid+`","wrapping_algorithm":"RSAES_OAEP_SHA_256"}`))
		var v struct {
			ImportToken string `json:"import_token"`
			PublicKey   string `json:"public_key"`
		}
		if err := json.Unmarshal(r.body, &v); r.status != 200 || err != nil {
			t.Fatalf("get-parameters-for-import: %d %s", r.status, r.body)
		}
		der, err := base64.StdEncoding.DecodeString(v.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		k, err := x509.ParsePKIXPublicKey(der)
		if err != nil {
			t.Fatal(err)
		}
		return v.ImportToken, k.(*rsa.PublicKey)
	}
	token, pub := params(ext)
	token2, _ := params(ext2)
	wrap := func(n int) string {
		ct, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, pub, make([]byte, n), nil)
		if err != nil {
			t.Fatal(err)
		}
		return base64.StdEncoding.EncodeToString(ct)
	}
	// altered changes one character in the middle of the token.
	altered := token[:100] + map[bool]string{true: "B", false: "A"}[token[100] == 'A'] + token[101:]

	paramsBody := func(kid, extra string) string {
		return `{"key_id":"` + kid + `","wrapping_algorithm":"RSAES_OAEP_SHA_256"` + extra + `}`
	}
	material := wrap(32)
	importBody := func(kid, tok, extra string) string {
		return `{"key_id":"` + kid + `","import_token":"` + tok + `","encrypted_key_material":"` + material + `"` + extra + `}`
	}
	extOnly := `{"key_id":"` + ext + `"}`
	return []struct {
		op    string
		valid string
		cases []wireCase
	}{
		{"get-parameters-for-import", paramsBody(ext, ""), keyCasesOf(ext, paramsBody(ext, ""),
			wireCase{"missing algorithm", extOnly, 400, "KMS.0204"},
			wireCase{"empty algorithm", `{"key_id":"` + ext + `","wrapping_algorithm":""}`, 400, "KMS.0204"},
			wireCase{"algorithm number", `{"key_id":"` + ext + `","wrapping_algorithm":256}`, 400, "KMS.0202"},
			wireCase{"algorithm unknown", `{"key_id":"` + ext + `","wrapping_algorithm":"RSAES_PKCS1_V1_5"}`, 400, "KMS.0308"},
			wireCase{"key spec number", paramsBody(ext, `,"wrapping_key_spec":2048`), 400, "KMS.0202"},
			wireCase{"key spec of SM2", paramsBody(ext, `,"wrapping_key_spec":"SM2"`), 400, "KMS.0308"},
			wireCase{"origin kms", paramsBody(id, ""), 400, "KMS.0309"},
			wireCase{"pending deletion", paramsBody(deleting, ""), 400, "KMS.0310"},
		)},
		{"import-key-material", importBody(ext, token, ""), keyCasesOf(ext, importBody(ext, token, ""),
			wireCase{"missing token", `{"key_id":"` + ext + `","encrypted_key_material":"` + material + `"}`, 400, "KMS.0204"},
			wireCase{"empty token", importBody(ext, "", ""), 400, "KMS.0204"},
			wireCase{"token number", `{"key_id":"` + ext + `","import_token":1,"encrypted_key_material":"` + material + `"}`, 400, "KMS.0202"},
			wireCase{"missing material", `{"key_id":"` + ext + `","import_token":"` + token + `"}`, 400, "KMS.0204"},
			wireCase{"material number", `{"key_id":"` + ext + `","import_token":"` + token + `","encrypted_key_material":1}`, 400, "KMS.0202"},
			wireCase{"material not base64", `{"key_id":"` + ext + `","import_token":"` + token + `","encrypted_key_material":"%%"}`, 400, "KMS.0308"},
			wireCase{"private key number", importBody(ext, token, `,"encrypted_privatekey":1`), 400, "KMS.0202"},
			wireCase{"private key not base64", importBody(ext, token, `,"encrypted_privatekey":"%%"`), 400, "KMS.0308"},
			wireCase{"private key with a symmetric key", importBody(ext, token, `,"encrypted_privatekey":"AAAA"`), 400, "KMS.0308"},
			wireCase{"expiry string", importBody(ext, token, `,"expiration_time":"4102444800"`), 400, "KMS.0202"},
			wireCase{"expiry bool", importBody(ext, token, `,"expiration_time":true`), 400, "KMS.0202"},
			wireCase{"expiry fraction", importBody(ext, token, `,"expiration_time":4102444800.5`), 400, "KMS.0308"},
			wireCase{"expiry exponent", importBody(ext, token, `,"expiration_time":4e9`), 400, "KMS.0308"},
			wireCase{"expiry beyond int64", importBody(ext, token, `,"expiration_time":99999999999999999999`), 400, "KMS.0308"},
			wireCase{"expiry after 9999", importBody(ext, token, `,"expiration_time":253402300800`), 400, "KMS.0308"},
			wireCase{"expiry zero", importBody(ext, token, `,"expiration_time":0`), 400, "KMS.2602"},
			wireCase{"expiry past", importBody(ext, token, `,"expiration_time":1000000000`), 400, "KMS.2602"},
			wireCase{"token not a token", importBody(ext, strings.Repeat("A", 200), ""), 400, "KMS.2605"},
			wireCase{"token altered", importBody(ext, altered, ""), 400, "KMS.2605"},
			wireCase{"another key's token", importBody(ext, token2, ""), 400, "KMS.2603"},
			wireCase{"material does not unwrap", `{"key_id":"` + ext + `","import_token":"` + token + `","encrypted_key_material":"AAAA"}`, 400, "KMS.0311"},
			wireCase{"material of 16 bytes", `{"key_id":"` + ext + `","import_token":"` + token + `","encrypted_key_material":"` + wrap(16) + `"}`, 400, "KMS.2604"},
			wireCase{"origin kms", importBody(id, token, ""), 400, "KMS.0309"},
			wireCase{"pending deletion", importBody(deleting, token, ""), 400, "KMS.0310"},
		)},
		{"delete-imported-key-material", extOnly, keyCasesOf(ext, extOnly,
			wireCase{"pending import", extOnly, 400, "KMS.2701"},
			wireCase{"pending deletion", `{"key_id":"` + deleting + `"}`, 400, "KMS.2701"},
			wireCase{"origin kms", `{"key_id":"` + id + `"}`, 400, "KMS.0309"},
		)},
	}
}
