package compat

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2/model"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	kms "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2"

	"github.com/kmsd/kmsd/internal/api"
	kmsdauth "github.com/kmsd/kmsd/internal/auth"
	kmsdconfig "github.com/kmsd/kmsd/internal/config"
)

// TestSuccessBodies calls every implemented operation of the route table
// once, successfully, with raw signed requests, and checks what Terraform's
// provider needs of each answer: a 204 has no body, every other success a
// JSON body (its HTTP layer decodes one from every answer but 204 and
// fails with EOF on an empty 200, after the change was made; issue 9).
// The operations that used to answer an empty 200 are then called through
// the official Go SDK, which must decode the new bodies.
func TestSuccessBodies(t *testing.T) {
	e := start(t)
	fx := newWireFixture(t, e)
	c := e.admin()
	ak, sk := e.ids.AdminAK, e.ids.AdminSK
	// A second grant, for revoke-grant (the fixture's is retired).
	g, err := c.CreateGrant(&model.CreateGrantRequest{Body: &model.CreateGrantRequestBody{KeyId: fx.aes, GranteePrincipal: e.ids.ReaderID, Operations: []string{"encrypt-data"}}})
	if err != nil {
		t.Fatal(err)
	}
	// Import parameters and wrapped material for import-key-material.
	params := mustImportParams(t, c, fx.ext, "RSAES_OAEP_SHA_256")
	wrapped := wrapKey(t, "RSAES_OAEP_SHA_256", params.public, newMaterial(t, 32))

	p := e.projectPath
	dekDigest := sha256.Sum256(make([]byte, 32)) // encrypt-datakey's plain_text is the key and its SHA-256
	type step struct {
		op           string
		method, path string
		body         any
	}
	body := func(op string) any { b, _ := fx.validBody(e, op); return b }
	// with is op's valid body with members kv (name, value, …) changed.
	with := func(op string, kv ...any) any {
		b, _ := fx.validBody(e, op)
		for i := 0; i < len(kv); i += 2 {
			b[kv[i].(string)] = kv[i+1]
		}
		return b
	}
	// In an order in which each succeeds.
	steps := []step{
		{"ShowVersions", "GET", "/", nil},
		{"ShowVersion", "GET", "/v1.0", nil},
		{"ShowUserInstances", "GET", p("user-instances"), nil},
		{"ShowUserQuotas", "GET", p("user-quotas"), nil},
		{"CreateKey", "POST", p("create-key"), body("CreateKey")},
		{"ListKeyDetail", "POST", p("describe-key"), body("ListKeyDetail")},
		{"ListKeys", "POST", p("list-keys"), body("ListKeys")},
		{"UpdateKeyAlias", "POST", p("update-key-alias"), body("UpdateKeyAlias")},
		{"UpdateKeyDescription", "POST", p("update-key-description"), body("UpdateKeyDescription")},
		{"EncryptData", "POST", p("encrypt-data"), body("EncryptData")},
		{"DecryptData", "POST", p("decrypt-data"), with("DecryptData", "additional_authenticated_data", nil)},
		{"ReEncrypt", "POST", p("re-encrypt"), body("ReEncrypt")},
		{"CreateRandom", "POST", p("gen-random"), body("CreateRandom")},
		{"CreateDatakey", "POST", p("create-datakey"), body("CreateDatakey")},
		{"CreateDatakeyWithoutPlaintext", "POST", p("create-datakey-without-plaintext"), body("CreateDatakeyWithoutPlaintext")},
		{"EncryptDatakey", "POST", p("encrypt-datakey"), with("EncryptDatakey", "plain_text", hex.EncodeToString(append(make([]byte, 32), dekDigest[:]...)))},
		{"DecryptDatakey", "POST", p("decrypt-datakey"), with("DecryptDatakey", "datakey_cipher_length", "32")},
		{"CreateRsaDatakeyPair", "POST", p("create-rsa-datakey-pair"), body("CreateRsaDatakeyPair")},
		{"CreateEcDatakeyPair", "POST", p("create-ec-datakey-pair"), body("CreateEcDatakeyPair")},
		{"ShowPublicKey", "POST", p("get-publickey"), body("ShowPublicKey")},
		{"Sign", "POST", p("sign"), body("Sign")},
		{"ValidateSignature", "POST", p("verify"), body("ValidateSignature")},
		{"DeriveSharedSecret", "POST", p("derive-shared-secret"), body("DeriveSharedSecret")},
		{"GenerateMac", "POST", p("generate-mac"), body("GenerateMac")},
		{"VerifyMac", "POST", p("verify-mac"), body("VerifyMac")},
		{"CreateGrant", "POST", p("create-grant"), body("CreateGrant")},
		{"ListGrants", "POST", p("list-grants"), body("ListGrants")},
		{"ListRetirableGrants", "POST", p("list-retirable-grants"), body("ListRetirableGrants")},
		{"CancelSelfGrant", "POST", p("retire-grant"), body("CancelSelfGrant")},
		{"CancelGrant", "POST", p("revoke-grant"), with("CancelGrant", "grant_id", val(g.GrantId))},
		{"CreateAlias", "POST", p("aliases"), body("CreateAlias")},
		{"AssociateAlias", "POST", p("alias/associate"), body("AssociateAlias")},
		{"ListAliases", "GET", p("aliases"), nil},
		{"CreateKmsTag", "POST", p(fx.aes + "/tags"), body("CreateKmsTag")},
		{"BatchCreateKmsTags", "POST", p(fx.aes + "/tags/action"), with("BatchCreateKmsTags", "tags", []any{map[string]any{"key": "k2", "value": "v"}})},
		{"ShowKmsTags", "GET", p(fx.aes + "/tags"), nil},
		{"ListKmsTags", "GET", p("tags"), nil},
		{"ListKmsByTags", "POST", p("resource_instances/action"), body("ListKmsByTags")},
		{"DeleteTag", "DELETE", p(fx.aes + "/tags/k2"), nil},
		{"EnableKeyRotation", "POST", p("enable-key-rotation"), body("EnableKeyRotation")},
		{"UpdateKeyRotationInterval", "POST", p("update-key-rotation-interval"), body("UpdateKeyRotationInterval")},
		{"ShowKeyRotationStatus", "POST", p("get-key-rotation-status"), body("ShowKeyRotationStatus")},
		{"DisableKeyRotation", "POST", p("disable-key-rotation"), body("DisableKeyRotation")},
		{"CreateParametersForImport", "POST", p("get-parameters-for-import"), body("CreateParametersForImport")},
		{"ImportKeyMaterial", "POST", p("import-key-material"), with("ImportKeyMaterial", "import_token", params.token, "encrypted_key_material", wrapped)},
		{"DeleteImportedKeyMaterial", "POST", p("delete-imported-key-material"), body("DeleteImportedKeyMaterial")},
		{"DisableKey", "POST", p("disable-key"), body("DisableKey")},
		{"EnableKey", "POST", p("enable-key"), body("EnableKey")},
		{"DeleteKey", "POST", p("schedule-key-deletion"), body("DeleteKey")},
		{"CancelKeyDeletion", "POST", p("cancel-key-deletion"), body("CancelKeyDeletion")},
		{"DeleteAlias", "DELETE", p("aliases"), body("DeleteAlias")},
	}

	done := map[string]bool{}
	// call sends one step and checks its answer; it returns the body.
	call := func(s step) []byte {
		var b []byte
		if s.body != nil {
			b = mustJSON(t, s.body)
		}
		status, h, resp := rawCall(t, e, s.method, s.path, b, ak, sk)
		done[s.op] = true
		switch {
		case status == 204:
			if len(resp) != 0 {
				t.Errorf("%s: 204 with a body %q", s.op, resp)
			}
		case status >= 200 && status < 300:
			var v any
			if err := json.Unmarshal(resp, &v); err != nil {
				t.Errorf("%s: %d answer %q is not JSON: %v", s.op, status, resp, err)
			}
			if !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
				t.Errorf("%s: Content-Type %q", s.op, h.Get("Content-Type"))
			}
		default:
			t.Errorf("%s %s: got %d %s, want a success", s.method, s.path, status, resp)
		}
		return resp
	}
	for _, s := range steps {
		call(s)
	}
	// The key-space operations, each using what the one before made.
	id := func(resp []byte, member string) string {
		var m map[string]any
		json.Unmarshal(resp, &m)
		v, _ := m[member].(string)
		return v
	}
	space := id(call(step{"CreateTrustedKeySpace", "POST", p("key-spaces"), map[string]any{"keyspace_name": "bodies"}}), "keyspace_id")
	call(step{"ListTrustedKeySpace", "GET", p("key-spaces"), nil})
	ap := id(call(step{"CreateAccessPoint", "POST", p("access-points"), map[string]any{"keyspace_id": space, "access_point_name": "ap", "type": 3}}), "access_point_id")
	call(step{"ListAccessPoint", "GET", p("access-points?keyspace_id=" + space), nil})
	call(step{"DisableAccessPoint", "POST", p("access-points/" + ap + "/disable"), nil})
	call(step{"EnableAccessPoint", "POST", p("access-points/" + ap + "/enable"), nil})
	pemKey := id(call(step{"DownloadAccessPointPrivateKey", "POST", p("access-points/" + ap + "/get-privatekey"), nil}), "private_key")
	addSecret(pemKey)
	blk, _ := pem.Decode([]byte(pemKey))
	if blk == nil {
		t.Fatal("get-privatekey returned no PEM")
	}
	priv, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	doc := `{"version":"1","validity_period":{"start_time":"` + strconv.FormatInt(now.UnixMilli(), 10) + `","end_time":"` +
		strconv.FormatInt(now.Add(time.Hour).UnixMilli(), 10) + `"},"allowed_access_point":["` + ap + `"]}`
	pol := id(call(step{"CreateKeyPolicy", "POST", p("key-policies"), map[string]any{"keyspace_id": space, "policy_name": "p", "policy": doc}}), "policy_id")
	call(step{"ListKeyPolicy", "GET", p("key-policies?keyspace_id=" + space), nil})
	call(step{"ShowKeyPolicy", "GET", p("key-policies/" + pol), nil})
	call(step{"UpdateKeyPolicy", "PUT", p("key-policies/" + pol), map[string]any{"policy": doc}})
	capKey := createKeyRaw(t, e, "AES_256", "")
	call(step{"RotateOnDemand", "POST", p("rotate-on-demand"), map[string]any{"key_id": capKey}})
	capsule := id(call(step{"CreateDatakeyCapsule", "POST", p("datakey-capsule/create"), map[string]any{"key_id": capKey, "datakey_length": "256", "policy_id": pol}}), "datakey_capsule")
	proof := customProof(t, priv.(*ecdsa.PrivateKey), e.ids.ProjectID, capKey, capsule, "", time.Now().Add(time.Minute))
	call(step{"DecryptDatakeyCapsule", "POST", p("datakey-capsule/decrypt"), map[string]any{"key_id": capKey, "datakey_capsule": capsule, "attestation_document": proof}})
	call(step{"DeleteKeyPolicy", "DELETE", p("key-policies/" + pol), nil})
	call(step{"DeleteAccessPoint", "DELETE", p("access-points/" + ap), nil})
	call(step{"DeleteTrustedKeySpace", "DELETE", p("key-spaces/" + space), nil})
	call(step{"CreatePin", "POST", p("create-pin"), map[string]any{"pin_type": "PlainText"}})
	call(step{"ListKeyStores", "GET", "/v1.0/" + e.ids.ProjectID + "/keystores", nil})
	call(step{"ListSupportRegions", "GET", "/v2/" + e.ids.ProjectID + "/kms/regions", nil})
	// These need an HSM or a peer region: keystore_test.go and
	// region_test.go call each of them with the official SDK.
	for _, op := range []string{"CreateKeyStore", "ShowKeyStore", "EnableKeyStore", "DisableKeyStore", "DeleteKeyStore", "ReplicateKey", "UpdatePrimaryRegion"} {
		done[op] = true
	}
	// Every implemented operation was called, so a new one cannot escape.
	for _, o := range api.Operations() {
		if o.Implemented && !strings.HasPrefix(o.Pattern, "/v3/") && !done[o.Name] {
			t.Errorf("operation %s is implemented but not called here", o.Name)
		}
	}

	// The official SDK decodes the bodies of the formerly empty answers.
	key := newKey(t, c)
	if _, err := c.EnableKeyRotation(&model.EnableKeyRotationRequest{Body: &model.OperateKeyRequestBody{KeyId: key}}); err != nil {
		t.Errorf("EnableKeyRotation: %v", err)
	}
	if _, err := c.UpdateKeyRotationInterval(&model.UpdateKeyRotationIntervalRequest{Body: &model.UpdateKeyRotationIntervalRequestBody{KeyId: key, RotationInterval: 60}}); err != nil {
		t.Errorf("UpdateKeyRotationInterval: %v", err)
	}
	if _, err := c.DisableKeyRotation(&model.DisableKeyRotationRequest{Body: &model.OperateKeyRequestBody{KeyId: key}}); err != nil {
		t.Errorf("DisableKeyRotation: %v", err)
	}
	for _, retire := range []bool{false, true} {
		g, err := c.CreateGrant(&model.CreateGrantRequest{Body: &model.CreateGrantRequestBody{KeyId: key, GranteePrincipal: e.ids.ReaderID, Operations: []string{"describe-key"}}})
		if err != nil {
			t.Fatal(err)
		}
		if retire {
			_, err = c.CancelSelfGrant(&model.CancelSelfGrantRequest{Body: &model.RevokeGrantRequestBody{KeyId: key, GrantId: val(g.GrantId)}})
		} else {
			_, err = c.CancelGrant(&model.CancelGrantRequest{Body: &model.RevokeGrantRequestBody{KeyId: key, GrantId: val(g.GrantId)}})
		}
		if err != nil {
			t.Errorf("retire %v: %v", retire, err)
		}
	}
	ext := importKey(t, c, sdkEnum[model.CreateKeyRequestBodyKeySpec](t, "AES_256"))
	if err := importFresh(t, c, ext, "RSAES_OAEP_SHA_256", newMaterial(t, 32), nil); err != nil {
		t.Errorf("ImportKeyMaterial: %v", err)
	}
}

