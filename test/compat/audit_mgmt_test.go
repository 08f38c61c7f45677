package compat

import (
	"bytes"
	"encoding/json"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	kms "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2/model"
)

// Audit of the key management areas of reference kms-api.md §5: grants
// (G), the multi-alias API (H), tags and resource search (I) and rotation
// (J).

// hasTag reports whether the key carries the tag key k.
func hasTag(t *testing.T, tags []tag, k string) bool {
	t.Helper()
	for _, got := range tags {
		if got.Key == k {
			return true
		}
	}
	return false
}

// TestAuditDeleteTagSlash deletes tag keys containing "/" (and spaces)
// through the SDK's DeleteTag, which puts the tag key into the path
// unescaped (reference kms-api.md §1), and through a raw request that
// escapes it as %2F, as a client that escapes path parameters does.
func TestAuditDeleteTagSlash(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	id := newKey(t, c)
	keys := []string{"team/app", "a b/c d", "/lead", "trail/", "a//b", "x/y/z/1/2/3/4/5/6/7/8/9"}
	for _, k := range keys {
		t.Run("sdk "+k, func(t *testing.T) {
			// Tags that share a prefix with k must survive its deletion.
			if err := batchTags(c, id, "create", tagItem(k, "v"), tagItem("team", "t"), tagItem("a", "a"), tagItem("trail", "t")); err != nil {
				t.Fatal(err)
			}
			if err := deleteTag(c, id, k); err != nil {
				t.Fatalf("DeleteTag %q: %v", k, err)
			}
			got := keyTags(t, c, id)
			if hasTag(t, got, k) {
				t.Errorf("tag %q survived DeleteTag", k)
			}
			for _, other := range []string{"team", "a", "trail"} {
				if !hasTag(t, got, other) {
					t.Errorf("DeleteTag %q removed tag %q", k, other)
				}
			}
			wantError(t, deleteTag(c, id, k), 404, "KMS.0416")
		})
	}
	t.Run("raw %2F", func(t *testing.T) {
		k := "team/app x"
		if err := createTag(c, id, tagItem(k, "v")); err != nil {
			t.Fatal(err)
		}
		status, h, body := rawCall(t, e, "DELETE", e.projectPath(id+"/tags/"+url.PathEscape(k)), nil, e.ids.AdminAK, e.ids.AdminSK)
		if status != 204 {
			t.Fatalf("DELETE %%2F: %d %s %v", status, body, h)
		}
		if hasTag(t, keyTags(t, c, id), k) {
			t.Errorf("tag %q survived", k)
		}
		status, h, body = rawCall(t, e, "DELETE", e.projectPath(id+"/tags/"+url.PathEscape(k)), nil, e.ids.AdminAK, e.ids.AdminSK)
		wantRawError(t, status, h, body, 404, "KMS.0416")
	})
	t.Run("other routes refuse extra segments", func(t *testing.T) {
		_, err := c.ShowKmsTags(&model.ShowKmsTagsRequest{KeyId: id + "/x"})
		wantError(t, err, 404, "APIGW.0101")
	})
}

// rawCase is one raw request and the error it must get.
type rawCase struct {
	name, method, path, body string
	status                   int
	code                     string
}

func runRawCases(t *testing.T, e *env, cases []rawCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var body []byte
			if tc.body != "" {
				body = []byte(tc.body + "\n")
			}
			status, h, b := rawCall(t, e, tc.method, tc.path, body, e.ids.AdminAK, e.ids.AdminSK)
			wantRawError(t, status, h, b, tc.status, tc.code)
		})
	}
}

