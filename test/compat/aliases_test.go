package compat

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	kms "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2/model"
)

var extraAliasSeq atomic.Int64

// newExtraAlias returns an alias name no other alias or key of the test
// run has.
func newExtraAlias() string { return fmt.Sprintf("compat-alias-%d", extraAliasSeq.Add(1)) }

func createAlias(c *kms.KmsClient, keyID, alias string) (*model.CreateAliasResponse, error) {
	return c.CreateAlias(&model.CreateAliasRequest{Body: &model.CreateAliasRequestBody{KeyId: keyID, Alias: alias}})
}

func deleteAliases(c *kms.KmsClient, keyID string, aliases ...string) error {
	_, err := c.DeleteAlias(&model.DeleteAliasRequest{Body: &model.DeleteAliasRequestBody{KeyId: keyID, Aliases: aliases}})
	return err
}

// listAliasPages walks ListAliases with limit (and keyID when not empty)
// to the end and returns the alias names and the entities.
func listAliasPages(t *testing.T, c *kms.KmsClient, keyID string, limit int) ([]string, []model.AliasEntity) {
	t.Helper()
	var names []string
	var all []model.AliasEntity
	var marker *string
	for range 100 {
		req := &model.ListAliasesRequest{Limit: ptr(fmt.Sprint(limit)), Marker: marker}
		if keyID != "" {
			req.KeyId = ptr(keyID)
		}
		resp, err := c.ListAliases(req)
		if err != nil {
			t.Fatalf("ListAliases: %v", err)
		}
		if resp.Body == nil || len(*resp.Body) != 1 {
			t.Fatalf("ListAliases answered %v, want one page in an array", resp)
		}
		page := (*resp.Body)[0]
		if page.PageInfo == nil || page.PageInfo.CurrentCount == nil || int(*page.PageInfo.CurrentCount) != len(page.Aliases) {
			t.Fatalf("page_info %v for %d aliases", page.PageInfo, len(page.Aliases))
		}
		if len(page.Aliases) > limit {
			t.Fatalf("%d aliases on a page of %d", len(page.Aliases), limit)
		}
		for _, a := range page.Aliases {
			names = append(names, a.Alias)
			all = append(all, a)
		}
		next := val(page.PageInfo.NextMarker)
		if next == "" {
			return names, all
		}
		marker = ptr(next)
	}
	t.Fatal("ListAliases does not end")
	return nil, nil
}

// TestAliases creates, lists, moves and deletes aliases of the multi-alias
// API through the SDK (reference kms-api.md §5.H).
func TestAliases(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	keyAlias := newAlias()
	key := createKey(t, c, model.CreateKeyRequestBody{KeyAlias: keyAlias})
	key2 := newKey(t, c)
	name := newExtraAlias()

	before := time.Now().UTC().Truncate(time.Second)
	resp, err := createAlias(c, key, name)
	if err != nil {
		t.Fatalf("CreateAlias: %v", err)
	}
	if resp.HttpStatusCode != 201 {
		t.Errorf("CreateAlias status %d, want 201", resp.HttpStatusCode)
	}
	created, err := time.Parse(time.RFC3339, val(resp.CreateTime))
	if err != nil || created.Before(before) || created.After(time.Now().Add(time.Second)) || !strings.HasSuffix(val(resp.CreateTime), "Z") {
		t.Errorf("create_time %q, want ISO-8601 UTC of now", val(resp.CreateTime))
	}
	wantURN := "kms:" + e.ids.ProjectName + ":" + e.ids.AccountID + ":alias:" + name
	if val(resp.KeyId) != key || val(resp.Alias) != name || val(resp.DomainId) != e.ids.AccountID || val(resp.AliasUrn) != wantURN || val(resp.UpdateTime) != val(resp.CreateTime) {
		t.Errorf("CreateAlias answered %v, want key %s, alias %s, domain %s, urn %s", resp, key, name, e.ids.AccountID, wantURN)
	}
	// describe-key keeps the key_alias; the alias is an extra name.
	if d := describe(t, c, key); val(d.KeyAlias) != keyAlias {
		t.Errorf("key_alias after CreateAlias: %q, want %q", val(d.KeyAlias), keyAlias)
	}

	names, entities := listAliasPages(t, c, key, 10)
	if !slices.Equal(names, []string{name}) {
		t.Fatalf("aliases of the key: %v", names)
	}
	if a := entities[0]; val(a.KeyId) != key || a.AliasUrn != wantURN || val(a.DomainId) != e.ids.AccountID || val(a.CreateTime) != val(resp.CreateTime) {
		t.Errorf("listed alias %v", a)
	}

	moved, err := c.AssociateAlias(&model.AssociateAliasRequest{Body: &model.AssociateAliasRequestBody{Alias: name, TargetKeyId: key2}})
	if err != nil {
		t.Fatalf("AssociateAlias: %v", err)
	}
	if val(moved.KeyId) != key2 || val(moved.Alias) != name || val(moved.CreateTime) != val(resp.CreateTime) || val(moved.AliasUrn) != wantURN {
		t.Errorf("AssociateAlias answered %v", moved)
	}
	if names, _ := listAliasPages(t, c, key, 10); len(names) != 0 {
		t.Errorf("aliases of the old key after the move: %v", names)
	}
	if names, _ := listAliasPages(t, c, key2, 10); !slices.Equal(names, []string{name}) {
		t.Errorf("aliases of the new key after the move: %v", names)
	}

	// Deleting with the old key is refused and changes nothing.
	wantError(t, deleteAliases(c, key, name), 400, "KMS.0308")
	if err := deleteAliases(c, key2, name); err != nil {
		t.Fatalf("DeleteAlias: %v", err)
	}
	if names, _ := listAliasPages(t, c, "", 10); len(names) != 0 {
		t.Errorf("aliases after DeleteAlias: %v", names)
	}
	// A deleted alias's name is free, for a key alias too.
	if _, err := updateAlias(c, key2, name); err != nil {
		t.Errorf("UpdateKeyAlias onto a deleted alias: %v", err)
	}
}

