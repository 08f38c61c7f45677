package compat

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2/model"
)

// This file audits sections A (user-instances, user-quotas), B (key
// lifecycle) and N (API versions) of reference kms-api.md, and the shared
// objects KeyDetails, KeyStatusInfo and Quotas of its §4, against the wire
// contract: request types, required members, enums, limits, error codes,
// response members and their exact JSON types.

// auditSeq is a valid 36-character sequence.
const auditSeq = "919c82d4-8046-4722-9094-35c3c6524cff"

// rawOK sends a signed raw request as the admin and returns the decoded
// JSON object of a 200 answer.
func rawOK(t *testing.T, e *env, method, path, body string) map[string]any {
	t.Helper()
	var b []byte
	if body != "" {
		b = []byte(body + "\n")
	}
	status, _, resp := rawCall(t, e, method, path, b, e.ids.AdminAK, e.ids.AdminSK)
	if status != 200 {
		t.Fatalf("%s %s %s: got %d %s, want 200", method, path, body, status, resp)
	}
	var m map[string]any
	if err := json.Unmarshal(resp, &m); err != nil {
		t.Fatalf("%s %s: answer %q is not a JSON object: %v", method, path, resp, err)
	}
	return m
}

// rawErr sends a signed raw request as the admin and checks its error.
func rawErr(t *testing.T, e *env, op, body string, status int, code string) {
	t.Helper()
	var b []byte
	if body != "\x00" {
		b = []byte(body)
	}
	st, h, resp := rawCall(t, e, "POST", e.projectPath(op), b, e.ids.AdminAK, e.ids.AdminSK)
	wantRawError(t, st, h, resp, status, code)
}

// wantStrings checks that every named member of obj is a JSON string.
func wantStrings(t *testing.T, what string, obj map[string]any, names ...string) {
	t.Helper()
	for _, n := range names {
		v, ok := obj[n]
		if !ok {
			t.Errorf("%s: member %s is missing", what, n)
			continue
		}
		if _, ok := v.(string); !ok {
			t.Errorf("%s: got %s = %#v, want a JSON string", what, n, v)
		}
	}
}

// keyDetailsMembers are the members of KeyDetails (reference §4), every
// one a JSON string.
var keyDetailsMembers = []string{
	"key_id", "domain_id", "key_alias", "realm", "key_spec", "key_usage", "key_description",
	"creation_date", "scheduled_deletion_date", "key_state", "default_key_flag", "key_type",
	"expiration_time", "origin", "key_rotation_enabled", "sys_enterprise_project_id", "keystore_id",
}

// TestAuditLifecycleWireTypes checks the exact JSON types of every
// response of section B on the wire (a number where the SDK expects a
// string, or the reverse, fails the whole SDK call).
func TestAuditLifecycleWireTypes(t *testing.T) {
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

// TestAuditLifecycleRequestErrors checks each request member of section B
// for its documented error: wrong JSON type → KMS.0202, missing → KMS.0204,
// malformed sequence → KMS.0206, bad enum → KMS.0308 (KMS.1110 for key_spec).
func TestAuditLifecycleRequestErrors(t *testing.T) {
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
		{"create-key", `{"key_alias":"` + newAlias() + `","sequence":"` + auditSeq + `"}`},
		{"describe-key", `{` + k + `,"sequence":"` + auditSeq + `"}`},
		{"list-keys", `{"sequence":"` + auditSeq + `"}`},
		{"disable-key", `{` + k + `,"sequence":"` + auditSeq + `"}`},
		{"enable-key", `{` + k + `,"sequence":"` + auditSeq + `"}`},
		{"update-key-alias", `{` + k + `,"key_alias":"` + newAlias() + `","sequence":"` + auditSeq + `"}`},
		{"update-key-description", `{` + k + `,"key_description":"x","sequence":"` + auditSeq + `"}`},
		{"schedule-key-deletion", `{` + k + `,"pending_days":"7","sequence":"` + auditSeq + `"}`},
		{"cancel-key-deletion", `{` + k + `,"sequence":"` + auditSeq + `"}`},
	} {
		rawOK(t, e, "POST", e.projectPath(op.op), op.body)
	}
}

