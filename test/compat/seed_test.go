package compat

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	kms "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2/model"
)

// destroyDueKeys runs the deletion job as if pending_days had passed: the
// service clock jumps 8 days ahead (past the minimum of 7) and stays there.
// It returns how many keys were destroyed.
func destroyDueKeys(t *testing.T, e *env) int {
	t.Helper()
	e.srv.KMS.Now = func() time.Time { return time.Now().Add(8 * 24 * time.Hour) }
	n, err := e.srv.KMS.DestroyDueKeys(t.Context())
	if err != nil {
		t.Fatalf("DestroyDueKeys: %v", err)
	}
	return n
}

// wantInstances checks ShowUserInstances' count.
func wantInstances(t *testing.T, c *kms.KmsClient, want int32) {
	t.Helper()
	if got := instances(t, c); got != want {
		t.Errorf("got instance_num %d, want %d", got, want)
	}
}

// TestShowUserInstances follows the seed operation's count (reference
// kms-api.md §5.A) through a key's whole life: it counts every state until
// the key is destroyed, and never counts default keys or other accounts'
// keys.
func TestShowUserInstances(t *testing.T) {
	e := start(t)
	c, c2 := e.admin(), e.admin2()
	wantInstances(t, c, 0)

	var ids []string
	for i := range 3 {
		ids = append(ids, newKey(t, c))
		wantInstances(t, c, int32(i+1))
	}
	specs := model.GetCreateKeyRequestBodyKeySpecEnum()
	origins := model.GetCreateKeyRequestBodyOriginEnum()
	createKey(t, c, model.CreateKeyRequestBody{KeySpec: &specs.EC_P256})
	createKey(t, c, model.CreateKeyRequestBody{Origin: &origins.EXTERNAL}) // pending import
	wantInstances(t, c, 5)

	steps := []struct {
		name string
		call func() error
	}{
		{"disable", func() error { _, err := disableKey(c, ids[0]); return err }},
		{"enable", func() error { _, err := enableKey(c, ids[0]); return err }},
		{"schedule deletion", func() error { _, err := scheduleDeletion(c, ids[0], "7"); return err }},
		{"cancel deletion", func() error { _, err := cancelDeletion(c, ids[0]); return err }},
		{"schedule deletion again", func() error { _, err := scheduleDeletion(c, ids[0], "7"); return err }},
		{"update alias", func() error { _, err := updateAlias(c, ids[1], newAlias()); return err }},
	}
	for _, s := range steps {
		if err := s.call(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got := instances(t, c); got != 5 {
			t.Errorf("after %s: got instance_num %d, want 5", s.name, got)
		}
	}

	// Default keys are not counted.
	for _, svc := range []string{"obs", "evs"} {
		if _, err := e.srv.KMS.CreateDefaultKey(t.Context(), e.ids.ProjectID, e.ids.AccountID, svc); err != nil {
			t.Fatal(err)
		}
	}
	wantInstances(t, c, 5)

	// The second account's keys are its own.
	newKey(t, c2)
	newKey(t, c2)
	wantInstances(t, c, 5)
	wantInstances(t, c2, 2)

	// The deletion job destroys the key pending deletion, and only it.
	if n := destroyDueKeys(t, e); n != 1 {
		t.Errorf("got %d keys destroyed, want 1", n)
	}
	_, err := c.ListKeyDetail(&model.ListKeyDetailRequest{Body: &model.OperateKeyRequestBody{KeyId: ids[0]}})
	wantError(t, err, 404, "KMS.0207")
	wantInstances(t, c, 4)
	wantInstances(t, c2, 2)
	wantState(t, c, ids[1], stateEnabled)

	// The wire type: instance_num is a JSON integer.
	status, _, b := rawCall(t, e, "GET", e.projectPath("user-instances"), nil, e.ids.AdminAK, e.ids.AdminSK)
	if status != 200 || strings.TrimSpace(string(b)) != `{"instance_num":4}` {
		t.Errorf("got %d %s, want 200 {\"instance_num\":4}", status, b)
	}
}

// quotas returns ShowUserQuotas' resources by type.
func quotas(t *testing.T, c *kms.KmsClient) map[string][2]int32 {
	t.Helper()
	resp, err := c.ShowUserQuotas(&model.ShowUserQuotasRequest{})
	if err != nil {
		t.Fatalf("ShowUserQuotas: %v", err)
	}
	if resp.Quotas == nil || resp.Quotas.Resources == nil {
		t.Fatalf("ShowUserQuotas answered %v, want quotas.resources", resp)
	}
	out := map[string][2]int32{}
	for _, r := range *resp.Quotas.Resources {
		if r.Used == nil || r.Quota == nil {
			t.Fatalf("resource %v lacks used or quota", r)
		}
		typ := enumValue(r.Type)
		if _, dup := out[typ]; dup {
			t.Errorf("resource type %s listed twice", typ)
		}
		out[typ] = [2]int32{*r.Used, *r.Quota}
	}
	return out
}

// TestShowUserQuotas checks the CMK and grant_per_CMK resources of
// user-quotas: CMK used counts the custom keys only.
func TestShowUserQuotas(t *testing.T) {
	e := start(t, envOptions{cmkQuota: 7})
	c := e.admin()
	newKey(t, c)
	newKey(t, c)
	if _, err := e.srv.KMS.CreateDefaultKey(t.Context(), e.ids.ProjectID, e.ids.AccountID, "obs"); err != nil {
		t.Fatal(err)
	}
	got := quotas(t, c)
	want := map[string][2]int32{"CMK": {2, 7}, "grant_per_CMK": {0, 100}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got quotas (used, quota) %v, want %v", got, want)
	}
	// The reader may read the quotas too.
	if got := quotas(t, e.reader()); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("reader: got quotas %v, want %v", got, want)
	}

	// The wire types: used and quota are JSON integers.
	status, _, b := rawCall(t, e, "GET", e.projectPath("user-quotas"), nil, e.ids.AdminAK, e.ids.AdminSK)
	if status != 200 {
		t.Fatalf("got status %d (%s), want 200", status, b)
	}
	var wire struct {
		Quotas struct {
			Resources []map[string]any `json:"resources"`
		} `json:"quotas"`
	}
	if err := json.Unmarshal(b, &wire); err != nil {
		t.Fatal(err)
	}
	if len(wire.Quotas.Resources) != 2 {
		t.Fatalf("got %d resources (%s), want 2", len(wire.Quotas.Resources), b)
	}
	for _, r := range wire.Quotas.Resources {
		if _, ok := r["type"].(string); !ok {
			t.Errorf("got type %#v, want a JSON string", r["type"])
		}
		for _, f := range []string{"used", "quota"} {
			if _, ok := r[f].(float64); !ok {
				t.Errorf("got %s %#v, want a JSON number", f, r[f])
			}
		}
	}
}