// TestErrorBodiesEverySDK decodes service and gateway error bodies as each
// official SDK does (issue 9): the Go SDK (core/sdkerr: top-level
// error_code and error_msg, else code and message, else the same in any
// nested object), the Node.js SDK (core/exception/ExceptionUtil.ts:
// error.code, else the top-level error_code) and the Python SDK
// (exceptions/exception_handler.py: as Go, error_code first). Each must
// find the code.
func TestErrorBodiesEverySDK(t *testing.T) {
	e := start(t)
	cases := []struct {
		name         string
		method, path string
		body         []byte
		ak, sk       string
		status       int
		code         string
	}{
		{"service error", "POST", e.projectPath("describe-key"), []byte(`{"key_id":"` + unknownKeyID + `"}`), e.ids.AdminAK, e.ids.AdminSK, 404, "KMS.0207"},
		{"malformed JSON", "POST", e.projectPath("describe-key"), []byte(`{`), e.ids.AdminAK, e.ids.AdminSK, 400, "KMS.0202"},
		{"denied", "POST", e.projectPath("create-key"), []byte(`{"key_alias":"x"}`), e.ids.ReaderAK, e.ids.ReaderSK, 403, "KMS.0307"},
		{"gateway error", "POST", e.projectPath("describe-key"), []byte(`{}`), e.ids.AdminAK, "wrong", 401, "APIGW.0301"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, _, b := rawCall(t, e, tc.method, tc.path, tc.body, tc.ak, tc.sk)
			if status != tc.status {
				t.Fatalf("got %d %s, want %d", status, b, tc.status)
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			if got := goSDKCode(m); got != tc.code {
				t.Errorf("Go SDK reads code %q from %s, want %s", got, b, tc.code)
			}
			if got := nodeSDKCode(m); got != tc.code {
				t.Errorf("Node.js SDK reads code %q from %s, want %s", got, b, tc.code)
			}
			if got := pythonSDKCode(m); got != tc.code {
				t.Errorf("Python SDK reads code %q from %s, want %s", got, b, tc.code)
			}
		})
	}
}

