package api_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kmsd/kmsd/internal/api"
	"github.com/kmsd/kmsd/internal/auth"
	"github.com/kmsd/kmsd/internal/config"
	"github.com/kmsd/kmsd/internal/server"
)

// testServer is a dev-mode server behind httptest.
type testServer struct {
	srv *server.Server
	ts  *httptest.Server
	ids server.DevIdentities
}

func newTestServer(t testing.TB, opts ...func(*config.Config)) *testServer {
	t.Helper()
	return newTestServerWith(t, server.Options{}, opts...)
}

// newTestServerWith is newTestServer with opt (its Getenv is replaced).
func newTestServerWith(t testing.TB, opt server.Options, opts ...func(*config.Config)) *testServer {
	t.Helper()
	cfg := server.DevConfig(t.TempDir(), "127.0.0.1:0", 1000)
	for _, o := range opts {
		o(&cfg)
	}
	if _, err := server.Init(t.Context(), cfg, nil); err != nil {
		t.Fatal(err)
	}
	opt.Getenv = func(string) string { return "" }
	srv, err := server.New(t.Context(), cfg, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	ids := server.DefaultDevIdentities(func(string) string { return "" })
	if err := srv.EnsureDevIdentities(t.Context(), ids); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler)
	t.Cleanup(ts.Close)
	return &testServer{srv: srv, ts: ts, ids: ids}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// errorCode returns the Huawei error code of a response in either shape.
func (r response) errorCode() string {
	var v struct {
		Code  string `json:"error_code"`
		Error struct {
			Code string `json:"error_code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(r.body, &v)
	if v.Code != "" {
		return v.Code
	}
	return v.Error.Code
}

// call sends a request signed as the SDK signs it with the admin's AK/SK.
func (s *testServer) call(t testing.TB, method, path string, body []byte) response {
	t.Helper()
	return s.callAs(t, s.ids.AdminAK, s.ids.AdminSK, method, path, body)
}

func (s *testServer) callAs(t testing.TB, ak, sk, method, path string, body []byte) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, s.ts.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json;charset=UTF-8")
	req.Header.Set("User-Agent", "huaweicloud-usdk-go/3.0; kmsd-test")
	req.Header.Set("X-Project-Id", s.ids.ProjectID)
	if err := auth.SignRequest(req, body, "SDK-HMAC-SHA256", ak, sk, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("X-Request-Id") == "" {
		t.Errorf("%s %s: no X-Request-Id", method, path)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func (s *testServer) kms(op string) string { return "/v1.0/" + s.ids.ProjectID + "/kms/" + op }

func (s *testServer) createKey(t *testing.T, alias string) string {
	t.Helper()
	r := s.call(t, "POST", s.kms("create-key"), []byte(`{"key_alias":"`+alias+`"}`))
	if r.status != 200 {
		t.Fatalf("create-key: %d %s", r.status, r.body)
	}
	var v struct {
		KeyInfo struct {
			KeyID string `json:"key_id"`
		} `json:"key_info"`
	}
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatal(err)
	}
	return v.KeyInfo.KeyID
}

// member posts body to op, which must succeed, and returns the string
// member name of the answer.
func (s *testServer) member(t *testing.T, op, body, name string) string {
	t.Helper()
	r := s.call(t, "POST", s.kms(op), []byte(body))
	if r.status != 200 {
		t.Fatalf("%s: %d %s", op, r.status, r.body)
	}
	var v map[string]any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatal(err)
	}
	m, ok := v[name].(string)
	if !ok || m == "" {
		t.Fatalf("%s answered %s, want a string %s", op, r.body, name)
	}
	return m
}

// wireCase is one malformed request and the error it must get.
type wireCase struct {
	name   string
	body   string
	status int
	code   string
}

// TestWireErrors sends every implemented body-carrying operation malformed
// JSON, wrong JSON types, missing fields, out-of-range values and an
// oversize body, and checks the documented status and code for each.
func TestWireErrors(t *testing.T) {
	s := newTestServer(t)
	id := s.createKey(t, "wire-errors")
	// Keys of the asymmetric and MAC operations, and their cases: a valid
	// body of another key than id gets keyCases through keyCasesOf.
	specKey := func(alias, spec, usage string) string {
		body := `{"key_alias":"` + alias + `","key_spec":"` + spec + `","key_usage":"` + usage + `"}`
		r := s.call(t, "POST", s.kms("create-key"), []byte(body))
		var v struct {
			KeyInfo struct {
				KeyID string `json:"key_id"`
			} `json:"key_info"`
		}
		if err := json.Unmarshal(r.body, &v); r.status != 200 || err != nil {
			t.Fatalf("create-key %s %s: %d %s", spec, usage, r.status, r.body)
		}
		return v.KeyInfo.KeyID
	}
	ecSign := specKey("wire-ec-sign", "EC_P256", "SIGN_VERIFY")
	ecAgree := specKey("wire-ec-agree", "EC_P256", "KEY_AGREEMENT")
	hmacID := specKey("wire-hmac", "HMAC_256", "GENERATE_VERIFY_MAC")
	digest := strings.Repeat("A", 43) + "="                                                                                                // 32 zero bytes
	msg4096 := strings.Repeat("A", 5462) + "=="                                                                                            // 4096 zero bytes
	msg4097 := strings.Repeat("A", 5463) + "="                                                                                             // 4097 zero bytes
	peer := "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAErUZsNLjVEhMvSCFDf45izyeRi8aZWQ8CqtlJTiPRi8iN0kE/JUTWdo1UTivxzlPVs3mOYYXtgYENke22iLs88g==" // a P-256 SPKI
	signBody := func(kid, extra string) string {
		return `{"key_id":"` + kid + `","message":"` + digest + `","signing_algorithm":"ECDSA_SHA_256"` + extra + `}`
	}
	deriveBody := func(kid, extra string) string {
		return `{"key_id":"` + kid + `","key_agreement_algorithm":"ECDH","public_key":"` + peer + `"` + extra + `}`
	}
	macBody := func(kid, extra string) string {
		return `{"key_id":"` + kid + `","mac_algorithm":"HMAC_SHA_256","message":"bWFj"` + extra + `}`
	}
	pairBody := func(kid, spec, extra string) string {
		return `{"key_id":"` + kid + `","key_spec":"` + spec + `"` + extra + `}`
	}
	// Over every operation's limit: 256 KiB for list-kms-by-tags, 64 KiB for the others.
	big := `{"key_id":"` + id + `","key_description":"` + strings.Repeat("a", 300<<10) + `"}`
	common := func(valid string) []wireCase {
		return []wireCase{
			{"malformed", `{"key_id":`, 400, "KMS.0202"},
			{"not an object", `[1,2]`, 400, "KMS.0202"},
			{"null body", `null`, 400, "KMS.0202"},
			{"trailing data", valid + `{}`, 400, "KMS.0202"},
			{"not UTF-8", "{\"key_id\":\"\xff\"}", 400, "KMS.0202"},
			{"oversize", big, 400, "KMS.0203"},
			{"bad sequence", strings.TrimSuffix(valid, "}") + `,"sequence":"short"}`, 400, "KMS.0206"},
			{"sequence wrong type", strings.TrimSuffix(valid, "}") + `,"sequence":7}`, 400, "KMS.0202"},
		}
	}
	// Operands of the data path and data key operations, made through the
	// API itself.
	id2 := s.createKey(t, "wire-errors-2")
	with := func(valid, member string) string { return strings.TrimSuffix(valid, "}") + "," + member + "}" }
	encValid := `{"key_id":"` + id + `","plain_text":"wire"}`
	ct := s.member(t, "encrypt-data", encValid, "cipher_text")
	ctRaw, err := base64.StdEncoding.DecodeString(ct)
	if err != nil {
		t.Fatal(err)
	}
	ctHex := hex.EncodeToString(ctRaw)
	decValid := `{"cipher_text":"` + ct + `"}`
	reValid := `{"destination_key_id":"` + id + `","cipher_text":"` + ct + `"}`
	dekCT := s.member(t, "create-datakey", `{"key_id":"`+id+`"}`, "cipher_text")
	dekRaw, err := hex.DecodeString(dekCT)
	if err != nil {
		t.Fatal(err)
	}
	dekBase64 := base64.StdEncoding.EncodeToString(dekRaw)
	decDEKValid := `{"key_id":"` + id + `","cipher_text":"` + dekCT + `","datakey_cipher_length":"32"}`
	dek := bytes.Repeat([]byte{0x5a}, 32)
	sum := sha256.Sum256(dek)
	dekPlain := hex.EncodeToString(append(dek, sum[:]...))
	encDEKValid := `{"key_id":"` + id + `","plain_text":"` + dekPlain + `","datakey_plain_length":"32"}`
	dataKeyCases := []wireCase{
		{"length integer", `{"key_id":"` + id + `","datakey_length":12}`, 400, "KMS.1903"},
		{"length float", `{"key_id":"` + id + `","datakey_length":256.0}`, 400, "KMS.0202"},
		{"length with a sign", `{"key_id":"` + id + `","datakey_length":"+256"}`, 400, "KMS.1901"},
		{"length text", `{"key_id":"` + id + `","datakey_length":"x"}`, 400, "KMS.1901"},
		{"length 0", `{"key_id":"` + id + `","datakey_length":"0"}`, 400, "KMS.1901"},
		{"length 8200", `{"key_id":"` + id + `","datakey_length":"8200"}`, 400, "KMS.1901"},
		{"length 12", `{"key_id":"` + id + `","datakey_length":"12"}`, 400, "KMS.1903"},
		{"key_spec unknown", `{"key_id":"` + id + `","key_spec":"AES_512"}`, 400, "KMS.1902"},
		{"key_spec number", `{"key_id":"` + id + `","key_spec":256}`, 400, "KMS.0202"},
		{"aad 129 bytes", `{"key_id":"` + id + `","additional_authenticated_data":"` + strings.Repeat("a", 129) + `"}`, 400, "KMS.0308"},
		{"pin number", `{"key_id":"` + id + `","pin":1}`, 400, "KMS.0202"},
		{"pin_type unknown", `{"key_id":"` + id + `","pin_type":"Clear"}`, 400, "KMS.0308"},
	}
	keyOnly := `{"key_id":"` + id + `"}`
	keyCases := func(valid string, extra ...wireCase) []wireCase {
		cs := []wireCase{
			{"missing key_id", `{}`, 400, "KMS.0204"},
			{"empty body", ``, 400, "KMS.0204"},
			{"key_id number", `{"key_id":5}`, 400, "KMS.0202"},
			{"key_id object", `{"key_id":{}}`, 400, "KMS.0202"},
			{"key_id malformed", `{"key_id":"not-a-key"}`, 400, "KMS.0205"},
			{"key_id unknown", strings.Replace(valid, id, "00000000-0000-4000-8000-000000000000", 1), 404, "KMS.0207"},
		}
		return append(cs, extra...)
	}
	keyCasesOf := func(kid, valid string, extra ...wireCase) []wireCase {
		return keyCases(strings.Replace(valid, kid, id, 1), extra...)
	}
	signCases := func(kid, sig string, extra ...wireCase) []wireCase {
		cs := keyCasesOf(kid, signBody(kid, sig),
			wireCase{"missing message", `{"key_id":"` + kid + `","signing_algorithm":"ECDSA_SHA_256"` + sig + `}`, 400, "KMS.0204"},
			wireCase{"empty message", `{"key_id":"` + kid + `","message":"","signing_algorithm":"ECDSA_SHA_256"` + sig + `}`, 400, "KMS.0204"},
			wireCase{"message number", `{"key_id":"` + kid + `","message":5,"signing_algorithm":"ECDSA_SHA_256"` + sig + `}`, 400, "KMS.0202"},
			wireCase{"message not base64", `{"key_id":"` + kid + `","message":"%%%","signing_algorithm":"ECDSA_SHA_256"` + sig + `}`, 400, "KMS.0308"},
			wireCase{"message of 4096 bytes", `{"key_id":"` + kid + `","message":"` + msg4096 + `","signing_algorithm":"ECDSA_SHA_256","message_type":"RAW"` + sig + `}`, 400, "KMS.0308"},
			wireCase{"missing algorithm", `{"key_id":"` + kid + `","message":"` + digest + `"` + sig + `}`, 400, "KMS.0204"},
			wireCase{"algorithm unknown", `{"key_id":"` + kid + `","message":"` + digest + `","signing_algorithm":"ECDSA_SHA_1"` + sig + `}`, 400, "KMS.0308"},
			wireCase{"algorithm number", `{"key_id":"` + kid + `","message":"` + digest + `","signing_algorithm":1` + sig + `}`, 400, "KMS.0202"},
			wireCase{"message type unknown", signBody(kid, `,"message_type":"HASH"`+sig), 400, "KMS.0308"},
			wireCase{"message type bool", signBody(kid, `,"message_type":true`+sig), 400, "KMS.0202"},
			wireCase{"symmetric key", signBody(id, sig), 400, "KMS.0331"},
			wireCase{"HMAC key", signBody(hmacID, sig), 400, "KMS.0341"},
			wireCase{"key agreement key", signBody(ecAgree, sig), 400, "KMS.0308"},
			wireCase{"RSA algorithm", `{"key_id":"` + kid + `","message":"` + digest + `","signing_algorithm":"RSASSA_PSS_SHA_256"` + sig + `}`, 400, "KMS.0332"},
			wireCase{"digest length", `{"key_id":"` + kid + `","message":"AAAA","signing_algorithm":"ECDSA_SHA_256"` + sig + `}`, 400, "KMS.0329"},
		)
		return append(cs, extra...)
	}
	// Tags, resource search and rotation: tag routes carry the key id in
	// the path.
	tagsOp, tagsAction := id+"/tags", id+"/tags/action"
	tagValid := `{"tag":{"key":"k","value":"v"}}`
	batchValid := `{"action":"create","tags":[{"key":"k","value":"v"}]}`
	var many []string
	for i := range 21 {
		many = append(many, `{"key":"k`+strings.Repeat("x", i)+`"}`)
	}
	batch21 := `{"action":"create","tags":[` + strings.Join(many, ",") + `]}`
	searchValid := `{"action":"filter","limit":"10","offset":"0"}`
	rsaID := specKey("wire-rsa", "RSA_2048", "SIGN_VERIFY")
	intervalValid := `{"key_id":"` + id + `","rotation_interval":90}`
	// Operands of the grant and alias operations.
	grantValid := `{"key_id":"` + id + `","grantee_principal":"` + s.ids.ReaderID + `","operations":["describe-key"]}`
	grantWith := func(member string) string {
		return `{"key_id":"` + id + `","grantee_principal":"` + s.ids.ReaderID + `",` + member + `}`
	}
	grantPaging := func(valid, overMax string) []wireCase {
		with := func(member string) string { return strings.Replace(valid, "{", "{"+member+",", 1) }
		if valid == `{}` {
			with = func(member string) string { return "{" + member + "}" }
		}
		return []wireCase{
			{"limit integer", with(`"limit":0`), 400, "KMS.1601"},
			{"limit float", with(`"limit":1.5`), 400, "KMS.0202"},
			{"limit with a sign", with(`"limit":"+5"`), 400, "KMS.1601"},
			{"limit zero", with(`"limit":"0"`), 400, "KMS.1601"},
			{"limit above the maximum, clamped", with(`"limit":"` + overMax + `"`), 200, ""},
			{"limit text", with(`"limit":"ten"`), 400, "KMS.1601"},
			{"marker negative", with(`"marker":"-1"`), 400, "KMS.1602"},
			{"marker text", with(`"marker":"x"`), 400, "KMS.1602"},
			{"marker negative integer", with(`"marker":-1`), 400, "KMS.0202"},
			{"marker leading zero", with(`"marker":"01"`), 400, "KMS.1602"},
		}
	}
	unknownGrant := strings.Repeat("0", 64)
	revokeValid := `{"key_id":"` + id + `","grant_id":"` + unknownGrant + `"}`
	grantIDCases := []wireCase{
		{"missing grant_id", keyOnly, 400, "KMS.0204"},
		{"grant_id number", `{"key_id":"` + id + `","grant_id":7}`, 400, "KMS.0202"},
		{"grant_id malformed", `{"key_id":"` + id + `","grant_id":"xyz"}`, 400, "KMS.2501"},
		{"grant_id unknown", revokeValid, 400, "KMS.2501"},
	}
	aliasValid := `{"key_id":"` + id + `","alias":"wire-alias"}`
	if r := s.call(t, "POST", s.kms("aliases"), []byte(`{"key_id":"`+id+`","alias":"wire-moved"}`)); r.status != 201 {
		t.Fatalf("create alias: %d %s", r.status, r.body)
	}
	associateValid := `{"alias":"wire-moved","target_key_id":"` + id + `"}`
	aliasOwner := s.createKey(t, "wire-alias-owner")
	tests := []struct {
		op    string
		valid string
		cases []wireCase
	}{
		{"create-key", `{"key_alias":"x"}`, []wireCase{
			{"missing alias", `{}`, 400, "KMS.0204"},
			{"alias number", `{"key_alias":1}`, 400, "KMS.0202"},
			{"alias empty", `{"key_alias":""}`, 400, "KMS.1101"},
			{"alias charset", `{"key_alias":"a b"}`, 400, "KMS.1101"},
			{"alias too long", `{"key_alias":"` + strings.Repeat("a", 256) + `"}`, 400, "KMS.1101"},
			{"alias reserved", `{"key_alias":"obs/default"}`, 400, "KMS.1101"},
			{"spec unknown", `{"key_alias":"x","key_spec":"AES_512"}`, 400, "KMS.1110"},
			{"spec number", `{"key_alias":"x","key_spec":256}`, 400, "KMS.0202"},
			{"usage unknown", `{"key_alias":"x","key_usage":"WRAP"}`, 400, "KMS.0308"},
			{"usage bool", `{"key_alias":"x","key_usage":true}`, 400, "KMS.0202"},
			{"origin unknown", `{"key_alias":"x","origin":"hsm"}`, 400, "KMS.0308"},
			{"description too long", `{"key_alias":"x","key_description":"` + strings.Repeat("d", 256) + `"}`, 400, "KMS.1103"},
			{"description number", `{"key_alias":"x","key_description":1}`, 400, "KMS.0202"},
			{"ec encrypt", `{"key_alias":"x","key_spec":"EC_P256","key_usage":"ENCRYPT_DECRYPT"}`, 400, "KMS.1114"},
			{"aes sign", `{"key_alias":"x","key_spec":"AES_256","key_usage":"SIGN_VERIFY"}`, 400, "KMS.1115"},
			{"duplicate alias", `{"key_alias":"wire-errors"}`, 400, "KMS.1104"},
			{"key agreement RSA", `{"key_alias":"x","key_spec":"RSA_2048","key_usage":"KEY_AGREEMENT"}`, 400, "KMS.0308"},
			{"key agreement AES", `{"key_alias":"x","key_usage":"KEY_AGREEMENT"}`, 400, "KMS.0308"},
		}},
		{"describe-key", keyOnly, keyCases(keyOnly)},
		{"enable-key", keyOnly, keyCases(keyOnly)},
		{"disable-key", keyOnly, keyCases(keyOnly)},
		{"cancel-key-deletion", keyOnly, keyCases(keyOnly)},
		{"schedule-key-deletion", `{"key_id":"` + id + `","pending_days":"7"}`, keyCases(`{"key_id":"`+id+`","pending_days":"7"}`,
			wireCase{"missing days", keyOnly, 400, "KMS.0204"},
			wireCase{"days integer", `{"key_id":"` + id + `","pending_days":3}`, 400, "KMS.1401"},
			wireCase{"days float", `{"key_id":"` + id + `","pending_days":7.5}`, 400, "KMS.0202"},
			wireCase{"days negative integer", `{"key_id":"` + id + `","pending_days":-7}`, 400, "KMS.0202"},
			wireCase{"days leading zero", `{"key_id":"` + id + `","pending_days":"07"}`, 400, "KMS.1401"},
			wireCase{"days text", `{"key_id":"` + id + `","pending_days":"seven"}`, 400, "KMS.1401"},
			wireCase{"days low", `{"key_id":"` + id + `","pending_days":"6"}`, 400, "KMS.1401"},
			wireCase{"days high", `{"key_id":"` + id + `","pending_days":"1097"}`, 400, "KMS.1401"},
		)},
		{"update-key-alias", `{"key_id":"` + id + `","key_alias":"y"}`, keyCases(`{"key_id":"`+id+`","key_alias":"y"}`,
			wireCase{"missing alias", keyOnly, 400, "KMS.0204"},
			wireCase{"alias array", `{"key_id":"` + id + `","key_alias":["y"]}`, 400, "KMS.0202"},
			wireCase{"alias reserved", `{"key_id":"` + id + `","key_alias":"x/default"}`, 400, "KMS.1101"},
		)},
		{"update-key-description", `{"key_id":"` + id + `","key_description":"d"}`, keyCases(`{"key_id":"`+id+`","key_description":"d"}`,
			wireCase{"missing description", keyOnly, 400, "KMS.0204"},
			wireCase{"description too long", `{"key_id":"` + id + `","key_description":"` + strings.Repeat("d", 256) + `"}`, 400, "KMS.1103"},
		)},
		{"encrypt-data", encValid, keyCases(encValid,
			wireCase{"missing plain_text", keyOnly, 400, "KMS.0204"},
			wireCase{"empty plain_text", `{"key_id":"` + id + `","plain_text":""}`, 400, "KMS.0204"},
			wireCase{"plain_text number", `{"key_id":"` + id + `","plain_text":1}`, 400, "KMS.0202"},
			wireCase{"plain_text 4097 bytes", `{"key_id":"` + id + `","plain_text":"` + strings.Repeat("p", 4097) + `"}`, 400, "KMS.0308"},
			wireCase{"algorithm unknown", with(encValid, `"encryption_algorithm":"AES_GCM"`), 400, "KMS.0308"},
			wireCase{"algorithm number", with(encValid, `"encryption_algorithm":1`), 400, "KMS.0202"},
			wireCase{"algorithm of RSA keys", with(encValid, `"encryption_algorithm":"RSAES_OAEP_SHA_256"`), 400, "KMS.2105"},
			wireCase{"aad number", with(encValid, `"additional_authenticated_data":1`), 400, "KMS.0202"},
			wireCase{"aad 129 bytes", with(encValid, `"additional_authenticated_data":"`+strings.Repeat("a", 129)+`"`), 400, "KMS.0308"},
		)},
		{"decrypt-data", decValid, []wireCase{
			{"missing cipher_text", `{}`, 400, "KMS.0204"},
			{"empty body", ``, 400, "KMS.0204"},
			{"cipher_text number", `{"cipher_text":5}`, 400, "KMS.0202"},
			{"cipher_text 127 characters", `{"cipher_text":"` + strings.Repeat("A", 127) + `"}`, 400, "KMS.0308"},
			{"cipher_text 5649 characters", `{"cipher_text":"` + strings.Repeat("A", 5649) + `"}`, 400, "KMS.0308"},
			{"cipher_text not base64", `{"cipher_text":"` + strings.Repeat("*", 200) + `"}`, 400, "KMS.0308"},
			{"cipher_text not a blob", `{"cipher_text":"` + strings.Repeat("A", 200) + `"}`, 400, "KMS.0308"},
			{"wrong aad", with(decValid, `"additional_authenticated_data":"x"`), 400, "KMS.0308"},
			{"aad array", with(decValid, `"additional_authenticated_data":["x"]`), 400, "KMS.0202"},
			{"key_id malformed", with(decValid, `"key_id":"nope"`), 400, "KMS.0205"},
			{"key_id number", with(decValid, `"key_id":1`), 400, "KMS.0202"},
			{"key_id of another key", with(decValid, `"key_id":"`+id2+`"`), 400, "KMS.0308"},
			{"asymmetric algorithm without key_id", with(decValid, `"encryption_algorithm":"SM2_ENCRYPT"`), 400, "KMS.0204"},
			{"algorithm unknown", with(decValid, `"encryption_algorithm":"RSAES_OAEP_SHA_1"`), 400, "KMS.0308"},
			{"data key ciphertext", `{"cipher_text":"` + dekBase64 + `"}`, 400, "KMS.0308"},
		}},
		{"re-encrypt", reValid, []wireCase{
			{"missing destination", `{"cipher_text":"` + ct + `"}`, 400, "KMS.0204"},
			{"destination number", `{"destination_key_id":1,"cipher_text":"` + ct + `"}`, 400, "KMS.0202"},
			{"destination malformed", `{"destination_key_id":"nope","cipher_text":"` + ct + `"}`, 400, "KMS.0205"},
			{"destination unknown", strings.Replace(reValid, id, "00000000-0000-4000-8000-000000000000", 1), 404, "KMS.0207"},
			{"missing cipher_text", `{"destination_key_id":"` + id + `"}`, 400, "KMS.0204"},
			{"cipher_text short", `{"destination_key_id":"` + id + `","cipher_text":"AAAA"}`, 400, "KMS.0308"},
			{"source key malformed", with(reValid, `"source_key_id":"nope"`), 400, "KMS.0205"},
			{"source key of another key", with(reValid, `"source_key_id":"`+id2+`"`), 400, "KMS.0308"},
			{"source algorithm unknown", with(reValid, `"source_encryption_algorithm":"X"`), 400, "KMS.0308"},
			{"source algorithm number", with(reValid, `"source_encryption_algorithm":2`), 400, "KMS.0202"},
			{"asymmetric source without key", with(reValid, `"source_encryption_algorithm":"RSAES_OAEP_SHA_1"`), 400, "KMS.0204"},
			{"wrong source aad", with(reValid, `"source_additional_authenticated_data":"x"`), 400, "KMS.0308"},
			{"destination aad 129 bytes", with(reValid, `"destination_additional_authenticated_data":"`+strings.Repeat("a", 129)+`"`), 400, "KMS.0308"},
			{"datakey_cipher_length integer", with(reValid, `"datakey_cipher_length":0`), 400, "KMS.0308"},
			{"datakey_cipher_length float", with(reValid, `"datakey_cipher_length":32.5`), 400, "KMS.0202"},
			{"datakey_cipher_length text", with(reValid, `"datakey_cipher_length":"x"`), 400, "KMS.0308"},
			{"datakey_cipher_length 0", with(reValid, `"datakey_cipher_length":"0"`), 400, "KMS.0308"},
			{"datakey_cipher_length with base64", with(reValid, `"datakey_cipher_length":"32"`), 400, "KMS.2201"},
			{"datakey_cipher_length wrong", `{"destination_key_id":"` + id + `","cipher_text":"` + dekCT + `","datakey_cipher_length":"64"}`, 400, "KMS.2204"},
		}},
		{"gen-random", `{"random_data_length":"512"}`, []wireCase{
			{"missing length", `{}`, 400, "KMS.0204"},
			{"empty length", `{"random_data_length":""}`, 400, "KMS.0204"},
			{"length integer", `{"random_data_length":12}`, 400, "KMS.1802"},
			{"length float", `{"random_data_length":512.0}`, 400, "KMS.0202"},
			{"length bool", `{"random_data_length":true}`, 400, "KMS.0202"},
			{"length with a sign", `{"random_data_length":"+512"}`, 400, "KMS.0308"},
			{"length leading zero", `{"random_data_length":"0512"}`, 400, "KMS.0308"},
			{"length text", `{"random_data_length":"many"}`, 400, "KMS.0308"},
			{"length 0", `{"random_data_length":"0"}`, 400, "KMS.0308"},
			{"length 8200", `{"random_data_length":"8200"}`, 400, "KMS.0308"},
			{"length 12", `{"random_data_length":"12"}`, 400, "KMS.1802"},
		}},
		{"create-datakey", keyOnly, keyCases(keyOnly, dataKeyCases...)},
		{"create-datakey-without-plaintext", keyOnly, keyCases(keyOnly, dataKeyCases...)},
		{"encrypt-datakey", encDEKValid, keyCases(encDEKValid,
			wireCase{"missing plain_text", `{"key_id":"` + id + `","datakey_plain_length":"32"}`, 400, "KMS.0204"},
			wireCase{"missing length", `{"key_id":"` + id + `","plain_text":"` + dekPlain + `"}`, 400, "KMS.0204"},
			wireCase{"plain_text not hex", `{"key_id":"` + id + `","plain_text":"xyz0","datakey_plain_length":"32"}`, 400, "KMS.2101"},
			wireCase{"plain_text odd length", `{"key_id":"` + id + `","plain_text":"` + dekPlain[1:] + `","datakey_plain_length":"32"}`, 400, "KMS.2101"},
			wireCase{"length integer", `{"key_id":"` + id + `","plain_text":"` + dekPlain + `","datakey_plain_length":31}`, 400, "KMS.2104"},
			wireCase{"length exponent", `{"key_id":"` + id + `","plain_text":"` + dekPlain + `","datakey_plain_length":3.2e1}`, 400, "KMS.0202"},
			wireCase{"length text", `{"key_id":"` + id + `","plain_text":"` + dekPlain + `","datakey_plain_length":"x"}`, 400, "KMS.0308"},
			wireCase{"length 1025", `{"key_id":"` + id + `","plain_text":"` + dekPlain + `","datakey_plain_length":"1025"}`, 400, "KMS.0308"},
			wireCase{"length mismatch", `{"key_id":"` + id + `","plain_text":"` + dekPlain + `","datakey_plain_length":"31"}`, 400, "KMS.2104"},
			wireCase{"wrong digest", `{"key_id":"` + id + `","plain_text":"` + dekPlain[:len(dekPlain)-2] + `00","datakey_plain_length":"32"}`, 400, "KMS.2103"},
			wireCase{"key_spec unknown", with(encDEKValid, `"key_spec":"EC"`), 400, "KMS.0308"},
		)},
		{"decrypt-datakey", decDEKValid, keyCases(decDEKValid,
			wireCase{"missing cipher_text", `{"key_id":"` + id + `","datakey_cipher_length":"32"}`, 400, "KMS.0204"},
			wireCase{"missing length", `{"key_id":"` + id + `","cipher_text":"` + dekCT + `"}`, 400, "KMS.0204"},
			wireCase{"cipher_text not hex", `{"key_id":"` + id + `","cipher_text":"zz","datakey_cipher_length":"32"}`, 400, "KMS.2201"},
			wireCase{"cipher_text not a blob", `{"key_id":"` + id + `","cipher_text":"00FF","datakey_cipher_length":"32"}`, 400, "KMS.2201"},
			wireCase{"cipher_text of encrypt-data", `{"key_id":"` + id + `","cipher_text":"` + ctHex + `","datakey_cipher_length":"4"}`, 400, "KMS.2201"},
			wireCase{"length integer", `{"key_id":"` + id + `","cipher_text":"` + dekCT + `","datakey_cipher_length":64}`, 400, "KMS.2204"},
			wireCase{"length object", `{"key_id":"` + id + `","cipher_text":"` + dekCT + `","datakey_cipher_length":{}}`, 400, "KMS.0202"},
			wireCase{"length 0", `{"key_id":"` + id + `","cipher_text":"` + dekCT + `","datakey_cipher_length":"0"}`, 400, "KMS.0308"},
			wireCase{"length mismatch", `{"key_id":"` + id + `","cipher_text":"` + dekCT + `","datakey_cipher_length":"64"}`, 400, "KMS.2204"},
			wireCase{"wrong aad", with(decDEKValid, `"additional_authenticated_data":"x"`), 400, "KMS.2203"},
			wireCase{"another key", strings.Replace(decDEKValid, id, id2, 1), 400, "KMS.2203"},
		)},
		{"list-keys", `{"limit":"10"}`, []wireCase{
			{"limit integer", `{"limit":0}`, 400, "KMS.1601"},
			{"limit float", `{"limit":10.5}`, 400, "KMS.0202"},
			{"limit with a sign", `{"limit":"+5"}`, 400, "KMS.1601"},
			{"limit leading zero", `{"limit":"05"}`, 400, "KMS.1601"},
			{"limit zero", `{"limit":"0"}`, 400, "KMS.1601"},
			{"limit huge, clamped", `{"limit":"1001"}`, 200, ""},
			{"limit huge integer, clamped", `{"limit":2000}`, 200, ""},
			{"limit text", `{"limit":"ten"}`, 400, "KMS.1601"},
			{"marker negative", `{"marker":"-1"}`, 400, "KMS.1602"},
			{"marker text", `{"marker":"x"}`, 400, "KMS.1602"},
			{"state unknown", `{"key_state":"9"}`, 400, "KMS.0308"},
			{"spec unknown", `{"key_spec":"DES"}`, 400, "KMS.0308"},
		}},
		// Grants and aliases (reference kms-api.md §5.G, §5.H).
		{"create-grant", grantValid, keyCases(grantValid,
			wireCase{"missing grantee", `{"key_id":"` + id + `","operations":["describe-key"]}`, 400, "KMS.0204"},
			wireCase{"empty grantee", `{"key_id":"` + id + `","grantee_principal":"","operations":["describe-key"]}`, 400, "KMS.0204"},
			wireCase{"grantee number", `{"key_id":"` + id + `","grantee_principal":1,"operations":["describe-key"]}`, 400, "KMS.0202"},
			wireCase{"grantee charset", `{"key_id":"` + id + `","grantee_principal":"a.b","operations":["describe-key"]}`, 400, "KMS.2402"},
			wireCase{"grantee malformed", `{"key_id":"` + id + `","grantee_principal":"` + strings.Repeat("9", 65) + `","operations":["describe-key"]}`, 400, "KMS.2402"},
			wireCase{"missing operations", `{"key_id":"` + id + `","grantee_principal":"` + s.ids.ReaderID + `"}`, 400, "KMS.0204"},
			wireCase{"operations string", grantWith(`"operations":"describe-key"`), 400, "KMS.0202"},
			wireCase{"operations numbers", grantWith(`"operations":[1]`), 400, "KMS.0202"},
			wireCase{"operations empty", grantWith(`"operations":[]`), 400, "KMS.0308"},
			wireCase{"operation unknown", grantWith(`"operations":["sign"]`), 400, "KMS.0308"},
			wireCase{"create-grant alone", grantWith(`"operations":["create-grant"]`), 400, "KMS.2401"},
			wireCase{"type unknown", grantWith(`"operations":["describe-key"],"grantee_principal_type":"group"`), 400, "KMS.0308"},
			wireCase{"type number", grantWith(`"operations":["describe-key"],"grantee_principal_type":1`), 400, "KMS.0202"},
			wireCase{"name charset", grantWith(`"operations":["describe-key"],"name":"a b"`), 400, "KMS.1101"},
			wireCase{"name number", grantWith(`"operations":["describe-key"],"name":1`), 400, "KMS.0202"},
			wireCase{"retiring principal charset", grantWith(`"operations":["describe-key"],"retiring_principal":"a-b"`), 400, "KMS.2402"},
			wireCase{"retiring principal bool", grantWith(`"operations":["describe-key"],"retiring_principal":true`), 400, "KMS.0202"},
		)},
		{"list-grants", keyOnly, keyCases(keyOnly, grantPaging(keyOnly, "101")...)},
		{"list-retirable-grants", `{"limit":"10"}`, grantPaging(`{}`, "1001")},
		{"revoke-grant", revokeValid, keyCases(revokeValid, grantIDCases...)},
		{"retire-grant", revokeValid, append([]wireCase{
			{"missing key_id", `{"grant_id":"` + unknownGrant + `"}`, 400, "KMS.0204"},
			{"key_id number", `{"key_id":5,"grant_id":"` + unknownGrant + `"}`, 400, "KMS.0202"},
			{"key_id malformed", `{"key_id":"k","grant_id":"` + unknownGrant + `"}`, 400, "KMS.0205"},
		}, grantIDCases...)},
		{"aliases", aliasValid, keyCases(aliasValid,
			wireCase{"missing alias", keyOnly, 400, "KMS.0204"},
			wireCase{"empty alias", `{"key_id":"` + id + `","alias":""}`, 400, "KMS.0204"},
			wireCase{"alias number", `{"key_id":"` + id + `","alias":1}`, 400, "KMS.0202"},
			wireCase{"alias charset", `{"key_id":"` + id + `","alias":"a b"}`, 400, "KMS.1101"},
			wireCase{"alias reserved", `{"key_id":"` + id + `","alias":"a/default"}`, 400, "KMS.1101"},
			wireCase{"alias taken by a key", `{"key_id":"` + id + `","alias":"wire-errors"}`, 400, "KMS.1104"},
		)},
		{"alias/associate", associateValid, []wireCase{
			{"missing alias", `{"target_key_id":"` + id + `"}`, 400, "KMS.0204"},
			{"alias number", `{"alias":1,"target_key_id":"` + id + `"}`, 400, "KMS.0202"},
			{"missing target", `{"alias":"wire-moved"}`, 400, "KMS.0204"},
			{"target number", `{"alias":"wire-moved","target_key_id":1}`, 400, "KMS.0202"},
			{"target malformed", `{"alias":"wire-moved","target_key_id":"k"}`, 400, "KMS.0205"},
			{"target unknown", `{"alias":"wire-moved","target_key_id":"00000000-0000-4000-8000-000000000000"}`, 404, "KMS.0207"},
			{"alias unknown", `{"alias":"wire-none","target_key_id":"` + id + `"}`, 400, "KMS.0308"},
			{"a key alias", `{"alias":"wire-errors","target_key_id":"` + id + `"}`, 400, "KMS.0308"},
		}},
		{"get-publickey", keyOnly, keyCases(keyOnly,
			wireCase{"symmetric key", keyOnly, 400, "KMS.0331"},
			wireCase{"HMAC key", `{"key_id":"` + hmacID + `"}`, 400, "KMS.0341"},
		)},
		{"sign", signBody(ecSign, ""), signCases(ecSign, "")},
		{"verify", signBody(ecSign, `,"signature":"MAA="`), signCases(ecSign, `,"signature":"MAA="`,
			wireCase{"missing signature", signBody(ecSign, ""), 400, "KMS.0204"},
			wireCase{"signature number", signBody(ecSign, `,"signature":1`), 400, "KMS.0202"},
			wireCase{"signature not base64", signBody(ecSign, `,"signature":"@@"`), 400, "KMS.0308"},
		)},
		{"derive-shared-secret", deriveBody(ecAgree, ""), keyCasesOf(ecAgree, deriveBody(ecAgree, ""),
			wireCase{"missing algorithm", `{"key_id":"` + ecAgree + `","public_key":"` + peer + `"}`, 400, "KMS.0204"},
			wireCase{"algorithm unknown", `{"key_id":"` + ecAgree + `","key_agreement_algorithm":"DH","public_key":"` + peer + `"}`, 400, "KMS.0308"},
			wireCase{"missing public key", `{"key_id":"` + ecAgree + `","key_agreement_algorithm":"ECDH"}`, 400, "KMS.0204"},
			wireCase{"public key not base64", `{"key_id":"` + ecAgree + `","key_agreement_algorithm":"ECDH","public_key":"%"}`, 400, "KMS.0308"},
			wireCase{"public key not DER", `{"key_id":"` + ecAgree + `","key_agreement_algorithm":"ECDH","public_key":"AAAA"}`, 400, "KMS.0308"},
			wireCase{"public key number", `{"key_id":"` + ecAgree + `","key_agreement_algorithm":"ECDH","public_key":7}`, 400, "KMS.0202"},
			wireCase{"recipient", deriveBody(ecAgree, `,"recipient":{"attestation_document":"x"}`), 501, "KMSD.0501"},
			wireCase{"recipient string", deriveBody(ecAgree, `,"recipient":"x"`), 400, "KMS.0202"},
			wireCase{"signing key", deriveBody(ecSign, ""), 400, "KMS.0335"},
			wireCase{"symmetric key", deriveBody(id, ""), 400, "KMS.0331"},
			wireCase{"HMAC key", deriveBody(hmacID, ""), 400, "KMS.0341"},
		)},
		{"generate-mac", macBody(hmacID, ""), keyCasesOf(hmacID, macBody(hmacID, ""),
			wireCase{"missing algorithm", `{"key_id":"` + hmacID + `","message":"bWFj"}`, 400, "KMS.0204"},
			wireCase{"algorithm unknown", `{"key_id":"` + hmacID + `","mac_algorithm":"HMAC_MD5","message":"bWFj"}`, 400, "KMS.0308"},
			wireCase{"algorithm of another spec", `{"key_id":"` + hmacID + `","mac_algorithm":"HMAC_SM3","message":"bWFj"}`, 400, "KMS.0332"},
			wireCase{"missing message", `{"key_id":"` + hmacID + `","mac_algorithm":"HMAC_SHA_256"}`, 400, "KMS.0204"},
			wireCase{"message number", `{"key_id":"` + hmacID + `","mac_algorithm":"HMAC_SHA_256","message":1}`, 400, "KMS.0202"},
			wireCase{"message not base64", `{"key_id":"` + hmacID + `","mac_algorithm":"HMAC_SHA_256","message":"bWF"}`, 400, "KMS.0308"},
			wireCase{"message of 4097 bytes", `{"key_id":"` + hmacID + `","mac_algorithm":"HMAC_SHA_256","message":"` + msg4097 + `"}`, 400, "KMS.0308"},
			wireCase{"symmetric key", macBody(id, ""), 400, "KMS.0331"},
			wireCase{"asymmetric key", macBody(ecSign, ""), 400, "KMS.0325"},
		)},
		{"verify-mac", macBody(hmacID, `,"mac":"00"`), keyCasesOf(hmacID, macBody(hmacID, `,"mac":"00"`),
			wireCase{"missing mac", macBody(hmacID, ""), 400, "KMS.0204"},
			wireCase{"mac number", macBody(hmacID, `,"mac":0`), 400, "KMS.0202"},
			wireCase{"mac not hex", macBody(hmacID, `,"mac":"xyz"`), 400, "KMS.0308"},
			wireCase{"algorithm of another spec", `{"key_id":"` + hmacID + `","mac_algorithm":"HMAC_SHA_512","message":"bWFj","mac":"00"}`, 400, "KMS.0332"},
			wireCase{"asymmetric key", macBody(ecSign, `,"mac":"00"`), 400, "KMS.0325"},
		)},
		{"create-rsa-datakey-pair", pairBody(id, "RSA_2048", ""), keyCases(pairBody(id, "RSA_2048", ""),
			wireCase{"missing spec", keyOnly, 400, "KMS.0204"},
			wireCase{"EC spec", pairBody(id, "ECC_NIST_P256", ""), 400, "KMS.0308"},
			wireCase{"spec number", `{"key_id":"` + id + `","key_spec":2048}`, 400, "KMS.0202"},
			wireCase{"with_plain_text string", pairBody(id, "RSA_2048", `,"with_plain_text":"false"`), 400, "KMS.0202"},
			wireCase{"AAD number", pairBody(id, "RSA_2048", `,"additional_authenticated_data":1`), 400, "KMS.0202"},
			wireCase{"AAD too long", pairBody(id, "RSA_2048", `,"additional_authenticated_data":"`+strings.Repeat("a", 129)+`"`), 400, "KMS.0308"},
			wireCase{"asymmetric key", pairBody(ecSign, "RSA_2048", ""), 400, "KMS.0325"},
			wireCase{"HMAC key", pairBody(hmacID, "RSA_2048", ""), 400, "KMS.0341"},
		)},
		{"create-ec-datakey-pair", pairBody(id, "SM2", ""), keyCases(pairBody(id, "SM2", ""),
			wireCase{"missing spec", keyOnly, 400, "KMS.0204"},
			wireCase{"RSA spec", pairBody(id, "RSA_2048", ""), 400, "KMS.0308"},
			wireCase{"key spec name", pairBody(id, "EC_P256", ""), 400, "KMS.0308"},
			wireCase{"with_plain_text number", pairBody(id, "SM2", `,"with_plain_text":1`), 400, "KMS.0202"},
			wireCase{"pin number", pairBody(id, "SM2", `,"pin":1`), 400, "KMS.0202"},
			wireCase{"pin_type bool", pairBody(id, "SM2", `,"pin_type":true`), 400, "KMS.0202"},
			wireCase{"asymmetric key", pairBody(ecSign, "SM2", ""), 400, "KMS.0325"},
		)},
		{tagsOp, tagValid, []wireCase{
			{"missing tag", `{}`, 400, "KMS.0204"},
			{"tag null", `{"tag":null}`, 400, "KMS.0204"},
			{"tag string", `{"tag":"k=v"}`, 400, "KMS.0202"},
			{"tag array", `{"tag":[{"key":"k"}]}`, 400, "KMS.0202"},
			{"missing tag key", `{"tag":{"value":"v"}}`, 400, "KMS.0204"},
			{"tag key number", `{"tag":{"key":1,"value":"v"}}`, 400, "KMS.0202"},
			{"tag value number", `{"tag":{"key":"k","value":1}}`, 400, "KMS.0202"},
			{"empty tag key", `{"tag":{"key":"","value":"v"}}`, 400, "KMS.0411"},
			{"tag key of 37", `{"tag":{"key":"` + strings.Repeat("k", 37) + `"}}`, 400, "KMS.0411"},
			{"tag key with =", `{"tag":{"key":"a=b"}}`, 400, "KMS.0406"},
			{"tag key with a control character", `{"tag":{"key":"a\u0001b"}}`, 400, "KMS.0406"},
			{"tag value of 44", `{"tag":{"key":"k","value":"` + strings.Repeat("v", 44) + `"}}`, 400, "KMS.0410"},
			{"tag value with *", `{"tag":{"key":"k","value":"a*"}}`, 400, "KMS.0405"},
		}},
		{"00000000-0000-4000-8000-000000000000/tags", tagValid, []wireCase{{"unknown key", tagValid, 404, "KMS.0207"}}},
		{"not-a-key/tags", tagValid, []wireCase{{"malformed key id", tagValid, 400, "KMS.0205"}}},
		{tagsAction, batchValid, []wireCase{
			{"missing action", `{"tags":[{"key":"k"}]}`, 400, "KMS.0204"},
			{"action number", `{"action":1,"tags":[{"key":"k"}]}`, 400, "KMS.0202"},
			{"action unknown", `{"action":"update","tags":[{"key":"k"}]}`, 400, "KMS.0404"},
			{"action empty", `{"action":"","tags":[{"key":"k"}]}`, 400, "KMS.0404"},
			{"missing tags", `{"action":"create"}`, 400, "KMS.0204"},
			{"tags null", `{"action":"create","tags":null}`, 400, "KMS.0401"},
			{"tags empty", `{"action":"delete","tags":[]}`, 400, "KMS.0401"},
			{"tags object", `{"action":"create","tags":{"key":"k"}}`, 400, "KMS.0202"},
			{"tags of strings", `{"action":"create","tags":["k"]}`, 400, "KMS.0202"},
			{"tags with null", `{"action":"create","tags":[null]}`, 400, "KMS.0202"},
			{"21 tags", batch21, 400, "KMS.0407"},
			{"tag key twice", `{"action":"create","tags":[{"key":"k","value":"1"},{"key":"k","value":"2"}]}`, 400, "KMS.0412"},
			{"invalid tag key", `{"action":"create","tags":[{"key":"<k>"}]}`, 400, "KMS.0406"},
			{"invalid tag value", `{"action":"create","tags":[{"key":"k","value":"\\"}]}`, 400, "KMS.0405"},
			{"delete empty tag key", `{"action":"delete","tags":[{"key":""}]}`, 400, "KMS.0411"},
		}},
		{"resource_instances/action", searchValid, []wireCase{
			{"missing action", `{}`, 400, "KMS.0204"},
			{"action unknown", `{"action":"list"}`, 400, "KMS.0404"},
			{"action bool", `{"action":true}`, 400, "KMS.0202"},
			{"limit integer", `{"action":"filter","limit":0}`, 400, "KMS.1601"},
			{"limit float", `{"action":"filter","limit":1e1}`, 400, "KMS.0202"},
			{"limit 0", `{"action":"filter","limit":"0"}`, 400, "KMS.1601"},
			{"limit 1001, clamped", `{"action":"filter","limit":"1001"}`, 200, ""},
			{"limit text", `{"action":"filter","limit":"ten"}`, 400, "KMS.1601"},
			{"offset -1", `{"action":"filter","offset":"-1"}`, 400, "KMS.0417"},
			{"offset text", `{"action":"filter","offset":"x"}`, 400, "KMS.0417"},
			{"offset negative integer", `{"action":"count","offset":-1}`, 400, "KMS.0202"},
			{"offset with a sign", `{"action":"filter","offset":"+1"}`, 400, "KMS.0417"},
			{"tags object", `{"action":"filter","tags":{}}`, 400, "KMS.0202"},
			{"tag values string", `{"action":"filter","tags":[{"key":"k","values":"v"}]}`, 400, "KMS.0202"},
			{"tag values of numbers", `{"action":"filter","tags":[{"key":"k","values":[1]}]}`, 400, "KMS.0202"},
			{"tag key number", `{"action":"count","tags":[{"key":1}]}`, 400, "KMS.0202"},
			{"tag key missing", `{"action":"count","tags":[{"values":["v"]}]}`, 400, "KMS.0411"},
			{"tag key invalid", `{"action":"filter","tags":[{"key":"a*b"}]}`, 400, "KMS.0406"},
			{"tag value invalid", `{"action":"filter","tags":[{"key":"k","values":["a=b"]}]}`, 400, "KMS.0405"},
			{"tag key twice", `{"action":"filter","tags":[{"key":"k"},{"key":"k"}]}`, 400, "KMS.0414"},
			{"matches object", `{"action":"filter","matches":{"key":"resource_name"}}`, 400, "KMS.0202"},
			{"match key", `{"action":"filter","matches":[{"key":"alias","value":"x"}]}`, 400, "KMS.0403"},
			{"match value of 256", `{"action":"count","matches":[{"key":"resource_name","value":"` + strings.Repeat("a", 256) + `"}]}`, 400, "KMS.0402"},
			{"match twice", `{"action":"filter","matches":[{"key":"resource_name","value":"a"},{"key":"resource_name","value":"b"}]}`, 400, "KMS.0415"},
		}},
		{"enable-key-rotation", keyOnly, keyCases(keyOnly,
			wireCase{"RSA key", `{"key_id":"` + rsaID + `"}`, 400, "KMS.0324"},
			wireCase{"EC key", `{"key_id":"` + ecSign + `"}`, 400, "KMS.0325"},
			wireCase{"HMAC key", `{"key_id":"` + hmacID + `"}`, 400, "KMS.0341"},
		)},
		{"disable-key-rotation", keyOnly, keyCases(keyOnly,
			wireCase{"rotation off", keyOnly, 400, "KMS.0313"},
			wireCase{"RSA key", `{"key_id":"` + rsaID + `"}`, 400, "KMS.0324"},
		)},
		{"update-key-rotation-interval", intervalValid, keyCases(intervalValid,
			wireCase{"missing interval", keyOnly, 400, "KMS.0204"},
			wireCase{"interval null", `{"key_id":"` + id + `","rotation_interval":null}`, 400, "KMS.0204"},
			wireCase{"interval string", `{"key_id":"` + id + `","rotation_interval":"90"}`, 400, "KMS.0202"},
			wireCase{"interval bool", `{"key_id":"` + id + `","rotation_interval":true}`, 400, "KMS.0202"},
			wireCase{"interval 29", `{"key_id":"` + id + `","rotation_interval":29}`, 400, "KMS.3001"},
			wireCase{"interval 366", `{"key_id":"` + id + `","rotation_interval":366}`, 400, "KMS.3001"},
			wireCase{"interval fraction", `{"key_id":"` + id + `","rotation_interval":90.5}`, 400, "KMS.3001"},
			wireCase{"interval beyond int32", `{"key_id":"` + id + `","rotation_interval":4294967386}`, 400, "KMS.3001"},
			wireCase{"interval negative", `{"key_id":"` + id + `","rotation_interval":-90}`, 400, "KMS.3001"},
			wireCase{"rotation off", intervalValid, 400, "KMS.0313"},
			wireCase{"HMAC key", `{"key_id":"` + hmacID + `","rotation_interval":90}`, 400, "KMS.0341"},
		)},
		{"get-key-rotation-status", keyOnly, keyCases(keyOnly)},
	}
	tests = append(tests, importWireTests(t, s, id, keyCasesOf)...)
	for _, tt := range tests {
		for _, c := range append(common(tt.valid), tt.cases...) {
			t.Run(tt.op+"/"+c.name, func(t *testing.T) {
				r := s.call(t, "POST", s.kms(tt.op), []byte(c.body))
				if r.status != c.status || r.errorCode() != c.code {
					t.Errorf("got %d %s (%s), want %d %s", r.status, r.errorCode(), r.body, c.status, c.code)
				}
			})
		}
	}
	// DeleteAlias sends DELETE with a body, ListAliases GET with a query.
	deleteValid := `{"aliases":["wire-moved"],"key_id":"` + id + `"}`
	for _, c := range append(common(deleteValid), keyCases(deleteValid,
		wireCase{"missing aliases", keyOnly, 400, "KMS.0204"},
		wireCase{"aliases empty", `{"aliases":[],"key_id":"` + id + `"}`, 400, "KMS.0204"},
		wireCase{"aliases string", `{"aliases":"wire-moved","key_id":"` + id + `"}`, 400, "KMS.0202"},
		wireCase{"aliases numbers", `{"aliases":[1],"key_id":"` + id + `"}`, 400, "KMS.0202"},
		wireCase{"alias unknown", `{"aliases":["wire-moved","wire-none"],"key_id":"` + id + `"}`, 400, "KMS.0308"},
		wireCase{"alias of another key", `{"aliases":["wire-moved"],"key_id":"` + aliasOwner + `"}`, 400, "KMS.0308"},
	)...) {
		t.Run("DELETE aliases/"+c.name, func(t *testing.T) {
			r := s.call(t, "DELETE", s.kms("aliases"), []byte(c.body))
			if r.status != c.status || r.errorCode() != c.code {
				t.Errorf("got %d %s (%s), want %d %s", r.status, r.errorCode(), r.body, c.status, c.code)
			}
		})
	}
	for _, c := range []wireCase{
		{"limit 0", "limit=0", 400, "KMS.1601"},
		{"limit 101", "limit=101", 400, "KMS.1601"},
		{"limit text", "limit=x", 400, "KMS.1601"},
		{"key_id malformed", "key_id=k", 400, "KMS.0205"},
		{"key_id unknown", "key_id=00000000-0000-4000-8000-000000000000", 404, "KMS.0207"},
	} {
		t.Run("GET aliases/"+c.name, func(t *testing.T) {
			r := s.call(t, "GET", s.kms("aliases")+"?"+c.body, nil)
			if r.status != c.status || r.errorCode() != c.code {
				t.Errorf("got %d %s (%s), want %d %s", r.status, r.errorCode(), r.body, c.status, c.code)
			}
		})
	}
}

// TestGatewayErrors checks routing and the gateway's own limits.
func TestGatewayErrors(t *testing.T) {
	s := newTestServer(t)
	tests := []struct {
		name, method, path string
		body               []byte
		status             int
		code               string
	}{
		{"unknown path", "GET", "/v1.0/" + s.ids.ProjectID + "/kms/no-such-op", nil, 404, "APIGW.0101"},
		{"wrong method", "GET", s.kms("create-key"), nil, 404, "APIGW.0101"},
		{"unknown version", "GET", "/v9", nil, 404, "APIGW.0101"},
		{"over the gateway limit", "POST", s.kms("create-key"), make([]byte, api.GatewayMaxBody+1), 413, "APIGW.0201"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.call(t, tt.method, tt.path, tt.body)
			if r.status != tt.status || r.errorCode() != tt.code {
				t.Errorf("got %d %s, want %d %s", r.status, r.errorCode(), tt.status, tt.code)
			}
		})
	}
}

// TestVersions checks the unauthenticated version endpoints.
func TestVersions(t *testing.T) {
	s := newTestServer(t)
	for _, path := range []string{"/", "/v1.0", "/v2"} {
		resp, err := http.Get(s.ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: got %d, want 200", path, resp.StatusCode)
		}
	}
}

// TestOperationsCount pins the size of the route table: the 61 KMS
// operations of the reference, the 14 newer ones of kms-api-new.md and
// the three IAM endpoints.
func TestOperationsCount(t *testing.T) {
	n, newer := 0, 0
	for _, o := range api.Operations() {
		if !strings.HasPrefix(o.Pattern, "/v3/") && !o.NoSDK {
			n++
		}
		if o.Newer {
			newer++
		}
	}
	if n != 75 || newer != 14 {
		t.Errorf("got %d KMS operations, %d of them newer than the Go SDK, want 75 and 14", n, newer)
	}
}