// TestAuditMgmtRawRequests sends the requests the SDK cannot: wrong JSON
// types, missing members and out-of-range values, for every operation
// of the four areas (compatibility.md "Requests and errors").
func TestAuditMgmtRawRequests(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	key := newKey(t, c)
	if err := enableRotation(c, key); err != nil {
		t.Fatal(err)
	}
	if _, err := createAlias(c, key, "raw-alias"); err != nil {
		t.Fatal(err)
	}
	grantID := createGrant(t, c, grantBody(key, e.ids.ReaderID, "describe-key"))
	k := `"key_id":"` + key + `"`
	p := e.projectPath
	seq := `"sequence":"short"`
	cases := []rawCase{
		// G. Grants.
		{"create-grant key_id number", "POST", p("create-grant"), `{"key_id":1,"grantee_principal":"` + e.ids.ReaderID + `","operations":["describe-key"]}`, 400, "KMS.0202"},
		{"create-grant no key_id", "POST", p("create-grant"), `{"grantee_principal":"` + e.ids.ReaderID + `","operations":["describe-key"]}`, 400, "KMS.0204"},
		{"create-grant no grantee", "POST", p("create-grant"), `{` + k + `,"operations":["describe-key"]}`, 400, "KMS.0204"},
		{"create-grant grantee number", "POST", p("create-grant"), `{` + k + `,"grantee_principal":5,"operations":["describe-key"]}`, 400, "KMS.0202"},
		{"create-grant operations string", "POST", p("create-grant"), `{` + k + `,"grantee_principal":"` + e.ids.ReaderID + `","operations":"describe-key"}`, 400, "KMS.0202"},
		{"create-grant operations number items", "POST", p("create-grant"), `{` + k + `,"grantee_principal":"` + e.ids.ReaderID + `","operations":[1]}`, 400, "KMS.0202"},
		{"create-grant type unknown", "POST", p("create-grant"), `{` + k + `,"grantee_principal":"` + e.ids.ReaderID + `","operations":["describe-key"],"grantee_principal_type":"group"}`, 400, "KMS.0308"},
		{"create-grant type number", "POST", p("create-grant"), `{` + k + `,"grantee_principal":"` + e.ids.ReaderID + `","operations":["describe-key"],"grantee_principal_type":1}`, 400, "KMS.0202"},
		{"create-grant name number", "POST", p("create-grant"), `{` + k + `,"grantee_principal":"` + e.ids.ReaderID + `","operations":["describe-key"],"name":1}`, 400, "KMS.0202"},
		{"create-grant name 256", "POST", p("create-grant"), `{` + k + `,"grantee_principal":"` + e.ids.ReaderID + `","operations":["describe-key"],"name":"` + strings.Repeat("n", 256) + `"}`, 400, "KMS.1101"},
		{"create-grant retiring number", "POST", p("create-grant"), `{` + k + `,"grantee_principal":"` + e.ids.ReaderID + `","operations":["describe-key"],"retiring_principal":1}`, 400, "KMS.0202"},
		{"create-grant sequence", "POST", p("create-grant"), `{` + k + `,"grantee_principal":"` + e.ids.ReaderID + `","operations":["describe-key"],` + seq + `}`, 400, "KMS.0206"},
		{"create-grant array body", "POST", p("create-grant"), `[]`, 400, "KMS.0202"},
		{"list-grants no key_id", "POST", p("list-grants"), `{}`, 400, "KMS.0204"},
		{"list-grants limit float", "POST", p("list-grants"), `{` + k + `,"limit":5.0}`, 400, "KMS.0202"},
		{"list-grants marker negative integer", "POST", p("list-grants"), `{` + k + `,"marker":-1}`, 400, "KMS.0202"},
		{"list-grants sequence", "POST", p("list-grants"), `{` + k + `,` + seq + `}`, 400, "KMS.0206"},
		{"list-retirable-grants limit 0", "POST", p("list-retirable-grants"), `{"limit":"0"}`, 400, "KMS.1601"},
		{"list-retirable-grants limit with a sign", "POST", p("list-retirable-grants"), `{"limit":"+1"}`, 400, "KMS.1601"},
		{"list-retirable-grants limit text", "POST", p("list-retirable-grants"), `{"limit":"x"}`, 400, "KMS.1601"},
		{"list-retirable-grants marker -1", "POST", p("list-retirable-grants"), `{"marker":"-1"}`, 400, "KMS.1602"},
		{"list-retirable-grants limit boolean", "POST", p("list-retirable-grants"), `{"limit":true}`, 400, "KMS.0202"},
		{"list-retirable-grants sequence", "POST", p("list-retirable-grants"), `{` + seq + `}`, 400, "KMS.0206"},
		{"revoke-grant no grant_id", "POST", p("revoke-grant"), `{` + k + `}`, 400, "KMS.0204"},
		{"revoke-grant grant_id number", "POST", p("revoke-grant"), `{` + k + `,"grant_id":1}`, 400, "KMS.0202"},
		{"revoke-grant no key_id", "POST", p("revoke-grant"), `{"grant_id":"` + grantID + `"}`, 400, "KMS.0204"},
		{"revoke-grant sequence", "POST", p("revoke-grant"), `{` + k + `,"grant_id":"` + grantID + `",` + seq + `}`, 400, "KMS.0206"},
		{"retire-grant no grant_id", "POST", p("retire-grant"), `{` + k + `}`, 400, "KMS.0204"},
		{"retire-grant grant_id number", "POST", p("retire-grant"), `{` + k + `,"grant_id":1}`, 400, "KMS.0202"},
		{"retire-grant malformed key", "POST", p("retire-grant"), `{"key_id":"x","grant_id":"` + grantID + `"}`, 400, "KMS.0205"},
		// H. Aliases.
		{"create-alias alias number", "POST", p("aliases"), `{` + k + `,"alias":1}`, 400, "KMS.0202"},
		{"create-alias no alias", "POST", p("aliases"), `{` + k + `}`, 400, "KMS.0204"},
		{"create-alias no key", "POST", p("aliases"), `{"alias":"x-1"}`, 400, "KMS.0204"},
		{"associate-alias no target", "POST", p("alias/associate"), `{"alias":"raw-alias"}`, 400, "KMS.0204"},
		{"associate-alias target number", "POST", p("alias/associate"), `{"alias":"raw-alias","target_key_id":1}`, 400, "KMS.0202"},
		{"associate-alias no alias", "POST", p("alias/associate"), `{"target_key_id":"` + key + `"}`, 400, "KMS.0204"},
		{"delete-alias aliases string", "DELETE", p("aliases"), `{` + k + `,"aliases":"raw-alias"}`, 400, "KMS.0202"},
		{"delete-alias aliases numbers", "DELETE", p("aliases"), `{` + k + `,"aliases":[1]}`, 400, "KMS.0202"},
		{"delete-alias no aliases", "DELETE", p("aliases"), `{` + k + `}`, 400, "KMS.0204"},
		{"delete-alias no key", "DELETE", p("aliases"), `{"aliases":["raw-alias"]}`, 400, "KMS.0204"},
		{"delete-alias no body", "DELETE", p("aliases"), ``, 400, "KMS.0204"},
		{"list-aliases limit 0", "GET", p("aliases") + "?limit=0", ``, 400, "KMS.1601"},
		{"list-aliases limit 101", "GET", p("aliases") + "?limit=101", ``, 400, "KMS.1601"},
		{"list-aliases limit text", "GET", p("aliases") + "?limit=ten", ``, 400, "KMS.1601"},
		{"list-aliases malformed key", "GET", p("aliases") + "?key_id=nokey", ``, 400, "KMS.0205"},
		// I. Tags.
		{"create-tag tag string", "POST", p(key + "/tags"), `{"tag":"a"}`, 400, "KMS.0202"},
		{"create-tag key number", "POST", p(key + "/tags"), `{"tag":{"key":1,"value":"v"}}`, 400, "KMS.0202"},
		{"create-tag value number", "POST", p(key + "/tags"), `{"tag":{"key":"k","value":1}}`, 400, "KMS.0202"},
		{"create-tag no key", "POST", p(key + "/tags"), `{"tag":{"value":"v"}}`, 400, "KMS.0204"},
		{"create-tag sequence", "POST", p(key + "/tags"), `{"tag":{"key":"k"},` + seq + `}`, 400, "KMS.0206"},
		{"create-tag malformed key id", "POST", p("nokey/tags"), `{"tag":{"key":"k"}}`, 400, "KMS.0205"},
		{"batch tags not array", "POST", p(key + "/tags/action"), `{"action":"create","tags":{"key":"k"}}`, 400, "KMS.0202"},
		{"batch no action", "POST", p(key + "/tags/action"), `{"tags":[{"key":"k"}]}`, 400, "KMS.0204"},
		{"batch no tags", "POST", p(key + "/tags/action"), `{"action":"create"}`, 400, "KMS.0204"},
		{"batch action number", "POST", p(key + "/tags/action"), `{"action":1,"tags":[{"key":"k"}]}`, 400, "KMS.0202"},
		{"batch item string", "POST", p(key + "/tags/action"), `{"action":"create","tags":["k"]}`, 400, "KMS.0202"},
		{"delete-tag malformed key id", "DELETE", p("nokey/tags/k"), ``, 400, "KMS.0205"},
		{"show-tags malformed key id", "GET", p("nokey/tags"), ``, 400, "KMS.0205"},
		{"search action number", "POST", p("resource_instances/action"), `{"action":1}`, 400, "KMS.0202"},
		{"search limit float", "POST", p("resource_instances/action"), `{"action":"filter","limit":10.0}`, 400, "KMS.0202"},
		{"search offset exponent", "POST", p("resource_instances/action"), `{"action":"filter","offset":0e0}`, 400, "KMS.0202"},
		{"search offset text", "POST", p("resource_instances/action"), `{"action":"filter","offset":"x"}`, 400, "KMS.0417"},
		{"search tags object", "POST", p("resource_instances/action"), `{"action":"filter","tags":{}}`, 400, "KMS.0202"},
		{"search values string", "POST", p("resource_instances/action"), `{"action":"filter","tags":[{"key":"k","values":"v"}]}`, 400, "KMS.0202"},
		{"search matches object", "POST", p("resource_instances/action"), `{"action":"filter","matches":{}}`, 400, "KMS.0202"},
		{"search sequence", "POST", p("resource_instances/action"), `{"action":"count",` + seq + `}`, 400, "KMS.0206"},
		// J. Rotation.
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
	}
	runRawCases(t, e, cases)
}