func str(m map[string]any, k string) string { s, _ := m[k].(string); return s }

// goSDKCode is sdkerr.processServiceResponseError of the Go SDK v0.1.207.
func goSDKCode(m map[string]any) string {
	if c, msg := str(m, "error_code"), str(m, "error_msg"); c != "" && msg != "" {
		return c
	}
	if c, msg := str(m, "code"), str(m, "message"); c != "" && msg != "" {
		return c
	}
	for _, v := range m {
		if inner, ok := v.(map[string]any); ok {
			if c := goSDKCode(inner); c != "" {
				return c
			}
		}
	}
	return ""
}

// nodeSDKCode is ExceptionUtil.generalException of the Node.js SDK
// 3.1.209: error?.code ?? error_code.
func nodeSDKCode(m map[string]any) string {
	if inner, ok := m["error"].(map[string]any); ok {
		if c, ok := inner["code"]; ok && c != nil {
			s, _ := c.(string)
			return s
		}
	}
	return str(m, "error_code")
}

// pythonSDKCode is ExceptionHandler._process_sdk_error of the Python SDK
// 3.1.211.
func pythonSDKCode(m map[string]any) string {
	_, hasCode := m["error_code"]
	_, hasMsg := m["error_msg"]
	if hasCode && hasMsg {
		return str(m, "error_code")
	}
	_, hasCode = m["errorCode"]
	_, hasMsg = m["errorMsg"]
	if hasCode && hasMsg {
		return str(m, "errorCode")
	}
	_, hasCode = m["code"]
	_, hasMsg = m["message"]
	if hasCode && hasMsg {
		return str(m, "code")
	}
	code := ""
	for _, v := range m {
		if inner, ok := v.(map[string]any); ok {
			if c := pythonSDKCode(inner); c != "" {
				code = c
			}
		}
	}
	return code
}

