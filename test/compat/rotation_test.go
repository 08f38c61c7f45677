package compat

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	kms "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2/model"

	"github.com/kmsd/kmsd/internal/ciphertext"
	"github.com/kmsd/kmsd/internal/keyring"
	kmsdkms "github.com/kmsd/kmsd/internal/kms"
	"github.com/kmsd/kmsd/internal/server"
	"github.com/kmsd/kmsd/internal/store/sqlite"
)

// rotStatus is ShowKeyRotationStatus' answer with every member present.
type rotStatus struct {
	enabled  bool
	interval int32
	last     string
	count    int32
}

func rotationStatus(t *testing.T, c *kms.KmsClient, keyID string) rotStatus {
	t.Helper()
	resp, err := c.ShowKeyRotationStatus(&model.ShowKeyRotationStatusRequest{Body: &model.OperateKeyRequestBody{KeyId: keyID}})
	if err != nil {
		t.Fatalf("ShowKeyRotationStatus: %v", err)
	}
	if resp.KeyRotationEnabled == nil || resp.LastRotationTime == nil || resp.NumberOfRotations == nil {
		t.Fatalf("ShowKeyRotationStatus answered %v, want every member", resp)
	}
	// rotation_interval is there exactly while rotation is on (Terraform's
	// provider refuses to update a key whose status carries one with
	// rotation off; docs/compatibility.md).
	if (resp.RotationInterval != nil) != *resp.KeyRotationEnabled {
		t.Fatalf("ShowKeyRotationStatus answered %v: rotation_interval present %v with rotation enabled %v", resp, resp.RotationInterval != nil, *resp.KeyRotationEnabled)
	}
	var interval int32
	if resp.RotationInterval != nil {
		interval = *resp.RotationInterval
	}
	return rotStatus{*resp.KeyRotationEnabled, interval, *resp.LastRotationTime, *resp.NumberOfRotations}
}

func enableRotation(c *kms.KmsClient, keyID string) error {
	_, err := c.EnableKeyRotation(&model.EnableKeyRotationRequest{Body: &model.OperateKeyRequestBody{KeyId: keyID}})
	return err
}

func disableRotation(c *kms.KmsClient, keyID string) error {
	_, err := c.DisableKeyRotation(&model.DisableKeyRotationRequest{Body: &model.OperateKeyRequestBody{KeyId: keyID}})
	return err
}

func rotationInterval(c *kms.KmsClient, keyID string, days int32) error {
	_, err := c.UpdateKeyRotationInterval(&model.UpdateKeyRotationIntervalRequest{Body: &model.UpdateKeyRotationIntervalRequestBody{KeyId: keyID, RotationInterval: days}})
	return err
}