// TestCMKQuota checks that create-key refuses a key beyond the project's
// quota with KMS.1105, that default keys and pending-deletion keys are
// counted as the reference says, and that a destroyed key frees its place.
func TestCMKQuota(t *testing.T) {
	e := start(t, envOptions{cmkQuota: 3})
	c := e.admin()
	var ids []string
	for range 3 {
		ids = append(ids, newKey(t, c))
	}
	_, err := c.CreateKey(&model.CreateKeyRequest{Body: &model.CreateKeyRequestBody{KeyAlias: newAlias()}})
	wantError(t, err, 400, "KMS.1105")
	wantInstances(t, c, 3)

	// Default keys are outside the quota.
	if _, err := e.srv.KMS.CreateDefaultKey(t.Context(), e.ids.ProjectID, e.ids.AccountID, "obs"); err != nil {
		t.Errorf("default key at a full quota: %v", err)
	}
	// The quota is per project.
	newKey(t, e.admin2())

	// A key pending deletion still counts.
	if _, err := scheduleDeletion(c, ids[0], "7"); err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateKey(&model.CreateKeyRequest{Body: &model.CreateKeyRequestBody{KeyAlias: newAlias()}})
	wantError(t, err, 400, "KMS.1105")

	if n := destroyDueKeys(t, e); n != 1 {
		t.Fatalf("got %d keys destroyed, want 1", n)
	}
	newKey(t, c)
	wantInstances(t, c, 3)
	_, err = c.CreateKey(&model.CreateKeyRequest{Body: &model.CreateKeyRequestBody{KeyAlias: newAlias()}})
	wantError(t, err, 400, "KMS.1105")
	if got := quotas(t, c)["CMK"]; got != [2]int32{3, 3} {
		t.Errorf("got CMK (used, quota) %v, want [3 3]", got)
	}
}

// TestSeedSample builds and runs Huawei's ShowUserInstances sample program
// (examples/showuserinstances, pointed at the server by KMSD_ENDPOINT)
// and checks what it prints.
func TestSeedSample(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the sample program")
	}
	t.Parallel()
	e := start(t)
	c := e.admin()
	newKey(t, c)
	newKey(t, c)
	if _, err := e.srv.KMS.CreateDefaultKey(t.Context(), e.ids.ProjectID, e.ids.AccountID, "obs"); err != nil {
		t.Fatal(err)
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build the sample: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	run := func(ak, sk string) string {
		cmd := exec.CommandContext(ctx, goTool, "run", "./examples/showuserinstances")
		cmd.Env = append(os.Environ(), "CLOUD_SDK_AK="+ak, "CLOUD_SDK_SK="+sk, "KMSD_ENDPOINT="+e.url)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go run ./examples/showuserinstances: %v\n%s", err, out)
		}
		return string(out)
	}
	if out := run(e.ids.AdminAK, e.ids.AdminSK); !strings.Contains(out, `{"instance_num":2}`) {
		t.Errorf("got output %q, want it to contain {\"instance_num\":2}", out)
	}
	// With a wrong SK the sample prints the SDK's error.
	wrongSK := "WrongSecretKey00000000000000000000000001"
	addSecret(wrongSK)
	if out := run(e.ids.AdminAK, wrongSK); !strings.Contains(out, `"status_code":401`) || !strings.Contains(out, "APIGW.0301") {
		t.Errorf("got output %q, want a 401 APIGW.0301 error", out)
	}
}
