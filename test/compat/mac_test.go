package compat

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"hash"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/sm3"
	kms "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2/model"
)

func generateMAC(t *testing.T, c *kms.KmsClient, keyID, alg string, msg []byte) (string, error) {
	t.Helper()
	resp, err := c.GenerateMac(&model.GenerateMacRequest{Body: &model.GenerateMacRequestBody{
		KeyId: keyID, MacAlgorithm: sdkEnum[model.GenerateMacRequestBodyMacAlgorithm](t, alg), Message: base64.StdEncoding.EncodeToString(msg)}})
	if err != nil {
		return "", err
	}
	if val(resp.KeyId) != keyID || val(resp.MacAlgorithm) != alg {
		t.Errorf("got key_id %s, mac_algorithm %s", val(resp.KeyId), val(resp.MacAlgorithm))
	}
	return val(resp.Mac), nil
}

// verifyMAC calls VerifyMac and returns mac_valid, which the SDK types as
// a bool.
func verifyMAC(t *testing.T, c *kms.KmsClient, keyID, alg string, msg []byte, mac string) (bool, error) {
	t.Helper()
	resp, err := c.VerifyMac(&model.VerifyMacRequest{Body: &model.VerifyMacRequestBody{
		KeyId: keyID, MacAlgorithm: sdkEnum[model.VerifyMacRequestBodyMacAlgorithm](t, alg), Message: base64.StdEncoding.EncodeToString(msg), Mac: mac}})
	if err != nil {
		return false, err
	}
	if resp.MacValid == nil {
		t.Fatal("VerifyMac answered no mac_valid")
	}
	return *resp.MacValid, nil
}

// TestMAC creates an HMAC key of every spec with a raw request (the SDK's
// CreateKey enum has none), checks the SDK describes it, and generates
// and verifies MACs through the SDK: lower-case hex of the hash's length,
// the same for the same input, another for another key, and false for a
// changed message or MAC.
func TestMAC(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	msg := []byte("kmsd compat: a message to authenticate")
	addSecret(base64.StdEncoding.EncodeToString(msg))
	for spec, alg := range map[string]string{"HMAC_256": "HMAC_SHA_256", "HMAC_384": "HMAC_SHA_384", "HMAC_512": "HMAC_SHA_512", "HMAC_SM3": "HMAC_SM3"} {
		t.Run(spec, func(t *testing.T) {
			t.Parallel()
			id := createKeyRaw(t, e, spec, "GENERATE_VERIFY_MAC")
			d := describe(t, c, id)
			if enumValue(d.KeySpec) != spec || enumValue(d.KeyUsage) != "GENERATE_VERIFY_MAC" || val(d.KeyState) != stateEnabled {
				t.Errorf("describe-key: spec %s usage %s state %s", enumValue(d.KeySpec), enumValue(d.KeyUsage), val(d.KeyState))
			}
			mac, err := generateMAC(t, c, id, alg, msg)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]int{"HMAC_384": 96, "HMAC_512": 128}[spec]
			if want == 0 {
				want = 64
			}
			if b, err := hex.DecodeString(mac); err != nil || len(mac) != want || strings.ToLower(mac) != mac || len(b) == 0 {
				t.Errorf("mac %q is not %d lower-case hex digits", mac, want)
			}
			if again, _ := generateMAC(t, c, id, alg, msg); again != mac {
				t.Error("the MAC changed between two calls")
			}
			other := createKeyRaw(t, e, spec, "GENERATE_VERIFY_MAC")
			changedMAC := []byte(mac)
			if changedMAC[0] == '0' {
				changedMAC[0] = '1'
			} else {
				changedMAC[0] = '0'
			}
			otherMAC, err := generateMAC(t, c, other, alg, msg)
			if err != nil {
				t.Fatal(err)
			}
			if otherMAC == mac {
				t.Error("two keys give the same MAC")
			}
			for name, tc := range map[string]struct {
				msg  []byte
				mac  string
				want bool
			}{
				"same":             {msg, mac, true},
				"upper-case hex":   {msg, strings.ToUpper(mac), true},
				"changed message":  {append([]byte("!"), msg[1:]...), mac, false},
				"changed MAC":      {msg, string(changedMAC), false},
				"truncated MAC":    {msg, mac[:len(mac)-2], false},
				"another key's":    {msg, otherMAC, false},
				"longer MAC":       {msg, mac + "00", false},
				"one-byte message": {[]byte{0}, mac, false},
			} {
				got, err := verifyMAC(t, c, id, alg, tc.msg, tc.mac)
				if err != nil || got != tc.want {
					t.Errorf("%s: got mac_valid %v, %v, want %v", name, got, err, tc.want)
				}
			}
		})
	}
}

