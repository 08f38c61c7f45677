package compat

import (
	"net/url"
	"testing"

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
