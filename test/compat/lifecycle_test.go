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

// keyDetailsMembers are the members of KeyDetails (reference §4), every
// one a JSON string.
var keyDetailsMembers = []string{
	"key_id", "domain_id", "key_alias", "realm", "key_spec", "key_usage", "key_description",
	"creation_date", "scheduled_deletion_date", "key_state", "default_key_flag", "key_type",
	"expiration_time", "origin", "key_rotation_enabled", "sys_enterprise_project_id", "keystore_id",
}

// TestLifecycleWireTypes checks the exact JSON types of every
// response of section B on the wire (a number where the SDK expects a
// string, or the reverse, fails the whole SDK call).
func TestLifecycleWireTypes(t *testing.T) {
	e := start(t)
	c := e.admin()

	created := rawOK(t, e, "POST", e.projectPath("create-key"), `{"key_alias":"`+newAlias()+`"}`)
	info, ok := created["key_info"].(map[string]any)
	if !ok {
		t.Fatalf("create-key answered %v, want key_info", created)
	}
	// KeKInfo (reference §4) has key_id, domain_id and region_id, the
	// region the key lives in: the realm of its KeyDetails.
	wantStrings(t, "create-key key_info", info, "key_id", "domain_id", "region_id")
	if info["region_id"] != "cn-north-4" {
		t.Errorf("got region_id %v, want the server's region cn-north-4", info["region_id"])
	}
	id, _ := info["key_id"].(string)
	if info["domain_id"] != e.ids.AccountID {
		t.Errorf("got domain_id %v, want %s", info["domain_id"], e.ids.AccountID)
	}

	d := rawOK(t, e, "POST", e.projectPath("describe-key"), `{"key_id":"`+id+`"}`)
	ki, _ := d["key_info"].(map[string]any)
	wantStrings(t, "describe-key key_info", ki, keyDetailsMembers...)

	l := rawOK(t, e, "POST", e.projectPath("list-keys"), `{}`)
	if _, ok := l["total"].(float64); !ok {
		t.Errorf("list-keys total = %#v, want a JSON number", l["total"])
	}
	wantStrings(t, "list-keys", l, "next_marker", "truncated")
	keys, _ := l["keys"].([]any)
	details, _ := l["key_details"].([]any)
	if len(keys) != 1 || len(details) != 1 {
		t.Fatalf("list-keys answered %v, want one key", l)
	}
	if _, ok := keys[0].(string); !ok {
		t.Errorf("list-keys keys[0] = %#v, want a JSON string", keys[0])
	}
	wantStrings(t, "list-keys key_details[0]", details[0].(map[string]any), keyDetailsMembers...)

	// An empty list is [] and [], not null (the SDK keeps a nil slice).
	l = rawOK(t, e, "POST", e.projectPath("list-keys"), `{"key_state":"4"}`)
	if ks, ok := l["keys"].([]any); !ok || len(ks) != 0 {
		t.Errorf("empty list-keys: keys = %#v, want []", l["keys"])
	}
	if ds, ok := l["key_details"].([]any); !ok || len(ds) != 0 {
		t.Errorf("empty list-keys: key_details = %#v, want []", l["key_details"])
	}

	for _, op := range []struct{ op, state string }{{"disable-key", "3"}, {"enable-key", "2"}} {
		m := rawOK(t, e, "POST", e.projectPath(op.op), `{"key_id":"`+id+`"}`)
		ki, ok := m["key_info"].(map[string]any)
		if !ok {
			t.Fatalf("%s answered %v, want key_info", op.op, m)
		}
		wantStrings(t, op.op+" key_info", ki, "key_id", "key_state")
		if ki["key_state"] != op.state {
			t.Errorf("%s: got key_state %v, want %q", op.op, ki["key_state"], op.state)
		}
	}
	for _, op := range []struct{ op, body, state string }{
		{"schedule-key-deletion", `{"key_id":"` + id + `","pending_days":"7"}`, "4"},
		{"cancel-key-deletion", `{"key_id":"` + id + `"}`, "3"},
	} {
		m := rawOK(t, e, "POST", e.projectPath(op.op), op.body)
		wantStrings(t, op.op, m, "key_id", "key_state")
		if m["key_state"] != op.state || m["key_id"] != id {
			t.Errorf("%s: got %v, want key_id %s key_state %q (flat)", op.op, m, id, op.state)
		}
	}
	m := rawOK(t, e, "POST", e.projectPath("update-key-alias"), `{"key_id":"`+id+`","key_alias":"audit-alias-x"}`)
	ki, _ = m["key_info"].(map[string]any)
	wantStrings(t, "update-key-alias key_info", ki, "key_id", "key_alias")
	m = rawOK(t, e, "POST", e.projectPath("update-key-description"), `{"key_id":"`+id+`","key_description":"d"}`)
	ki, _ = m["key_info"].(map[string]any)
	wantStrings(t, "update-key-description key_info", ki, "key_id", "key_description")

	// Every answer decodes through the SDK too.
	resp, err := c.CreateKey(&model.CreateKeyRequest{Body: &model.CreateKeyRequestBody{KeyAlias: newAlias()}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.KeyInfo == nil || val(resp.KeyInfo.RegionId) != "cn-north-4" || val(resp.KeyInfo.DomainId) != e.ids.AccountID {
		t.Errorf("CreateKey answered %v, want key_info with domain_id %s and region_id cn-north-4", resp, e.ids.AccountID)
	}
	if d := describe(t, c, id); val(d.KeyAlias) != "audit-alias-x" || val(d.KeyDescription) != "d" || val(d.KeyState) != stateDisabled {
		t.Errorf("got %s/%s/%s, want audit-alias-x/d/3", val(d.KeyAlias), val(d.KeyDescription), val(d.KeyState))
	}
}

// TestLifecycleRawRequests checks each request member of section B
// for its documented error: wrong JSON type → KMS.0202, missing → KMS.0204,
// malformed sequence → KMS.0206, bad enum → KMS.0308 (KMS.1110 for key_spec).
func TestLifecycleRawRequests(t *testing.T) {
	e := start(t)
	id := newKey(t, e.admin())
	k := `"key_id":"` + id + `"`
	tests := []struct {
		name, op, body string
		status         int
		code           string
	}{
		// Malformed bodies.
		{"create empty body", "create-key", "\x00", 400, "KMS.0204"},
		{"create {}", "create-key", `{}`, 400, "KMS.0204"},
		{"create not JSON", "create-key", `{"key_alias":`, 400, "KMS.0202"},
		{"create array", "create-key", `[]`, 400, "KMS.0202"},
		{"create alias null", "create-key", `{"key_alias":null}`, 400, "KMS.0204"},
		{"create alias number", "create-key", `{"key_alias":5}`, 400, "KMS.0202"},
		{"create key_spec number", "create-key", `{"key_alias":"a1","key_spec":1}`, 400, "KMS.0202"},
		{"create key_usage bool", "create-key", `{"key_alias":"a1","key_usage":true}`, 400, "KMS.0202"},
		{"create key_description number", "create-key", `{"key_alias":"a1","key_description":3}`, 400, "KMS.0202"},
		{"create origin number", "create-key", `{"key_alias":"a1","origin":0}`, 400, "KMS.0202"},
		{"create enterprise_project_id number", "create-key", `{"key_alias":"a1","enterprise_project_id":0}`, 400, "KMS.0202"},
		{"create keystore_id number", "create-key", `{"key_alias":"a1","keystore_id":0}`, 400, "KMS.0202"},
		{"create sequence number", "create-key", `{"key_alias":"a1","sequence":1}`, 400, "KMS.0202"},
		{"create sequence short", "create-key", `{"key_alias":"a1","sequence":"abc"}`, 400, "KMS.0206"},
		{"create unknown key_spec", "create-key", `{"key_alias":"a1","key_spec":"AES_128"}`, 400, "KMS.1110"},
		{"create lower-case key_spec", "create-key", `{"key_alias":"a1","key_spec":"aes_256"}`, 400, "KMS.1110"},
		{"create unknown key_usage", "create-key", `{"key_alias":"a1","key_usage":"WRAP"}`, 400, "KMS.0308"},
		{"create unknown origin", "create-key", `{"key_alias":"a1","origin":"hsm"}`, 400, "KMS.0308"},
		{"create empty alias", "create-key", `{"key_alias":""}`, 400, "KMS.1101"},
		{"create HMAC with SIGN_VERIFY", "create-key", `{"key_alias":"a1","key_spec":"HMAC_256","key_usage":"SIGN_VERIFY"}`, 400, "KMS.1115"},
		{"create external RSA", "create-key", `{"key_alias":"a1","key_spec":"RSA_2048","origin":"external"}`, 400, "KMS.0308"},
		// key_id operations.
		{"describe empty", "describe-key", "\x00", 400, "KMS.0204"},
		{"describe key_id number", "describe-key", `{"key_id":1}`, 400, "KMS.0202"},
		{"describe key_id empty", "describe-key", `{"key_id":""}`, 400, "KMS.0204"},
		{"describe sequence short", "describe-key", `{` + k + `,"sequence":"1"}`, 400, "KMS.0206"},
		{"enable missing key_id", "enable-key", `{}`, 400, "KMS.0204"},
		{"disable key_id array", "disable-key", `{"key_id":["` + id + `"]}`, 400, "KMS.0202"},
		{"cancel key_id null", "cancel-key-deletion", `{"key_id":null}`, 400, "KMS.0204"},
		{"schedule pending_days float", "schedule-key-deletion", `{` + k + `,"pending_days":7.0}`, 400, "KMS.0202"},
		{"schedule pending_days missing", "schedule-key-deletion", `{` + k + `}`, 400, "KMS.0204"},
		{"schedule pending_days empty", "schedule-key-deletion", `{` + k + `,"pending_days":""}`, 400, "KMS.0204"},
		{"schedule pending_days fraction", "schedule-key-deletion", `{` + k + `,"pending_days":"7.5"}`, 400, "KMS.1401"},
		{"schedule key_id missing", "schedule-key-deletion", `{"pending_days":"7"}`, 400, "KMS.0204"},
		{"update alias missing", "update-key-alias", `{` + k + `}`, 400, "KMS.0204"},
		{"update alias number", "update-key-alias", `{` + k + `,"key_alias":1}`, 400, "KMS.0202"},
		{"update description missing", "update-key-description", `{` + k + `}`, 400, "KMS.0204"},
		{"update description number", "update-key-description", `{` + k + `,"key_description":1}`, 400, "KMS.0202"},
		{"update description malformed key_id", "update-key-description", `{"key_id":"x","key_description":"d"}`, 400, "KMS.0205"},
		// list-keys.
		{"list limit float", "list-keys", `{"limit":10.0}`, 400, "KMS.0202"},
		{"list marker negative integer", "list-keys", `{"marker":-1}`, 400, "KMS.0202"},
		{"list key_state number", "list-keys", `{"key_state":2}`, 400, "KMS.0202"},
		{"list key_spec number", "list-keys", `{"key_spec":1}`, 400, "KMS.0202"},
		{"list enterprise_project_id number", "list-keys", `{"enterprise_project_id":0}`, 400, "KMS.0202"},
		{"list unknown key_state", "list-keys", `{"key_state":"9"}`, 400, "KMS.0308"},
		{"list unknown key_spec", "list-keys", `{"key_spec":"DES"}`, 400, "KMS.0308"},
		{"list limit negative", "list-keys", `{"limit":"-1"}`, 400, "KMS.1601"},
		{"list marker not a number", "list-keys", `{"marker":"abc"}`, 400, "KMS.1602"},
		{"list sequence short", "list-keys", `{"sequence":"x"}`, 400, "KMS.0206"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rawErr(t, e, tt.op, tt.body, tt.status, tt.code)
		})
	}
	// None of the refused create-key requests made a key.
	if got := instances(t, e.admin()); got != 1 {
		t.Errorf("got instance_num %d, want 1", got)
	}
	// A 36-character sequence is accepted everywhere.
	for _, op := range []struct{ op, body string }{
		{"create-key", `{"key_alias":"` + newAlias() + `","sequence":"` + validSequence + `"}`},
		{"describe-key", `{` + k + `,"sequence":"` + validSequence + `"}`},
		{"list-keys", `{"sequence":"` + validSequence + `"}`},
		{"disable-key", `{` + k + `,"sequence":"` + validSequence + `"}`},
		{"enable-key", `{` + k + `,"sequence":"` + validSequence + `"}`},
		{"update-key-alias", `{` + k + `,"key_alias":"` + newAlias() + `","sequence":"` + validSequence + `"}`},
		{"update-key-description", `{` + k + `,"key_description":"x","sequence":"` + validSequence + `"}`},
		{"schedule-key-deletion", `{` + k + `,"pending_days":"7","sequence":"` + validSequence + `"}`},
		{"cancel-key-deletion", `{` + k + `,"sequence":"` + validSequence + `"}`},
	} {
		rawOK(t, e, "POST", e.projectPath(op.op), op.body)
	}
}

// TestReaderRefusedLifecycleWrites checks that the read-only user may read keys
// and counts but gets 403 KMS.0307 for every change of section B, and that
// nothing changes.
func TestReaderRefusedLifecycleWrites(t *testing.T) {
	e := start(t)
	c, r := e.admin(), e.reader()
	id := newKey(t, c)
	pending := newKey(t, c)
	if _, err := scheduleDeletion(c, pending, "7"); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		call func() error
	}{
		{"CreateKey", func() error {
			_, err := r.CreateKey(&model.CreateKeyRequest{Body: &model.CreateKeyRequestBody{KeyAlias: newAlias()}})
			return err
		}},
		{"DisableKey", func() error { _, err := disableKey(r, id); return err }},
		{"EnableKey", func() error { _, err := enableKey(r, id); return err }},
		{"DeleteKey", func() error { _, err := scheduleDeletion(r, id, "7"); return err }},
		{"CancelKeyDeletion", func() error { _, err := cancelDeletion(r, pending); return err }},
		{"UpdateKeyAlias", func() error { _, err := updateAlias(r, id, newAlias()); return err }},
		{"UpdateKeyDescription", func() error { _, err := updateDescription(r, id, "reader"); return err }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, tt.call(), 403, "KMS.0307")
		})
	}
	wantState(t, c, id, stateEnabled)
	wantState(t, c, pending, statePendingDeletion)
	if got := instances(t, r); got != 2 {
		t.Errorf("reader: got instance_num %d, want 2", got)
	}
	if d := describe(t, r, id); val(d.KeyId) != id {
		t.Errorf("reader: describe-key answered %v", d)
	}
	resp := listKeys(t, r, model.ListKeysRequestBody{})
	if ids := listedIDs(t, resp); !slices.Equal(sorted(ids), sorted([]string{id, pending})) {
		t.Errorf("reader: got keys %v, want %v", ids, []string{id, pending})
	}
	// The reader's refusal comes before the body is looked at.
	st, h, b := rawCall(t, e, "POST", e.projectPath("create-key"), []byte(`{`), e.ids.ReaderAK, e.ids.ReaderSK)
	wantRawError(t, st, h, b, 403, "KMS.0307")
}

