package compat

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	kms "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2/model"
)

// Key states (reference kms-api.md §2.1).
const (
	stateEnabled         = "2"
	stateDisabled        = "3"
	statePendingDeletion = "4"
	statePendingImport   = "5"
)

// unknownKeyID is well formed but names no key.
const unknownKeyID = "00000000-0000-4000-8000-000000000000"

// TestCreateKeySpecs creates a key of every spec of the SDK's CreateKey
// enum, with the default usage and with each allowed explicit usage, and
// checks what describe-key reports (reference kms-api.md §2.2).
func TestCreateKeySpecs(t *testing.T) {
	t.Parallel()
	e := start(t)
	specs := model.GetCreateKeyRequestBodyKeySpecEnum()
	usages := model.GetCreateKeyRequestBodyKeyUsageEnum()
	enc, sig := usages.ENCRYPT_DECRYPT, usages.SIGN_VERIFY
	tests := []struct {
		name      string
		spec      model.CreateKeyRequestBodyKeySpec
		usage     *model.CreateKeyRequestBodyKeyUsage
		wantSpec  string
		wantUsage string
	}{
		{"AES_256 default", specs.AES_256, nil, "AES_256", "ENCRYPT_DECRYPT"},
		{"AES_256 ENCRYPT_DECRYPT", specs.AES_256, &enc, "AES_256", "ENCRYPT_DECRYPT"},
		{"SM4 default", specs.SM4, nil, "SM4", "ENCRYPT_DECRYPT"},
		{"SM4 ENCRYPT_DECRYPT", specs.SM4, &enc, "SM4", "ENCRYPT_DECRYPT"},
		{"RSA_2048 default", specs.RSA_2048, nil, "RSA_2048", "SIGN_VERIFY"},
		{"RSA_2048 ENCRYPT_DECRYPT", specs.RSA_2048, &enc, "RSA_2048", "ENCRYPT_DECRYPT"},
		{"RSA_2048 SIGN_VERIFY", specs.RSA_2048, &sig, "RSA_2048", "SIGN_VERIFY"},
		{"RSA_3072 ENCRYPT_DECRYPT", specs.RSA_3072, &enc, "RSA_3072", "ENCRYPT_DECRYPT"},
		// RSA 4096 generation is slow (especially with -race): one key.
		{"RSA_4096 default", specs.RSA_4096, nil, "RSA_4096", "SIGN_VERIFY"},
		{"EC_P256 default", specs.EC_P256, nil, "EC_P256", "SIGN_VERIFY"},
		{"EC_P256 SIGN_VERIFY", specs.EC_P256, &sig, "EC_P256", "SIGN_VERIFY"},
		{"EC_P384 default", specs.EC_P384, nil, "EC_P384", "SIGN_VERIFY"},
		{"EC_P384 SIGN_VERIFY", specs.EC_P384, &sig, "EC_P384", "SIGN_VERIFY"},
		{"SECP256K1 default", specs.SECP256_K1, nil, "SECP256K1", "SIGN_VERIFY"},
		{"SECP256K1 SIGN_VERIFY", specs.SECP256_K1, &sig, "SECP256K1", "SIGN_VERIFY"},
		{"SM2 default", specs.SM2, nil, "SM2", "SIGN_VERIFY"},
		{"SM2 ENCRYPT_DECRYPT", specs.SM2, &enc, "SM2", "ENCRYPT_DECRYPT"},
		{"SM2 SIGN_VERIFY", specs.SM2, &sig, "SM2", "SIGN_VERIFY"},
	}
	c := e.admin()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			id := createKey(t, c, model.CreateKeyRequestBody{KeySpec: &tt.spec, KeyUsage: tt.usage})
			d := describe(t, c, id)
			if got := enumValue(d.KeySpec); got != tt.wantSpec {
				t.Errorf("got key_spec %v, want %v", got, tt.wantSpec)
			}
			if got := enumValue(d.KeyUsage); got != tt.wantUsage {
				t.Errorf("got key_usage %v, want %v", got, tt.wantUsage)
			}
			if got := val(d.KeyState); got != stateEnabled {
				t.Errorf("got key_state %v, want %v", got, stateEnabled)
			}
			if got := enumValue(d.Origin); got != "kms" {
				t.Errorf("got origin %v, want kms", got)
			}
		})
	}
}