// TestGrantUnknownPrincipal creates grants to well-formed principals that
// are no user or account of kmsd — a real Huawei user id, the
// documentation's example — as Huawei accepts them (it documents only the
// pattern ^[a-zA-Z0-9]{1,64}$), and checks that such a grant lets nobody
// in, while a malformed principal stays KMS.2402 (issue 9).
func TestGrantUnknownPrincipal(t *testing.T) {
	e := start(t)
	c := e.admin()
	key := newKey(t, c)
	domain := model.GetCreateGrantRequestBodyGranteePrincipalTypeEnum().DOMAIN
	user := model.GetCreateGrantRequestBodyGranteePrincipalTypeEnum().USER
	for _, tc := range []struct {
		name string
		body *model.CreateGrantRequestBody
	}{
		{"documentation's example user", &model.CreateGrantRequestBody{KeyId: key, GranteePrincipal: "0d0466b00d0024661fb5c0e3e8c5b2f1", Operations: []string{"encrypt-data"}}},
		{"explicit user type", &model.CreateGrantRequestBody{KeyId: key, GranteePrincipal: "b6f7a2c1d0e94f7e8a1b2c3d4e5f6a7b", GranteePrincipalType: &user, Operations: []string{"encrypt-data"}}},
		{"unknown account", &model.CreateGrantRequestBody{KeyId: key, GranteePrincipal: "c1e4f0a9b8d7", GranteePrincipalType: &domain, Operations: []string{"encrypt-data"}}},
		{"an account id as user", &model.CreateGrantRequestBody{KeyId: key, GranteePrincipal: e.ids.Account2ID, Operations: []string{"encrypt-data"}}},
		{"a user id as domain", &model.CreateGrantRequestBody{KeyId: key, GranteePrincipal: e.ids.ReaderID, GranteePrincipalType: &domain, Operations: []string{"encrypt-data"}}},
		{"unknown retiring principal", &model.CreateGrantRequestBody{KeyId: key, GranteePrincipal: "a", Operations: []string{"encrypt-data"}, RetiringPrincipal: ptr(strings.Repeat("Z", 64))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := c.CreateGrant(&model.CreateGrantRequest{Body: tc.body}); err != nil {
				t.Fatalf("CreateGrant to %s: %v", tc.body.GranteePrincipal, err)
			}
		})
	}
	resp, err := c.ListGrants(&model.ListGrantsRequest{Body: &model.ListGrantsRequestBody{KeyId: key}})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(*resp.Grants); n != 6 {
		t.Errorf("list-grants shows %d grants, want 6", n)
	}
	// The reader (KMS CMKReadOnlyAccess, no kms:cmk:crypto) is none of
	// those grantees, and its account's users are not either.
	_, err = e.reader().EncryptData(&model.EncryptDataRequest{Body: &model.EncryptDataRequestBody{KeyId: key, PlainText: "x"}})
	wantError(t, err, 403, "KMS.0307")
	for _, bad := range []string{"a-b", "a b", strings.Repeat("a", 65), "用户"} {
		_, err := c.CreateGrant(&model.CreateGrantRequest{Body: &model.CreateGrantRequestBody{KeyId: key, GranteePrincipal: bad, Operations: []string{"encrypt-data"}}})
		wantError(t, err, 400, "KMS.2402")
	}
}

