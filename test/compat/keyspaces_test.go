package compat

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	kmsdauth "github.com/kmsd/kmsd/internal/auth"
	kmsdkms "github.com/kmsd/kmsd/internal/kms"
)

// The 14 operations newer than the Go SDK v0.1.207 and the key-space
// calls, sent as the Node.js SDK sends them (reference kms-api-new.md §1):
// plain application/json, compact bodies without a trailing newline, POSTs
// without a body for enable, disable and get-privatekey.

// nodeCall sends one request signed as the SDKs sign it, with the Node
// SDK's Content-Type.
func nodeCall(t *testing.T, e *env, ak, sk, method, path string, body any) (int, http.Header, []byte) {
	t.Helper()
	var b []byte
	switch v := body.(type) {
	case nil:
	case string:
		b = []byte(v)
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			t.Fatal(err)
		}
	}
	if b == nil && method == "POST" {
		b = []byte{}
	}
	r := newRawRequest(t, e, method, path, b)
	r.Header.Set("Content-Type", "application/json")
	signRaw(t, r, b, kmsdauth.AlgHMACSHA256, ak, sk, time.Now())
	return send(t, r)
}

// ks is a caller of one project.
type ks struct {
	t       *testing.T
	e       *env
	ak, sk  string
	project string
}

func (c ks) path(op string) string { return "/v1.0/" + c.project + "/kms/" + op }

// ok sends a request that must answer status and decodes its JSON body
// into out (when non-nil).
func (c ks) ok(method, op string, body any, status int, out any) {
	c.t.Helper()
	got, _, b := nodeCall(c.t, c.e, c.ak, c.sk, method, c.path(op), body)
	if got != status {
		c.t.Fatalf("%s %s: got %d %s, want %d", method, op, got, b, status)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: body %s: %v", method, op, b, err)
		}
	}
}

// fail sends a request that must answer the error status and code, and
// returns the error message.
func (c ks) fail(method, op string, body any, status int, code string) string {
	c.t.Helper()
	got, h, b := nodeCall(c.t, c.e, c.ak, c.sk, method, c.path(op), body)
	wantRawError(c.t, got, h, b, status, code)
	var m struct {
		ErrorMsg string `json:"error_msg"`
	}
	json.Unmarshal(b, &m)
	return m.ErrorMsg
}

// clock is a settable clock for the key service.
type clock struct{ offset atomic.Int64 }

func (c *clock) now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) advance(d time.Duration) { c.offset.Add(int64(d)) }