// TestAuditMgmtIsolation calls every operation of the four areas on one
// account's key as the other account (404 KMS.0207, never data) and as
// the read-only user (403 KMS.0307 for every change; reads allowed).
func TestAuditMgmtIsolation(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	key := newKey(t, c)
	if err := enableRotation(c, key); err != nil {
		t.Fatal(err)
	}
	alias := "iso-alias"
	if _, err := createAlias(c, key, alias); err != nil {
		t.Fatal(err)
	}
	if err := createTag(c, key, tagItem("env", "prod")); err != nil {
		t.Fatal(err)
	}
	grantID := createGrant(t, c, grantBody(key, e.ids.ReaderID, "describe-key"))
	key2 := newKey(t, c)

	type op struct {
		name  string
		write bool
		call  func(c *kms.KmsClient) error
	}
	ops := []op{
		{"CreateGrant", true, func(c *kms.KmsClient) error {
			_, err := c.CreateGrant(&model.CreateGrantRequest{Body: grantBody(key, e.ids.ReaderID, "describe-key")})
			return err
		}},
		{"ListGrants", false, func(c *kms.KmsClient) error {
			_, err := c.ListGrants(&model.ListGrantsRequest{Body: &model.ListGrantsRequestBody{KeyId: key}})
			return err
		}},
		{"CancelGrant", true, func(c *kms.KmsClient) error { return revokeGrant(c, key, grantID) }},
		{"CreateAlias", true, func(c *kms.KmsClient) error {
			_, err := createAlias(c, key, "iso-other")
			return err
		}},
		{"AssociateAlias", true, func(c *kms.KmsClient) error {
			_, err := c.AssociateAlias(&model.AssociateAliasRequest{Body: &model.AssociateAliasRequestBody{Alias: alias, TargetKeyId: key2}})
			return err
		}},
		{"DeleteAlias", true, func(c *kms.KmsClient) error { return deleteAliases(c, key, alias) }},
		{"ListAliases", false, func(c *kms.KmsClient) error {
			_, err := c.ListAliases(&model.ListAliasesRequest{KeyId: ptr(key)})
			return err
		}},
		{"CreateKmsTag", true, func(c *kms.KmsClient) error { return createTag(c, key, tagItem("a", "b")) }},
		{"BatchCreateKmsTags create", true, func(c *kms.KmsClient) error { return batchTags(c, key, "create", tagItem("a", "b")) }},
		{"BatchCreateKmsTags delete", true, func(c *kms.KmsClient) error { return batchTags(c, key, "delete", tagItem("env", "")) }},
		{"DeleteTag", true, func(c *kms.KmsClient) error { return deleteTag(c, key, "env") }},
		{"ShowKmsTags", false, func(c *kms.KmsClient) error {
			_, err := c.ShowKmsTags(&model.ShowKmsTagsRequest{KeyId: key})
			return err
		}},
		{"EnableKeyRotation", true, func(c *kms.KmsClient) error { return enableRotation(c, key) }},
		{"DisableKeyRotation", true, func(c *kms.KmsClient) error { return disableRotation(c, key) }},
		{"UpdateKeyRotationInterval", true, func(c *kms.KmsClient) error { return rotationInterval(c, key, 90) }},
		{"ShowKeyRotationStatus", false, func(c *kms.KmsClient) error {
			_, err := c.ShowKeyRotationStatus(&model.ShowKeyRotationStatusRequest{Body: &model.OperateKeyRequestBody{KeyId: key}})
			return err
		}},
	}
	for _, o := range ops {
		t.Run("other account/"+o.name, func(t *testing.T) {
			wantError(t, o.call(e.admin2()), 404, "KMS.0207")
		})
	}
	for _, o := range ops {
		t.Run("reader/"+o.name, func(t *testing.T) {
			err := o.call(e.reader())
			if o.write {
				wantError(t, err, 403, "KMS.0307")
			} else if err != nil {
				t.Errorf("reader %s: %v", o.name, err)
			}
		})
	}
	// Nothing changed.
	if got := keyTags(t, c, key); len(got) != 1 || got[0] != (tag{"env", "prod"}) {
		t.Errorf("tags %v", got)
	}
	if st := rotationStatus(t, c, key); !st.enabled || st.interval != 365 {
		t.Errorf("rotation %+v", st)
	}
	if names, _ := listAliasPages(t, c, key, 10); len(names) != 1 || names[0] != alias {
		t.Errorf("aliases %v", names)
	}
	resp, err := c.ListGrants(&model.ListGrantsRequest{Body: &model.ListGrantsRequestBody{KeyId: key}})
	if err != nil || resp.Total == nil || *resp.Total != 1 {
		t.Errorf("grants %v, %v", resp, err)
	}
	// The other account's project-wide lists hold nothing of ours.
	if tags, err := e.admin2().ListKmsTags(&model.ListKmsTagsRequest{}); err != nil || tags.Tags == nil || len(*tags.Tags) != 0 {
		t.Errorf("other account's ListKmsTags: %v, %v", tags, err)
	}
	if names, _ := listAliasPages(t, e.admin2(), "", 100); len(names) != 0 {
		t.Errorf("other account's aliases %v", names)
	}
}