// TestListAliasesShape checks the one place where kmsd answers by client
// (issue 9): list-aliases answers Huawei's documented object
// {"aliases","page_info"} — what Terraform's provider reads — and the
// one-element array the official SDKs decode to requests whose User-Agent
// is an official SDK's; compat.list_aliases forces either shape.
func TestListAliasesShape(t *testing.T) {
	const (
		goUA       = "huaweicloud-usdk-go/3.0"
		goCustomUA = "huaweicloud-usdk-go/3.0; my-app/1.2"
		nodeUA     = "huaweicloud-usdk-nodejs/3.0; Linux 6.1.0; app/9f3c2a"
		pythonUA   = "huaweicloud-usdk-python/3.0"
	)
	list := func(t *testing.T, e *env, ua string) []byte {
		t.Helper()
		r := newRawRequest(t, e, "GET", e.projectPath("aliases"), nil)
		if ua == "" {
			r.Header.Del("User-Agent") // Go's client sends Go-http-client/1.1
		} else {
			r.Header.Set("User-Agent", ua)
		}
		signRaw(t, r, nil, kmsdauth.AlgHMACSHA256, e.ids.AdminAK, e.ids.AdminSK, time.Now())
		status, _, b := send(t, r)
		if status != 200 {
			t.Fatalf("list-aliases as %q: %d %s", ua, status, b)
		}
		return b
	}
	isArray := func(b []byte) bool { return len(b) > 0 && b[0] == '[' }
	wantObject := func(t *testing.T, b []byte) {
		t.Helper()
		var v struct {
			Aliases  []map[string]any `json:"aliases"`
			PageInfo *struct {
				NextMarker   *string `json:"next_marker"`
				CurrentCount *int    `json:"current_count"`
			} `json:"page_info"`
		}
		if err := json.Unmarshal(b, &v); err != nil || v.Aliases == nil || v.PageInfo == nil || v.PageInfo.NextMarker == nil || v.PageInfo.CurrentCount == nil {
			t.Errorf("body %s is not the documented object: %v", b, err)
		}
	}

	e := start(t)
	c := e.admin()
	key := newKey(t, c)
	if _, err := createAlias(c, key, "shape-a"); err != nil {
		t.Fatal(err)
	}
	for _, ua := range []string{goUA, goCustomUA, nodeUA, pythonUA} {
		if b := list(t, e, ua); !isArray(b) {
			t.Errorf("%q got %s, want the array", ua, b)
		}
	}
	for _, ua := range []string{terraformUA, "HW_TF_CUSTOM_UA-value " + terraformUA, "curl/8.5.0", "", "Mozilla/5.0 huaweicloud-usdk-go/3.0", "huaweicloud-usdk-golang/3.0"} {
		b := list(t, e, ua)
		if isArray(b) {
			t.Errorf("%q got the array %s, want the object", ua, b)
		}
		wantObject(t, b)
	}
	// The official Go SDK, with and without a custom User-Agent.
	hc := config.DefaultHttpConfig()
	hc.UserAgent = "my-app/1.2"
	for _, cl := range []*kms.KmsClient{c, e.clientWith(e.ids.AdminAK, e.ids.AdminSK, e.ids.ProjectID, hc)} {
		names, _ := listAliasPages(t, cl, key, 10)
		if len(names) != 1 || names[0] != "shape-a" {
			t.Errorf("SDK lists %v", names)
		}
	}

	for _, shape := range []string{"object", "array"} {
		t.Run("forced "+shape, func(t *testing.T) {
			e := start(t, envOptions{configure: func(c *kmsdconfig.Config) { c.Compat.ListAliases = shape }})
			for _, ua := range []string{goUA, terraformUA} {
				b := list(t, e, ua)
				if isArray(b) != (shape == "array") {
					t.Errorf("%q got %s, want the %s", ua, b, shape)
				}
				if shape == "object" {
					wantObject(t, b)
				}
			}
		})
	}
}
