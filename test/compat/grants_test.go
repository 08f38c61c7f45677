package compat

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	kms "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2/model"
)

// grantBody is a create-grant body for keyID to grantee with ops.
func grantBody(keyID, grantee string, ops ...string) *model.CreateGrantRequestBody {
	return &model.CreateGrantRequestBody{KeyId: keyID, GranteePrincipal: grantee, Operations: ops}
}

// createGrant creates a grant with c and returns its id.
func createGrant(t *testing.T, c *kms.KmsClient, body *model.CreateGrantRequestBody) string {
	t.Helper()
	resp, err := c.CreateGrant(&model.CreateGrantRequest{Body: body})
	if err != nil {
		t.Fatalf("CreateGrant %v: %v", body, err)
	}
	id := val(resp.GrantId)
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(id) {
		t.Fatalf("CreateGrant answered grant_id %q, want 64 hex digits", id)
	}
	return id
}

func revokeGrant(c *kms.KmsClient, keyID, grantID string) error {
	_, err := c.CancelGrant(&model.CancelGrantRequest{Body: &model.RevokeGrantRequestBody{KeyId: keyID, GrantId: grantID}})
	return err
}

func retireGrant(c *kms.KmsClient, keyID, grantID string) error {
	_, err := c.CancelSelfGrant(&model.CancelSelfGrantRequest{Body: &model.RevokeGrantRequestBody{KeyId: keyID, GrantId: grantID}})
	return err
}

// grantEncrypt encrypts text with keyID through c.
func grantEncrypt(c *kms.KmsClient, keyID, text string) (string, error) {
	resp, err := c.EncryptData(&model.EncryptDataRequest{Body: &model.EncryptDataRequestBody{KeyId: keyID, PlainText: text}})
	if err != nil {
		return "", err
	}
	return val(resp.CipherText), nil
}

// grantDecrypt decrypts ct through c and returns the plaintext.
func grantDecrypt(c *kms.KmsClient, ct string) (string, error) {
	resp, err := c.DecryptData(&model.DecryptDataRequest{Body: &model.DecryptDataRequestBody{CipherText: ct}})
	if err != nil {
		return "", err
	}
	return val(resp.PlainText), nil
}

func describeErr(c *kms.KmsClient, keyID string) (model.KeyDetails, error) {
	resp, err := c.ListKeyDetail(&model.ListKeyDetailRequest{Body: &model.OperateKeyRequestBody{KeyId: keyID}})
	if err != nil {
		return model.KeyDetails{}, err
	}
	if resp.KeyInfo == nil {
		return model.KeyDetails{}, fmt.Errorf("no key_info")
	}
	return *resp.KeyInfo, nil
}