// TestAliasNamespace: aliases and key aliases share one namespace per
// project; other projects have their own.
func TestAliasNamespace(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	keyAlias := newAlias()
	key := createKey(t, c, model.CreateKeyRequestBody{KeyAlias: keyAlias})
	name := newExtraAlias()
	if _, err := createAlias(c, key, name); err != nil {
		t.Fatal(err)
	}
	_, err := createAlias(c, key, name)
	wantError(t, err, 400, "KMS.1104")
	_, err = createAlias(c, key, keyAlias)
	wantError(t, err, 400, "KMS.1104")
	_, err = c.CreateKey(&model.CreateKeyRequest{Body: &model.CreateKeyRequestBody{KeyAlias: name}})
	wantError(t, err, 400, "KMS.1104")
	_, err = updateAlias(c, newKey(t, c), name)
	wantError(t, err, 400, "KMS.1104")
	// The second account has its own namespace.
	other := e.admin2()
	if _, err := createAlias(other, newKey(t, other), name); err != nil {
		t.Errorf("the same alias in another account: %v", err)
	}
	// ... and cannot see or touch the first one's aliases.
	if names, _ := listAliasPages(t, other, "", 100); len(names) != 1 {
		t.Errorf("admin2 lists %v", names)
	}
	_, err = other.AssociateAlias(&model.AssociateAliasRequest{Body: &model.AssociateAliasRequestBody{Alias: name, TargetKeyId: key}})
	wantError(t, err, 404, "KMS.0207")
}

// TestListAliasesPages pages through ListAliases with several page sizes,
// with and without the key filter.
func TestListAliasesPages(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	k1, k2 := newKey(t, c), newKey(t, c)
	var all, of1 []string
	for i := range 13 {
		name := fmt.Sprintf("page-%02d", i)
		key := k1
		if i%4 == 0 {
			key = k2
		} else {
			of1 = append(of1, name)
		}
		if _, err := createAlias(c, key, name); err != nil {
			t.Fatal(err)
		}
		all = append(all, name)
	}
	for _, limit := range []int{1, 5, 13, 100} {
		if names, _ := listAliasPages(t, c, "", limit); !slices.Equal(names, all) {
			t.Errorf("limit %d: %v, want %v", limit, names, all)
		}
		if names, _ := listAliasPages(t, c, k1, limit); !slices.Equal(names, of1) {
			t.Errorf("limit %d of one key: %v, want %v", limit, names, of1)
		}
	}
	// Without a limit: one page of up to 100.
	resp, err := c.ListAliases(&model.ListAliasesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if page := (*resp.Body)[0]; len(page.Aliases) != 13 || val(page.PageInfo.NextMarker) != "" {
		t.Errorf("default page: %d aliases, next %q", len(page.Aliases), val(page.PageInfo.NextMarker))
	}
	for _, tc := range []struct {
		name   string
		req    *model.ListAliasesRequest
		status int
		code   string
	}{
		{"limit 0", &model.ListAliasesRequest{Limit: ptr("0")}, 400, "KMS.1601"},
		{"limit 101", &model.ListAliasesRequest{Limit: ptr("101")}, 400, "KMS.1601"},
		{"limit text", &model.ListAliasesRequest{Limit: ptr("ten")}, 400, "KMS.1601"},
		{"malformed key", &model.ListAliasesRequest{KeyId: ptr("key")}, 400, "KMS.0205"},
		{"unknown key", &model.ListAliasesRequest{KeyId: ptr(unknownKeyID)}, 404, "KMS.0207"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.ListAliases(tc.req)
			wantError(t, err, tc.status, tc.code)
		})
	}
	// The reader may list (kms:alias:list) but not create.
	if names, _ := listAliasPages(t, e.reader(), "", 100); len(names) != 13 {
		t.Errorf("reader lists %d aliases", len(names))
	}
	_, err = createAlias(e.reader(), k1, newExtraAlias())
	wantError(t, err, 403, "KMS.0307")
}