// TestVerifyMACWireTypes checks the raw verify-mac answer: mac_valid is a
// JSON boolean, never a string.
func TestVerifyMACWireTypes(t *testing.T) {
	t.Parallel()
	e := start(t)
	id := createKeyRaw(t, e, "HMAC_256", "GENERATE_VERIFY_MAC")
	mac, err := generateMAC(t, e.admin(), id, "HMAC_SHA_256", []byte("m"))
	if err != nil {
		t.Fatal(err)
	}
	for want, m := range map[bool]string{true: mac, false: strings.Repeat("0", 64)} {
		body := `{"key_id":"` + id + `","mac_algorithm":"HMAC_SHA_256","message":"bQ==","mac":"` + m + `"}` + "\n"
		status, _, b := rawCall(t, e, "POST", e.projectPath("verify-mac"), []byte(body), e.ids.AdminAK, e.ids.AdminSK)
		var v map[string]any
		if err := json.Unmarshal(b, &v); status != 200 || err != nil {
			t.Fatalf("verify-mac: %d %s", status, b)
		}
		if v["mac_valid"] != want || v["key_id"] != id || v["mac_algorithm"] != "HMAC_SHA_256" {
			t.Errorf("got %s, want mac_valid the boolean %v", b, want)
		}
	}
}

// TestMACErrors checks the refusals of generate-mac and verify-mac through
// the SDK; a refused verify-mac never tells whether the MAC was right.
func TestMACErrors(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	h256 := createKeyRaw(t, e, "HMAC_256", "GENERATE_VERIFY_MAC")
	aes := sdkKey(t, c, "AES_256", "")
	ec := sdkKey(t, c, "EC_P256", "")
	msg := []byte("m")
	mac, err := generateMAC(t, c, h256, "HMAC_SHA_256", msg)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, keyID, alg string
		msg              []byte
		status           int
		code             string
	}{
		{"algorithm of another HMAC spec", h256, "HMAC_SHA_512", msg, 400, "KMS.0332"},
		{"HMAC_SM3 with an HMAC_256 key", h256, "HMAC_SM3", msg, 400, "KMS.0332"},
		{"symmetric key", aes, "HMAC_SHA_256", msg, 400, "KMS.0331"},
		{"asymmetric key", ec, "HMAC_SHA_256", msg, 400, "KMS.0325"},
		{"message of 4097 bytes", h256, "HMAC_SHA_256", make([]byte, 4097), 400, "KMS.0308"},
		{"empty message", h256, "HMAC_SHA_256", nil, 400, "KMS.0204"},
		{"unknown key", unknownKeyID, "HMAC_SHA_256", msg, 404, "KMS.0207"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := generateMAC(t, c, tt.keyID, tt.alg, tt.msg)
			wantError(t, err, tt.status, tt.code)
			_, err = verifyMAC(t, c, tt.keyID, tt.alg, tt.msg, mac)
			wantError(t, err, tt.status, tt.code)
		})
	}
	if _, err := generateMAC(t, c, h256, "HMAC_SHA_256", make([]byte, 4096)); err != nil {
		t.Errorf("4096-byte message: %v", err)
	}
	_, err = verifyMAC(t, c, h256, "HMAC_SHA_256", msg, "not hex")
	wantError(t, err, 400, "KMS.0308")

	// Another account's key does not exist for the caller.
	other := createKeyIn(t, e, e.ids.Admin2AK, e.ids.Admin2SK, e.ids.Project2ID, "HMAC_256", "")
	_, err = generateMAC(t, c, other, "HMAC_SHA_256", msg)
	wantError(t, err, 404, "KMS.0207")

	// State: the same answer for a right and a wrong MAC.
	if _, err := c.DisableKey(&model.DisableKeyRequest{Body: &model.OperateKeyRequestBody{KeyId: h256}}); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{mac, strings.Repeat("0", 64)} {
		_, err := verifyMAC(t, c, h256, "HMAC_SHA_256", msg, m)
		wantError(t, err, 400, "KMS.0209")
	}
	_, err = generateMAC(t, c, h256, "HMAC_SHA_256", msg)
	wantError(t, err, 400, "KMS.0209")
	if _, err := c.DeleteKey(&model.DeleteKeyRequest{Body: &model.ScheduleKeyDeletionRequestBody{KeyId: h256, PendingDays: "7"}}); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{mac, strings.Repeat("0", 64)} {
		_, err := verifyMAC(t, c, h256, "HMAC_SHA_256", msg, m)
		wantError(t, err, 400, "KMS.0210")
	}
}