// TestGrantAcrossAccounts is the grant's purpose: dev's key, granted to
// the user of the second account, lets that user encrypt, decrypt and
// describe with it through the SDK — with its own project id in the URL —
// until the grant is revoked or retired, when it stops at once.
func TestGrantAcrossAccounts(t *testing.T) {
	t.Parallel()
	e := start(t)
	dev, other := e.admin(), e.admin2()
	key, unshared := newKey(t, dev), newKey(t, dev)
	text := "grant-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	addSecret(text)

	// Before any grant, dev's key does not exist for the second account.
	if _, err := describeErr(other, key); err != nil {
		wantError(t, err, 404, "KMS.0207")
	} else {
		t.Fatal("admin2 describes dev's key without a grant")
	}
	_, err := grantEncrypt(other, key, text)
	wantError(t, err, 404, "KMS.0207")

	name := "orders:cross-account"
	grantID := createGrant(t, dev, &model.CreateGrantRequestBody{
		KeyId: key, GranteePrincipal: e.ids.Admin2ID, Name: &name,
		Operations:        []string{"describe-key", "encrypt-data", "decrypt-data"},
		RetiringPrincipal: ptr(e.ids.Admin2ID),
	})

	d, err := describeErr(other, key)
	if err != nil {
		t.Fatalf("admin2 describes the granted key: %v", err)
	}
	if val(d.KeyId) != key || val(d.DomainId) != e.ids.AccountID {
		t.Errorf("admin2 sees key %s of domain %s, want %s of %s", val(d.KeyId), val(d.DomainId), key, e.ids.AccountID)
	}
	ct, err := grantEncrypt(other, key, text)
	if err != nil {
		t.Fatalf("admin2 encrypts with the granted key: %v", err)
	}
	if pt, err := grantDecrypt(dev, ct); err != nil || pt != text {
		t.Errorf("dev decrypts admin2's ciphertext: %q, %v", pt, err)
	}
	devCT, err := grantEncrypt(dev, key, text)
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := grantDecrypt(other, devCT); err != nil || pt != text {
		t.Errorf("admin2 decrypts dev's ciphertext with decrypt-data granted: %q, %v", pt, err)
	}
	// The grant covers its key only.
	_, err = describeErr(other, unshared)
	wantError(t, err, 404, "KMS.0207")
	_, err = grantEncrypt(other, unshared, text)
	wantError(t, err, 404, "KMS.0207")
	// And its operations only: admin2 may not manage dev's key.
	_, err = other.DisableKey(&model.DisableKeyRequest{Body: &model.OperateKeyRequestBody{KeyId: key}})
	wantError(t, err, 404, "KMS.0207")
	_, err = other.CreateGrant(&model.CreateGrantRequest{Body: grantBody(key, e.ids.Admin2ID, "describe-key")})
	wantError(t, err, 404, "KMS.0207")

	// The grant as dev lists it and as admin2 may retire it.
	lg, err := dev.ListGrants(&model.ListGrantsRequest{Body: &model.ListGrantsRequestBody{KeyId: key}})
	if err != nil {
		t.Fatal(err)
	}
	if lg.Grants == nil || len(*lg.Grants) != 1 || lg.Total == nil || *lg.Total != 1 || enumValue(lg.Truncated) != "false" || val(lg.NextMarker) != "" {
		t.Fatalf("ListGrants: %v", lg)
	}
	g := (*lg.Grants)[0]
	created, err := strconv.ParseInt(val(g.CreationDate), 10, 64)
	if err != nil || time.Since(time.UnixMilli(created)).Abs() > time.Minute {
		t.Errorf("creation_date %q is not a recent Unix millisecond time", val(g.CreationDate))
	}
	got := map[string]string{
		"key_id": val(g.KeyId), "grant_id": val(g.GrantId), "grantee_principal": val(g.GranteePrincipal),
		"grantee_principal_type": enumValue(g.GranteePrincipalType), "issuing_principal": val(g.IssuingPrincipal),
		"name": val(g.Name), "retiring_principal": val(g.RetiringPrincipal),
	}
	want := map[string]string{
		"key_id": key, "grant_id": grantID, "grantee_principal": e.ids.Admin2ID,
		"grantee_principal_type": "user", "issuing_principal": e.ids.AdminID,
		"name": name, "retiring_principal": e.ids.Admin2ID,
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("grant %s: got %q, want %q", k, got[k], w)
		}
	}
	if g.Operations == nil || !slices.Equal(*g.Operations, []string{"describe-key", "encrypt-data", "decrypt-data"}) {
		t.Errorf("grant operations %v", g.Operations)
	}
	lr, err := other.ListRetirableGrants(&model.ListRetirableGrantsRequest{Body: &model.ListRetirableGrantsRequestBody{}})
	if err != nil {
		t.Fatal(err)
	}
	if lr.Grants == nil || len(*lr.Grants) != 1 || val((*lr.Grants)[0].GrantId) != grantID || lr.Total == nil || *lr.Total != 1 {
		t.Errorf("ListRetirableGrants of admin2: %v", lr)
	}

	// Revoked: the next request fails.
	if err := revokeGrant(dev, key, grantID); err != nil {
		t.Fatalf("CancelGrant: %v", err)
	}
	_, err = grantEncrypt(other, key, text)
	wantError(t, err, 404, "KMS.0207")
	_, err = describeErr(other, key)
	wantError(t, err, 404, "KMS.0207")
	_, err = grantDecrypt(other, devCT)
	wantError(t, err, 404, "KMS.0207")

	// Retired by its retiring principal: the same.
	grantID = createGrant(t, dev, &model.CreateGrantRequestBody{
		KeyId: key, GranteePrincipal: e.ids.Admin2ID, Operations: []string{"encrypt-data"}, RetiringPrincipal: ptr(e.ids.Admin2ID),
	})
	if _, err := grantEncrypt(other, key, text); err != nil {
		t.Fatalf("admin2 encrypts with the second grant: %v", err)
	}
	if err := retireGrant(other, key, grantID); err != nil {
		t.Fatalf("CancelSelfGrant by the retiring principal: %v", err)
	}
	_, err = grantEncrypt(other, key, text)
	wantError(t, err, 404, "KMS.0207")
	if err := retireGrant(other, key, grantID); err == nil {
		t.Error("a retired grant retires again")
	} else {
		wantError(t, err, 400, "KMS.2501")
	}
}

