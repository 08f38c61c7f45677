package compat

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/def"
	kms "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2/model"

	"github.com/kmsd/kmsd/internal/api"
)

// sdkOperations are the request definitions of every operation of the
// SDK's KMS client, by operation name. TestSDKOperationList checks that the
// list is complete against the SDK's source.
var sdkOperations = map[string]func() *def.HttpRequestDef{
	"AssociateAlias":                kms.GenReqDefForAssociateAlias,
	"BatchCreateKmsTags":            kms.GenReqDefForBatchCreateKmsTags,
	"CancelGrant":                   kms.GenReqDefForCancelGrant,
	"CancelKeyDeletion":             kms.GenReqDefForCancelKeyDeletion,
	"CancelSelfGrant":               kms.GenReqDefForCancelSelfGrant,
	"CreateAlias":                   kms.GenReqDefForCreateAlias,
	"CreateDatakey":                 kms.GenReqDefForCreateDatakey,
	"CreateDatakeyWithoutPlaintext": kms.GenReqDefForCreateDatakeyWithoutPlaintext,
	"CreateEcDatakeyPair":           kms.GenReqDefForCreateEcDatakeyPair,
	"CreateGrant":                   kms.GenReqDefForCreateGrant,
	"CreateKey":                     kms.GenReqDefForCreateKey,
	"CreateKeyStore":                kms.GenReqDefForCreateKeyStore,
	"CreateKmsTag":                  kms.GenReqDefForCreateKmsTag,
	"CreateParametersForImport":     kms.GenReqDefForCreateParametersForImport,
	"CreatePin":                     kms.GenReqDefForCreatePin,
	"CreateRandom":                  kms.GenReqDefForCreateRandom,
	"CreateRsaDatakeyPair":          kms.GenReqDefForCreateRsaDatakeyPair,
	"DecryptData":                   kms.GenReqDefForDecryptData,
	"DecryptDatakey":                kms.GenReqDefForDecryptDatakey,
	"DeleteAlias":                   kms.GenReqDefForDeleteAlias,
	"DeleteImportedKeyMaterial":     kms.GenReqDefForDeleteImportedKeyMaterial,
	"DeleteKey":                     kms.GenReqDefForDeleteKey,
	"DeleteKeyStore":                kms.GenReqDefForDeleteKeyStore,
	"DeleteTag":                     kms.GenReqDefForDeleteTag,
	"DeriveSharedSecret":            kms.GenReqDefForDeriveSharedSecret,
	"DisableKey":                    kms.GenReqDefForDisableKey,
	"DisableKeyRotation":            kms.GenReqDefForDisableKeyRotation,
	"DisableKeyStore":               kms.GenReqDefForDisableKeyStore,
	"EnableKey":                     kms.GenReqDefForEnableKey,
	"EnableKeyRotation":             kms.GenReqDefForEnableKeyRotation,
	"EnableKeyStore":                kms.GenReqDefForEnableKeyStore,
	"EncryptData":                   kms.GenReqDefForEncryptData,
	"EncryptDatakey":                kms.GenReqDefForEncryptDatakey,
	"GenerateMac":                   kms.GenReqDefForGenerateMac,
	"ImportKeyMaterial":             kms.GenReqDefForImportKeyMaterial,
	"ListAliases":                   kms.GenReqDefForListAliases,
	"ListGrants":                    kms.GenReqDefForListGrants,
	"ListKeyDetail":                 kms.GenReqDefForListKeyDetail,
	"ListKeyStores":                 kms.GenReqDefForListKeyStores,
	"ListKeys":                      kms.GenReqDefForListKeys,
	"ListKmsByTags":                 kms.GenReqDefForListKmsByTags,
	"ListKmsTags":                   kms.GenReqDefForListKmsTags,
	"ListRetirableGrants":           kms.GenReqDefForListRetirableGrants,
	"ListSupportRegions":            kms.GenReqDefForListSupportRegions,
	"ReEncrypt":                     kms.GenReqDefForReEncrypt,
	"ReplicateKey":                  kms.GenReqDefForReplicateKey,
	"ShowKeyRotationStatus":         kms.GenReqDefForShowKeyRotationStatus,
	"ShowKeyStore":                  kms.GenReqDefForShowKeyStore,
	"ShowKmsTags":                   kms.GenReqDefForShowKmsTags,
	"ShowPublicKey":                 kms.GenReqDefForShowPublicKey,
	"ShowUserInstances":             kms.GenReqDefForShowUserInstances,
	"ShowUserQuotas":                kms.GenReqDefForShowUserQuotas,
	"Sign":                          kms.GenReqDefForSign,
	"UpdateKeyAlias":                kms.GenReqDefForUpdateKeyAlias,
	"UpdateKeyDescription":          kms.GenReqDefForUpdateKeyDescription,
	"UpdateKeyRotationInterval":     kms.GenReqDefForUpdateKeyRotationInterval,
	"UpdatePrimaryRegion":           kms.GenReqDefForUpdatePrimaryRegion,
	"ValidateSignature":             kms.GenReqDefForValidateSignature,
	"VerifyMac":                     kms.GenReqDefForVerifyMac,
	"ShowVersion":                   kms.GenReqDefForShowVersion,
	"ShowVersions":                  kms.GenReqDefForShowVersions,
}