// jsonTypes returns the JSON type of each member of a JSON object body.
func jsonTypes(t *testing.T, body []byte) map[string]string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("body %s is not a JSON object: %v", body, err)
	}
	out := map[string]string{}
	for k, v := range m {
		switch v[0] {
		case '"':
			out[k] = "string"
		case 't', 'f':
			out[k] = "boolean"
		case '[':
			out[k] = "array"
		case '{':
			out[k] = "object"
		case 'n':
			out[k] = "null"
		default:
			out[k] = "number"
		}
	}
	return out
}

// TestAuditMgmtWireBodies checks the exact JSON types of the success
// bodies of grants, aliases and rotation (reference kms-api.md §4, §5),
// and that the operations without response fields answer their status
// with no body.
func TestAuditMgmtWireBodies(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	key := newKey(t, c)
	k := `"key_id":"` + key + `"`
	call := func(method, op, body string, wantStatus int) []byte {
		t.Helper()
		var b []byte
		if body != "" {
			b = []byte(body + "\n")
		}
		status, _, resp := rawCall(t, e, method, e.projectPath(op), b, e.ids.AdminAK, e.ids.AdminSK)
		if status != wantStatus {
			t.Fatalf("%s %s: %d %s, want %d", method, op, status, resp, wantStatus)
		}
		return resp
	}
	grantFields := map[string]string{"key_id": "string", "grant_id": "string", "grantee_principal": "string", "grantee_principal_type": "string",
		"operations": "array", "issuing_principal": "string", "creation_date": "string", "name": "string", "retiring_principal": "string"}

	body := call("POST", "create-grant", `{`+k+`,"grantee_principal":"`+e.ids.ReaderID+`","operations":["describe-key","encrypt-data"],"name":"g-1","retiring_principal":"`+e.ids.AdminID+`"}`, 200)
	if got := jsonTypes(t, body); len(got) != 1 || got["grant_id"] != "string" {
		t.Errorf("create-grant body %s", body)
	}
	for _, op := range []string{"list-grants", "list-retirable-grants"} {
		body = call("POST", op, `{`+k+`}`, 200)
		want := map[string]string{"grants": "array", "next_marker": "string", "truncated": "string", "total": "number"}
		if got := jsonTypes(t, body); !reflect.DeepEqual(got, want) {
			t.Errorf("%s members %v, want %v (%s)", op, got, want, body)
		}
		var page struct {
			Grants []json.RawMessage `json:"grants"`
		}
		if err := json.Unmarshal(body, &page); err != nil || len(page.Grants) != 1 {
			t.Fatalf("%s: %s", op, body)
		}
		if got := jsonTypes(t, page.Grants[0]); !reflect.DeepEqual(got, grantFields) {
			t.Errorf("%s grant members %v, want %v", op, got, grantFields)
		}
	}

	aliasFields := map[string]string{"domain_id": "string", "key_id": "string", "alias": "string", "alias_urn": "string", "create_time": "string", "update_time": "string"}
	body = call("POST", "aliases", `{`+k+`,"alias":"wire-alias"}`, 201)
	if got := jsonTypes(t, body); !reflect.DeepEqual(got, aliasFields) {
		t.Errorf("create-alias members %v (%s)", got, body)
	}
	key2 := newKey(t, c)
	body = call("POST", "alias/associate", `{"alias":"wire-alias","target_key_id":"`+key2+`"}`, 200)
	if got := jsonTypes(t, body); !reflect.DeepEqual(got, aliasFields) {
		t.Errorf("associate-alias members %v (%s)", got, body)
	}

	for _, op := range []string{"enable-key-rotation", "disable-key-rotation"} {
		if body := call("POST", op, `{`+k+`}`, 200); len(bytes.TrimSpace(body)) != 0 && string(body) != "{}" {
			t.Errorf("%s body %q", op, body)
		}
	}
	call("POST", "enable-key-rotation", `{`+k+`}`, 200)
	if body := call("POST", "update-key-rotation-interval", `{`+k+`,"rotation_interval":30}`, 200); len(bytes.TrimSpace(body)) != 0 && string(body) != "{}" {
		t.Errorf("update-key-rotation-interval body %q", body)
	}
	body = call("POST", "get-key-rotation-status", `{`+k+`}`, 200)
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
	if err := json.Unmarshal(call("POST", "get-key-rotation-status", `{`+k+`}`, 200), &st); err != nil {
		t.Fatal(err)
	}
	ms, err := strconv.ParseInt(st.Last, 10, 64)
	if err != nil || st.Count != 1 || ms > before+1000 || ms < before-60000 {
		t.Errorf("after a rotation: %+v", st)
	}

	// The 204 operations answer no body.
	for _, tc := range []struct{ method, op, body string }{
		{"POST", key + "/tags", `{"tag":{"key":"k","value":"v"}}`},
		{"POST", key + "/tags/action", `{"action":"create","tags":[{"key":"k2","value":"v"}]}`},
		{"DELETE", key + "/tags/k", ``},
		{"DELETE", "aliases", `{"key_id":"` + key2 + `","aliases":["wire-alias"]}`},
	} {
		if body := call(tc.method, tc.op, tc.body, 204); len(body) != 0 {
			t.Errorf("%s %s body %q", tc.method, tc.op, body)
		}
	}
}

