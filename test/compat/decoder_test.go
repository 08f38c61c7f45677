package compat

import (
	"encoding/base64"
	"fmt"
	"slices"
	"testing"
)

// The request decoder's rules (docs/compatibility.md "Numbers, duplicate
// members and escapes"), through the real server with requests signed as
// the SDK signs them: the SDK itself always sends numeric members as
// strings, never twice and never with lone surrogates, so only raw
// requests can say what others (the Terraform provider, a proxy, a
// hostile client) send.

// TestNumericMembersTakeIntegers checks that every numeric-string member
// also takes a JSON integer, read as the same number, and that paging by
// integer limit and marker returns what paging by strings does.
func TestNumericMembersTakeIntegers(t *testing.T) {
	e := start(t)
	var ids []string
	for range 5 {
		ids = append(ids, createKeyRaw(t, e, "AES_256", "ENCRYPT_DECRYPT"))
	}
	page := func(body string) (keys []string, next string) {
		m := rawOK(t, e, "POST", e.projectPath("list-keys"), body)
		for _, k := range m["keys"].([]any) {
			keys = append(keys, k.(string))
		}
		return keys, m["next_marker"].(string)
	}
	walk := func(limit string, quote bool) []string {
		var all []string
		marker := ""
		for {
			body := `{"limit":` + limit + `}`
			if marker != "" {
				if quote {
					marker = `"` + marker + `"`
				}
				body = `{"limit":` + limit + `,"marker":` + marker + `}`
			}
			keys, next := page(body)
			all = append(all, keys...)
			if next == "" {
				return all
			}
			marker = next
		}
	}
	byString, byInteger := walk(`"2"`, true), walk(`2`, false)
	if !slices.Equal(byString, byInteger) || len(byInteger) != len(ids) {
		t.Errorf("paging by integers: %v, by strings: %v, want the %d keys", byInteger, byString, len(ids))
	}
	// A limit above the maximum page size is that size (the Terraform
	// provider asks for 2000), not KMS.1601.
	if keys, next := page(`{"limit":2000}`); len(keys) != len(ids) || next != "" {
		t.Errorf("limit 2000: %d keys, next_marker %q; want %d, none", len(keys), next, len(ids))
	}
	if m := rawOK(t, e, "POST", e.projectPath("list-grants"), `{"key_id":"`+ids[0]+`","limit":100}`); m["total"] != float64(0) {
		t.Errorf("list-grants with an integer limit: %v", m)
	}
	if m := rawOK(t, e, "POST", e.projectPath("list-grants"), `{"key_id":"`+ids[0]+`","limit":"5000"}`); m["truncated"] != "false" {
		t.Errorf("list-grants above the quota: %v", m)
	}
	if m := rawOK(t, e, "POST", e.projectPath("list-retirable-grants"), `{"limit":2000}`); m["total"] != float64(0) {
		t.Errorf("list-retirable-grants with limit 2000: %v", m)
	}
	if m := rawOK(t, e, "POST", e.projectPath("resource_instances/action"), `{"action":"filter","limit":5000,"offset":0}`); m["total_count"] != float64(len(ids)) {
		t.Errorf("list-kms-by-tags with limit 5000: %v", m)
	}
	if m := rawOK(t, e, "POST", e.projectPath("gen-random"), `{"random_data_length":256}`); len(m["random_data"].(string)) != 64 {
		t.Errorf("gen-random of 256 bits as an integer: %v", m)
	}
	if m := rawOK(t, e, "POST", e.projectPath("create-datakey"), `{"key_id":"`+ids[0]+`","datakey_length":128}`); len(m["plain_text"].(string)) != 32 {
		t.Errorf("create-datakey of 128 bits as an integer: %v", m)
	}
	if m := rawOK(t, e, "POST", e.projectPath("schedule-key-deletion"), `{"key_id":"`+ids[4]+`","pending_days":7}`); m["key_state"] != "4" {
		t.Errorf("schedule-key-deletion in 7 days as an integer: %v", m)
	}
	for _, tc := range []struct {
		name, op, body string
		status         int
		code           string
	}{
		{"float", "list-keys", `{"limit":2.0}`, 400, "KMS.0202"},
		{"exponent", "list-keys", `{"limit":2e0}`, 400, "KMS.0202"},
		{"negative integer", "list-keys", `{"marker":-1}`, 400, "KMS.0202"},
		{"boolean", "list-keys", `{"limit":true}`, 400, "KMS.0202"},
		{"object", "list-grants", `{"key_id":"` + ids[0] + `","limit":{}}`, 400, "KMS.0202"},
		{"plus sign", "list-keys", `{"limit":"+5"}`, 400, "KMS.1601"},
		{"leading zero", "list-keys", `{"limit":"05"}`, 400, "KMS.1601"},
		{"leading zero marker", "list-grants", `{"key_id":"` + ids[0] + `","marker":"00"}`, 400, "KMS.1602"},
		{"plus sign, pending_days", "schedule-key-deletion", `{"key_id":"` + ids[3] + `","pending_days":"+7"}`, 400, "KMS.1401"},
		{"leading zero, pending_days", "schedule-key-deletion", `{"key_id":"` + ids[3] + `","pending_days":"07"}`, 400, "KMS.1401"},
		{"plus sign, offset", "resource_instances/action", `{"action":"filter","offset":"+0"}`, 400, "KMS.0417"},
		{"float, random length", "gen-random", `{"random_data_length":256.5}`, 400, "KMS.0202"},
	} {
		t.Run(tc.name, func(t *testing.T) { rawErr(t, e, tc.op, tc.body, tc.status, tc.code) })
	}
}