// sdkMetaFile returns the path of the SDK's services/kms/v2/kms_meta.go in
// the module cache, as the go command resolves this module's requirement.
func sdkMetaFile(t *testing.T) string {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), "go", "list", "-m", "-json", "github.com/huaweicloud/huaweicloud-sdk-go-v3").Output()
	if err != nil {
		t.Fatalf("go list -m: %v", err)
	}
	var m struct{ Version, Dir string }
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	if m.Dir == "" {
		t.Fatalf("the SDK %s is not in the module cache (go mod download)", m.Version)
	}
	return filepath.Join(m.Dir, "services", "kms", "v2", "kms_meta.go")
}

// TestSDKOperationList checks that sdkOperations names exactly the
// GenReqDefFor* functions of the SDK's source, so an operation added to
// the SDK cannot escape the parity test.
func TestSDKOperationList(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), sdkMetaFile(t), nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	var inSource []string
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && strings.HasPrefix(fd.Name.Name, "GenReqDefFor") {
			inSource = append(inSource, strings.TrimPrefix(fd.Name.Name, "GenReqDefFor"))
		}
	}
	slices.Sort(inSource)
	var listed []string
	for name := range sdkOperations {
		listed = append(listed, name)
	}
	slices.Sort(listed)
	if !slices.Equal(inSource, listed) {
		t.Errorf("got GenReqDefFor functions %v in the SDK source, want the %d of sdkOperations %v", inSource, len(listed), listed)
	}
	if len(inSource) != 61 {
		t.Errorf("got %d SDK operations, want the reference's 61", len(inSource))
	}
}

// kmsRoutes returns kmsd's KMS routes (not the /v3 IAM ones) by name.
func kmsRoutes(t *testing.T) map[string]api.Operation {
	t.Helper()
	out := map[string]api.Operation{}
	for _, o := range api.Operations() {
		if strings.HasPrefix(o.Pattern, "/v3/") || o.Newer || o.NoSDK {
			// The newer operations are not in the Go SDK v0.1.207;
			// TestNotImplementedRoutes covers them.
			continue
		}
		if _, dup := out[o.Name]; dup {
			t.Errorf("route %s is in the table twice", o.Name)
		}
		out[o.Name] = o
	}
	return out
}

// TestRouteParity compares the route table with the SDK's request
// definitions in both directions: same names, methods and paths.
func TestRouteParity(t *testing.T) {
	routes := kmsRoutes(t)
	for name, gen := range sdkOperations {
		t.Run(name, func(t *testing.T) {
			d := gen()
			r, ok := routes[name]
			if !ok {
				t.Fatalf("SDK operation %s %s %s has no route", name, d.Method, d.Path)
			}
			if r.Method != d.Method || r.Pattern != d.Path {
				t.Errorf("got route %s %s, want the SDK's %s %s", r.Method, r.Pattern, d.Method, d.Path)
			}
		})
	}
	for name, r := range routes {
		if _, ok := sdkOperations[name]; !ok {
			t.Errorf("route %s (%s %s) is not an SDK operation", name, r.Method, r.Pattern)
		}
	}
	if len(routes) != len(sdkOperations) {
		t.Errorf("got %d KMS routes, want %d", len(routes), len(sdkOperations))
	}
}

// concretePath fills a route pattern's parameters with values the route
// matches.
func concretePath(e *env, pattern string) string {
	return strings.NewReplacer(
		"{project_id}", e.ids.ProjectID,
		"{key_id}", unknownKeyID,
		"{key}", "tagkey",
		"{keystore_id}", "keystore-1",
		"{resource_instances}", "resource_instances",
		"{version_id}", "v1.0",
		"{policy_id}", "3f2b1c4e-7a8d-4e2f-9b1a-0c5d6e7f8a9b",
		"{access_point_id}", "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
	).Replace(pattern)
}

