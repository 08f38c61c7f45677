package compat

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	kmsdauth "github.com/kmsd/kmsd/internal/auth"
)

// terraformUA is the User-Agent of the Terraform provider
// huaweicloud/huaweicloud v1.97.1: its providerUserAgent prepended to
// golangsdk's DefaultUserAgent (huaweicloud/config/config.go,
// vendor/github.com/chnsz/golangsdk/provider_client.go).
const terraformUA = "terraform-provider-iac golangsdk/2.0.0"

// providerClient replays requests as the Terraform provider's HTTP layer
// (golangsdk's ProviderClient.Request) makes and reads them: signed, with
// its User-Agent, success only for the method's default codes (POST 200,
// 201, 202; GET 200; DELETE 200, 202, 204), and a JSON body decoded from
// every success but a 204 — an empty body there is the provider's "EOF".
type providerClient struct {
	t *testing.T
	e *env
}

// do sends one request; ok, when given, replaces the method's default
// success codes, as a golangsdk call's RequestOpts.OkCodes do.
func (p providerClient) do(method, path string, body any, into any, ok ...int) int {
	p.t.Helper()
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			p.t.Fatal(err)
		}
	}
	r := newRawRequest(p.t, p.e, method, path, b)
	r.Header.Set("User-Agent", terraformUA)
	signRaw(p.t, r, b, kmsdauth.AlgHMACSHA256, p.e.ids.AdminAK, p.e.ids.AdminSK, time.Now())
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	if ok == nil {
		ok = map[string][]int{"GET": {200}, "POST": {200, 201, 202}, "PUT": {200, 201, 202}, "DELETE": {200, 202, 204}}[method]
	}
	good := false
	for _, c := range ok {
		good = good || resp.StatusCode == c
	}
	if !good {
		raw, _ := io.ReadAll(resp.Body)
		p.t.Fatalf("%s %s: the provider fails on %d %s", method, path, resp.StatusCode, raw)
	}
	if resp.StatusCode == http.StatusNoContent {
		return resp.StatusCode
	}
	raw, _ := io.ReadAll(resp.Body)
	if into == nil {
		into = new(any)
	}
	if err := json.NewDecoder(bytes.NewReader(raw)).Decode(into); err != nil {
		p.t.Fatalf("%s %s: the provider cannot decode %d %q: %v", method, path, resp.StatusCode, raw, err)
	}
	return resp.StatusCode
}

// TestTerraformProviderReplay replays what the Terraform provider v1.97.1
// sends for huaweicloud_kms_key (create with rotation, read, update of a
// key whose rotation is off) and huaweicloud_kms_alias (create, read by
// paging list-aliases), and checks the answers have the shapes it reads
// (issue 9). scripts/terraform-check.sh runs the real provider.
//
// The provider's numeric "limit" of list-grants and list-keys is issue 9
// item 2, tested with the rest of the numeric members.
func TestTerraformProviderReplay(t *testing.T) {
	e := start(t)
	pc := providerClient{t, e}
	p := e.projectPath

	// resourceKmsKeyCreate: keys.Create, then keys.Get until enabled.
	var created struct {
		KeyInfo struct {
			KeyID string `json:"key_id"`
		} `json:"key_info"`
	}
	alias := newAlias()
	pc.do("POST", p("create-key"), map[string]any{"key_alias": alias, "key_description": "tf", "key_spec": "AES_256", "key_usage": "ENCRYPT_DECRYPT", "origin": "kms"}, &created)
	id := created.KeyInfo.KeyID
	var desc struct {
		KeyInfo struct {
			KeyState string `json:"key_state"`
		} `json:"key_info"`
	}
	pc.do("POST", p("describe-key"), map[string]any{"key_id": id}, &desc)
	if desc.KeyInfo.KeyState != "2" {
		t.Fatalf("key_state %q, want 2", desc.KeyInfo.KeyState)
	}
	// rotation.Enable, rotation.Update, rotation.Get (its GetResult).
	type rotation struct {
		Enabled  bool `json:"key_rotation_enabled"`
		Interval int  `json:"rotation_interval"`
		Number   int  `json:"number_of_rotations"`
	}
	pc.do("POST", p("enable-key-rotation"), map[string]any{"key_id": id}, nil)
	pc.do("POST", p("update-key-rotation-interval"), map[string]any{"key_id": id, "rotation_interval": 30}, nil)
	var rot rotation
	pc.do("POST", p("get-key-rotation-status"), map[string]any{"key_id": id}, &rot)
	if !rot.Enabled || rot.Interval != 30 {
		t.Errorf("rotation on: %+v, want enabled with 30 days", rot)
	}
	// resourceKmsKeyUpdate with rotation_enabled false: rotation.Disable,
	// then the read stores rotation_interval; the next update refuses to
	// run unless it is 0 ("'rotation_interval' is only valid when the
	// KMS key rotation is enabled").
	pc.do("POST", p("disable-key-rotation"), map[string]any{"key_id": id}, nil)
	rot = rotation{}
	pc.do("POST", p("get-key-rotation-status"), map[string]any{"key_id": id}, &rot)
	if rot.Enabled || rot.Interval != 0 {
		t.Fatalf("rotation off: %+v, want disabled and no interval (the provider would refuse every update)", rot)
	}
	// The in-place updates of that key now go through.
	pc.do("POST", p("update-key-description"), map[string]any{"key_id": id, "key_description": "tf-2"}, nil)
	pc.do("POST", p("update-key-alias"), map[string]any{"key_id": id, "key_alias": newAlias()}, nil)
	pc.do("POST", p("disable-key"), map[string]any{"key_id": id}, nil)
	pc.do("POST", p("enable-key"), map[string]any{"key_id": id}, nil)
	// tags.Create of golangsdk's common/tags: OkCodes 200, 204.
	pc.do("POST", p(id+"/tags/action"), map[string]any{"action": "create", "tags": []any{map[string]any{"key": "env", "value": "tf"}}}, nil, 200, 204)

	// huaweicloud_kms_alias: create, then the read pages list-aliases
	// with limit=50 and marker, reading aliases and page_info.next_marker.
	names := []string{"tf-alias-a", "tf-alias-b"}
	for _, n := range names {
		pc.do("POST", p("aliases"), map[string]any{"key_id": id, "alias": n}, nil)
	}
	var got []string
	marker := ""
	for range 10 {
		path := p("aliases") + "?key_id=" + id + "&limit=50"
		if marker != "" {
			path += "&marker=" + marker
		}
		var page struct {
			Aliases []struct {
				Alias    string `json:"alias"`
				KeyID    string `json:"key_id"`
				AliasURN string `json:"alias_urn"`
			} `json:"aliases"`
			PageInfo struct {
				NextMarker string `json:"next_marker"`
			} `json:"page_info"`
		}
		pc.do("GET", path, nil, &page)
		if len(page.Aliases) == 0 {
			break
		}
		for _, a := range page.Aliases {
			got = append(got, a.Alias)
			if a.KeyID != id || a.AliasURN == "" {
				t.Errorf("alias %+v", a)
			}
		}
		if marker = page.PageInfo.NextMarker; marker == "" {
			break
		}
	}
	if len(got) != 2 || got[0] != names[0] || got[1] != names[1] {
		t.Errorf("the provider reads aliases %v, want %v (it would think they are gone)", got, names)
	}
	// Destroy: delete-alias (204) and schedule-key-deletion.
	pc.do("DELETE", p("aliases"), map[string]any{"key_id": id, "aliases": names}, nil)
	pc.do("POST", p("schedule-key-deletion"), map[string]any{"key_id": id, "pending_days": "7"}, nil)
}