// TestCreateKeyEverySpec creates a key of every spec kmsd offers,
// including those outside the SDK's enum (HMAC, KEY_AGREEMENT, created with
// raw requests as the real service allows), and checks what describe-key
// and list-keys report through the SDK.
func TestCreateKeyEverySpec(t *testing.T) {
	e := start(t)
	c := e.admin()
	tests := []struct {
		spec, usage, wantUsage string
	}{
		{"HMAC_256", "", "GENERATE_VERIFY_MAC"},
		{"HMAC_384", "GENERATE_VERIFY_MAC", "GENERATE_VERIFY_MAC"},
		{"HMAC_512", "", "GENERATE_VERIFY_MAC"},
		{"HMAC_SM3", "", "GENERATE_VERIFY_MAC"},
		{"EC_P256", "KEY_AGREEMENT", "KEY_AGREEMENT"},
		{"SECP256K1", "KEY_AGREEMENT", "KEY_AGREEMENT"},
		{"SM2", "KEY_AGREEMENT", "KEY_AGREEMENT"},
		{"RSA_3072", "SIGN_VERIFY", "SIGN_VERIFY"},
	}
	var ids []string
	for _, tt := range tests {
		t.Run(tt.spec+" "+tt.usage, func(t *testing.T) {
			body := `{"key_alias":"` + newAlias() + `","key_spec":"` + tt.spec + `"`
			if tt.usage != "" {
				body += `,"key_usage":"` + tt.usage + `"`
			}
			m := rawOK(t, e, "POST", e.projectPath("create-key"), body+"}")
			id, _ := m["key_info"].(map[string]any)["key_id"].(string)
			ids = append(ids, id)
			d := describe(t, c, id)
			if enumValue(d.KeySpec) != tt.spec || enumValue(d.KeyUsage) != tt.wantUsage || val(d.KeyState) != stateEnabled {
				t.Errorf("got %s/%s/%s, want %s/%s/%s", enumValue(d.KeySpec), enumValue(d.KeyUsage), val(d.KeyState), tt.spec, tt.wantUsage, stateEnabled)
			}
		})
	}
	// Usages a spec does not allow.
	for _, tt := range []struct{ spec, usage, code string }{
		{"AES_256", "KEY_AGREEMENT", "KMS.0308"},
		{"RSA_2048", "KEY_AGREEMENT", "KMS.0308"},
		{"RSA_2048", "GENERATE_VERIFY_MAC", "KMS.0308"},
		{"HMAC_256", "ENCRYPT_DECRYPT", "KMS.0308"},
		{"SM4", "GENERATE_VERIFY_MAC", "KMS.0308"},
	} {
		rawErr(t, e, "create-key", `{"key_alias":"`+newAlias()+`","key_spec":"`+tt.spec+`","key_usage":"`+tt.usage+`"}`, 400, tt.code)
	}
	// list-keys ALL lists them; a spec outside the SDK enum filters too.
	all := listedIDs(t, listKeys(t, c, model.ListKeysRequestBody{KeySpec: ptr(model.GetListKeysRequestBodyKeySpecEnum().ALL)}))
	if !slices.Equal(sorted(all), sorted(ids)) {
		t.Errorf("got keys %v, want %v", all, ids)
	}
	m := rawOK(t, e, "POST", e.projectPath("list-keys"), `{"key_spec":"HMAC_256"}`)
	if m["total"] != float64(1) {
		t.Errorf("key_spec HMAC_256: got total %v, want 1", m["total"])
	}
	if got := instances(t, c); got != int32(len(tests)) {
		t.Errorf("got instance_num %d, want %d", got, len(tests))
	}
}