// TestNotImplementedRoutes checks that every route that is not built yet
// answers the administrator 501 KMSD.0501 with a JSON error body, never
// 404.
func TestNotImplementedRoutes(t *testing.T) {
	e := start(t)
	n := 0
	for _, o := range api.Operations() {
		if o.Implemented || strings.HasPrefix(o.Pattern, "/v3/") {
			continue
		}
		n++
		t.Run(o.Name, func(t *testing.T) {
			var body []byte
			if o.Method != "GET" {
				body = []byte("{}\n")
			}
			status, h, b := rawCall(t, e, o.Method, concretePath(e, o.Pattern), body, e.ids.AdminAK, e.ids.AdminSK)
			wantRawError(t, status, h, b, 501, "KMSD.0501")
			// Authentication comes first: without credentials, 401.
			status, h, b = send(t, newRawRequest(t, e, o.Method, concretePath(e, o.Pattern), body))
			wantRawError(t, status, h, b, 401, "APIGW.0301")
		})
	}
	t.Logf("%d routes are not implemented", n)
}

// TestVersions checks the API version operations through the SDK
// (reference kms-api.md §5.N).
func TestVersions(t *testing.T) {
	e := start(t)
	c := e.admin()
	resp, err := c.ShowVersions(&model.ShowVersionsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, v := range deref(resp.Versions) {
		ids = append(ids, val(v.Id))
		if val(v.Id) == "v1.0" && val(v.Status) != "CURRENT" {
			t.Errorf("got v1.0 status %v, want CURRENT", val(v.Status))
		}
	}
	if !slices.Contains(ids, "v1.0") {
		t.Errorf("got versions %v, want v1.0 among them", ids)
	}
	one, err := c.ShowVersion(&model.ShowVersionRequest{VersionId: "v1.0"})
	if err != nil {
		t.Fatal(err)
	}
	if one.Version == nil {
		t.Fatal("ShowVersion answered no version")
	}
	if m, ok := (*one.Version).(map[string]any); !ok || m["id"] != "v1.0" {
		t.Errorf("got version %#v, want the object of v1.0", *one.Version)
	}
	_, err = c.ShowVersion(&model.ShowVersionRequest{VersionId: "v9"})
	wantError(t, err, 404, "APIGW.0101")
}

// deref returns *p, or nil.
func deref[T any](p *[]T) []T {
	if p == nil {
		return nil
	}
	return *p
}

// TestVersionsWire checks GET / and GET /{version_id} on the wire:
// they answer without authentication, every ApiVersionDetail member is a
// JSON string and links is an array of {href, rel}.
func TestVersionsWire(t *testing.T) {
	e := start(t)
	check := func(t *testing.T, v map[string]any) {
		t.Helper()
		wantStrings(t, "version "+strings.TrimSpace(strconv.Quote(val(ptrString(v["id"])))), v, "id", "version", "status", "updated", "min_version")
		links, ok := v["links"].([]any)
		if !ok || len(links) == 0 {
			t.Errorf("got links %#v, want a non-empty array", v["links"])
			return
		}
		for _, l := range links {
			lm, ok := l.(map[string]any)
			if !ok {
				t.Errorf("got link %#v, want an object", l)
				continue
			}
			wantStrings(t, "link", lm, "href", "rel")
		}
	}
	for _, path := range []string{"/", "/v1.0", "/v1.0/", "/v2"} {
		t.Run(path, func(t *testing.T) {
			r := newRawRequest(t, e, "GET", path, nil)
			r.Header.Del("X-Project-Id")
			status, h, b := send(t, r)
			if status != 200 {
				t.Fatalf("got %d %s, want 200", status, b)
			}
			if h.Get("X-Request-Id") == "" {
				t.Error("no X-Request-Id")
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			if path == "/" {
				vs, ok := m["versions"].([]any)
				if !ok || len(vs) == 0 {
					t.Fatalf("got %s, want versions", b)
				}
				for _, v := range vs {
					check(t, v.(map[string]any))
				}
				return
			}
			v, ok := m["version"].(map[string]any)
			if !ok {
				t.Fatalf("got %s, want one version object", b)
			}
			check(t, v)
			if want := strings.Trim(path, "/"); v["id"] != want {
				t.Errorf("got id %v, want %s", v["id"], want)
			}
		})
	}
	for _, path := range []string{"/v3", "/v1", "/favicon.ico"} {
		r := newRawRequest(t, e, "GET", path, nil)
		status, h, b := send(t, r)
		wantRawError(t, status, h, b, 404, "APIGW.0101")
	}
}
