package compat

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2/model"

	kmsdaudit "github.com/kmsd/kmsd/internal/audit"
)

// TestAuditTrail drives operations with the official SDK and reads the
// server's audit trail back: one record per request, in order, naming the
// operation, the caller, the key and the outcome, and holding none of the
// plaintexts, ciphertexts, data keys, signatures, MACs, SKs, passwords
// or tokens the requests carried.
func TestAuditTrail(t *testing.T) {
	if clusterMode() {
		t.Skip("each node writes its own audit chain; this test reads one node's (the cluster run verifies every node's chain at its stop)")
	}
	e := start(t)
	c := e.admin()
	var secretsUsed []string
	use := func(s string) string { addSecret(s); secretsUsed = append(secretsUsed, s); return s }

	keyID := cryptoKey(t, c, model.GetCreateKeyRequestBodyKeySpecEnum().AES_256, "")
	plain := use(secretText(t, "audit"))
	ct := use(encryptData(t, c, keyID, plain, nil))
	if _, err := decryptData(c, ct, nil, nil); err != nil {
		t.Fatal(err)
	}
	dk, err := c.CreateDatakey(&model.CreateDatakeyRequest{Body: &model.CreateDatakeyRequestBody{KeyId: keyID, DatakeyLength: ptr("256")}})
	if err != nil {
		t.Fatal(err)
	}
	use(val(dk.PlainText))
	use(val(dk.CipherText))
	signKey := cryptoKey(t, c, model.GetCreateKeyRequestBodyKeySpecEnum().EC_P256, "SIGN_VERIFY")
	digest := "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" // SHA-256 of ""
	sig, err := c.Sign(&model.SignRequest{Body: &model.SignRequestBody{KeyId: signKey, Message: digest, SigningAlgorithm: model.GetSignRequestBodySigningAlgorithmEnum().ECDSA_SHA_256, MessageType: ptr(model.GetSignRequestBodyMessageTypeEnum().DIGEST)}})
	if err != nil {
		t.Fatal(err)
	}
	use(val(sig.Signature))
	_, err = c.ListKeyDetail(&model.ListKeyDetailRequest{Body: &model.OperateKeyRequestBody{KeyId: "00000000-0000-0000-0000-000000000000"}})
	wantError(t, err, 404, "KMS.0207")
	bad := e.client(e.ids.AdminAK, use("wrong-sk-"+secretText(t, "sk")), e.ids.ProjectID)
	_, err = bad.ListKeys(&model.ListKeysRequest{Body: &model.ListKeysRequestBody{}})
	wantError(t, err, 401, "APIGW.0301")
	tok := adminToken(t, e)
	use(tok)
	use(e.ids.AdminPassword)
	use(e.ids.AdminSK)
	if status, _ := tokenCall(t, e, "POST", e.projectPath("list-keys"), []byte(`{}`), tok); status != 200 {
		t.Fatalf("list-keys with a token: %d", status)
	}
	e.close()

	var recs []kmsdaudit.Record
	if err := kmsdaudit.Read(e.auditDir(), func(_ uint64, r kmsdaudit.Record) error { recs = append(recs, r); return nil }); err != nil {
		t.Fatal(err)
	}
	type want struct {
		op, code, errCode, user, method, key string
	}
	// Dev identity set-up issues no requests; these are all of them.
	wants := []want{
		{"CreateKey", "200", "", e.ids.AdminID, "aksk", "*"},
		{"EncryptData", "200", "", e.ids.AdminID, "aksk", keyID},
		{"DecryptData", "200", "", e.ids.AdminID, "aksk", keyID},
		{"CreateDatakey", "200", "", e.ids.AdminID, "aksk", keyID},
		{"CreateKey", "200", "", e.ids.AdminID, "aksk", "*"},
		{"Sign", "200", "", e.ids.AdminID, "aksk", signKey},
		{"ListKeyDetail", "404", "KMS.0207", e.ids.AdminID, "aksk", "00000000-0000-0000-0000-000000000000"},
		{"ListKeys", "401", "APIGW.0301", "", "", ""},
		{"KeystoneCreateUserTokenByPassword", "201", "", e.ids.AdminID, "password", ""},
		{"ListKeys", "200", "", e.ids.AdminID, "token", ""},
	}
	if len(recs) != len(wants) {
		b, _ := json.MarshalIndent(recs, "", " ")
		t.Fatalf("%d records, want %d:\n%s", len(recs), len(wants), b)
	}
	for i, w := range wants {
		r := recs[i]
		user, method := "", ""
		if r.User != nil {
			user, method = r.User.ID, r.User.AuthMethod
		}
		if w.op == "CreateKey" {
			w.key = []string{keyID, signKey}[min(i, 1)]
		}
		if r.TraceName != w.op || r.Code != w.code || r.ErrorCode != w.errCode || user != w.user || method != w.method || r.ResourceID != w.key {
			t.Errorf("record %d: %s %s %s user %q %q key %q, want %+v", i, r.TraceName, r.Code, r.ErrorCode, user, method, r.ResourceID, w)
		}
		if r.RequestID == "" || r.Node != "dev" || r.SourceIP != "127.0.0.1" || r.Time == 0 || r.TraceType != "ApiCall" {
			t.Errorf("record %d lacks its context: %+v", i, r)
		}
		if method == "aksk" && r.User.AccessKeyID != e.ids.AdminAK {
			t.Errorf("record %d: access key %q, want %q", i, r.User.AccessKeyID, e.ids.AdminAK)
		}
		if w.code == "200" && (r.AuthorizedBy != "iam" || r.Action == "") && w.op != "KeystoneCreateUserTokenByPassword" {
			t.Errorf("record %d: authorized_by %q action %q", i, r.AuthorizedBy, r.Action)
		}
	}
	if recs[8].ServiceType != "IAM" || recs[1].ServiceType != "KMS" || recs[1].TraceRating != "normal" || recs[6].TraceRating != "warning" {
		t.Errorf("service types or ratings: %+v %+v", recs[8], recs[6])
	}
	segs, _ := kmsdaudit.Segments(e.auditDir())
	var trail strings.Builder
	for _, p := range segs {
		b, _ := os.ReadFile(p)
		trail.Write(b)
	}
	for _, s := range secretsUsed {
		if s != "" && strings.Contains(trail.String(), s) {
			t.Errorf("the audit trail holds a secret of %d bytes starting %q", len(s), s[:min(4, len(s))])
		}
	}
}