// TestRotationSettingsSDK turns rotation on and off and changes its
// interval through the SDK, and checks get-key-rotation-status and
// KeyDetails' key_rotation_enabled (reference kms-api.md §5.J).
func TestRotationSettingsSDK(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	id := newKey(t, c)
	if got, want := rotationStatus(t, c, id), (rotStatus{false, 0, "", 0}); got != want {
		t.Errorf("new key: got %+v, want %+v", got, want)
	}
	if got := val(describe(t, c, id).KeyRotationEnabled); got != "false" {
		t.Errorf("key_rotation_enabled %q, want \"false\"", got)
	}
	wantError(t, disableRotation(c, id), 400, "KMS.0313")
	wantError(t, rotationInterval(c, id, 90), 400, "KMS.0313")
	if err := enableRotation(c, id); err != nil {
		t.Fatal(err)
	}
	wantError(t, enableRotation(c, id), 400, "KMS.2901")
	if got := val(describe(t, c, id).KeyRotationEnabled); got != "true" {
		t.Errorf("key_rotation_enabled %q, want \"true\"", got)
	}
	for _, days := range []int32{29, 366, 0, -1} {
		wantError(t, rotationInterval(c, id, days), 400, "KMS.3001")
	}
	for _, days := range []int32{30, 365, 90} {
		if err := rotationInterval(c, id, days); err != nil {
			t.Errorf("interval %d: %v", days, err)
		}
	}
	if got, want := rotationStatus(t, c, id), (rotStatus{true, 90, "", 0}); got != want {
		t.Errorf("after enable and update: got %+v, want %+v", got, want)
	}
	if err := disableRotation(c, id); err != nil {
		t.Fatal(err)
	}
	if got, want := rotationStatus(t, c, id), (rotStatus{false, 0, "", 0}); got != want {
		t.Errorf("after disable: got %+v, want %+v", got, want)
	}
	// The interval is kept while rotation is off, and shows again once on.
	if err := enableRotation(c, id); err != nil {
		t.Fatal(err)
	}
	if got, want := rotationStatus(t, c, id), (rotStatus{true, 90, "", 0}); got != want {
		t.Errorf("after enabling again: got %+v, want %+v", got, want)
	}
	if err := disableRotation(c, id); err != nil {
		t.Fatal(err)
	}
	if got := val(describe(t, c, id).KeyRotationEnabled); got != "false" {
		t.Errorf("key_rotation_enabled %q after disable, want \"false\"", got)
	}

	// Readers may read the status only; other accounts see no key.
	r := e.reader()
	if got := rotationStatus(t, r, id); got != (rotStatus{false, 0, "", 0}) {
		t.Errorf("reader: %+v", got)
	}
	wantError(t, enableRotation(r, id), 403, "KMS.0307")
	wantError(t, disableRotation(r, id), 403, "KMS.0307")
	wantError(t, rotationInterval(r, id, 30), 403, "KMS.0307")
	wantError(t, enableRotation(e.admin2(), id), 404, "KMS.0207")
	_, err := e.admin2().ShowKeyRotationStatus(&model.ShowKeyRotationStatusRequest{Body: &model.OperateKeyRequestBody{KeyId: id}})
	wantError(t, err, 404, "KMS.0207")
}

// TestRotationRefusedSDK checks which keys refuse rotation, with the
// reference's codes.
func TestRotationRefusedSDK(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	specs := model.GetCreateKeyRequestBodyKeySpecEnum()
	origins := model.GetCreateKeyRequestBodyOriginEnum()
	def, err := e.srv.KMS.CreateDefaultKey(t.Context(), e.ids.ProjectID, e.ids.AccountID, "evs")
	if err != nil {
		t.Fatal(err)
	}
	// The SDK's CreateKey enum has no HMAC specs (compatibility.md).
	hmac, err := e.srv.KMS.CreateKey(t.Context(), kmsdkms.CreateKeyInput{ProjectID: e.ids.ProjectID, AccountID: e.ids.AccountID, Alias: newAlias(), Spec: "HMAC_256"})
	if err != nil {
		t.Fatal(err)
	}
	pending := newKey(t, c)
	if _, err := c.DeleteKey(&model.DeleteKeyRequest{Body: &model.ScheduleKeyDeletionRequestBody{KeyId: pending, PendingDays: "7"}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		keyID  string
		status int
		code   string
	}{
		{"default key", def.KeyID, 400, "KMS.0211"},
		{"external key", createKey(t, c, model.CreateKeyRequestBody{Origin: &origins.EXTERNAL}), 400, "KMS.0312"},
		{"RSA key", createKey(t, c, model.CreateKeyRequestBody{KeySpec: &specs.RSA_2048}), 400, "KMS.0324"},
		{"EC key", createKey(t, c, model.CreateKeyRequestBody{KeySpec: &specs.EC_P256}), 400, "KMS.0325"},
		{"SM2 key", createKey(t, c, model.CreateKeyRequestBody{KeySpec: &specs.SM2}), 400, "KMS.0325"},
		{"HMAC key", hmac.KeyID, 400, "KMS.0341"},
		{"pending deletion", pending, 400, "KMS.0210"},
		{"unknown key", unknownKeyID, 404, "KMS.0207"},
		{"malformed key id", "not-a-key", 400, "KMS.0205"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, enableRotation(c, tt.keyID), tt.status, tt.code)
			wantError(t, disableRotation(c, tt.keyID), tt.status, tt.code)
			wantError(t, rotationInterval(c, tt.keyID, 90), tt.status, tt.code)
		})
	}
	// A key that cannot rotate still reports its (off) status.
	if got, want := rotationStatus(t, c, def.KeyID), (rotStatus{false, 0, "", 0}); got != want {
		t.Errorf("default key status: got %+v, want %+v", got, want)
	}
	// A disabled key keeps its settings; enabling rotation is allowed.
	disabled := newKey(t, c)
	if _, err := c.DisableKey(&model.DisableKeyRequest{Body: &model.OperateKeyRequestBody{KeyId: disabled}}); err != nil {
		t.Fatal(err)
	}
	if err := enableRotation(c, disabled); err != nil {
		t.Errorf("enabling rotation of a disabled key: %v", err)
	}
}