// TestExternalKeyLifecycle follows a key of origin external through
// the lifecycle: pending import "5" can be scheduled for deletion, and
// cancelling returns it to "5"; describe-key reports it fully.
func TestExternalKeyLifecycle(t *testing.T) {
	e := start(t)
	c := e.admin()
	origins := model.GetCreateKeyRequestBodyOriginEnum()
	specs := model.GetCreateKeyRequestBodyKeySpecEnum()
	for _, spec := range []model.CreateKeyRequestBodyKeySpec{specs.AES_256, specs.SM4} {
		t.Run(spec.Value(), func(t *testing.T) {
			id := createKey(t, c, model.CreateKeyRequestBody{KeySpec: &spec, Origin: &origins.EXTERNAL})
			d := describe(t, c, id)
			if val(d.KeyState) != statePendingImport || enumValue(d.Origin) != "external" || enumValue(d.KeySpec) != spec.Value() ||
				val(d.ExpirationTime) != "" || val(d.ScheduledDeletionDate) != "" || val(d.KeyRotationEnabled) != "false" {
				t.Errorf("got %+v", d)
			}
			// Alias and description can change while pending import.
			if _, err := updateDescription(c, id, "pending import"); err != nil {
				t.Errorf("UpdateKeyDescription: %v", err)
			}
			if _, err := updateAlias(c, id, newAlias()); err != nil {
				t.Errorf("UpdateKeyAlias: %v", err)
			}
			resp, err := scheduleDeletion(c, id, "7")
			if err != nil {
				t.Fatal(err)
			}
			if val(resp.KeyState) != statePendingDeletion {
				t.Errorf("DeleteKey: got key_state %v, want 4", val(resp.KeyState))
			}
			cr, err := cancelDeletion(c, id)
			if err != nil {
				t.Fatal(err)
			}
			if val(cr.KeyState) != statePendingImport {
				t.Errorf("CancelKeyDeletion: got key_state %v, want 5", val(cr.KeyState))
			}
			wantState(t, c, id, statePendingImport)
		})
	}
	// list-keys filters state 5.
	resp := listKeys(t, c, model.ListKeysRequestBody{KeyState: ptr(statePendingImport), KeySpec: ptr(model.GetListKeysRequestBodyKeySpecEnum().ALL)})
	if resp.Total == nil || *resp.Total != 2 {
		t.Errorf("key_state 5: got total %v, want 2", resp.Total)
	}
}