// TestCreateKeyInvalid checks the refusals of create-key: usages a spec
// does not allow, and bad aliases and descriptions.
func TestCreateKeyInvalid(t *testing.T) {
	e := start(t)
	c := e.admin()
	specs := model.GetCreateKeyRequestBodyKeySpecEnum()
	usages := model.GetCreateKeyRequestBodyKeyUsageEnum()
	taken := newAlias()
	createKey(t, c, model.CreateKeyRequestBody{KeyAlias: taken})
	tests := []struct {
		name   string
		body   model.CreateKeyRequestBody
		status int
		code   string
	}{
		{"EC_P256 ENCRYPT_DECRYPT", model.CreateKeyRequestBody{KeySpec: &specs.EC_P256, KeyUsage: &usages.ENCRYPT_DECRYPT}, 400, "KMS.1114"},
		{"EC_P384 ENCRYPT_DECRYPT", model.CreateKeyRequestBody{KeySpec: &specs.EC_P384, KeyUsage: &usages.ENCRYPT_DECRYPT}, 400, "KMS.1114"},
		{"SECP256K1 ENCRYPT_DECRYPT", model.CreateKeyRequestBody{KeySpec: &specs.SECP256_K1, KeyUsage: &usages.ENCRYPT_DECRYPT}, 400, "KMS.1114"},
		{"AES_256 SIGN_VERIFY", model.CreateKeyRequestBody{KeySpec: &specs.AES_256, KeyUsage: &usages.SIGN_VERIFY}, 400, "KMS.1115"},
		{"SM4 SIGN_VERIFY", model.CreateKeyRequestBody{KeySpec: &specs.SM4, KeyUsage: &usages.SIGN_VERIFY}, 400, "KMS.1115"},
		{"alias with a space", model.CreateKeyRequestBody{KeyAlias: "bad alias"}, 400, "KMS.1101"},
		{"alias with a dot", model.CreateKeyRequestBody{KeyAlias: "bad.alias"}, 400, "KMS.1101"},
		{"alias of 256 characters", model.CreateKeyRequestBody{KeyAlias: strings.Repeat("a", 256)}, 400, "KMS.1101"},
		{"alias ending /default", model.CreateKeyRequestBody{KeyAlias: "obs/default"}, 400, "KMS.1101"},
		{"duplicate alias", model.CreateKeyRequestBody{KeyAlias: taken}, 400, "KMS.1104"},
		{"description of 256 characters", model.CreateKeyRequestBody{KeyAlias: newAlias(), KeyDescription: ptr(strings.Repeat("d", 256))}, 400, "KMS.1103"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.body.KeyAlias == "" {
				tt.body.KeyAlias = newAlias()
			}
			_, err := c.CreateKey(&model.CreateKeyRequest{Body: &tt.body})
			wantError(t, err, tt.status, tt.code)
		})
	}
	// None of the refused requests created a key.
	if got := instances(t, c); got != 1 {
		t.Errorf("got instance_num %v after the refusals, want 1", got)
	}
	// The limits themselves are allowed.
	createKey(t, c, model.CreateKeyRequestBody{KeyAlias: strings.Repeat("b", 255), KeyDescription: ptr(strings.Repeat("d", 255))})
}

