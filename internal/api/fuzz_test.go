package api_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kmsd/kmsd/internal/auth"
)

// fuzzOps are the operations that take a request body, with the path
// they are called on (KEY stands for a key id).
var fuzzOps = []struct{ method, path string }{
	{"POST", "create-key"}, {"POST", "describe-key"}, {"POST", "list-keys"},
	{"POST", "enable-key"}, {"POST", "disable-key"}, {"POST", "schedule-key-deletion"},
	{"POST", "cancel-key-deletion"}, {"POST", "update-key-alias"}, {"POST", "update-key-description"},
	{"POST", "encrypt-data"}, {"POST", "decrypt-data"}, {"POST", "re-encrypt"}, {"POST", "gen-random"},
	{"POST", "create-datakey"}, {"POST", "create-datakey-without-plaintext"},
	{"POST", "encrypt-datakey"}, {"POST", "decrypt-datakey"},
	{"POST", "create-rsa-datakey-pair"}, {"POST", "create-ec-datakey-pair"},
	{"POST", "get-publickey"}, {"POST", "sign"}, {"POST", "verify"}, {"POST", "derive-shared-secret"},
	{"POST", "generate-mac"}, {"POST", "verify-mac"},
	{"POST", "create-grant"}, {"POST", "list-grants"}, {"POST", "list-retirable-grants"},
	{"POST", "revoke-grant"}, {"POST", "retire-grant"},
	{"POST", "aliases"}, {"POST", "alias/associate"}, {"DELETE", "aliases"},
	{"POST", "KEY/tags"}, {"POST", "KEY/tags/action"}, {"POST", "resource_instances/action"},
	{"POST", "enable-key-rotation"}, {"POST", "disable-key-rotation"},
	{"POST", "update-key-rotation-interval"}, {"POST", "get-key-rotation-status"},
	{"POST", "get-parameters-for-import"}, {"POST", "import-key-material"}, {"POST", "delete-imported-key-material"},
}