// TestListKeysPagingFiltered pages through a filtered list: total,
// truncated and next_marker count the matches of the filter only.
func TestListKeysPagingFiltered(t *testing.T) {
	e := start(t)
	c := e.admin()
	specs := model.GetCreateKeyRequestBodyKeySpecEnum()
	var sm4 []string
	for i := range 5 {
		newKey(t, c)
		sm4 = append(sm4, createKey(t, c, model.CreateKeyRequestBody{KeySpec: &specs.SM4}))
		_ = i
	}
	ls := model.GetListKeysRequestBodyKeySpecEnum()
	var seen []string
	marker := ""
	for page := 0; ; page++ {
		body := model.ListKeysRequestBody{KeySpec: &ls.SM4, Limit: ptr("2")}
		if marker != "" {
			body.Marker = ptr(marker)
		}
		resp := listKeys(t, c, body)
		seen = append(seen, listedIDs(t, resp)...)
		if resp.Total == nil || *resp.Total != 5 {
			t.Errorf("page %d: got total %v, want 5", page, resp.Total)
		}
		marker = val(resp.NextMarker)
		if enumValue(resp.Truncated) == "false" {
			if marker != "" {
				t.Errorf("last page: got next_marker %q, want \"\"", marker)
			}
			break
		}
		if page > 5 {
			t.Fatal("list-keys never ends")
		}
	}
	if !slices.Equal(seen, sm4) {
		t.Errorf("got %v across the pages, want %v in creation order", seen, sm4)
	}
	// limit 1000 is allowed, and the largest page.
	if resp := listKeys(t, c, model.ListKeysRequestBody{KeySpec: &ls.ALL, Limit: ptr("1000")}); len(listedIDs(t, resp)) != 10 {
		t.Errorf("limit 1000: got %d keys, want 10", len(*resp.Keys))
	}
}