// TestDuplicateMembersRefused checks that a member named twice, at the top
// or nested, escaped or not, is KMS.0202: kmsd would read the last, a
// proxy or WAF in front may read the first.
func TestDuplicateMembersRefused(t *testing.T) {
	e := start(t)
	a, b := createKeyRaw(t, e, "AES_256", "ENCRYPT_DECRYPT"), createKeyRaw(t, e, "AES_256", "ENCRYPT_DECRYPT")
	for _, body := range []string{
		`{"key_id":"` + a + `","key_id":"` + b + `","plain_text":"x"}`,
		`{"key_id":"` + a + `","plain_text":"x","plain_text":"y"}`,
		`{"key_id":"` + a + `","key\u005fid":"` + b + `","plain_text":"x"}`,
	} {
		rawErr(t, e, "encrypt-data", body, 400, "KMS.0202")
	}
	rawErr(t, e, a+"/tags", `{"tag":{"key":"k","key":"j","value":"v"}}`, 400, "KMS.0202")
	// The same members once each are served.
	rawOK(t, e, "POST", e.projectPath("encrypt-data"), `{"key_id":"`+a+`","plain_text":"x"}`)
}

// TestLoneSurrogateRefused checks that an escaped lone surrogate in any
// string member is KMS.0202, as raw invalid UTF-8 is, rather than
// encrypted as U+FFFD; a surrogate pair is text and round-trips exactly.
func TestLoneSurrogateRefused(t *testing.T) {
	e := start(t)
	id := createKeyRaw(t, e, "AES_256", "ENCRYPT_DECRYPT")
	for _, body := range []string{
		`{"key_id":"` + id + `","plain_text":"A\ud800B"}`,
		`{"key_id":"` + id + `","plain_text":"A\udfffB"}`,
		`{"key_id":"` + id + `","plain_text":"\ud800\ud800"}`,
		`{"key_id":"` + id + `","plain_text":"x","additional_authenticated_data":"\udbff"}`,
		`{"key_id":"` + id + `","plain_text":"x","x_new_member":"\ud800"}`,
		"{\"key_id\":\"" + id + "\",\"plain_text\":\"A\xffB\"}",
	} {
		rawErr(t, e, "encrypt-data", body, 400, "KMS.0202")
	}
	m := rawOK(t, e, "POST", e.projectPath("encrypt-data"), `{"key_id":"`+id+`","plain_text":"A\ud83d\ude00B \\ud800"}`)
	back := rawOK(t, e, "POST", e.projectPath("decrypt-data"), fmt.Sprintf(`{"cipher_text":%q}`, m["cipher_text"]))
	want := "A\U0001F600B \\ud800"
	if back["plain_text"] != want {
		t.Errorf("decrypted %q, want %q", back["plain_text"], want)
	}
	if raw, _ := base64.StdEncoding.DecodeString(back["plain_text_base64"].(string)); string(raw) != want {
		t.Errorf("decrypted bytes %q, want %q", raw, want)
	}
}