// TestDescribeKeyDetails checks every KeyDetails member of a new key
// (reference kms-api.md §4) through the SDK, and their JSON types on the
// wire: every member is a JSON string.
func TestDescribeKeyDetails(t *testing.T) {
	e := start(t)
	c := e.admin()
	alias := newAlias()
	before := time.Now()
	id := createKey(t, c, model.CreateKeyRequestBody{KeyAlias: alias, KeyDescription: ptr("the compat key")})
	after := time.Now()
	d := describe(t, c, id)
	want := map[string]string{
		"key_id":                    id,
		"domain_id":                 e.ids.AccountID,
		"key_alias":                 alias,
		"realm":                     "cn-north-4",
		"key_spec":                  "AES_256",
		"key_usage":                 "ENCRYPT_DECRYPT",
		"key_description":           "the compat key",
		"scheduled_deletion_date":   "",
		"key_state":                 stateEnabled,
		"default_key_flag":          "0",
		"key_type":                  "1",
		"expiration_time":           "",
		"origin":                    "kms",
		"key_rotation_enabled":      "false",
		"sys_enterprise_project_id": "0",
		"keystore_id":               "0",
	}
	got := map[string]string{
		"key_id":                    val(d.KeyId),
		"domain_id":                 val(d.DomainId),
		"key_alias":                 val(d.KeyAlias),
		"realm":                     val(d.Realm),
		"key_spec":                  enumValue(d.KeySpec),
		"key_usage":                 enumValue(d.KeyUsage),
		"key_description":           val(d.KeyDescription),
		"scheduled_deletion_date":   val(d.ScheduledDeletionDate),
		"key_state":                 val(d.KeyState),
		"default_key_flag":          val(d.DefaultKeyFlag),
		"key_type":                  val(d.KeyType),
		"expiration_time":           val(d.ExpirationTime),
		"origin":                    enumValue(d.Origin),
		"key_rotation_enabled":      val(d.KeyRotationEnabled),
		"sys_enterprise_project_id": val(d.SysEnterpriseProjectId),
		"keystore_id":               val(d.KeystoreId),
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("got %s %q, want %q", k, got[k], w)
		}
	}
	ms, err := strconv.ParseInt(val(d.CreationDate), 10, 64)
	if err != nil {
		t.Fatalf("got creation_date %q, want Unix milliseconds", val(d.CreationDate))
	}
	if ms < before.UnixMilli() || ms > after.UnixMilli() {
		t.Errorf("got creation_date %d, want between %d and %d", ms, before.UnixMilli(), after.UnixMilli())
	}

	// The wire: {"key_info": {...}} whose members are all JSON strings.
	body := []byte(`{"key_id":"` + id + `"}` + "\n")
	status, _, resp := rawCall(t, e, "POST", e.projectPath("describe-key"), body, e.ids.AdminAK, e.ids.AdminSK)
	if status != 200 {
		t.Fatalf("got status %d (%s), want 200", status, resp)
	}
	var wire struct {
		KeyInfo map[string]any `json:"key_info"`
	}
	if err := json.Unmarshal(resp, &wire); err != nil {
		t.Fatal(err)
	}
	for k := range want {
		if _, ok := wire.KeyInfo[k].(string); !ok {
			t.Errorf("got key_info.%s = %#v, want a JSON string", k, wire.KeyInfo[k])
		}
	}
	if _, ok := wire.KeyInfo["creation_date"].(string); !ok {
		t.Errorf("got key_info.creation_date = %#v, want a JSON string", wire.KeyInfo["creation_date"])
	}
}

// listKeys calls list-keys and fails the test on an error.
func listKeys(t *testing.T, c *kms.KmsClient, body model.ListKeysRequestBody) *model.ListKeysResponse {
	t.Helper()
	resp, err := c.ListKeys(&model.ListKeysRequest{Body: &body})
	if err != nil {
		t.Fatalf("ListKeys %s: %v", body, err)
	}
	return resp
}