// TestDefaultKeyOps checks the default key's remaining lifecycle
// operations: enabling an enabled default key is KMS.0211 or KMS.1201, and
// cancel-key-deletion on it is refused; describe and list work.
func TestDefaultKeyOps(t *testing.T) {
	e := start(t)
	c := e.admin()
	k, err := e.srv.KMS.CreateDefaultKey(t.Context(), e.ids.ProjectID, e.ids.AccountID, "evs")
	if err != nil {
		t.Fatal(err)
	}
	_, err = cancelDeletion(c, k.KeyID)
	se := sdkError(t, err)
	if se.StatusCode != 400 || (se.ErrorCode != "KMS.0211" && se.ErrorCode != "KMS.1501") {
		t.Errorf("CancelKeyDeletion of a default key: got %d %s, want 400 KMS.0211 or KMS.1501", se.StatusCode, se.ErrorCode)
	}
	_, err = enableKey(c, k.KeyID)
	se = sdkError(t, err)
	if se.StatusCode != 400 || (se.ErrorCode != "KMS.0211" && se.ErrorCode != "KMS.1201") {
		t.Errorf("EnableKey of a default key: got %d %s, want 400 KMS.0211 or KMS.1201", se.StatusCode, se.ErrorCode)
	}
	// user-quotas CMK used excludes it; the quota answer decodes.
	if got := quotas(t, c)["CMK"]; got[0] != 0 {
		t.Errorf("got CMK used %d, want 0", got[0])
	}
}