// TestGrantToDomain grants a key to the second account as a whole.
func TestGrantToDomain(t *testing.T) {
	t.Parallel()
	e := start(t)
	dev, other := e.admin(), e.admin2()
	key := newKey(t, dev)
	domain := model.GetCreateGrantRequestBodyGranteePrincipalTypeEnum().DOMAIN
	grantID := createGrant(t, dev, &model.CreateGrantRequestBody{
		KeyId: key, GranteePrincipal: e.ids.Account2ID, GranteePrincipalType: &domain, Operations: []string{"describe-key", "retire-grant"},
	})
	if _, err := describeErr(other, key); err != nil {
		t.Fatalf("a user of the granted domain describes the key: %v", err)
	}
	lg, err := dev.ListGrants(&model.ListGrantsRequest{Body: &model.ListGrantsRequestBody{KeyId: key}})
	if err != nil {
		t.Fatal(err)
	}
	if lg.Grants == nil || len(*lg.Grants) != 1 || enumValue((*lg.Grants)[0].GranteePrincipalType) != "domain" {
		t.Fatalf("ListGrants: %v", lg)
	}
	// The grantee retires it: the grant lists retire-grant.
	if err := retireGrant(other, key, grantID); err != nil {
		t.Fatalf("CancelSelfGrant by the grantee: %v", err)
	}
	_, err = describeErr(other, key)
	wantError(t, err, 404, "KMS.0207")
}

// TestGrantBeyondIAM: the read-only user's policies allow neither
// encrypt-data nor create-grant nor retire-grant; a grant on one key lets
// it do exactly what the grant lists, on that key.
func TestGrantBeyondIAM(t *testing.T) {
	t.Parallel()
	e := start(t)
	dev, reader := e.admin(), e.reader()
	key, unshared := newKey(t, dev), newKey(t, dev)
	text := "reader-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	addSecret(text)

	_, err := grantEncrypt(reader, key, text)
	wantError(t, err, 403, "KMS.0307")

	grantID := createGrant(t, dev, grantBody(key, e.ids.ReaderID, "encrypt-data", "create-grant", "retire-grant"))
	ct, err := grantEncrypt(reader, key, text)
	if err != nil {
		t.Fatalf("reader encrypts with the grant: %v", err)
	}
	if pt, err := grantDecrypt(dev, ct); err != nil || pt != text {
		t.Errorf("dev decrypts: %q, %v", pt, err)
	}
	// Not listed: decrypt-data. Not granted: the other key.
	_, err = grantDecrypt(reader, ct)
	wantError(t, err, 403, "KMS.0307")
	_, err = grantEncrypt(reader, unshared, text)
	wantError(t, err, 403, "KMS.0307")
	_, err = reader.CreateGrant(&model.CreateGrantRequest{Body: grantBody(unshared, e.ids.Admin2ID, "encrypt-data")})
	wantError(t, err, 403, "KMS.0307")

	// create-grant through the grant: only what the reader holds.
	passed := createGrant(t, reader, grantBody(key, e.ids.Admin2ID, "encrypt-data"))
	_, err = reader.CreateGrant(&model.CreateGrantRequest{Body: grantBody(key, e.ids.Admin2ID, "decrypt-data")})
	wantError(t, err, 403, "KMS.0307")
	lg, err := dev.ListGrants(&model.ListGrantsRequest{Body: &model.ListGrantsRequestBody{KeyId: key}})
	if err != nil {
		t.Fatal(err)
	}
	var issuer string
	for _, g := range *lg.Grants {
		if val(g.GrantId) == passed {
			issuer = val(g.IssuingPrincipal)
		}
	}
	if issuer != e.ids.ReaderID {
		t.Errorf("issuing_principal of the reader's grant: %q, want %s", issuer, e.ids.ReaderID)
	}
	if _, err := grantEncrypt(e.admin2(), key, text); err != nil {
		t.Errorf("admin2 encrypts with the grant the reader passed on: %v", err)
	}

	// The reader retires its own grant (retire-grant listed), and with
	// it loses encrypt-data; the grant it passed on stays.
	if err := retireGrant(reader, key, grantID); err != nil {
		t.Fatalf("CancelSelfGrant by the grantee: %v", err)
	}
	_, err = grantEncrypt(reader, key, text)
	wantError(t, err, 403, "KMS.0307")
	if _, err := grantEncrypt(e.admin2(), key, text); err != nil {
		t.Errorf("admin2 after the reader's grant is retired: %v", err)
	}
}