// TestAuditReaderRefusedWrites checks that the read-only user may read keys
// and counts but gets 403 KMS.0307 for every change of section B, and that
// nothing changes.
func TestAuditReaderRefusedWrites(t *testing.T) {
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

// TestAuditCreateKeyEverySpec creates a key of every spec kmsd offers,
// including those outside the SDK's enum (HMAC, KEY_AGREEMENT, created with
// raw requests as the real service allows), and checks what describe-key
// and list-keys report through the SDK.
func TestAuditCreateKeyEverySpec(t *testing.T) {
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

// TestAuditExternalKeyLifecycle follows a key of origin external through
// the lifecycle: pending import "5" can be scheduled for deletion, and
// cancelling returns it to "5"; describe-key reports it fully.
func TestAuditExternalKeyLifecycle(t *testing.T) {
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

// TestAuditAliasEdges checks alias rules the existing tests leave out: a
// key may be given its own alias again; every character of the charset is
// allowed; a destroyed key's alias is free again; and a key pending
// deletion keeps its alias taken.
func TestAuditAliasEdges(t *testing.T) {
	e := start(t)
	c := e.admin()
	alias := newAlias()
	id := createKey(t, c, model.CreateKeyRequestBody{KeyAlias: alias})
	if _, err := updateAlias(c, id, alias); err != nil {
		t.Errorf("UpdateKeyAlias to the key's own alias: %v", err)
	}
	charset := "aZ09:/_-" + strconv.Itoa(int(aliasSeq.Add(1)))
	if _, err := updateAlias(c, id, charset); err != nil {
		t.Errorf("UpdateKeyAlias %q: %v", charset, err)
	}
	createKey(t, c, model.CreateKeyRequestBody{KeyAlias: "x/default/y" + charset})

	doomed := newAlias()
	did := createKey(t, c, model.CreateKeyRequestBody{KeyAlias: doomed})
	if _, err := scheduleDeletion(c, did, "7"); err != nil {
		t.Fatal(err)
	}
	_, err := c.CreateKey(&model.CreateKeyRequest{Body: &model.CreateKeyRequestBody{KeyAlias: doomed}})
	wantError(t, err, 400, "KMS.1104")
	if n := destroyDueKeys(t, e); n != 1 {
		t.Fatalf("destroyed %d keys, want 1", n)
	}
	createKey(t, c, model.CreateKeyRequestBody{KeyAlias: doomed})
}

// TestAuditListKeysPagingFiltered pages through a filtered list: total,
// truncated and next_marker count the matches of the filter only.
func TestAuditListKeysPagingFiltered(t *testing.T) {
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

// TestAuditVersionsWire checks GET / and GET /{version_id} on the wire:
// they answer without authentication, every ApiVersionDetail member is a
// JSON string and links is an array of {href, rel}.
func TestAuditVersionsWire(t *testing.T) {
	e := start(t)
	check := func(t *testing.T, v map[string]any) {
		t.Helper()
		wantStrings(t, "version "+strings.TrimSpace(strconv.Quote(val(ptrString(v["id"])))), v, "id", "version", "status", "updated", "min_version")
		links, ok := v["links"].([]any)
		if !ok || len(links) == 0 {
			t.Errorf("got links %#v, want a non-empty array", v["links"])
			return
		}
		for _, l := range links {
			lm, ok := l.(map[string]any)
			if !ok {
				t.Errorf("got link %#v, want an object", l)
				continue
			}
			wantStrings(t, "link", lm, "href", "rel")
		}
	}
	for _, path := range []string{"/", "/v1.0", "/v1.0/", "/v2"} {
		t.Run(path, func(t *testing.T) {
			r := newRawRequest(t, e, "GET", path, nil)
			r.Header.Del("X-Project-Id")
			status, h, b := send(t, r)
			if status != 200 {
				t.Fatalf("got %d %s, want 200", status, b)
			}
			if h.Get("X-Request-Id") == "" {
				t.Error("no X-Request-Id")
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			if path == "/" {
				vs, ok := m["versions"].([]any)
				if !ok || len(vs) == 0 {
					t.Fatalf("got %s, want versions", b)
				}
				for _, v := range vs {
					check(t, v.(map[string]any))
				}
				return
			}
			v, ok := m["version"].(map[string]any)
			if !ok {
				t.Fatalf("got %s, want one version object", b)
			}
			check(t, v)
			if want := strings.Trim(path, "/"); v["id"] != want {
				t.Errorf("got id %v, want %s", v["id"], want)
			}
		})
	}
	for _, path := range []string{"/v3", "/v1", "/favicon.ico"} {
		r := newRawRequest(t, e, "GET", path, nil)
		status, h, b := send(t, r)
		wantRawError(t, status, h, b, 404, "APIGW.0101")
	}
}

func ptrString(v any) *string {
	s, ok := v.(string)
	if !ok {
		return nil
	}
	return &s
}

// TestAuditDefaultKeyEnable checks the default key's remaining lifecycle
// operations: enabling an enabled default key is KMS.0211 or KMS.1201, and
// cancel-key-deletion on it is refused; describe and list work.
func TestAuditDefaultKeyOps(t *testing.T) {
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

// TestAuditListKeysEnterpriseProject checks list-keys' enterprise_project_id
// filter (reference §5.B ListKeys): "all" or absent lists every key, "0"
// the keys of the default enterprise project, an id the keys of that one.
func TestAuditListKeysEnterpriseProject(t *testing.T) {
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

// val32 returns *p as text, or "<absent>".
func val32(p *int32) string {
	if p == nil {
		return "<absent>"
	}
	return strconv.Itoa(int(*p))
}

// TestAuditKeyDetailsReflectChanges checks that KeyDetails follows the
// other areas' changes: key_rotation_enabled becomes the string "true",
// and user-quotas' grant_per_CMK used is the most grants on one key.
func TestAuditKeyDetailsReflectChanges(t *testing.T) {
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