// FuzzOperations sends every body-carrying operation arbitrary bodies,
// signed like the SDK signs them, and checks that the server never fails
// (no 5xx, no panic) and always answers with a request id and a JSON body
// (or, for a success without response fields, an empty one).
// The seed corpus is one valid body per operation.
func FuzzOperations(f *testing.F) {
	s := newTestServer(f)
	aes := s.benchCreateT(f, `{"key_alias":"fuzz-aes"}`)
	ec := s.benchCreateT(f, `{"key_alias":"fuzz-ec","key_spec":"EC_P256"}`)
	mac := s.benchCreateT(f, `{"key_alias":"fuzz-mac","key_spec":"HMAC_256","key_usage":"GENERATE_VERIFY_MAC"}`)
	d := sha256.Sum256([]byte("fuzz"))
	digest := base64.StdEncoding.EncodeToString(d[:])
	seeds := map[string]string{
		"create-key":                   `{"key_alias":"fuzz-new","key_spec":"SM4"}`,
		"list-keys":                    `{"limit":"2","marker":"0","key_spec":"ALL"}`,
		"schedule-key-deletion":        `{"key_id":"AES","pending_days":"7"}`,
		"update-key-alias":             `{"key_id":"AES","key_alias":"fuzz-renamed"}`,
		"update-key-description":       `{"key_id":"AES","key_description":"d"}`,
		"encrypt-data":                 `{"key_id":"AES","plain_text":"hello","additional_authenticated_data":"a"}`,
		"decrypt-data":                 `{"cipher_text":"` + strings.Repeat("A", 140) + `"}`,
		"re-encrypt":                   `{"destination_key_id":"AES","cipher_text":"` + strings.Repeat("A", 140) + `"}`,
		"gen-random":                   `{"random_data_length":"512"}`,
		"create-datakey":               `{"key_id":"AES","datakey_length":"512"}`,
		"encrypt-datakey":              `{"key_id":"AES","plain_text":"00","datakey_plain_length":"1"}`,
		"decrypt-datakey":              `{"key_id":"AES","cipher_text":"00","datakey_cipher_length":"1"}`,
		"create-rsa-datakey-pair":      `{"key_id":"AES","key_spec":"RSA_2048","with_plain_text":false}`,
		"create-ec-datakey-pair":       `{"key_id":"AES","key_spec":"ECC_NIST_P256","with_plain_text":true}`,
		"get-publickey":                `{"key_id":"EC"}`,
		"sign":                         `{"key_id":"EC","message":"` + digest + `","signing_algorithm":"ECDSA_SHA_256"}`,
		"verify":                       `{"key_id":"EC","message":"` + digest + `","signature":"MEUCIQ==","signing_algorithm":"ECDSA_SHA_256"}`,
		"derive-shared-secret":         `{"key_id":"EC","key_agreement_algorithm":"ECDH","public_key":"AAAA"}`,
		"generate-mac":                 `{"key_id":"MAC","mac_algorithm":"HMAC_SHA_256","message":"aGk="}`,
		"verify-mac":                   `{"key_id":"MAC","mac_algorithm":"HMAC_SHA_256","message":"aGk=","mac":"00"}`,
		"create-grant":                 `{"key_id":"AES","grantee_principal":"a0000000000000000000000000000002","operations":["describe-key"]}`,
		"list-grants":                  `{"key_id":"AES","limit":"10"}`,
		"revoke-grant":                 `{"key_id":"AES","grant_id":"x"}`,
		"retire-grant":                 `{"key_id":"AES","grant_id":"x"}`,
		"aliases":                      `{"alias":"fuzz-alias","target_key_id":"AES"}`,
		"alias/associate":              `{"alias":"fuzz-alias","target_key_id":"AES"}`,
		"KEY/tags":                     `{"tag":{"key":"k","value":"v"}}`,
		"KEY/tags/action":              `{"action":"create","tags":[{"key":"k","value":"v"}]}`,
		"resource_instances/action":    `{"action":"filter","limit":"10","offset":"0","tags":[{"key":"k","values":["v"]}]}`,
		"update-key-rotation-interval": `{"key_id":"AES","rotation_interval":90}`,
		"get-parameters-for-import":    `{"key_id":"AES","wrapping_algorithm":"RSAES_OAEP_SHA_256"}`,
		"import-key-material":          `{"key_id":"AES","import_token":"AAAA","encrypted_key_material":"AAAA"}`,
	}
	ids := strings.NewReplacer(`"AES"`, `"`+aes+`"`, `"EC"`, `"`+ec+`"`, `"MAC"`, `"`+mac+`"`)
	for i, op := range fuzzOps {
		body, ok := seeds[op.path]
		if !ok {
			body = `{"key_id":"AES"}`
		}
		f.Add(uint8(i), []byte(ids.Replace(body)))
	}
	f.Fuzz(func(t *testing.T, i uint8, body []byte) {
		op := fuzzOps[int(i)%len(fuzzOps)]
		path := s.kms(strings.Replace(op.path, "KEY", aes, 1))
		req := httptest.NewRequest(op.method, path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json;charset=UTF-8")
		req.Header.Set("User-Agent", "huaweicloud-usdk-go/3.0; kmsd-fuzz")
		req.Header.Set("X-Project-Id", s.ids.ProjectID)
		if err := auth.SignRequest(req, body, auth.AlgHMACSHA256, s.ids.AdminAK, s.ids.AdminSK, time.Now()); err != nil {
			t.Fatal(err)
		}
		w := httptest.NewRecorder()
		s.srv.Handler.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s", op.method, op.path, body, w.Code, w.Body)
		}
		if w.Header().Get("X-Request-Id") == "" {
			t.Fatalf("%s %s: no X-Request-Id", op.method, op.path)
		}
		if (w.Code >= 300 || w.Body.Len() > 0) && !json.Valid(w.Body.Bytes()) {
			t.Fatalf("%s %s %q: %d with a body that is not JSON: %q", op.method, op.path, body, w.Code, w.Body)
		}
	})
}

func (s *testServer) benchCreateT(t testing.TB, body string) string {
	t.Helper()
	r := s.call(t, "POST", s.kms("create-key"), []byte(body))
	var v struct {
		KeyInfo struct {
			KeyID string `json:"key_id"`
		} `json:"key_info"`
	}
	if err := json.Unmarshal(r.body, &v); err != nil || v.KeyInfo.KeyID == "" {
		t.Fatalf("create-key: %d %s", r.status, r.body)
	}
	return v.KeyInfo.KeyID
}