func policyText(t *testing.T, start, end time.Time, aps ...string) string {
	b, err := json.Marshal(map[string]any{
		"version":              "1",
		"validity_period":      map[string]string{"start_time": strconv.FormatInt(start.UnixMilli(), 10), "end_time": strconv.FormatInt(end.UnixMilli(), 10)},
		"allowed_access_point": aps,
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// customProof signs a decrypt-capsule request as a Custom access point
// (kms.SignedString, docs/compatibility.md).
func customProof(t *testing.T, priv *ecdsa.PrivateKey, project, keyID, capsule, publicKey string, expire time.Time) map[string]string {
	exp := expire.UTC().Format("2006-01-02T15:04:05Z")
	msg := kmsdkms.SignedString(project, keyID, capsule, publicKey, exp)
	digest := sha256.Sum256([]byte(msg))
	sig, err := ecdsa.SignASN1(rand.Reader, priv, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{"custom_signature": base64.StdEncoding.EncodeToString(sig),
		"custom_public_key": base64.StdEncoding.EncodeToString(pub), "expire_time": exp}
}

// TestKeySpaceCapsuleFlow is the whole flow of a Custom access point:
// key space → access point → its private key → policy → capsule →
// decrypt → disable the access point → refused → enable → the policy's
// window passes → refused.
func TestKeySpaceCapsuleFlow(t *testing.T) {
	clk := &clock{}
	e := start(t, envOptions{now: clk.now})
	c := ks{t: t, e: e, ak: e.ids.AdminAK, sk: e.ids.AdminSK, project: e.ids.ProjectID}
	keyID := createKeyRaw(t, e, "AES_256", "")

	var space struct {
		KeyspaceID string `json:"keyspace_id"`
	}
	c.ok("POST", "key-spaces", map[string]any{"keyspace_name": "flow"}, 201, &space)

	var ap struct {
		AccessPointID string `json:"access_point_id"`
	}
	c.ok("POST", "access-points", map[string]any{"keyspace_id": space.KeyspaceID, "access_point_name": "job", "type": 3}, 201, &ap)
	var dl struct {
		AccessPointID string `json:"access_point_id"`
		PrivateKey    string `json:"private_key"`
	}
	c.ok("POST", "access-points/"+ap.AccessPointID+"/get-privatekey", nil, 200, &dl)
	addSecret(dl.PrivateKey)
	blk, _ := pem.Decode([]byte(dl.PrivateKey))
	if blk == nil || blk.Type != "PRIVATE KEY" {
		t.Fatalf("private_key is not a PEM PRIVATE KEY: %.40q", dl.PrivateKey)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	priv, ok := k.(*ecdsa.PrivateKey)
	if !ok || priv.Curve.Params().Name != "P-256" {
		t.Fatalf("private key is %T, want EC P-256", k)
	}
	c.fail("POST", "access-points/"+ap.AccessPointID+"/get-privatekey", nil, 400, "KMS.0308")

	now := clk.now()
	var pol struct {
		PolicyID string `json:"policy_id"`
	}
	c.ok("POST", "key-policies", map[string]any{"keyspace_id": space.KeyspaceID, "policy_name": "p1",
		"policy": policyText(t, now.Add(-time.Minute), now.Add(2*time.Hour), ap.AccessPointID)}, 201, &pol)

	var capsule struct {
		KeyID          string `json:"key_id"`
		Datakey        string `json:"datakey"`
		DatakeyCapsule string `json:"datakey_capsule"`
	}
	c.ok("POST", "datakey-capsule/create", map[string]any{"key_id": keyID, "datakey_length": "AES_256", "policy_id": pol.PolicyID}, 200, &capsule)
	addSecret(capsule.Datakey)
	if dk, err := hex.DecodeString(capsule.Datakey); err != nil || len(dk) != 32 {
		t.Fatalf("datakey %d hex chars, want 64", len(capsule.Datakey))
	}
	decrypt := func(capsuleText string, att map[string]string) map[string]any {
		return map[string]any{"key_id": keyID, "datakey_capsule": capsuleText, "attestation_document": att}
	}
	proof := func(capsuleText string) map[string]string {
		return customProof(t, priv, c.project, keyID, capsuleText, "", clk.now().Add(10*time.Minute))
	}
	var out struct {
		Datakey    string `json:"datakey"`
		InstanceID string `json:"instance_id"`
	}
	c.ok("POST", "datakey-capsule/decrypt", decrypt(capsule.DatakeyCapsule, proof(capsule.DatakeyCapsule)), 200, &out)
	if out.Datakey != capsule.Datakey || out.InstanceID != ap.AccessPointID {
		t.Fatalf("decrypt: instance %q, data key equal %v; want %q, true", out.InstanceID, out.Datakey == capsule.Datakey, ap.AccessPointID)
	}

	t.Run("Refusals", func(t *testing.T) {
		c := c
		c.t = t
		// Someone else's signature, an old expire_time, a far one.
		other, _ := ecdsa.GenerateKey(priv.Curve, rand.Reader)
		msgs := map[string]string{}
		msgs["other key"] = c.fail("POST", "datakey-capsule/decrypt", decrypt(capsule.DatakeyCapsule,
			customProof(t, other, c.project, keyID, capsule.DatakeyCapsule, "", clk.now().Add(time.Minute))), 403, "KMS.0306")
		bad := proof(capsule.DatakeyCapsule)
		bad["custom_signature"] = proof(capsule.DatakeyCapsule + "x")["custom_signature"]
		msgs["signature of another capsule"] = c.fail("POST", "datakey-capsule/decrypt", decrypt(capsule.DatakeyCapsule, bad), 403, "KMS.0306")
		msgs["expired"] = c.fail("POST", "datakey-capsule/decrypt", decrypt(capsule.DatakeyCapsule,
			customProof(t, priv, c.project, keyID, capsule.DatakeyCapsule, "", clk.now().Add(-time.Second))), 403, "KMS.0306")
		msgs["too far ahead"] = c.fail("POST", "datakey-capsule/decrypt", decrypt(capsule.DatakeyCapsule,
			customProof(t, priv, c.project, keyID, capsule.DatakeyCapsule, "", clk.now().Add(2*time.Hour))), 403, "KMS.0306")
		msgs["no proof"] = c.fail("POST", "datakey-capsule/decrypt", decrypt(capsule.DatakeyCapsule, map[string]string{}), 403, "KMS.0306")
		msgs["ECS without verifier"] = c.fail("POST", "datakey-capsule/decrypt", decrypt(capsule.DatakeyCapsule, map[string]string{"ecs_signature": "x"}), 403, "KMS.0306")
		if msgs["other key"] == msgs["expired"] || msgs["expired"] == msgs["no proof"] || msgs["ECS without verifier"] == msgs["no proof"] {
			t.Errorf("refusals do not name their causes: %q", msgs)
		}
		// Every byte of the capsule matters.
		raw, _ := base64.StdEncoding.DecodeString(capsule.DatakeyCapsule)
		for _, i := range []int{0, 1, 3, 4, 20, 39, 40, 41, 80, 127, len(raw) - 17, len(raw) - 1} {
			mod := bytes.Clone(raw)
			mod[i] ^= 0x01
			text := base64.StdEncoding.EncodeToString(mod)
			c.fail("POST", "datakey-capsule/decrypt", decrypt(text, proof(text)), 400, "KMS.0308")
		}
		// Another key's id.
		key2 := createKeyRaw(t, e, "AES_256", "")
		body := decrypt(capsule.DatakeyCapsule, proof(capsule.DatakeyCapsule))
		body["key_id"] = key2
		c.fail("POST", "datakey-capsule/decrypt", body, 400, "KMS.0308")
		// IAM: the read-only user may not decrypt capsules.
		reader := ks{t: t, e: e, ak: e.ids.ReaderAK, sk: e.ids.ReaderSK, project: e.ids.ProjectID}
		reader.fail("POST", "datakey-capsule/decrypt", decrypt(capsule.DatakeyCapsule, proof(capsule.DatakeyCapsule)), 403, "KMS.0307")
	})

	// A disabled access point is refused; enabled again it is admitted.
	c.ok("POST", "access-points/"+ap.AccessPointID+"/disable", nil, 204, nil)
	if msg := c.fail("POST", "datakey-capsule/decrypt", decrypt(capsule.DatakeyCapsule, proof(capsule.DatakeyCapsule)), 403, "KMS.0306"); msg != "The access point is disabled." {
		t.Errorf("disabled access point: message %q", msg)
	}
	c.ok("POST", "access-points/"+ap.AccessPointID+"/enable", nil, 204, nil)
	c.ok("POST", "datakey-capsule/decrypt", decrypt(capsule.DatakeyCapsule, proof(capsule.DatakeyCapsule)), 200, &out)

	// The policy's window passes.
	clk.advance(3 * time.Hour)
	if msg := c.fail("POST", "datakey-capsule/decrypt", decrypt(capsule.DatakeyCapsule, proof(capsule.DatakeyCapsule)), 403, "KMS.0306"); msg != "The key policy is not valid at this time." {
		t.Errorf("expired policy: message %q", msg)
	}

	// The policy read back: both spellings, last_access_time set.
	var shown map[string]any
	c.ok("GET", "key-policies/"+pol.PolicyID, nil, 200, &shown)
	doc, _ := shown["policy"].(map[string]any)
	for _, k := range []string{"validity_period", "validityPeriod", "allowed_access_point", "allowedAccessPoint", "allowed_data_security_zone"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("ShowKeyPolicy policy lacks %s: %v", k, doc)
		}
	}
	if shown["last_access_time"] == "" {
		t.Errorf("last_access_time not set after a decryption: %v", shown)
	}

	// Inline policy, SM4 length, datakey wrapped under an RSA key.
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	pubDER, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	pubText := base64.StdEncoding.EncodeToString(pubDER)
	now = clk.now()
	var inline struct {
		DatakeyCipher  string `json:"datakey_cipher"`
		Datakey        string `json:"datakey"`
		DatakeyCapsule string `json:"datakey_capsule"`
	}
	c.ok("POST", "datakey-capsule/create", map[string]any{"key_id": keyID, "datakey_length": "SM4", "public_key": pubText,
		"key_policy": policyText(t, now.Add(-time.Minute), now.Add(time.Hour), ap.AccessPointID)}, 200, &inline)
	if inline.Datakey != "" || inline.DatakeyCipher == "" {
		t.Fatalf("with public_key: datakey %q, datakey_cipher %q", inline.Datakey, inline.DatakeyCipher)
	}
	wrapped, _ := base64.StdEncoding.DecodeString(inline.DatakeyCipher)
	dek1, err := rsa.DecryptOAEP(sha256.New(), nil, rsaKey, wrapped, nil)
	if err != nil || len(dek1) != 16 {
		t.Fatalf("datakey_cipher: %d bytes, %v", len(dek1), err)
	}
	body := decrypt(inline.DatakeyCapsule, customProof(t, priv, c.project, keyID, inline.DatakeyCapsule, pubText, clk.now().Add(time.Minute)))
	body["public_key"] = pubText
	var out2 struct {
		DatakeyCipher string `json:"datakey_cipher"`
	}
	c.ok("POST", "datakey-capsule/decrypt", body, 200, &out2)
	wrapped, _ = base64.StdEncoding.DecodeString(out2.DatakeyCipher)
	if dek2, err := rsa.DecryptOAEP(sha256.New(), nil, rsaKey, wrapped, nil); err != nil || !bytes.Equal(dek1, dek2) {
		t.Fatalf("decrypted data key differs from the created one (%v)", err)
	}
	// The signature covers public_key: a swapped key is refused.
	body["public_key"] = base64.StdEncoding.EncodeToString(pubDER[:len(pubDER)-1]) + "A"
	c.fail("POST", "datakey-capsule/decrypt", body, 403, "KMS.0306")

	// Deleting the policy refuses its capsules; the key space empties.
	c.ok("DELETE", "key-policies/"+pol.PolicyID, nil, 204, nil)
	c.fail("POST", "datakey-capsule/decrypt", decrypt(capsule.DatakeyCapsule, proof(capsule.DatakeyCapsule)), 403, "KMS.0306")
	c.fail("DELETE", "key-spaces/"+space.KeyspaceID, nil, 400, "KMS.0308")
	c.ok("DELETE", "access-points/"+ap.AccessPointID, nil, 204, nil)
	c.ok("DELETE", "key-spaces/"+space.KeyspaceID, nil, 204, nil)
	c.fail("DELETE", "key-spaces/"+space.KeyspaceID, nil, 404, "KMS.0207")
}

// TestKeySpaceOperations covers each operation's shape, paging and
// error cases, and cross-project isolation.
func TestKeySpaceOperations(t *testing.T) {
	e := start(t)
	c := ks{t: t, e: e, ak: e.ids.AdminAK, sk: e.ids.AdminSK, project: e.ids.ProjectID}
	other := ks{t: t, e: e, ak: e.ids.Admin2AK, sk: e.ids.Admin2SK, project: e.ids.Project2ID}

	var space struct {
		KeyspaceID string `json:"keyspace_id"`
	}
	c.ok("POST", "key-spaces", `{"keyspace_name":"ops","description":"d"}`, 201, &space)
	c.fail("POST", "key-spaces", `{"keyspace_name":"ops"}`, 400, "KMS.0308")
	c.fail("POST", "key-spaces", `{}`, 400, "KMS.0204")
	c.fail("POST", "key-spaces", `{"keyspace_name":"x","type":"2"}`, 400, "KMS.0308")
	c.fail("POST", "key-spaces", `{"keyspace_name":"bad name!"}`, 400, "KMS.0308")
	var spaces struct {
		PageInfo struct {
			CurrentCount int `json:"current_count"`
		} `json:"page_info"`
		Keyspaces []map[string]any `json:"keyspaces"`
	}
	c.ok("GET", "key-spaces", nil, 200, &spaces)
	if spaces.PageInfo.CurrentCount != 1 || spaces.Keyspaces[0]["keyspace_id"] != space.KeyspaceID {
		t.Errorf("ListTrustedKeySpace: %+v", spaces)
	}

	// Access points: 7 of them, listed 3 at a time.
	var ids []string
	for i := range 7 {
		body := fmt.Sprintf(`{"keyspace_id":%q,"access_point_name":"ap-%d","type":3}`, space.KeyspaceID, i)
		if i == 5 {
			body = fmt.Sprintf(`{"keyspace_id":%q,"access_point_name":"ecs","type":1,"identity":"ecs-1"}`, space.KeyspaceID)
		}
		if i == 6 {
			body = fmt.Sprintf(`{"keyspace_id":%q,"access_point_name":"cce","type":2,"identity":"pk","cluster_id":"c1"}`, space.KeyspaceID)
		}
		var ap struct {
			AccessPointID string `json:"access_point_id"`
		}
		c.ok("POST", "access-points", body, 201, &ap)
		ids = append(ids, ap.AccessPointID)
	}
	for name, body := range map[string]string{
		"type string":     fmt.Sprintf(`{"keyspace_id":%q,"access_point_name":"x","type":"3"}`, space.KeyspaceID),
		"type 4":          fmt.Sprintf(`{"keyspace_id":%q,"access_point_name":"x","type":4}`, space.KeyspaceID),
		"ECS no identity": fmt.Sprintf(`{"keyspace_id":%q,"access_point_name":"x","type":1}`, space.KeyspaceID),
		"CCE no cluster":  fmt.Sprintf(`{"keyspace_id":%q,"access_point_name":"x","type":2,"identity":"i"}`, space.KeyspaceID),
		"bad keyspace id": `{"keyspace_id":"nope","access_point_name":"x","type":3}`,
	} {
		status, _, b := nodeCall(t, e, c.ak, c.sk, "POST", c.path("access-points"), body)
		if status != 400 {
			t.Errorf("%s: got %d %s, want 400", name, status, b)
		}
	}
	c.fail("POST", "access-points", `{"keyspace_id":"`+space.KeyspaceID+`","access_point_name":"x"}`, 400, "KMS.0204")
	var got []string
	marker := ""
	for pages := 0; ; pages++ {
		q := "access-points?keyspace_id=" + space.KeyspaceID + "&limit=3"
		if marker != "" {
			q += "&marker=" + marker
		}
		var page struct {
			PageInfo struct {
				NextMarker   string `json:"next_marker"`
				CurrentCount int    `json:"current_count"`
			} `json:"page_info"`
			AccessPoints []map[string]any `json:"access_points"`
		}
		c.ok("GET", q, nil, 200, &page)
		for _, ap := range page.AccessPoints {
			got = append(got, ap["access_point_id"].(string))
			if _, ok := ap["lsat_modify_time"].(string); !ok {
				t.Errorf("access point lacks the string lsat_modify_time: %v", ap)
			}
			if _, ok := ap["state"].(float64); !ok {
				t.Errorf("state is not a number: %v", ap)
			}
		}
		if page.PageInfo.CurrentCount != len(page.AccessPoints) || pages > 3 {
			t.Fatalf("page %+v", page.PageInfo)
		}
		if marker = page.PageInfo.NextMarker; marker == "" {
			break
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(ids) {
		t.Errorf("paged access points %v, want %v in creation order", got, ids)
	}
	c.fail("GET", "access-points", nil, 400, "KMS.0204")
	c.fail("GET", "access-points?keyspace_id="+space.KeyspaceID+"&limit=101", nil, 400, "KMS.1601")
	c.fail("POST", "access-points/"+ids[5]+"/get-privatekey", nil, 400, "KMS.0308")

	// Key policies: errors of the document.
	now := time.Now()
	good := policyText(t, now, now.Add(time.Hour), ids[0])
	for name, doc := range map[string]string{
		"not JSON":         "{",
		"no version":       `{"validity_period":{"start_time":"1","end_time":"2"},"allowed_access_point":["` + ids[0] + `"]}`,
		"empty lists":      `{"version":"1","validity_period":{"start_time":"1","end_time":"2"},"allowed_access_point":[]}`,
		"unknown point":    policyText(t, now, now.Add(time.Hour), "00000000-0000-7000-8000-000000000000"),
		"bad time":         `{"version":"1","validity_period":{"start_time":"soon","end_time":"2"},"allowed_access_point":["` + ids[0] + `"]}`,
		"end before start": policyText(t, now, now.Add(-time.Hour), ids[0]),
		"unknown key":      `{"version":"1","extra":1,"validity_period":{"start_time":"1","end_time":"2"},"allowed_access_point":["` + ids[0] + `"]}`,
		"both spellings":   `{"version":"1","validityPeriod":{"start_time":"1","end_time":"2"},"validity_period":{"start_time":"1","end_time":"2"},"allowed_access_point":["` + ids[0] + `"]}`,
	} {
		if msg := c.fail("POST", "key-policies", map[string]any{"keyspace_id": space.KeyspaceID, "policy_name": "x", "policy": doc}, 400, "KMS.0308"); msg != "Invalid key policy document." {
			t.Errorf("%s: message %q", name, msg)
		}
	}
	camel := `{"version":"1","validityPeriod":{"startTime":"2026-01-01T00:00:00Z","endTime":"2099-01-01T00:00:00Z"},"allowedAccessPoint":["` + ids[1] + `"]}`
	var pol struct {
		PolicyID string `json:"policy_id"`
	}
	c.ok("POST", "key-policies", map[string]any{"keyspace_id": space.KeyspaceID, "policy_name": "camel", "policy": camel}, 201, &pol)
	c.fail("POST", "key-policies", map[string]any{"keyspace_id": space.KeyspaceID, "policy_name": "camel", "policy": good}, 400, "KMS.0308")
	var upd map[string]any
	c.ok("PUT", "key-policies/"+pol.PolicyID, map[string]any{"policy": good, "description": "now"}, 200, &upd)
	if d := upd["policy"].(map[string]any); fmt.Sprint(d["allowed_access_point"]) != fmt.Sprint([]any{ids[0]}) {
		t.Errorf("UpdateKeyPolicy policy %v", d)
	}
	var list struct {
		KeyspacePolicies []struct {
			Policy map[string]any `json:"policy"`
		} `json:"keyspace_policies"`
	}
	c.ok("GET", "key-policies?keyspace_id="+space.KeyspaceID, nil, 200, &list)
	if len(list.KeyspacePolicies) != 1 || list.KeyspacePolicies[0].Policy["validityPeriod"] == nil || list.KeyspacePolicies[0].Policy["allowedAccessPoint"] == nil {
		t.Errorf("ListKeyPolicy: %+v", list)
	}

	// Capsule creation errors.
	keyID := createKeyRaw(t, e, "AES_256", "")
	c.fail("POST", "datakey-capsule/create", map[string]any{"key_id": keyID, "datakey_length": "512", "policy_id": pol.PolicyID}, 400, "KMS.0308")
	c.fail("POST", "datakey-capsule/create", map[string]any{"key_id": keyID, "datakey_length": "256"}, 400, "KMS.0308")
	c.fail("POST", "datakey-capsule/create", map[string]any{"key_id": keyID, "datakey_length": "256", "policy_id": pol.PolicyID, "key_policy": good}, 400, "KMS.0308")
	c.fail("POST", "datakey-capsule/create", map[string]any{"key_id": keyID, "datakey_length": "256", "policy_id": "00000000-0000-7000-8000-000000000000"}, 404, "KMS.0207")
	c.fail("POST", "datakey-capsule/decrypt", map[string]any{"key_id": keyID, "datakey_capsule": "AAAA"}, 400, "KMS.0204")

	// Another project sees none of it.
	other.fail("GET", "access-points?keyspace_id="+space.KeyspaceID, nil, 404, "KMS.0207")
	other.fail("GET", "key-policies/"+pol.PolicyID, nil, 404, "KMS.0207")
	other.fail("POST", "access-points/"+ids[0]+"/disable", nil, 404, "KMS.0207")
	other.fail("DELETE", "key-spaces/"+space.KeyspaceID, nil, 404, "KMS.0207")
	other.fail("POST", "key-policies", map[string]any{"keyspace_id": space.KeyspaceID, "policy_name": "x", "policy": good}, 404, "KMS.0207")
	var none struct {
		Keyspaces []any `json:"keyspaces"`
	}
	other.ok("GET", "key-spaces", nil, 200, &none)
	if len(none.Keyspaces) != 0 {
		t.Errorf("another project lists %d key spaces", len(none.Keyspaces))
	}

	// Enable and delete are idempotent / final.
	c.ok("POST", "access-points/"+ids[2]+"/enable", nil, 204, nil)
	c.ok("DELETE", "access-points/"+ids[2], nil, 204, nil)
	c.fail("DELETE", "access-points/"+ids[2], nil, 404, "KMS.0207")
	c.fail("DELETE", "key-policies/nope", nil, 400, "KMS.0308")
}

// TestRotateOnDemand rotates a key now: a new version, old ciphertexts
// still decrypt, the rotation count moves.
func TestRotateOnDemand(t *testing.T) {
	e := start(t)
	c := ks{t: t, e: e, ak: e.ids.AdminAK, sk: e.ids.AdminSK, project: e.ids.ProjectID}
	keyID := createKeyRaw(t, e, "AES_256", "")
	var enc struct {
		CipherText string `json:"cipher_text"`
	}
	c.ok("POST", "encrypt-data", map[string]any{"key_id": keyID, "plain_text": "before rotation"}, 200, &enc)
	var out struct {
		KeyID string `json:"key_id"`
	}
	c.ok("POST", "rotate-on-demand", map[string]any{"key_id": keyID}, 200, &out)
	if out.KeyID != keyID {
		t.Errorf("key_id %q, want %q", out.KeyID, keyID)
	}
	var dec struct {
		PlainText string `json:"plain_text"`
	}
	c.ok("POST", "decrypt-data", map[string]any{"cipher_text": enc.CipherText}, 200, &dec)
	if dec.PlainText != "before rotation" {
		t.Errorf("old ciphertext decrypts to %q", dec.PlainText)
	}
	var enc2 struct {
		CipherText string `json:"cipher_text"`
	}
	c.ok("POST", "encrypt-data", map[string]any{"key_id": keyID, "plain_text": "after"}, 200, &enc2)
	// Bytes 4–7 of a blob are its key version (docs/ciphertext.md).
	for i, want := range []uint32{1, 2} {
		raw, err := base64.StdEncoding.DecodeString([]string{enc.CipherText, enc2.CipherText}[i])
		if err != nil || len(raw) < 8 {
			t.Fatalf("cipher_text: %v", err)
		}
		if v := uint32(raw[4])<<24 | uint32(raw[5])<<16 | uint32(raw[6])<<8 | uint32(raw[7]); v != want {
			t.Errorf("ciphertext %d names key version %d, want %d", i, v, want)
		}
	}
	var st struct {
		NumberOfRotations int `json:"number_of_rotations"`
	}
	c.ok("POST", "get-key-rotation-status", map[string]any{"key_id": keyID}, 200, &st)
	if st.NumberOfRotations != 1 {
		t.Errorf("number_of_rotations %d, want 1", st.NumberOfRotations)
	}
	rsaKey := createKeyRaw(t, e, "RSA_2048", "ENCRYPT_DECRYPT")
	c.fail("POST", "rotate-on-demand", map[string]any{"key_id": rsaKey}, 400, "KMS.0324")
	c.fail("POST", "rotate-on-demand", map[string]any{"key_id": "nope"}, 400, "KMS.0205")
	c.fail("POST", "rotate-on-demand", `{}`, 400, "KMS.0204")
}