// TestAuditRetirableGrantPages pages through list-retirable-grants: the
// grants on any key, in any account, whose retiring principal is the
// caller, in creation order; and the caller retires one of another
// account's keys' grants.
func TestAuditRetirableGrantPages(t *testing.T) {
	t.Parallel()
	e := start(t)
	c, other := e.admin(), e.admin2()
	k1, k2 := newKey(t, c), newKey(t, c)
	var want []string
	for i := range 5 {
		k := k1
		if i%2 == 1 {
			k = k2
		}
		body := grantBody(k, e.ids.ReaderID, "describe-key")
		body.RetiringPrincipal = ptr(e.ids.Admin2ID)
		want = append(want, createGrant(t, c, body))
	}
	// Not retirable by admin2: no retiring principal, or another one.
	createGrant(t, c, grantBody(k1, e.ids.ReaderID, "encrypt-data"))
	b := grantBody(k1, e.ids.ReaderID, "encrypt-data")
	b.RetiringPrincipal = ptr(e.ids.AdminID)
	createGrant(t, c, b)

	var got []string
	marker := ""
	for pages := 1; ; pages++ {
		body := &model.ListRetirableGrantsRequestBody{Limit: ptr("2")}
		if marker != "" {
			body.Marker = ptr(marker)
		}
		resp, err := other.ListRetirableGrants(&model.ListRetirableGrantsRequest{Body: body})
		if err != nil {
			t.Fatal(err)
		}
		if resp.Total == nil || *resp.Total != 5 || resp.Grants == nil {
			t.Fatalf("page %d: total %v, grants %v", pages, resp.Total, resp.Grants)
		}
		for _, g := range *resp.Grants {
			got = append(got, val(g.GrantId))
			if val(g.RetiringPrincipal) != e.ids.Admin2ID {
				t.Errorf("grant %s retiring principal %q", val(g.GrantId), val(g.RetiringPrincipal))
			}
		}
		if enumValue(resp.Truncated) == "false" {
			if val(resp.NextMarker) != "" || pages != 3 {
				t.Errorf("last page %d, next_marker %q", pages, val(resp.NextMarker))
			}
			break
		}
		marker = val(resp.NextMarker)
		if pages > 3 {
			t.Fatal("list-retirable-grants does not end")
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("retirable grants %v, want %v (creation order)", got, want)
	}
	// admin2 retires a grant on the first account's key.
	if err := retireGrant(other, k2, want[1]); err != nil {
		t.Fatalf("retire as retiring principal: %v", err)
	}
	resp, err := other.ListRetirableGrants(&model.ListRetirableGrantsRequest{Body: &model.ListRetirableGrantsRequestBody{}})
	if err != nil || resp.Total == nil || *resp.Total != 4 {
		t.Errorf("after retiring: %v, %v", resp, err)
	}
	// The owner's list no longer holds it.
	lg, err := c.ListGrants(&model.ListGrantsRequest{Body: &model.ListGrantsRequestBody{KeyId: k2}})
	if err != nil || lg.Total == nil || *lg.Total != 1 {
		t.Errorf("grants of k2 after retiring: %v, %v", lg, err)
	}
}