// TestListAliasesWire checks the raw body: a top-level JSON array, as the
// SDK decodes it (reference kms-api.md §5.H).
func TestListAliasesWire(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	key := newKey(t, c)
	for _, n := range []string{"wire-a", "wire-b"} {
		if _, err := createAlias(c, key, n); err != nil {
			t.Fatal(err)
		}
	}
	status, _, body := rawCall(t, e, "GET", e.projectPath("aliases")+"?limit=1", nil, e.ids.AdminAK, e.ids.AdminSK)
	if status != 200 {
		t.Fatalf("list aliases: %d %s", status, body)
	}
	var v []struct {
		Aliases  []map[string]any `json:"aliases"`
		PageInfo map[string]any   `json:"page_info"`
	}
	if err := json.Unmarshal(body, &v); err != nil || len(v) != 1 {
		t.Fatalf("body %s is not a one-element array: %v", body, err)
	}
	if len(v[0].Aliases) != 1 || v[0].Aliases[0]["alias"] != "wire-a" || v[0].PageInfo["next_marker"] != "wire-a" || v[0].PageInfo["current_count"] != float64(1) {
		t.Errorf("body %s", body)
	}
	// An empty project lists an empty array of aliases, not null.
	status, _, body = rawCall(t, e, "GET", e.projectPath("aliases")+"?key_id="+newKey(t, c), nil, e.ids.AdminAK, e.ids.AdminSK)
	if status != 200 || string(body) != `[{"aliases":[],"page_info":{"next_marker":"","current_count":0}}]` {
		t.Errorf("empty list: %d %s", status, body)
	}
	// DeleteAlias answers 204 without a body.
	status, _, body = rawCall(t, e, "DELETE", e.projectPath("aliases"), []byte(`{"aliases":["wire-a","wire-b"],"key_id":"`+key+`"}`), e.ids.AdminAK, e.ids.AdminSK)
	if status != 204 || len(body) != 0 {
		t.Errorf("DeleteAlias: %d %q", status, body)
	}
}

// TestAliasErrors checks the refusals of create, associate and delete.
func TestAliasErrors(t *testing.T) {
	t.Parallel()
	e := start(t)
	ctx := t.Context()
	c := e.admin()
	keyAlias := newAlias()
	key := createKey(t, c, model.CreateKeyRequestBody{KeyAlias: keyAlias})
	key2 := newKey(t, c)
	def, err := e.srv.KMS.CreateDefaultKey(ctx, e.ids.ProjectID, e.ids.AccountID, "obs")
	if err != nil {
		t.Fatal(err)
	}
	dying := newKey(t, c)
	if _, err := scheduleDeletion(c, dying, "7"); err != nil {
		t.Fatal(err)
	}
	name := newExtraAlias()
	if _, err := createAlias(c, key, name); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, key, alias string
		status           int
		code             string
	}{
		{"charset", key, "a b", 400, "KMS.1101"},
		{"too long", key, strings.Repeat("a", 256), 400, "KMS.1101"},
		{"reserved suffix", key, "app/default", 400, "KMS.1101"},
		{"empty", key, "", 400, "KMS.0204"},
		{"default key", def.KeyID, newExtraAlias(), 400, "KMS.0211"},
		{"key pending deletion", dying, newExtraAlias(), 400, "KMS.0210"},
		{"unknown key", unknownKeyID, newExtraAlias(), 404, "KMS.0207"},
		{"malformed key", "key", newExtraAlias(), 400, "KMS.0205"},
	} {
		t.Run("CreateAlias/"+tc.name, func(t *testing.T) {
			_, err := createAlias(c, tc.key, tc.alias)
			wantError(t, err, tc.status, tc.code)
		})
	}
	for _, tc := range []struct {
		name, alias, key string
		status           int
		code             string
	}{
		{"a key alias", keyAlias, key2, 400, "KMS.0308"},
		{"no such alias", newExtraAlias(), key2, 400, "KMS.0308"},
		{"default key", name, def.KeyID, 400, "KMS.0211"},
		{"key pending deletion", name, dying, 400, "KMS.0210"},
		{"unknown key", name, unknownKeyID, 404, "KMS.0207"},
		{"malformed key", name, "key", 400, "KMS.0205"},
	} {
		t.Run("AssociateAlias/"+tc.name, func(t *testing.T) {
			_, err := c.AssociateAlias(&model.AssociateAliasRequest{Body: &model.AssociateAliasRequestBody{Alias: tc.alias, TargetKeyId: tc.key}})
			wantError(t, err, tc.status, tc.code)
		})
	}
	for _, tc := range []struct {
		name    string
		key     string
		aliases []string
		status  int
		code    string
	}{
		{"a key alias", key, []string{keyAlias}, 400, "KMS.0308"},
		{"one of them unknown", key, []string{name, newExtraAlias()}, 400, "KMS.0308"},
		{"another key's alias", key2, []string{name}, 400, "KMS.0308"},
		{"no aliases", key, []string{}, 400, "KMS.0204"},
		{"unknown key", unknownKeyID, []string{name}, 404, "KMS.0207"},
	} {
		t.Run("DeleteAlias/"+tc.name, func(t *testing.T) {
			wantError(t, deleteAliases(c, tc.key, tc.aliases...), tc.status, tc.code)
		})
	}
	// Nothing was deleted.
	if names, _ := listAliasPages(t, c, key, 10); !slices.Equal(names, []string{name}) {
		t.Errorf("aliases after refused deletions: %v", names)
	}
}