// TestGrantExplicitDeny: an IAM Deny wins over a grant.
func TestGrantExplicitDeny(t *testing.T) {
	t.Parallel()
	e := start(t)
	ctx := t.Context()
	dev := e.admin()
	key := newKey(t, dev)
	deny := []byte(`{"Version":"1.1","Statement":[{"Effect":"Deny","Action":["kms:cmk:crypto"]}]}`)
	if err := e.srv.IAM.PutPolicy(ctx, e.ids.AccountID, "no-crypto", deny); err != nil {
		t.Fatal(err)
	}
	clients := map[string]*kms.KmsClient{}
	for _, u := range []struct {
		name     string
		policies []string
	}{{"denied", []string{"no-crypto"}}, {"bare", nil}} {
		user, err := e.srv.IAM.CreateUser(ctx, e.ids.AccountID, "grant-"+u.name, "", "", u.policies)
		if err != nil {
			t.Fatal(err)
		}
		ak, sk, err := e.srv.IAM.CreateAccessKey(ctx, user.ID, "", "")
		if err != nil {
			t.Fatal(err)
		}
		addSecret(sk)
		clients[u.name] = e.client(ak, sk, e.ids.ProjectID)
		createGrant(t, dev, grantBody(key, user.ID, "encrypt-data"))
	}
	if _, err := grantEncrypt(clients["bare"], key, "x"); err != nil {
		t.Errorf("a user without policies encrypts with its grant: %v", err)
	}
	_, err := grantEncrypt(clients["denied"], key, "x")
	wantError(t, err, 403, "KMS.0307")
}