// TestListKeysEnterpriseProject checks list-keys' enterprise_project_id
// filter (reference §5.B ListKeys): "all" or absent lists every key, "0"
// the keys of the default enterprise project, an id the keys of that one.
func TestListKeysEnterpriseProject(t *testing.T) {
	e := start(t)
	c := e.admin()
	const eps1, eps2 = "3b8e3a0c-6f1e-4a8e-9c1d-2f7b9e5a4c11", "7d0f5b2e-1c3a-4e9b-8a6d-5e4c3b2a1f00"
	k0 := newKey(t, c)
	k1 := createKey(t, c, model.CreateKeyRequestBody{EnterpriseProjectId: ptr(eps1)})
	k2 := createKey(t, c, model.CreateKeyRequestBody{EnterpriseProjectId: ptr(eps2)})
	k1b := createKey(t, c, model.CreateKeyRequestBody{EnterpriseProjectId: ptr(eps1)})
	if got := val(describe(t, c, k1).SysEnterpriseProjectId); got != eps1 {
		t.Errorf("got sys_enterprise_project_id %q, want %q", got, eps1)
	}
	for _, tt := range []struct {
		name string
		eps  *string
		want []string
	}{
		{"absent", nil, []string{k0, k1, k2, k1b}},
		{"all", ptr("all"), []string{k0, k1, k2, k1b}},
		{"0", ptr("0"), []string{k0}},
		{"eps1", ptr(eps1), []string{k1, k1b}},
		{"eps2", ptr(eps2), []string{k2}},
		{"unused", ptr("00000000-0000-4000-8000-000000000000"), nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp := listKeys(t, c, model.ListKeysRequestBody{EnterpriseProjectId: tt.eps, Limit: ptr("1")})
			if resp.Total == nil || int(*resp.Total) != len(tt.want) {
				t.Errorf("got total %v, want %d", val32(resp.Total), len(tt.want))
			}
			var got []string
			marker := ""
			for range 5 {
				body := model.ListKeysRequestBody{EnterpriseProjectId: tt.eps, Limit: ptr("1")}
				if marker != "" {
					body.Marker = ptr(marker)
				}
				resp := listKeys(t, c, body)
				got = append(got, listedIDs(t, resp)...)
				if marker = val(resp.NextMarker); marker == "" {
					break
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got keys %v, want %v", got, tt.want)
			}
		})
	}
}