// TestMACKnownAnswer checks generate-mac against crypto/hmac with the
// key's own material, for every HMAC spec.
func TestMACKnownAnswer(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	msg := []byte("audit: HMAC known answer")
	for spec, tc := range map[string]struct {
		alg string
		h   func() hash.Hash
	}{
		"HMAC_256": {"HMAC_SHA_256", sha256.New}, "HMAC_384": {"HMAC_SHA_384", sha512.New384},
		"HMAC_512": {"HMAC_SHA_512", sha512.New}, "HMAC_SM3": {"HMAC_SM3", sm3.New},
	} {
		t.Run(spec, func(t *testing.T) {
			t.Parallel()
			id := createKeyRaw(t, e, spec, "GENERATE_VERIFY_MAC")
			got, err := generateMAC(t, c, id, tc.alg, msg)
			if err != nil {
				t.Fatal(err)
			}
			m := hmac.New(tc.h, serverMaterial(t, e, id))
			m.Write(msg)
			if want := hex.EncodeToString(m.Sum(nil)); got != want {
				t.Errorf("mac %s, want crypto/hmac's %s", got, want)
			}
		})
	}
}

// TestMACRawRequests sends the MAC requests the SDK cannot.
func TestMACRawRequests(t *testing.T) {
	t.Parallel()
	e := start(t)
	id := createKeyRaw(t, e, "HMAC_256", "GENERATE_VERIFY_MAC")
	for _, tt := range []struct {
		name, op, body string
		status         int
		code           string
	}{
		{"algorithm missing", "generate-mac", `{"key_id":"` + id + `","message":"bQ=="}`, 400, "KMS.0204"},
		{"algorithm unknown", "generate-mac", `{"key_id":"` + id + `","mac_algorithm":"HMAC_MD5","message":"bQ=="}`, 400, "KMS.0308"},
		{"message missing", "generate-mac", `{"key_id":"` + id + `","mac_algorithm":"HMAC_SHA_256"}`, 400, "KMS.0204"},
		{"message not base64", "generate-mac", `{"key_id":"` + id + `","mac_algorithm":"HMAC_SHA_256","message":"m"}`, 400, "KMS.0308"},
		{"message a number", "generate-mac", `{"key_id":"` + id + `","mac_algorithm":"HMAC_SHA_256","message":1}`, 400, "KMS.0202"},
		{"key_id malformed", "generate-mac", `{"key_id":"k","mac_algorithm":"HMAC_SHA_256","message":"bQ=="}`, 400, "KMS.0205"},
		{"mac missing", "verify-mac", `{"key_id":"` + id + `","mac_algorithm":"HMAC_SHA_256","message":"bQ=="}`, 400, "KMS.0204"},
		{"mac a boolean", "verify-mac", `{"key_id":"` + id + `","mac_algorithm":"HMAC_SHA_256","message":"bQ==","mac":true}`, 400, "KMS.0202"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, h, b := rawCall(t, e, "POST", e.projectPath(tt.op), []byte(tt.body+"\n"), e.ids.AdminAK, e.ids.AdminSK)
			wantRawError(t, status, h, b, tt.status, tt.code)
		})
	}
	// generate-mac's answer: three JSON strings.
	status, _, b := rawCall(t, e, "POST", e.projectPath("generate-mac"), []byte(`{"key_id":"`+id+`","mac_algorithm":"HMAC_SHA_256","message":"bQ=="}`+"\n"), e.ids.AdminAK, e.ids.AdminSK)
	var v map[string]any
	if err := json.Unmarshal(b, &v); status != 200 || err != nil {
		t.Fatalf("generate-mac: %d %s", status, b)
	}
	if mac, ok := v["mac"].(string); !ok || len(mac) != 64 || v["key_id"] != id || v["mac_algorithm"] != "HMAC_SHA_256" {
		t.Errorf("got %s", b)
	}
}