// TestGrantErrors checks create-grant, list-grants, revoke-grant and
// retire-grant against every documented refusal.
func TestGrantErrors(t *testing.T) {
	t.Parallel()
	e := start(t)
	ctx := t.Context()
	dev := e.admin()
	key, key2 := newKey(t, dev), newKey(t, dev)
	def, err := e.srv.KMS.CreateDefaultKey(ctx, e.ids.ProjectID, e.ids.AccountID, "obs")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		body   *model.CreateGrantRequestBody
		status int
		code   string
	}{
		{"create-grant alone", grantBody(key, e.ids.ReaderID, "create-grant"), 400, "KMS.2401"},
		{"unknown operation", grantBody(key, e.ids.ReaderID, "sign"), 400, "KMS.0308"},
		// The SDK sends a nil list as null: a missing member.
		{"no operation", grantBody(key, e.ids.ReaderID), 400, "KMS.0204"},
		{"empty operations", &model.CreateGrantRequestBody{KeyId: key, GranteePrincipal: e.ids.ReaderID, Operations: []string{}}, 400, "KMS.0308"},
		{"malformed grantee", grantBody(key, "not-an-id", "describe-key"), 400, "KMS.2402"},
		{"grantee too long", grantBody(key, strings.Repeat("b", 65), "describe-key"), 400, "KMS.2402"},
		{"malformed retiring principal", &model.CreateGrantRequestBody{KeyId: key, GranteePrincipal: e.ids.ReaderID, Operations: []string{"describe-key"}, RetiringPrincipal: ptr("c-d")}, 400, "KMS.2402"},
		{"bad name", &model.CreateGrantRequestBody{KeyId: key, GranteePrincipal: e.ids.ReaderID, Operations: []string{"describe-key"}, Name: ptr("a name")}, 400, "KMS.1101"},
		{"default key", grantBody(def.KeyID, e.ids.ReaderID, "describe-key"), 400, "KMS.0211"},
		{"unknown key", grantBody(unknownKeyID, e.ids.ReaderID, "describe-key"), 404, "KMS.0207"},
		{"malformed key", grantBody("key", e.ids.ReaderID, "describe-key"), 400, "KMS.0205"},
	} {
		t.Run("CreateGrant/"+tc.name, func(t *testing.T) {
			_, err := dev.CreateGrant(&model.CreateGrantRequest{Body: tc.body})
			wantError(t, err, tc.status, tc.code)
		})
	}
	// The reader lacks kms:grant:create and holds no grant.
	_, err = e.reader().CreateGrant(&model.CreateGrantRequest{Body: grantBody(key, e.ids.ReaderID, "describe-key")})
	wantError(t, err, 403, "KMS.0307")

	grantID := createGrant(t, dev, grantBody(key, e.ids.ReaderID, "describe-key"))
	for _, tc := range []struct {
		name       string
		key, grant string
		status     int
		code       string
	}{
		{"unknown grant", key, strings.Repeat("0", 64), 400, "KMS.2501"},
		{"malformed grant", key, "grant", 400, "KMS.2501"},
		{"grant of another key", key2, grantID, 400, "KMS.2502"},
		{"unknown key", unknownKeyID, grantID, 404, "KMS.0207"},
	} {
		t.Run("CancelGrant/"+tc.name, func(t *testing.T) {
			wantError(t, revokeGrant(dev, tc.key, tc.grant), tc.status, tc.code)
		})
	}
	t.Run("CancelSelfGrant", func(t *testing.T) {
		wantError(t, retireGrant(dev, key2, grantID), 400, "KMS.2502")
		wantError(t, retireGrant(dev, key, strings.Repeat("0", 64)), 400, "KMS.2501")
		// The grantee without retire-grant, and a stranger, may not.
		wantError(t, retireGrant(e.admin2(), key, grantID), 403, "KMS.0307")
		// The reader lacks kms:grant:retire and holds no retire-grant.
		wantError(t, retireGrant(e.reader(), key, grantID), 403, "KMS.0307")
		// The issuer may.
		if err := retireGrant(dev, key, grantID); err != nil {
			t.Errorf("CancelSelfGrant by the issuer: %v", err)
		}
	})
	t.Run("ListGrants", func(t *testing.T) {
		for _, tc := range []struct {
			name          string
			limit, marker string
			code          string
		}{
			{"limit 0", "0", "", "KMS.1601"},
			{"limit with a leading zero", "05", "", "KMS.1601"},
			{"limit text", "ten", "", "KMS.1601"},
			{"marker negative", "", "-1", "KMS.1602"},
			{"marker text", "", "x", "KMS.1602"},
		} {
			body := &model.ListGrantsRequestBody{KeyId: key}
			if tc.limit != "" {
				body.Limit = ptr(tc.limit)
			}
			if tc.marker != "" {
				body.Marker = ptr(tc.marker)
			}
			_, err := dev.ListGrants(&model.ListGrantsRequest{Body: body})
			wantError(t, err, 400, tc.code)
		}
		_, err := dev.ListGrants(&model.ListGrantsRequest{Body: &model.ListGrantsRequestBody{KeyId: unknownKeyID}})
		wantError(t, err, 404, "KMS.0207")
	})
}

