package compat

import (
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"testing"

	kms "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2/model"
)

// tag is a TagItem as the tests compare them.
type tag struct{ Key, Value string }

// keyTags returns ShowKmsTags' tags of a key and checks existTagsNum.
func keyTags(t *testing.T, c *kms.KmsClient, keyID string) []tag {
	t.Helper()
	resp, err := c.ShowKmsTags(&model.ShowKmsTagsRequest{KeyId: keyID})
	if err != nil {
		t.Fatalf("ShowKmsTags %s: %v", keyID, err)
	}
	if resp.Tags == nil || resp.ExistTagsNum == nil {
		t.Fatalf("ShowKmsTags answered %v, want tags and existTagsNum", resp)
	}
	out := tagsOf(*resp.Tags)
	if int(*resp.ExistTagsNum) != len(out) {
		t.Errorf("existTagsNum %d for %d tags", *resp.ExistTagsNum, len(out))
	}
	return out
}

func tagItem(key, value string) model.TagItem { return model.TagItem{Key: key, Value: &value} }

// tagsOf converts SDK TagItems for comparison.
func tagsOf(items []model.TagItem) []tag {
	out := []tag{}
	for _, it := range items {
		out = append(out, tag{it.Key, val(it.Value)})
	}
	return out
}

// tagValuesString renders ListKmsTags' answer as key:["value" …] items.
func tagValuesString(tags []model.Tag) string {
	var parts []string
	for _, tv := range tags {
		var vs []string
		if tv.Values != nil {
			for _, v := range *tv.Values {
				vs = append(vs, fmt.Sprintf("%q", v))
			}
		}
		parts = append(parts, val(tv.Key)+":["+strings.Join(vs, " ")+"]")
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// batchTags calls BatchCreateKmsTags with action and tags.
func batchTags(c *kms.KmsClient, keyID, action string, tags ...model.TagItem) error {
	resp, err := c.BatchCreateKmsTags(&model.BatchCreateKmsTagsRequest{KeyId: keyID, Body: &model.BatchCreateKmsTagsRequestBody{Action: action, Tags: tags}})
	if err == nil && resp.HttpStatusCode != 204 {
		return fmt.Errorf("BatchCreateKmsTags answered %d, want 204", resp.HttpStatusCode)
	}
	return err
}

func createTag(c *kms.KmsClient, keyID string, it model.TagItem) error {
	resp, err := c.CreateKmsTag(&model.CreateKmsTagRequest{KeyId: keyID, Body: &model.CreateKmsTagRequestBody{Tag: &it}})
	if err == nil && resp.HttpStatusCode != 204 {
		return fmt.Errorf("CreateKmsTag answered %d, want 204", resp.HttpStatusCode)
	}
	return err
}

func deleteTag(c *kms.KmsClient, keyID, key string) error {
	resp, err := c.DeleteTag(&model.DeleteTagRequest{KeyId: keyID, Key: key})
	if err == nil && resp.HttpStatusCode != 204 {
		return fmt.Errorf("DeleteTag answered %d, want 204", resp.HttpStatusCode)
	}
	return err
}

// TestKeyTagsSDK adds, overwrites, lists and deletes the tags of a key
// through the SDK (reference kms-api.md §5.I).
func TestKeyTagsSDK(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	id := newKey(t, c)
	if got := keyTags(t, c, id); len(got) != 0 {
		t.Fatalf("a new key has tags %v", got)
	}
	if err := createTag(c, id, tagItem("env", "prod")); err != nil {
		t.Fatal(err)
	}
	// The SDK leaves out an unset value: the tag gets "".
	if err := createTag(c, id, model.TagItem{Key: "bare"}); err != nil {
		t.Fatal(err)
	}
	if err := batchTags(c, id, "create", tagItem("env", "dev"), tagItem("team", "crypto")); err != nil {
		t.Fatal(err)
	}
	want := []tag{{"bare", ""}, {"env", "dev"}, {"team", "crypto"}}
	if got := keyTags(t, c, id); !reflect.DeepEqual(want, got) {
		t.Errorf("tags: got %v, want %v", got, want)
	}
	// Batch deletion matches on the key, skips absent keys, and needs no
	// value.
	if err := batchTags(c, id, "delete", model.TagItem{Key: "team"}, tagItem("bare", "other"), model.TagItem{Key: "never-set"}); err != nil {
		t.Fatal(err)
	}
	if want, got := []tag{{"env", "dev"}}, keyTags(t, c, id); !reflect.DeepEqual(want, got) {
		t.Errorf("after batch delete: got %v, want %v", got, want)
	}
	if err := deleteTag(c, id, "env"); err != nil {
		t.Fatal(err)
	}
	if got := keyTags(t, c, id); len(got) != 0 {
		t.Errorf("after delete: tags %v", got)
	}
	wantError(t, deleteTag(c, id, "env"), 404, "KMS.0416")

	// The reader may list tags but not change them.
	r := e.reader()
	if got := keyTags(t, r, id); len(got) != 0 {
		t.Errorf("reader sees tags %v", got)
	}
	wantError(t, createTag(r, id, tagItem("a", "b")), 403, "KMS.0307")
	wantError(t, batchTags(r, id, "create", tagItem("a", "b")), 403, "KMS.0307")
	wantError(t, deleteTag(r, id, "a"), 403, "KMS.0307")
	// Another account's caller sees no key.
	wantError(t, createTag(e.admin2(), id, tagItem("a", "b")), 404, "KMS.0207")
	_, err := e.admin2().ShowKmsTags(&model.ShowKmsTagsRequest{KeyId: id})
	wantError(t, err, 404, "KMS.0207")
}

// TestTagKeyCharacters sends tag keys with characters that need escaping
// in a URL through DeleteTag's path parameter, which the SDK does not
// escape itself (reference kms-api.md §1). A tag key with "/" becomes
// several path segments, which DeleteTag's {key} takes together; the
// batch operation deletes such a tag too.
func TestTagKeyCharacters(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	id := newKey(t, c)
	keys := []string{"a b", "键", "a?b", "a%b", "a%20b", "a#b", "a+b", "a&b", "a;b", ".", "..", "a'b\"c", "ä.ö:ü@"}
	for _, k := range keys {
		t.Run(k, func(t *testing.T) {
			if err := createTag(c, id, tagItem(k, "v")); err != nil {
				t.Fatal(err)
			}
			if err := deleteTag(c, id, k); err != nil {
				t.Fatalf("DeleteTag %q: %v", k, err)
			}
			for _, got := range keyTags(t, c, id) {
				if got.Key == k {
					t.Errorf("tag %q survived DeleteTag", k)
				}
			}
		})
	}
	t.Run("slash", func(t *testing.T) {
		if err := batchTags(c, id, "create", tagItem("team/app", "v"), tagItem("team/db", "v")); err != nil {
			t.Fatal(err)
		}
		// The path gains a segment, which DeleteTag's {key} takes.
		if err := deleteTag(c, id, "team/app"); err != nil {
			t.Fatal(err)
		}
		if err := batchTags(c, id, "delete", model.TagItem{Key: "team/db"}); err != nil {
			t.Fatal(err)
		}
		if got := keyTags(t, c, id); len(got) != 0 {
			t.Errorf("tags left: %v", got)
		}
	})
}

// TestTagLimitsSDK checks the tag rules through the SDK: lengths and
// characters of keys and values, the number of tags per key, and the
// shapes of the batch operation.
func TestTagLimitsSDK(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	id := newKey(t, c)
	tests := []struct {
		name   string
		err    error
		status int
		code   string
	}{
		{"empty key", createTag(c, id, tagItem("", "v")), 400, "KMS.0411"},
		{"key of 37", createTag(c, id, tagItem(strings.Repeat("k", 37), "v")), 400, "KMS.0411"},
		{"key with *", createTag(c, id, tagItem("a*", "v")), 400, "KMS.0406"},
		{"key with a newline", createTag(c, id, tagItem("a\nb", "v")), 400, "KMS.0406"},
		{"value of 44", createTag(c, id, tagItem("k", strings.Repeat("值", 44))), 400, "KMS.0410"},
		{"value with >", createTag(c, id, tagItem("k", "a>b")), 400, "KMS.0405"},
		{"no tag", func() error {
			_, err := c.CreateKmsTag(&model.CreateKmsTagRequest{KeyId: id, Body: &model.CreateKmsTagRequestBody{}})
			return err
		}(), 400, "KMS.0204"},
		{"action unknown", batchTags(c, id, "update", tagItem("k", "v")), 400, "KMS.0404"},
		{"action unset", batchTags(c, id, "", tagItem("k", "v")), 400, "KMS.0404"},
		{"no tags", batchTags(c, id, "create"), 400, "KMS.0401"},
		{"no tags to delete", batchTags(c, id, "delete"), 400, "KMS.0401"},
		{"tag key twice", batchTags(c, id, "create", tagItem("k", "1"), tagItem("k", "2")), 400, "KMS.0412"},
		{"unknown key", createTag(c, unknownKeyID, tagItem("k", "v")), 404, "KMS.0207"},
		{"unknown key, batch", batchTags(c, unknownKeyID, "create", tagItem("k", "v")), 404, "KMS.0207"},
		{"unknown key, delete", deleteTag(c, unknownKeyID, "k"), 404, "KMS.0207"},
		{"malformed key id", createTag(c, "not-a-key", tagItem("k", "v")), 400, "KMS.0205"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantError(t, tt.err, tt.status, tt.code) })
	}
	if got := keyTags(t, c, id); len(got) != 0 {
		t.Fatalf("refused requests left tags %v", got)
	}

	// Unicode lengths count characters: 36 and 43 Chinese characters fit.
	if err := createTag(c, id, tagItem(strings.Repeat("键", 36), strings.Repeat("值", 43))); err != nil {
		t.Fatal(err)
	}
	// Up to 20 tags per key; the 21st is refused, an overwrite is not.
	var items []model.TagItem
	for i := range 19 {
		items = append(items, tagItem(fmt.Sprintf("tag-%02d", i), "v"))
	}
	if err := batchTags(c, id, "create", items...); err != nil {
		t.Fatalf("tags 2–20: %v", err)
	}
	wantError(t, createTag(c, id, tagItem("one-too-many", "v")), 400, "KMS.0409")
	wantError(t, batchTags(c, id, "create", tagItem("tag-00", "w"), tagItem("one-too-many", "v")), 400, "KMS.0409")
	if err := createTag(c, id, tagItem("tag-00", "overwritten")); err != nil {
		t.Errorf("overwriting at the limit: %v", err)
	}
	got := keyTags(t, c, id)
	if len(got) != 20 || got[0] != (tag{"tag-00", "overwritten"}) {
		t.Errorf("after the limit: %d tags, first %v", len(got), got[0])
	}
	var many []model.TagItem
	for i := range 21 {
		many = append(many, model.TagItem{Key: fmt.Sprint("t", i)})
	}
	wantError(t, batchTags(c, id, "delete", many...), 400, "KMS.0407")
}

// TestListKmsTagsSDK checks the project's tag keys with their distinct
// values (list-kms-tags).
func TestListKmsTagsSDK(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	list := func(c *kms.KmsClient) []model.Tag {
		t.Helper()
		resp, err := c.ListKmsTags(&model.ListKmsTagsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if resp.Tags == nil {
			t.Fatal("ListKmsTags answered no tags member")
		}
		return *resp.Tags
	}
	if got := list(c); len(got) != 0 {
		t.Fatalf("a new project has tags %v", got)
	}
	a, b := newKey(t, c), newKey(t, c)
	if err := batchTags(c, a, "create", tagItem("env", "prod"), tagItem("owner", "")); err != nil {
		t.Fatal(err)
	}
	if err := batchTags(c, b, "create", tagItem("env", "dev"), tagItem("env2", "prod")); err != nil {
		t.Fatal(err)
	}
	if err := createTag(c, b, tagItem("owner", "")); err != nil {
		t.Fatal(err)
	}
	want := `[env:["dev" "prod"] env2:["prod"] owner:[""]]`
	if got := tagValuesString(list(c)); got != want {
		t.Errorf("tags: got %v, want %v", got, want)
	}
	if got := list(e.reader()); len(got) != 3 {
		t.Errorf("reader sees %d tag keys, want 3", len(got))
	}
	if got := list(e.admin2()); len(got) != 0 {
		t.Errorf("another account sees tags %v", got)
	}
}

// search calls ListKmsByTags.
func search(c *kms.KmsClient, body model.ListKmsByTagsRequestBody) (*model.ListKmsByTagsResponse, error) {
	return c.ListKmsByTags(&model.ListKmsByTagsRequest{ResourceInstances: "resource_instances", Body: &body})
}

// TestListKmsByTagsSDK finds keys by tags and alias through the SDK:
// filter pages with ActionResources, count totals (reference kms-api.md
// §5.I).
func TestListKmsByTagsSDK(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	type spec struct {
		alias string
		tags  []model.TagItem
	}
	specs := []spec{
		{"orders-prod", []model.TagItem{tagItem("env", "prod"), tagItem("app", "orders")}},
		{"orders-dev", []model.TagItem{tagItem("env", "dev"), tagItem("app", "orders")}},
		{"billing-prod", []model.TagItem{tagItem("env", "prod"), tagItem("app", "billing")}},
		{"untagged", nil},
	}
	ids := map[string]string{}
	for _, s := range specs {
		id := createKey(t, c, model.CreateKeyRequestBody{KeyAlias: s.alias})
		ids[s.alias] = id
		if s.tags != nil {
			if err := batchTags(c, id, "create", s.tags...); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := c.EnableKeyRotation(&model.EnableKeyRotationRequest{Body: &model.OperateKeyRequestBody{KeyId: ids["orders-prod"]}}); err != nil {
		t.Fatal(err)
	}
	prod := model.Tag{Key: ptr("env"), Values: &[]string{"prod"}}
	tests := []struct {
		name string
		body model.ListKmsByTagsRequestBody
		want []string
	}{
		{"all", model.ListKmsByTagsRequestBody{}, []string{"orders-prod", "orders-dev", "billing-prod", "untagged"}},
		{"env prod", model.ListKmsByTagsRequestBody{Tags: &[]model.Tag{prod}}, []string{"orders-prod", "billing-prod"}},
		{"env prod or dev", model.ListKmsByTagsRequestBody{Tags: &[]model.Tag{{Key: ptr("env"), Values: &[]string{"dev", "prod"}}}}, []string{"orders-prod", "orders-dev", "billing-prod"}},
		{"app with any value", model.ListKmsByTagsRequestBody{Tags: &[]model.Tag{{Key: ptr("app")}}}, []string{"orders-prod", "orders-dev", "billing-prod"}},
		{"env prod and app orders", model.ListKmsByTagsRequestBody{Tags: &[]model.Tag{prod, {Key: ptr("app"), Values: &[]string{"orders"}}}}, []string{"orders-prod"}},
		{"alias contains ORDERS", model.ListKmsByTagsRequestBody{Matches: &[]model.TagItem{tagItem("resource_name", "ORDERS")}}, []string{"orders-prod", "orders-dev"}},
		{"alias and tag", model.ListKmsByTagsRequestBody{Tags: &[]model.Tag{prod}, Matches: &[]model.TagItem{tagItem("resource_name", "billing")}}, []string{"billing-prod"}},
		{"nothing", model.ListKmsByTagsRequestBody{Tags: &[]model.Tag{{Key: ptr("env"), Values: &[]string{"test"}}}}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := tt.body
			body.Action = ptr("filter")
			body.Limit = ptr("1000")
			resp, err := search(c, body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Resources == nil || resp.TotalCount == nil {
				t.Fatalf("filter answered %v, want resources and total_count", resp)
			}
			got := []string{}
			for _, r := range *resp.Resources {
				got = append(got, val(r.ResourceName))
			}
			if !reflect.DeepEqual(tt.want, got) {
				t.Errorf("found: got %v, want %v", got, tt.want)
			}
			if int(*resp.TotalCount) != len(tt.want) {
				t.Errorf("total_count %d, want %d", *resp.TotalCount, len(tt.want))
			}
			body.Action, body.Limit = ptr("count"), nil
			resp, err = search(c, body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.TotalCount == nil || int(*resp.TotalCount) != len(tt.want) {
				t.Errorf("count answered %v, want total_count %d", resp.TotalCount, len(tt.want))
			}
			if resp.Resources != nil && len(*resp.Resources) != 0 {
				t.Errorf("count answered resources %v", *resp.Resources)
			}
		})
	}

	// One resource in full: id, name, tags and a single KeyDetails object
	// that reflects the key, rotation included.
	resp, err := search(c, model.ListKmsByTagsRequestBody{Action: ptr("filter"), Matches: &[]model.TagItem{tagItem("resource_name", "orders-prod")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(*resp.Resources) != 1 {
		t.Fatalf("got %d resources, want 1", len(*resp.Resources))
	}
	r := (*resp.Resources)[0]
	if val(r.ResourceId) != ids["orders-prod"] || r.ResourceDetail == nil || r.Tags == nil {
		t.Fatalf("resource %+v", r)
	}
	d := r.ResourceDetail
	if val(d.KeyId) != ids["orders-prod"] || val(d.KeyAlias) != "orders-prod" || val(d.KeyState) != stateEnabled || val(d.KeyRotationEnabled) != "true" || val(d.DomainId) != e.ids.AccountID {
		t.Errorf("resource_detail %+v", d)
	}
	if want, got := []tag{{"app", "orders"}, {"env", "prod"}}, tagsOf(*r.Tags); !reflect.DeepEqual(want, got) {
		t.Errorf("resource tags: got %v, want %v", got, want)
	}
	// An untagged key has an empty tag list, not a missing one.
	resp, err = search(c, model.ListKmsByTagsRequestBody{Action: ptr("filter"), Matches: &[]model.TagItem{tagItem("resource_name", "untagged")}})
	if err != nil {
		t.Fatal(err)
	}
	if rs := *resp.Resources; len(rs) != 1 || rs[0].Tags == nil || len(*rs[0].Tags) != 0 {
		t.Errorf("untagged key: %+v", rs)
	}

	// Paging: the default page is 10; offset and limit walk the matches
	// in creation order.
	var paged []string
	for offset := 0; offset < 4; offset += 3 {
		resp, err := search(c, model.ListKmsByTagsRequestBody{Action: ptr("filter"), Limit: ptr("3"), Offset: ptr(fmt.Sprint(offset))})
		if err != nil {
			t.Fatal(err)
		}
		if *resp.TotalCount != 4 {
			t.Errorf("offset %d: total_count %d, want 4", offset, *resp.TotalCount)
		}
		for _, r := range *resp.Resources {
			paged = append(paged, val(r.ResourceName))
		}
	}
	if want, got := []string{"orders-prod", "orders-dev", "billing-prod", "untagged"}, paged; !reflect.DeepEqual(want, got) {
		t.Errorf("pages: got %v, want %v", got, want)
	}
	for i := range 8 {
		createKey(t, c, model.CreateKeyRequestBody{KeyAlias: fmt.Sprint("filler-", i)})
	}
	resp, err = search(c, model.ListKmsByTagsRequestBody{Action: ptr("filter")})
	if err != nil {
		t.Fatal(err)
	}
	if len(*resp.Resources) != 10 || *resp.TotalCount != 12 {
		t.Errorf("default page: %d resources, total %d; want 10, 12", len(*resp.Resources), *resp.TotalCount)
	}

	// The reader may search; another account finds nothing of ours.
	if resp, err := search(e.reader(), model.ListKmsByTagsRequestBody{Action: ptr("count")}); err != nil || *resp.TotalCount != 12 {
		t.Errorf("reader count: %v, %v", resp, err)
	}
	if resp, err := search(e.admin2(), model.ListKmsByTagsRequestBody{Action: ptr("count")}); err != nil || *resp.TotalCount != 0 {
		t.Errorf("another account's count: %v, %v", resp, err)
	}

	errTests := []struct {
		name   string
		body   model.ListKmsByTagsRequestBody
		status int
		code   string
	}{
		{"no action", model.ListKmsByTagsRequestBody{}, 400, "KMS.0204"},
		{"unknown action", model.ListKmsByTagsRequestBody{Action: ptr("list")}, 400, "KMS.0404"},
		{"limit 0", model.ListKmsByTagsRequestBody{Action: ptr("filter"), Limit: ptr("0")}, 400, "KMS.1601"},
		{"limit with a sign", model.ListKmsByTagsRequestBody{Action: ptr("filter"), Limit: ptr("+5")}, 400, "KMS.1601"},
		{"offset -1", model.ListKmsByTagsRequestBody{Action: ptr("filter"), Offset: ptr("-1")}, 400, "KMS.0417"},
		{"invalid tag key", model.ListKmsByTagsRequestBody{Action: ptr("filter"), Tags: &[]model.Tag{{Key: ptr("a=b")}}}, 400, "KMS.0406"},
		{"tag key twice", model.ListKmsByTagsRequestBody{Action: ptr("count"), Tags: &[]model.Tag{prod, prod}}, 400, "KMS.0414"},
		{"match key", model.ListKmsByTagsRequestBody{Action: ptr("filter"), Matches: &[]model.TagItem{tagItem("resource_id", "x")}}, 400, "KMS.0403"},
		{"match value too long", model.ListKmsByTagsRequestBody{Action: ptr("filter"), Matches: &[]model.TagItem{tagItem("resource_name", strings.Repeat("a", 256))}}, 400, "KMS.0402"},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := search(c, tt.body)
			wantError(t, err, tt.status, tt.code)
		})
	}
}

// TestTagWireTypes checks the raw JSON of the tag answers: existTagsNum
// and total_count are integers, resource_detail is one object, and a
// key's tags are [] rather than null.
func TestTagWireTypes(t *testing.T) {
	t.Parallel()
	e := start(t)
	id := newKey(t, e.admin())
	status, _, body := rawCall(t, e, "GET", e.projectPath(id+"/tags"), nil, e.ids.AdminAK, e.ids.AdminSK)
	if status != 200 || string(body) != `{"existTagsNum":0,"tags":[]}` {
		t.Errorf("show-kms-tags: %d %s", status, body)
	}
	status, _, body = rawCall(t, e, "GET", e.projectPath("tags"), nil, e.ids.AdminAK, e.ids.AdminSK)
	if status != 200 || string(body) != `{"tags":[]}` {
		t.Errorf("list-kms-tags: %d %s", status, body)
	}
	status, _, body = rawCall(t, e, "POST", e.projectPath("resource_instances/action"), []byte(`{"action":"filter"}`+"\n"), e.ids.AdminAK, e.ids.AdminSK)
	var v struct {
		Resources []struct {
			ResourceDetail map[string]any `json:"resource_detail"`
			Tags           []any          `json:"tags"`
		} `json:"resources"`
		TotalCount json.Number `json:"total_count"`
	}
	if err := json.Unmarshal(body, &v); status != 200 || err != nil || len(v.Resources) != 1 || v.TotalCount != "1" {
		t.Fatalf("list-kms-by-tags: %d %s (%v)", status, body, err)
	}
	if v.Resources[0].ResourceDetail["key_id"] != id || v.Resources[0].Tags == nil {
		t.Errorf("resource: %s", body)
	}
	status, _, body = rawCall(t, e, "POST", e.projectPath("resource_instances/action"), []byte(`{"action":"count"}`+"\n"), e.ids.AdminAK, e.ids.AdminSK)
	if status != 200 || string(body) != `{"total_count":1}` {
		t.Errorf("count: %d %s", status, body)
	}
	// Routing: only the literal resource_instances segment searches.
	status, h, body := rawCall(t, e, "POST", e.projectPath("resources/action"), []byte(`{"action":"count"}`+"\n"), e.ids.AdminAK, e.ids.AdminSK)
	wantRawError(t, status, h, body, 404, "APIGW.0101")
}

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

// TestDeleteTagSlash deletes tag keys containing "/" (and spaces)
// through the SDK's DeleteTag, which puts the tag key into the path
// unescaped (reference kms-api.md §1), and through a raw request that
// escapes it as %2F, as a client that escapes path parameters does.
func TestDeleteTagSlash(t *testing.T) {
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

// TestTagRawRequests sends the tag and resource-search requests the SDK
// cannot: wrong JSON types, missing members and out-of-range values
// (compatibility.md "Requests and errors").
func TestTagRawRequests(t *testing.T) {
	t.Parallel()
	e := start(t)
	key := newKey(t, e.admin())
	p := e.projectPath
	seq := `"sequence":"short"`
	runRawCases(t, e, []rawCase{
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
	})
}

// TestTagIsolation calls the tag operations on one account's key as the
// other account (404 KMS.0207, never data) and as the read-only user (403
// KMS.0307 for every change; reads allowed).
func TestTagIsolation(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	key := newKey(t, c)
	if err := createTag(c, key, tagItem("env", "prod")); err != nil {
		t.Fatal(err)
	}
	checkIsolation(t, e, []isoOp{
		{"CreateKmsTag", true, func(c *kms.KmsClient) error { return createTag(c, key, tagItem("a", "b")) }},
		{"BatchCreateKmsTags create", true, func(c *kms.KmsClient) error { return batchTags(c, key, "create", tagItem("a", "b")) }},
		{"BatchCreateKmsTags delete", true, func(c *kms.KmsClient) error { return batchTags(c, key, "delete", tagItem("env", "")) }},
		{"DeleteTag", true, func(c *kms.KmsClient) error { return deleteTag(c, key, "env") }},
		{"ShowKmsTags", false, func(c *kms.KmsClient) error {
			_, err := c.ShowKmsTags(&model.ShowKmsTagsRequest{KeyId: key})
			return err
		}},
	})
	// Nothing changed.
	if got := keyTags(t, c, key); len(got) != 1 || got[0] != (tag{"env", "prod"}) {
		t.Errorf("tags %v", got)
	}
	// The other account's project-wide list holds nothing of ours.
	if tags, err := e.admin2().ListKmsTags(&model.ListKmsTagsRequest{}); err != nil || tags.Tags == nil || len(*tags.Tags) != 0 {
		t.Errorf("other account's ListKmsTags: %v, %v", tags, err)
	}
}

// TestTagWireBodies checks that the tag operations answer 204 with no
// body (reference kms-api.md §5.I).
func TestTagWireBodies(t *testing.T) {
	t.Parallel()
	e := start(t)
	key := newKey(t, e.admin())
	for _, tc := range []struct{ method, op, body string }{
		{"POST", key + "/tags", `{"tag":{"key":"k","value":"v"}}`},
		{"POST", key + "/tags/action", `{"action":"create","tags":[{"key":"k2","value":"v"}]}`},
		{"DELETE", key + "/tags/k", ``},
	} {
		if body := rawStatus(t, e, tc.method, tc.op, tc.body, 204); len(body) != 0 {
			t.Errorf("%s %s body %q", tc.method, tc.op, body)
		}
	}
}