// ciphertextVersion returns the key version an encrypt-data cipher_text
// names (docs/ciphertext.md).
func ciphertextVersion(t *testing.T, ct string) uint32 {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(ct)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ciphertext.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return b.KeyVersion
}

// rotEncrypt encrypts plaintext with the key and returns the cipher_text.
func rotEncrypt(t *testing.T, c *kms.KmsClient, keyID, plaintext string) string {
	t.Helper()
	resp, err := c.EncryptData(&model.EncryptDataRequest{Body: &model.EncryptDataRequestBody{KeyId: keyID, PlainText: plaintext}})
	if err != nil {
		t.Fatalf("EncryptData: %v", err)
	}
	if val(resp.KeyId) != keyID || resp.CipherText == nil {
		t.Fatalf("EncryptData answered %v", resp)
	}
	return *resp.CipherText
}

// rotDecrypts checks that each cipher_text decrypts to plaintext.
func rotDecrypts(t *testing.T, c *kms.KmsClient, keyID, plaintext string, cts map[string]string) {
	t.Helper()
	for name, ct := range cts {
		resp, err := c.DecryptData(&model.DecryptDataRequest{Body: &model.DecryptDataRequestBody{CipherText: ct}})
		if err != nil {
			t.Errorf("decrypt the ciphertext made %s: %v", name, err)
			continue
		}
		if val(resp.KeyId) != keyID || val(resp.PlainText) != plaintext {
			t.Errorf("decrypt the ciphertext made %s: key %s, plaintext %q", name, val(resp.KeyId), val(resp.PlainText))
		}
	}
}

// TestRotateAndDecryptSDK rotates AES_256 and SM4 keys by hand (what
// `kmsd key rotate` does) and checks through the SDK that ciphertexts
// made before and after the rotation decrypt, that new ciphertexts name
// the new version, and what get-key-rotation-status reports.
func TestRotateAndDecryptSDK(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	specs := model.GetCreateKeyRequestBodyKeySpecEnum()
	for _, spec := range []model.CreateKeyRequestBodyKeySpec{specs.AES_256, specs.SM4} {
		t.Run(spec.Value(), func(t *testing.T) {
			id := createKey(t, c, model.CreateKeyRequestBody{KeySpec: &spec})
			pt := secretText(t, "rotation-"+spec.Value())
			before := rotEncrypt(t, c, id, pt)
			if v := ciphertextVersion(t, before); v != 1 {
				t.Fatalf("ciphertext before rotation names version %d, want 1", v)
			}
			start := time.Now().UnixMilli()
			for i, want := range []uint32{2, 3} {
				k, err := e.srv.KMS.RotateKey(t.Context(), e.ids.ProjectID, id)
				if err != nil {
					t.Fatal(err)
				}
				if k.PrimaryVersion != int(want) {
					t.Fatalf("rotation %d made version %d, want %d", i+1, k.PrimaryVersion, want)
				}
			}
			after := rotEncrypt(t, c, id, pt)
			if v := ciphertextVersion(t, after); v != 3 {
				t.Errorf("ciphertext after two rotations names version %d, want 3", v)
			}
			rotDecrypts(t, c, id, pt, map[string]string{"before the rotations": before, "after them": after})
			st := rotationStatus(t, c, id)
			last, err := strconv.ParseInt(st.last, 10, 64)
			if st.enabled || st.count != 2 || err != nil || last < start-1 || last > time.Now().UnixMilli() {
				t.Errorf("status after two manual rotations: %+v, want off, 2 rotations, a recent last_rotation_time", st)
			}
		})
	}
}