// TestAuditGrant: a call that a grant authorizes is recorded as such, with
// the grant's id, the key owner's project and the caller from the other
// account.
func TestAuditGrant(t *testing.T) {
	if clusterMode() {
		t.Skip("each node writes its own audit chain; this test reads one node's (the cluster run verifies every node's chain at its stop)")
	}
	e := start(t)
	dev, other := e.admin(), e.admin2()
	key := newKey(t, dev)
	grantID := createGrant(t, dev, &model.CreateGrantRequestBody{
		KeyId: key, GranteePrincipal: e.ids.Admin2ID, Operations: []string{"encrypt-data"},
	})
	text := secretText(t, "grant-audit")
	if _, err := grantEncrypt(other, key, text); err != nil {
		t.Fatal(err)
	}
	e.close()
	var last kmsdaudit.Record
	kmsdaudit.Read(e.auditDir(), func(_ uint64, r kmsdaudit.Record) error { last = r; return nil })
	if last.TraceName != "EncryptData" || last.AuthorizedBy != "grant" || len(last.GrantIDs) != 1 || last.GrantIDs[0] != grantID ||
		last.ProjectID != e.ids.ProjectID || last.User == nil || last.User.ID != e.ids.Admin2ID || last.ResourceID != key {
		t.Errorf("record of a grant-authorized call: %+v (user %+v)", last, last.User)
	}
}