// TestKeyDetailsReflectChanges checks that KeyDetails follows the
// other areas' changes: key_rotation_enabled becomes the string "true",
// and user-quotas' grant_per_CMK used is the most grants on one key.
func TestKeyDetailsReflectChanges(t *testing.T) {
	e := start(t)
	c := e.admin()
	id := newKey(t, c)
	other := newKey(t, c)
	if _, err := c.EnableKeyRotation(&model.EnableKeyRotationRequest{Body: &model.OperateKeyRequestBody{KeyId: id}}); err != nil {
		t.Fatal(err)
	}
	if got := val(describe(t, c, id).KeyRotationEnabled); got != "true" {
		t.Errorf("got key_rotation_enabled %q, want \"true\"", got)
	}
	for _, kd := range *listKeys(t, c, model.ListKeysRequestBody{}).KeyDetails {
		want := "false"
		if val(kd.KeyId) == id {
			want = "true"
		}
		if got := val(kd.KeyRotationEnabled); got != want {
			t.Errorf("list-keys key %s: got key_rotation_enabled %q, want %q", val(kd.KeyId), got, want)
		}
	}
	for range 3 {
		if _, err := c.CreateGrant(&model.CreateGrantRequest{Body: grantBody(id, e.ids.ReaderID, "describe-key")}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.CreateGrant(&model.CreateGrantRequest{Body: grantBody(other, e.ids.ReaderID, "describe-key")}); err != nil {
		t.Fatal(err)
	}
	if got := quotas(t, c)["grant_per_CMK"]; got != [2]int32{3, 100} {
		t.Errorf("got grant_per_CMK (used, quota) %v, want [3 100]", got)
	}
}