// TestGrantPagesAndQuota pages through list-grants and checks the
// grant_per_CMK quota (KMS.2404), the per-grantee limit (KMS.2405) and
// what user-quotas reports.
func TestGrantPagesAndQuota(t *testing.T) {
	t.Parallel()
	e := start(t)
	ctx := t.Context()
	dev := e.admin()
	key := newKey(t, dev)
	if err := e.srv.IAM.SetProjectQuotas(ctx, e.ids.ProjectID, 0, 12); err != nil {
		t.Fatal(err)
	}
	var want []string
	for range 10 {
		want = append(want, createGrant(t, dev, grantBody(key, e.ids.ReaderID, "describe-key")))
	}
	_, err := dev.CreateGrant(&model.CreateGrantRequest{Body: grantBody(key, e.ids.ReaderID, "describe-key")})
	wantError(t, err, 400, "KMS.2405")
	want = append(want, createGrant(t, dev, grantBody(key, e.ids.Admin2ID, "describe-key")))
	want = append(want, createGrant(t, dev, grantBody(key, e.ids.AdminID, "describe-key")))
	_, err = dev.CreateGrant(&model.CreateGrantRequest{Body: grantBody(key, e.ids.Admin2ID, "describe-key")})
	wantError(t, err, 400, "KMS.2404")

	var got []string
	marker := ""
	for pages := 0; ; pages++ {
		body := &model.ListGrantsRequestBody{KeyId: key, Limit: ptr("5")}
		if marker != "" {
			body.Marker = ptr(marker)
		}
		resp, err := dev.ListGrants(&model.ListGrantsRequest{Body: body})
		if err != nil {
			t.Fatal(err)
		}
		if resp.Total == nil || *resp.Total != 12 {
			t.Fatalf("total %v, want 12", resp.Total)
		}
		for _, g := range *resp.Grants {
			got = append(got, val(g.GrantId))
		}
		if enumValue(resp.Truncated) == "false" {
			if val(resp.NextMarker) != "" || pages != 2 {
				t.Errorf("last page %d with next_marker %q", pages, val(resp.NextMarker))
			}
			break
		}
		marker = val(resp.NextMarker)
		if pages > 3 {
			t.Fatal("list-grants does not end")
		}
	}
	if !slices.Equal(sorted(got), sorted(want)) || len(got) != len(want) {
		t.Errorf("paged grants %v, want %v", got, want)
	}

	q, err := dev.ShowUserQuotas(&model.ShowUserQuotasRequest{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range *q.Quotas.Resources {
		if enumValue(r.Type) == "grant_per_CMK" {
			found = true
			if r.Used == nil || *r.Used != 12 || r.Quota == nil || *r.Quota != 12 {
				t.Errorf("grant_per_CMK used %v quota %v, want 12 and 12", r.Used, r.Quota)
			}
		}
	}
	if !found {
		t.Error("user-quotas has no grant_per_CMK")
	}
}

// TestGrantWireTypes checks the raw JSON types of list-grants: the SDK
// accepts truncated as a bool too, so only the raw body shows it is the
// reference's string.
func TestGrantWireTypes(t *testing.T) {
	t.Parallel()
	e := start(t)
	key := newKey(t, e.admin())
	createGrant(t, e.admin(), grantBody(key, e.ids.ReaderID, "describe-key"))
	status, _, body := rawCall(t, e, "POST", e.projectPath("list-grants"), []byte(`{"key_id":"`+key+`"}`), e.ids.AdminAK, e.ids.AdminSK)
	if status != 200 {
		t.Fatalf("list-grants: %d %s", status, body)
	}
	var v struct {
		Grants     []map[string]any `json:"grants"`
		Truncated  any              `json:"truncated"`
		NextMarker any              `json:"next_marker"`
		Total      any              `json:"total"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	if v.Truncated != "false" || v.NextMarker != "" || v.Total != float64(1) || len(v.Grants) != 1 {
		t.Errorf("list-grants body %s", body)
	}
	if _, ok := v.Grants[0]["creation_date"].(string); !ok {
		t.Errorf("creation_date is not a string: %s", body)
	}
	if _, ok := v.Grants[0]["operations"].([]any); !ok {
		t.Errorf("operations is not an array: %s", body)
	}
}

// TestGrantDataKeysAndReEncrypt covers the grant operations on data keys
// and re-encrypt, whose keys come from the ciphertext (base64 or hex)
// and the destination: decrypt-data on the source and encrypt-data on the
// destination, both in one project.
func TestGrantDataKeysAndReEncrypt(t *testing.T) {
	t.Parallel()
	e := start(t)
	dev, other := e.admin(), e.admin2()
	src, dst := newKey(t, dev), newKey(t, dev)
	own := newKey(t, other)
	createGrant(t, dev, grantBody(src, e.ids.Admin2ID, "create-datakey", "create-datakey-without-plaintext", "decrypt-datakey", "decrypt-data"))
	createGrant(t, dev, grantBody(dst, e.ids.Admin2ID, "encrypt-data"))

	dk, err := other.CreateDatakey(&model.CreateDatakeyRequest{Body: &model.CreateDatakeyRequestBody{KeyId: src}})
	if err != nil {
		t.Fatalf("CreateDatakey through the grant: %v", err)
	}
	addSecret(val(dk.PlainText))
	back, err := other.DecryptDatakey(&model.DecryptDatakeyRequest{Body: &model.DecryptDatakeyRequestBody{KeyId: src, CipherText: val(dk.CipherText), DatakeyCipherLength: "32"}})
	if err != nil {
		t.Fatalf("DecryptDatakey through the grant: %v", err)
	}
	if !strings.EqualFold(val(back.DataKey), val(dk.PlainText)) || val(dk.PlainText) == "" {
		t.Error("DecryptDatakey through the grant does not give the data key back")
	}
	if _, err := other.CreateDatakeyWithoutPlaintext(&model.CreateDatakeyWithoutPlaintextRequest{Body: &model.CreateDatakeyRequestBody{KeyId: src}}); err != nil {
		t.Errorf("CreateDatakeyWithoutPlaintext through the grant: %v", err)
	}
	// encrypt-datakey is not granted.
	_, err = other.EncryptDatakey(&model.EncryptDatakeyRequest{Body: &model.EncryptDatakeyRequestBody{KeyId: src, PlainText: strings.Repeat("00", 64), DatakeyPlainLength: "32"}})
	wantError(t, err, 404, "KMS.0207")

	text := "re-encrypt-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	addSecret(text)
	ct, err := grantEncrypt(dev, src, text)
	if err != nil {
		t.Fatal(err)
	}
	re, err := other.ReEncrypt(&model.ReEncryptRequest{Body: &model.ReEncryptRequestBody{CipherText: ct, DestinationKeyId: dst}})
	if err != nil {
		t.Fatalf("ReEncrypt through the grants: %v", err)
	}
	if val(re.KeyId) != dst || val(re.SourceKeyId) != src {
		t.Errorf("ReEncrypt answered key %s from %s", val(re.KeyId), val(re.SourceKeyId))
	}
	if pt, err := grantDecrypt(dev, val(re.CipherText)); err != nil || pt != text {
		t.Errorf("dev decrypts the re-encrypted text: %q, %v", pt, err)
	}
	// A data key ciphertext (hex) names its key too.
	if _, err := other.ReEncrypt(&model.ReEncryptRequest{Body: &model.ReEncryptRequestBody{CipherText: val(dk.CipherText), DestinationKeyId: dst, DatakeyCipherLength: ptr("32")}}); err != nil {
		t.Errorf("ReEncrypt of a data key through the grants: %v", err)
	}
	// Source and destination the other way round: encrypt-data is not
	// granted on src, nor decrypt-data on dst.
	ct2, err := grantEncrypt(dev, dst, text)
	if err != nil {
		t.Fatal(err)
	}
	_, err = other.ReEncrypt(&model.ReEncryptRequest{Body: &model.ReEncryptRequestBody{CipherText: ct2, DestinationKeyId: src}})
	wantError(t, err, 404, "KMS.0207")
	// Keys of two projects: kmsd runs a request in one project.
	_, err = other.ReEncrypt(&model.ReEncryptRequest{Body: &model.ReEncryptRequestBody{CipherText: ct, DestinationKeyId: own}})
	wantError(t, err, 404, "KMS.0207")
}

// TestGrantLogged: a request a grant let in says so in the request log.
func TestGrantLogged(t *testing.T) {
	t.Parallel()
	e := start(t)
	key := newKey(t, e.admin())
	createGrant(t, e.admin(), grantBody(key, e.ids.Admin2ID, "describe-key"))
	path := "/v1.0/" + e.ids.Project2ID + "/kms/describe-key"
	status, header, body := rawCall(t, e, "POST", path, []byte(`{"key_id":"`+key+`"}`), e.ids.Admin2AK, e.ids.Admin2SK)
	if status != 200 {
		t.Fatalf("describe-key through the grant: %d %s", status, body)
	}
	rid := header.Get("X-Request-Id")
	var entry map[string]any
	for _, line := range strings.Split(allLogs.String(), "\n") {
		if strings.Contains(line, rid) {
			if err := json.Unmarshal([]byte(line), &entry); err != nil {
				t.Fatal(err)
			}
		}
	}
	if entry["by_grant"] != true || entry["user_id"] != e.ids.Admin2ID || entry["project_id"] != e.ids.ProjectID {
		t.Errorf("log entry of request %s: %v, want by_grant, admin2's user id and the key's project", rid, entry)
	}
}

// TestRetirableGrantPages pages through list-retirable-grants: the
// grants on any key, in any account, whose retiring principal is the
// caller, in creation order; and the caller retires one of another
// account's keys' grants.
func TestRetirableGrantPages(t *testing.T) {
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

// TestGrantRawRequests sends the grant requests the SDK cannot: wrong
// JSON types, missing members and out-of-range values
// (compatibility.md "Requests and errors").
func TestGrantRawRequests(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	key := newKey(t, c)
	grantID := createGrant(t, c, grantBody(key, e.ids.ReaderID, "describe-key"))
	k := `"key_id":"` + key + `"`
	p := e.projectPath
	seq := `"sequence":"short"`
	runRawCases(t, e, []rawCase{
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
	})
}

// TestGrantIsolation calls the grant operations on one account's key as
// the other account (404 KMS.0207, never data) and as the read-only user
// (403 KMS.0307 for every change; reads allowed).
func TestGrantIsolation(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	key := newKey(t, c)
	grantID := createGrant(t, c, grantBody(key, e.ids.ReaderID, "describe-key"))
	checkIsolation(t, e, []isoOp{
		{"CreateGrant", true, func(c *kms.KmsClient) error {
			_, err := c.CreateGrant(&model.CreateGrantRequest{Body: grantBody(key, e.ids.ReaderID, "describe-key")})
			return err
		}},
		{"ListGrants", false, func(c *kms.KmsClient) error {
			_, err := c.ListGrants(&model.ListGrantsRequest{Body: &model.ListGrantsRequestBody{KeyId: key}})
			return err
		}},
		{"CancelGrant", true, func(c *kms.KmsClient) error { return revokeGrant(c, key, grantID) }},
	})
	// Nothing changed.
	resp, err := c.ListGrants(&model.ListGrantsRequest{Body: &model.ListGrantsRequestBody{KeyId: key}})
	if err != nil || resp.Total == nil || *resp.Total != 1 {
		t.Errorf("grants %v, %v", resp, err)
	}
}

// TestGrantWireBodies checks the exact JSON types of the success bodies
// of the grant operations (reference kms-api.md §4, §5.G).
func TestGrantWireBodies(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	key := newKey(t, c)
	k := `"key_id":"` + key + `"`
	grantFields := map[string]string{"key_id": "string", "grant_id": "string", "grantee_principal": "string", "grantee_principal_type": "string",
		"operations": "array", "issuing_principal": "string", "creation_date": "string", "name": "string", "retiring_principal": "string"}

	body := rawStatus(t, e, "POST", "create-grant", `{`+k+`,"grantee_principal":"`+e.ids.ReaderID+`","operations":["describe-key","encrypt-data"],"name":"g-1","retiring_principal":"`+e.ids.AdminID+`"}`, 200)
	if got := jsonTypes(t, body); len(got) != 1 || got["grant_id"] != "string" {
		t.Errorf("create-grant body %s", body)
	}
	for _, op := range []string{"list-grants", "list-retirable-grants"} {
		body = rawStatus(t, e, "POST", op, `{`+k+`}`, 200)
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

}