// TestRotationJobSDK lets a second node — its own store connection and
// keyring over the dev server's data directory, with a clock 31 days
// ahead — run the rotation job, as a scheduled rotation in a cluster
// would, and checks the outcome through the SDK on the first node.
func TestRotationJobSDK(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	id, off := newKey(t, c), newKey(t, c)
	if err := enableRotation(c, id); err != nil {
		t.Fatal(err)
	}
	if err := rotationInterval(c, id, 30); err != nil {
		t.Fatal(err)
	}
	pt := secretText(t, "scheduled-rotation")
	before := rotEncrypt(t, c, id, pt)

	cfg := server.DevConfig(e.dir, "127.0.0.1:0", 0)
	root, err := server.LoadRootKey(cfg, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	kr, err := keyring.New(root)
	clear(root)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(t.Context(), cfg.Database.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	node := kmsdkms.New(st, kr, kmsdkms.Config{Region: cfg.Region}, nil)
	node.Now = func() time.Time { return time.Now().Add(29 * 24 * time.Hour) }
	if n, err := node.RotateDueKeys(t.Context()); err != nil || n != 0 {
		t.Fatalf("after 29 days: rotated %d, %v; want 0", n, err)
	}
	node.Now = func() time.Time { return time.Now().Add(31 * 24 * time.Hour) }
	if n, err := node.RotateDueKeys(t.Context()); err != nil || n != 1 {
		t.Fatalf("after 31 days: rotated %d, %v; want 1", n, err)
	}
	if n, err := node.RotateDueKeys(t.Context()); err != nil || n != 0 {
		t.Fatalf("a second run: rotated %d, %v; want 0", n, err)
	}
	// The first node hears of the change (kmsd nodes otherwise see it
	// within the key cache's 30 s lifetime).
	e.srv.KMS.InvalidateKey(e.ids.ProjectID, id)
	after := rotEncrypt(t, c, id, pt)
	if v := ciphertextVersion(t, after); v != 2 {
		t.Errorf("ciphertext after the scheduled rotation names version %d, want 2", v)
	}
	rotDecrypts(t, c, id, pt, map[string]string{"before the rotation": before, "after it": after})
	if got := rotationStatus(t, c, id); !got.enabled || got.interval != 30 || got.count != 1 || got.last == "" {
		t.Errorf("status after the scheduled rotation: %+v", got)
	}
	if got := rotationStatus(t, c, off); got.count != 0 {
		t.Errorf("a key without rotation rotated: %+v", got)
	}
	// The server's own job, on the real clock, finds nothing due.
	if n, err := e.srv.KMS.RotateDueKeys(t.Context()); err != nil || n != 0 {
		t.Errorf("server job now: rotated %d, %v; want 0", n, err)
	}
}

// TestRotationRawRequests sends the rotation requests the SDK cannot:
// wrong JSON types, missing members and out-of-range values
// (compatibility.md "Requests and errors").
func TestRotationRawRequests(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	key := newKey(t, c)
	if err := enableRotation(c, key); err != nil {
		t.Fatal(err)
	}
	k := `"key_id":"` + key + `"`
	p := e.projectPath
	seq := `"sequence":"short"`
	runRawCases(t, e, []rawCase{
		{"enable-rotation no key", "POST", p("enable-key-rotation"), `{}`, 400, "KMS.0204"},
		{"enable-rotation key number", "POST", p("enable-key-rotation"), `{"key_id":1}`, 400, "KMS.0202"},
		{"enable-rotation sequence", "POST", p("enable-key-rotation"), `{` + k + `,` + seq + `}`, 400, "KMS.0206"},
		{"disable-rotation no key", "POST", p("disable-key-rotation"), `{}`, 400, "KMS.0204"},
		{"interval string", "POST", p("update-key-rotation-interval"), `{` + k + `,"rotation_interval":"90"}`, 400, "KMS.0202"},
		{"interval missing", "POST", p("update-key-rotation-interval"), `{` + k + `}`, 400, "KMS.0204"},
		{"interval null", "POST", p("update-key-rotation-interval"), `{` + k + `,"rotation_interval":null}`, 400, "KMS.0204"},
		{"interval bool", "POST", p("update-key-rotation-interval"), `{` + k + `,"rotation_interval":true}`, 400, "KMS.0202"},
		{"interval fraction", "POST", p("update-key-rotation-interval"), `{` + k + `,"rotation_interval":90.5}`, 400, "KMS.3001"},
		{"interval huge", "POST", p("update-key-rotation-interval"), `{` + k + `,"rotation_interval":99999999999}`, 400, "KMS.3001"},
		{"interval 29", "POST", p("update-key-rotation-interval"), `{` + k + `,"rotation_interval":29}`, 400, "KMS.3001"},
		{"interval 366", "POST", p("update-key-rotation-interval"), `{` + k + `,"rotation_interval":366}`, 400, "KMS.3001"},
		{"interval no key", "POST", p("update-key-rotation-interval"), `{"rotation_interval":90}`, 400, "KMS.0204"},
		{"status no key", "POST", p("get-key-rotation-status"), `{}`, 400, "KMS.0204"},
		{"status malformed key", "POST", p("get-key-rotation-status"), `{"key_id":"x"}`, 400, "KMS.0205"},
	})
}

// TestRotationIsolation calls the rotation operations on one account's
// key as the other account (404 KMS.0207, never data) and as the read-only
// user (403 KMS.0307 for every change; reads allowed).
func TestRotationIsolation(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	key := newKey(t, c)
	if err := enableRotation(c, key); err != nil {
		t.Fatal(err)
	}
	checkIsolation(t, e, []isoOp{
		{"EnableKeyRotation", true, func(c *kms.KmsClient) error { return enableRotation(c, key) }},
		{"DisableKeyRotation", true, func(c *kms.KmsClient) error { return disableRotation(c, key) }},
		{"UpdateKeyRotationInterval", true, func(c *kms.KmsClient) error { return rotationInterval(c, key, 90) }},
		{"ShowKeyRotationStatus", false, func(c *kms.KmsClient) error {
			_, err := c.ShowKeyRotationStatus(&model.ShowKeyRotationStatusRequest{Body: &model.OperateKeyRequestBody{KeyId: key}})
			return err
		}},
	})
	// Nothing changed.
	if st := rotationStatus(t, c, key); !st.enabled || st.interval != 365 {
		t.Errorf("rotation %+v", st)
	}
}

// TestRotationWireBodies checks the exact JSON types of the success
// bodies of the rotation operations (reference kms-api.md §5.J), and that
// those without response fields answer no body.
func TestRotationWireBodies(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	key := newKey(t, c)
	k := `"key_id":"` + key + `"`
	for _, op := range []string{"enable-key-rotation", "disable-key-rotation"} {
		if body := rawStatus(t, e, "POST", op, `{`+k+`}`, 200); len(bytes.TrimSpace(body)) != 0 && string(body) != "{}" {
			t.Errorf("%s body %q", op, body)
		}
	}
	rawStatus(t, e, "POST", "enable-key-rotation", `{`+k+`}`, 200)
	if body := rawStatus(t, e, "POST", "update-key-rotation-interval", `{`+k+`,"rotation_interval":30}`, 200); len(bytes.TrimSpace(body)) != 0 && string(body) != "{}" {
		t.Errorf("update-key-rotation-interval body %q", body)
	}
	body := rawStatus(t, e, "POST", "get-key-rotation-status", `{`+k+`}`, 200)
	want := map[string]string{"key_rotation_enabled": "boolean", "rotation_interval": "number", "last_rotation_time": "string", "number_of_rotations": "number"}
	if got := jsonTypes(t, body); !reflect.DeepEqual(got, want) {
		t.Errorf("get-key-rotation-status members %v, want %v (%s)", got, want, body)
	}
	if !strings.Contains(string(body), `"rotation_interval":30`) || !strings.Contains(string(body), `"key_rotation_enabled":true`) {
		t.Errorf("get-key-rotation-status %s", body)
	}
	// Rotated once, the time is Unix milliseconds as a string.
	if _, err := e.srv.KMS.RotateKey(t.Context(), e.ids.ProjectID, key); err != nil {
		t.Fatal(err)
	}
	var st struct {
		Last  string `json:"last_rotation_time"`
		Count int    `json:"number_of_rotations"`
	}
	before := time.Now().UnixMilli()
	if err := json.Unmarshal(rawStatus(t, e, "POST", "get-key-rotation-status", `{`+k+`}`, 200), &st); err != nil {
		t.Fatal(err)
	}
	ms, err := strconv.ParseInt(st.Last, 10, 64)
	if err != nil || st.Count != 1 || ms > before+1000 || ms < before-60000 {
		t.Errorf("after a rotation: %+v", st)
	}

}