// listedIDs returns the keys of a list-keys page, checking that key_details
// names the same keys in the same order.
func listedIDs(t *testing.T, resp *model.ListKeysResponse) []string {
	t.Helper()
	if resp.Keys == nil || resp.KeyDetails == nil {
		t.Fatalf("ListKeys answered %v, want keys and key_details", resp)
	}
	var details []string
	for _, d := range *resp.KeyDetails {
		details = append(details, val(d.KeyId))
	}
	if !slices.Equal(*resp.Keys, details) {
		t.Errorf("got keys %v but key_details for %v, want the same keys", *resp.Keys, details)
	}
	return *resp.Keys
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// TestListKeys checks list-keys' filters: the default AES_256-only spec
// filter, key_spec ALL and one spec, and key_state.
func TestListKeys(t *testing.T) {
	e := start(t)
	c := e.admin()
	specs := model.GetCreateKeyRequestBodyKeySpecEnum()
	aes := []string{newKey(t, c), newKey(t, c), newKey(t, c)}
	sm4 := createKey(t, c, model.CreateKeyRequestBody{KeySpec: &specs.SM4})
	ec := createKey(t, c, model.CreateKeyRequestBody{KeySpec: &specs.EC_P256})
	if _, err := c.DisableKey(&model.DisableKeyRequest{Body: &model.OperateKeyRequestBody{KeyId: aes[0]}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DisableKey(&model.DisableKeyRequest{Body: &model.OperateKeyRequestBody{KeyId: ec}}); err != nil {
		t.Fatal(err)
	}
	// Another account's keys never appear.
	newKey(t, e.admin2())

	ls := model.GetListKeysRequestBodyKeySpecEnum()
	tests := []struct {
		name string
		body model.ListKeysRequestBody
		want []string
	}{
		{"default spec filter is AES_256", model.ListKeysRequestBody{}, aes},
		{"key_spec ALL", model.ListKeysRequestBody{KeySpec: &ls.ALL}, append(slices.Clone(aes), sm4, ec)},
		{"key_spec SM4", model.ListKeysRequestBody{KeySpec: &ls.SM4}, []string{sm4}},
		{"key_spec EC_P256", model.ListKeysRequestBody{KeySpec: &ls.EC_P256}, []string{ec}},
		{"key_spec RSA_2048", model.ListKeysRequestBody{KeySpec: &ls.RSA_2048}, nil},
		{"key_state 3, default spec", model.ListKeysRequestBody{KeyState: ptr(stateDisabled)}, []string{aes[0]}},
		{"key_state 3, ALL", model.ListKeysRequestBody{KeyState: ptr(stateDisabled), KeySpec: &ls.ALL}, []string{aes[0], ec}},
		{"key_state 2, ALL", model.ListKeysRequestBody{KeyState: ptr(stateEnabled), KeySpec: &ls.ALL}, []string{aes[1], aes[2], sm4}},
		{"key_state 4", model.ListKeysRequestBody{KeyState: ptr(statePendingDeletion), KeySpec: &ls.ALL}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := listKeys(t, c, tt.body)
			got := listedIDs(t, resp)
			if !slices.Equal(sorted(got), sorted(tt.want)) {
				t.Errorf("got keys %v, want %v", got, tt.want)
			}
			if resp.Total == nil || int(*resp.Total) != len(tt.want) {
				t.Errorf("got total %v, want %d", resp.Total, len(tt.want))
			}
			if got := enumValue(resp.Truncated); got != "false" {
				t.Errorf("got truncated %v, want false", got)
			}
			if got := val(resp.NextMarker); got != "" {
				t.Errorf("got next_marker %q, want \"\"", got)
			}
		})
	}
	t.Run("bad limit and marker", func(t *testing.T) {
		for _, tt := range []struct {
			body model.ListKeysRequestBody
			code string
		}{
			{model.ListKeysRequestBody{Limit: ptr("0")}, "KMS.1601"},
			{model.ListKeysRequestBody{Limit: ptr("abc")}, "KMS.1601"},
			{model.ListKeysRequestBody{Marker: ptr("-1")}, "KMS.1602"},
		} {
			_, err := c.ListKeys(&model.ListKeysRequest{Body: &tt.body})
			wantError(t, err, 400, tt.code)
		}
	})
}

// TestListKeysPaging walks list-keys across several pages with limit and
// marker.
func TestListKeysPaging(t *testing.T) {
	e := start(t)
	c := e.admin()
	var created []string
	for range 7 {
		created = append(created, newKey(t, c))
	}
	type page struct {
		n          int
		nextMarker string
		truncated  string
	}
	want := []page{{3, "3", "true"}, {3, "6", "true"}, {1, "", "false"}}
	var seen []string
	marker := ""
	for i, w := range want {
		body := model.ListKeysRequestBody{Limit: ptr("3")}
		if marker != "" {
			body.Marker = ptr(marker)
		}
		resp := listKeys(t, c, body)
		ids := listedIDs(t, resp)
		if len(ids) != w.n {
			t.Errorf("page %d: got %d keys, want %d", i, len(ids), w.n)
		}
		if got := val(resp.NextMarker); got != w.nextMarker {
			t.Errorf("page %d: got next_marker %q, want %q", i, got, w.nextMarker)
		}
		if got := enumValue(resp.Truncated); got != w.truncated {
			t.Errorf("page %d: got truncated %v, want %v", i, got, w.truncated)
		}
		if resp.Total == nil || *resp.Total != 7 {
			t.Errorf("page %d: got total %v, want 7", i, resp.Total)
		}
		seen = append(seen, ids...)
		marker = val(resp.NextMarker)
	}
	if !slices.Equal(sorted(seen), sorted(created)) {
		t.Errorf("got keys %v across the pages, want each of %v once", seen, created)
	}
	// A page as large as the total is the last one.
	resp := listKeys(t, c, model.ListKeysRequestBody{Limit: ptr("7")})
	if got := enumValue(resp.Truncated); got != "false" || len(listedIDs(t, resp)) != 7 {
		t.Errorf("limit 7: got truncated %v and %d keys, want false and 7", got, len(*resp.Keys))
	}
	// A marker past the end is an empty last page.
	resp = listKeys(t, c, model.ListKeysRequestBody{Limit: ptr("3"), Marker: ptr("9")})
	if ids := listedIDs(t, resp); len(ids) != 0 || enumValue(resp.Truncated) != "false" || resp.Total == nil || *resp.Total != 7 {
		t.Errorf("marker 9: got keys %v, truncated %v, total %v, want none, false, 7", ids, enumValue(resp.Truncated), resp.Total)
	}

	// The wire types: total is a JSON number, truncated and next_marker
	// JSON strings (reference kms-api.md §5.B ListKeys).
	status, _, b := rawCall(t, e, "POST", e.projectPath("list-keys"), []byte(`{"limit":"3"}`+"\n"), e.ids.AdminAK, e.ids.AdminSK)
	if status != 200 {
		t.Fatalf("got status %d (%s), want 200", status, b)
	}
	var wire map[string]any
	if err := json.Unmarshal(b, &wire); err != nil {
		t.Fatal(err)
	}
	if n, ok := wire["total"].(float64); !ok || n != 7 {
		t.Errorf("got total %#v, want the JSON number 7", wire["total"])
	}
	if wire["truncated"] != "true" {
		t.Errorf("got truncated %#v, want the JSON string \"true\"", wire["truncated"])
	}
	if wire["next_marker"] != "3" {
		t.Errorf("got next_marker %#v, want the JSON string \"3\"", wire["next_marker"])
	}
}

func enableKey(c *kms.KmsClient, id string) (*model.EnableKeyResponse, error) {
	return c.EnableKey(&model.EnableKeyRequest{Body: &model.OperateKeyRequestBody{KeyId: id}})
}

func disableKey(c *kms.KmsClient, id string) (*model.DisableKeyResponse, error) {
	return c.DisableKey(&model.DisableKeyRequest{Body: &model.OperateKeyRequestBody{KeyId: id}})
}

func scheduleDeletion(c *kms.KmsClient, id, days string) (*model.DeleteKeyResponse, error) {
	return c.DeleteKey(&model.DeleteKeyRequest{Body: &model.ScheduleKeyDeletionRequestBody{KeyId: id, PendingDays: days}})
}

func cancelDeletion(c *kms.KmsClient, id string) (*model.CancelKeyDeletionResponse, error) {
	return c.CancelKeyDeletion(&model.CancelKeyDeletionRequest{Body: &model.OperateKeyRequestBody{KeyId: id}})
}

func updateAlias(c *kms.KmsClient, id, alias string) (*model.UpdateKeyAliasResponse, error) {
	return c.UpdateKeyAlias(&model.UpdateKeyAliasRequest{Body: &model.UpdateKeyAliasRequestBody{KeyId: id, KeyAlias: alias}})
}

func updateDescription(c *kms.KmsClient, id, desc string) (*model.UpdateKeyDescriptionResponse, error) {
	return c.UpdateKeyDescription(&model.UpdateKeyDescriptionRequest{Body: &model.UpdateKeyDescriptionRequestBody{KeyId: id, KeyDescription: desc}})
}

// wantState checks a key's key_state through describe-key.
func wantState(t *testing.T, c *kms.KmsClient, id, want string) {
	t.Helper()
	if got := val(describe(t, c, id).KeyState); got != want {
		t.Errorf("got key_state %v, want %v", got, want)
	}
}

// TestEnableDisable walks a key between enabled and disabled and checks
// the refusals of the transitions that are not allowed.
func TestEnableDisable(t *testing.T) {
	e := start(t)
	c := e.admin()
	id := newKey(t, c)

	d, err := disableKey(c, id)
	if err != nil {
		t.Fatal(err)
	}
	if d.KeyInfo == nil || val(d.KeyInfo.KeyId) != id || val(d.KeyInfo.KeyState) != stateDisabled {
		t.Errorf("DisableKey answered %v, want key_info {%s, %s}", d, id, stateDisabled)
	}
	wantState(t, c, id, stateDisabled)

	_, err = disableKey(c, id)
	wantError(t, err, 400, "KMS.1301")
	wantState(t, c, id, stateDisabled)

	en, err := enableKey(c, id)
	if err != nil {
		t.Fatal(err)
	}
	if en.KeyInfo == nil || val(en.KeyInfo.KeyId) != id || val(en.KeyInfo.KeyState) != stateEnabled {
		t.Errorf("EnableKey answered %v, want key_info {%s, %s}", en, id, stateEnabled)
	}
	wantState(t, c, id, stateEnabled)

	_, err = enableKey(c, id)
	wantError(t, err, 400, "KMS.1201")
	wantState(t, c, id, stateEnabled)

	// A key pending deletion cannot be enabled (reference §5.B EnableKey).
	if _, err := scheduleDeletion(c, id, "7"); err != nil {
		t.Fatal(err)
	}
	_, err = enableKey(c, id)
	wantError(t, err, 400, "KMS.0210")
	wantState(t, c, id, statePendingDeletion)
}

// TestScheduleAndCancelDeletion checks schedule-key-deletion's range of
// pending_days, the deletion date, the refusals, and cancel-key-deletion.
func TestScheduleAndCancelDeletion(t *testing.T) {
	e := start(t)
	c := e.admin()
	for _, days := range []int{7, 1096} {
		t.Run(strconv.Itoa(days)+" days", func(t *testing.T) {
			id := newKey(t, c)
			before := time.Now()
			resp, err := scheduleDeletion(c, id, strconv.Itoa(days))
			after := time.Now()
			if err != nil {
				t.Fatal(err)
			}
			if val(resp.KeyId) != id || val(resp.KeyState) != statePendingDeletion {
				t.Errorf("DeleteKey answered {%s, %s}, want {%s, %s}", val(resp.KeyId), val(resp.KeyState), id, statePendingDeletion)
			}
			d := describe(t, c, id)
			if got := val(d.KeyState); got != statePendingDeletion {
				t.Errorf("got key_state %v, want %v", got, statePendingDeletion)
			}
			ms, err := strconv.ParseInt(val(d.ScheduledDeletionDate), 10, 64)
			if err != nil {
				t.Fatalf("got scheduled_deletion_date %q, want Unix milliseconds", val(d.ScheduledDeletionDate))
			}
			span := int64(days) * 24 * int64(time.Hour/time.Millisecond)
			if lo, hi := before.UnixMilli()+span, after.UnixMilli()+span; ms < lo || ms > hi {
				t.Errorf("got scheduled_deletion_date %d, want between %d and %d", ms, lo, hi)
			}

			_, err = scheduleDeletion(c, id, "7")
			wantError(t, err, 400, "KMS.1402")

			cr, err := cancelDeletion(c, id)
			if err != nil {
				t.Fatal(err)
			}
			if val(cr.KeyId) != id || val(cr.KeyState) != stateDisabled {
				t.Errorf("CancelKeyDeletion answered {%s, %s}, want {%s, %s}", val(cr.KeyId), val(cr.KeyState), id, stateDisabled)
			}
			d = describe(t, c, id)
			if val(d.KeyState) != stateDisabled || val(d.ScheduledDeletionDate) != "" {
				t.Errorf("after cancel: got key_state %v, scheduled_deletion_date %q, want %v and \"\"", val(d.KeyState), val(d.ScheduledDeletionDate), stateDisabled)
			}
			_, err = cancelDeletion(c, id)
			wantError(t, err, 400, "KMS.1501")
		})
	}
	t.Run("pending_days out of range", func(t *testing.T) {
		id := newKey(t, c)
		for _, days := range []string{"6", "1097", "abc", "0", "-7"} {
			_, err := scheduleDeletion(c, id, days)
			wantError(t, err, 400, "KMS.1401")
		}
		wantState(t, c, id, stateEnabled)
	})
	t.Run("disabled key", func(t *testing.T) {
		id := newKey(t, c)
		if _, err := disableKey(c, id); err != nil {
			t.Fatal(err)
		}
		if _, err := scheduleDeletion(c, id, "30"); err != nil {
			t.Fatal(err)
		}
		wantState(t, c, id, statePendingDeletion)
	})
	t.Run("cancel an enabled key", func(t *testing.T) {
		_, err := cancelDeletion(c, newKey(t, c))
		wantError(t, err, 400, "KMS.1501")
	})
}

// TestUpdateAliasAndDescription checks update-key-alias and
// update-key-description, their validation and their refusal for keys
// pending deletion.
func TestUpdateAliasAndDescription(t *testing.T) {
	e := start(t)
	c := e.admin()
	id := newKey(t, c)
	other := newAlias()
	createKey(t, c, model.CreateKeyRequestBody{KeyAlias: other})

	alias := newAlias()
	ar, err := updateAlias(c, id, alias)
	if err != nil {
		t.Fatal(err)
	}
	if ar.KeyInfo == nil || val(ar.KeyInfo.KeyId) != id || val(ar.KeyInfo.KeyAlias) != alias {
		t.Errorf("UpdateKeyAlias answered %v, want key_info {%s, %s}", ar, id, alias)
	}
	if got := val(describe(t, c, id).KeyAlias); got != alias {
		t.Errorf("got key_alias %q, want %q", got, alias)
	}
	long := strings.Repeat("x", 255)
	if _, err := updateAlias(c, id, long); err != nil {
		t.Errorf("alias of 255 characters: %v", err)
	}

	for _, tt := range []struct {
		name, alias, code string
	}{
		{"bad charset", "bad alias!", "KMS.1101"},
		{"non-ASCII", "schlüssel", "KMS.1101"},
		{"empty", "", "KMS.1101"},
		{"256 characters", strings.Repeat("y", 256), "KMS.1101"},
		{"ending /default", "kms/default", "KMS.1101"},
		{"duplicate", other, "KMS.1104"},
	} {
		t.Run("alias "+tt.name, func(t *testing.T) {
			_, err := updateAlias(c, id, tt.alias)
			wantError(t, err, 400, tt.code)
			if got := val(describe(t, c, id).KeyAlias); got != long {
				t.Errorf("got key_alias %q after a refused update, want %q", got, long)
			}
		})
	}

	dr, err := updateDescription(c, id, "new description")
	if err != nil {
		t.Fatal(err)
	}
	if dr.KeyInfo == nil || val(dr.KeyInfo.KeyId) != id || val(dr.KeyInfo.KeyDescription) != "new description" {
		t.Errorf("UpdateKeyDescription answered %v, want key_info {%s, new description}", dr, id)
	}
	desc255 := strings.Repeat("é", 255) // 255 characters, 510 bytes
	if _, err := updateDescription(c, id, desc255); err != nil {
		t.Errorf("description of 255 characters: %v", err)
	}
	_, err = updateDescription(c, id, strings.Repeat("d", 256))
	wantError(t, err, 400, "KMS.1103")
	if got := val(describe(t, c, id).KeyDescription); got != desc255 {
		t.Errorf("got key_description %q after a refused update, want %q", got, desc255)
	}
	if _, err := updateDescription(c, id, ""); err != nil {
		t.Errorf("empty description: %v", err)
	}
	if got := val(describe(t, c, id).KeyDescription); got != "" {
		t.Errorf("got key_description %q, want \"\"", got)
	}

	t.Run("pending deletion", func(t *testing.T) {
		pending := newKey(t, c)
		if _, err := scheduleDeletion(c, pending, "7"); err != nil {
			t.Fatal(err)
		}
		_, err := updateAlias(c, pending, newAlias())
		wantError(t, err, 400, "KMS.0210")
		_, err = updateDescription(c, pending, "x")
		wantError(t, err, 400, "KMS.0210")
	})
}

// TestExternalKey checks that an external-origin key starts pending import.
func TestExternalKey(t *testing.T) {
	e := start(t)
	c := e.admin()
	origins := model.GetCreateKeyRequestBodyOriginEnum()
	id := createKey(t, c, model.CreateKeyRequestBody{Origin: &origins.EXTERNAL})
	d := describe(t, c, id)
	if val(d.KeyState) != statePendingImport || enumValue(d.Origin) != "external" {
		t.Errorf("got key_state %v origin %v, want %v external", val(d.KeyState), enumValue(d.Origin), statePendingImport)
	}
	_, err := enableKey(c, id)
	wantError(t, err, 400, "KMS.1201")
	_, err = disableKey(c, id)
	wantError(t, err, 400, "KMS.1301")
}

// keyOps are the lifecycle operations that take one key id, for the
// not-found and cross-account tests.
func keyOps(c *kms.KmsClient) []struct {
	name string
	call func(id string) error
} {
	return []struct {
		name string
		call func(id string) error
	}{
		{"ListKeyDetail", func(id string) error {
			_, err := c.ListKeyDetail(&model.ListKeyDetailRequest{Body: &model.OperateKeyRequestBody{KeyId: id}})
			return err
		}},
		{"EnableKey", func(id string) error { _, err := enableKey(c, id); return err }},
		{"DisableKey", func(id string) error { _, err := disableKey(c, id); return err }},
		{"DeleteKey", func(id string) error { _, err := scheduleDeletion(c, id, "7"); return err }},
		{"CancelKeyDeletion", func(id string) error { _, err := cancelDeletion(c, id); return err }},
		{"UpdateKeyAlias", func(id string) error { _, err := updateAlias(c, id, newAlias()); return err }},
		{"UpdateKeyDescription", func(id string) error { _, err := updateDescription(c, id, "x"); return err }},
	}
}

// TestUnknownAndMalformedKeyID checks 404 KMS.0207 for a well-formed id
// that names no key and 400 KMS.0205 for a malformed one, on every
// lifecycle operation.
func TestUnknownAndMalformedKeyID(t *testing.T) {
	e := start(t)
	c := e.admin()
	for _, op := range keyOps(c) {
		t.Run(op.name, func(t *testing.T) {
			wantError(t, op.call(unknownKeyID), 404, "KMS.0207")
			for _, bad := range []string{"not-a-key-id", strings.ToUpper("0d0466b0-e727-4d9c-b35d-f84bb474a37f"), "0d0466b0-e727-4d9c-b35d-f84bb474a37", "0d0466b0e7274d9cb35df84bb474a37f"} {
				wantError(t, op.call(bad), 400, "KMS.0205")
			}
		})
	}
}

// TestOtherAccountsKey checks that a key of another account is invisible:
// every operation answers 404 KMS.0207, and nothing changes.
func TestOtherAccountsKey(t *testing.T) {
	e := start(t)
	c2 := e.admin2()
	alias := newAlias()
	id := createKey(t, c2, model.CreateKeyRequestBody{KeyAlias: alias, KeyDescription: ptr("account 2")})
	c := e.admin()
	for _, op := range keyOps(c) {
		t.Run(op.name, func(t *testing.T) {
			wantError(t, op.call(id), 404, "KMS.0207")
		})
	}
	// The raw answer carries no data of the key.
	status, h, b := rawCall(t, e, "POST", e.projectPath("describe-key"), []byte(`{"key_id":"`+id+`"}`+"\n"), e.ids.AdminAK, e.ids.AdminSK)
	wantRawError(t, status, h, b, 404, "KMS.0207")
	for _, leak := range []string{alias, "account 2", e.ids.Account2ID, "key_info"} {
		if strings.Contains(string(b), leak) {
			t.Errorf("the 404 body %s contains %q", b, leak)
		}
	}
	resp := listKeys(t, c, model.ListKeysRequestBody{KeySpec: ptr(model.GetListKeysRequestBodyKeySpecEnum().ALL)})
	if ids := listedIDs(t, resp); len(ids) != 0 {
		t.Errorf("got keys %v in the first account, want none", ids)
	}
	// The same alias is free in another project.
	createKey(t, c, model.CreateKeyRequestBody{KeyAlias: alias})
	// The key is untouched.
	d := describe(t, c2, id)
	if val(d.KeyState) != stateEnabled || val(d.KeyAlias) != alias || val(d.KeyDescription) != "account 2" || val(d.DomainId) != e.ids.Account2ID {
		t.Errorf("got key %s/%s/%s/%s, want state %s, alias %s, description \"account 2\", domain %s",
			val(d.KeyState), val(d.KeyAlias), val(d.KeyDescription), val(d.DomainId), stateEnabled, alias, e.ids.Account2ID)
	}
}

// TestDefaultKey checks a service default key (reference kms-api.md §2.3):
// flagged "1", listed, not counted, and refusing every change with
// KMS.0211.
func TestDefaultKey(t *testing.T) {
	e := start(t)
	c := e.admin()
	k, err := e.srv.KMS.CreateDefaultKey(t.Context(), e.ids.ProjectID, e.ids.AccountID, "obs")
	if err != nil {
		t.Fatal(err)
	}
	custom := newKey(t, c)
	d := describe(t, c, k.KeyID)
	if val(d.DefaultKeyFlag) != "1" || val(d.KeyAlias) != "obs/default" || enumValue(d.KeySpec) != "AES_256" || val(d.KeyState) != stateEnabled {
		t.Errorf("got default_key_flag %v, key_alias %v, key_spec %v, key_state %v, want 1, obs/default, AES_256, %v",
			val(d.DefaultKeyFlag), val(d.KeyAlias), enumValue(d.KeySpec), val(d.KeyState), stateEnabled)
	}
	for _, tt := range []struct {
		name string
		call func() error
	}{
		{"DisableKey", func() error { _, err := disableKey(c, k.KeyID); return err }},
		{"DeleteKey", func() error { _, err := scheduleDeletion(c, k.KeyID, "7"); return err }},
		{"UpdateKeyAlias", func() error { _, err := updateAlias(c, k.KeyID, newAlias()); return err }},
		{"UpdateKeyDescription", func() error { _, err := updateDescription(c, k.KeyID, "mine now"); return err }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, tt.call(), 400, "KMS.0211")
		})
	}
	d = describe(t, c, k.KeyID)
	if val(d.KeyState) != stateEnabled || val(d.KeyAlias) != "obs/default" || val(d.KeyDescription) != k.Description {
		t.Errorf("default key changed: got %s/%s/%q", val(d.KeyState), val(d.KeyAlias), val(d.KeyDescription))
	}

	resp := listKeys(t, c, model.ListKeysRequestBody{})
	ids := listedIDs(t, resp)
	if !slices.Equal(sorted(ids), sorted([]string{k.KeyID, custom})) {
		t.Errorf("got keys %v, want the default key %s and %s", ids, k.KeyID, custom)
	}
	for _, kd := range *resp.KeyDetails {
		want := "0"
		if val(kd.KeyId) == k.KeyID {
			want = "1"
		}
		if got := val(kd.DefaultKeyFlag); got != want {
			t.Errorf("key %s: got default_key_flag %v in list-keys, want %v", val(kd.KeyId), got, want)
		}
	}
	if got := instances(t, c); got != 1 {
		t.Errorf("got instance_num %v, want 1 (the default key is not counted)", got)
	}
}