// TestAliasEdges checks alias rules the existing tests leave out: a
// key may be given its own alias again; every character of the charset is
// allowed; a destroyed key's alias is free again; and a key pending
// deletion keeps its alias taken.
func TestAliasEdges(t *testing.T) {
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

// TestAliasRawRequests sends the alias requests the SDK cannot: wrong
// JSON types, missing members and out-of-range values
// (compatibility.md "Requests and errors").
func TestAliasRawRequests(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	key := newKey(t, c)
	if _, err := createAlias(c, key, "raw-alias"); err != nil {
		t.Fatal(err)
	}
	k := `"key_id":"` + key + `"`
	p := e.projectPath
	runRawCases(t, e, []rawCase{
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
	})
}

// TestAliasIsolation calls the alias operations on one account's key as
// the other account (404 KMS.0207, never data) and as the read-only user
// (403 KMS.0307 for every change; reads allowed).
func TestAliasIsolation(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	key := newKey(t, c)
	alias := "iso-alias"
	if _, err := createAlias(c, key, alias); err != nil {
		t.Fatal(err)
	}
	key2 := newKey(t, c)
	checkIsolation(t, e, []isoOp{
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
	})
	// Nothing changed.
	if names, _ := listAliasPages(t, c, key, 10); len(names) != 1 || names[0] != alias {
		t.Errorf("aliases %v", names)
	}
	// The other account's project-wide list holds nothing of ours.
	if names, _ := listAliasPages(t, e.admin2(), "", 100); len(names) != 0 {
		t.Errorf("other account's aliases %v", names)
	}
}

// TestAliasWireBodies checks the exact JSON types of the success bodies
// of the alias operations (reference kms-api.md §4, §5.H), and that
// delete-alias answers 204 with no body.
func TestAliasWireBodies(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	key := newKey(t, c)
	k := `"key_id":"` + key + `"`
	aliasFields := map[string]string{"domain_id": "string", "key_id": "string", "alias": "string", "alias_urn": "string", "create_time": "string", "update_time": "string"}
	body := rawStatus(t, e, "POST", "aliases", `{`+k+`,"alias":"wire-alias"}`, 201)
	if got := jsonTypes(t, body); !reflect.DeepEqual(got, aliasFields) {
		t.Errorf("create-alias members %v (%s)", got, body)
	}
	key2 := newKey(t, c)
	body = rawStatus(t, e, "POST", "alias/associate", `{"alias":"wire-alias","target_key_id":"`+key2+`"}`, 200)
	if got := jsonTypes(t, body); !reflect.DeepEqual(got, aliasFields) {
		t.Errorf("associate-alias members %v (%s)", got, body)
	}

	if body := rawStatus(t, e, "DELETE", "aliases", `{"key_id":"`+key2+`","aliases":["wire-alias"]}`, 204); len(body) != 0 {
		t.Errorf("DELETE aliases body %q", body)
	}
}
