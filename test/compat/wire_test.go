package compat

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/def"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2/model"

	"github.com/kmsd/kmsd/internal/api"
)

// sdkRequestModels are the SDK's request models of every operation whose
// request carries a JSON body; each has a Body member whose type is the
// body's model. TestWireBodyCoverage checks the list against the SDK's
// request definitions.
var sdkRequestModels = map[string]any{
	"AssociateAlias":                model.AssociateAliasRequest{},
	"BatchCreateKmsTags":            model.BatchCreateKmsTagsRequest{},
	"CancelGrant":                   model.CancelGrantRequest{},
	"CancelKeyDeletion":             model.CancelKeyDeletionRequest{},
	"CancelSelfGrant":               model.CancelSelfGrantRequest{},
	"CreateAlias":                   model.CreateAliasRequest{},
	"CreateDatakey":                 model.CreateDatakeyRequest{},
	"CreateDatakeyWithoutPlaintext": model.CreateDatakeyWithoutPlaintextRequest{},
	"CreateEcDatakeyPair":           model.CreateEcDatakeyPairRequest{},
	"CreateGrant":                   model.CreateGrantRequest{},
	"CreateKey":                     model.CreateKeyRequest{},
	"CreateKeyStore":                model.CreateKeyStoreRequest{},
	"CreateKmsTag":                  model.CreateKmsTagRequest{},
	"CreateParametersForImport":     model.CreateParametersForImportRequest{},
	"CreatePin":                     model.CreatePinRequest{},
	"CreateRandom":                  model.CreateRandomRequest{},
	"CreateRsaDatakeyPair":          model.CreateRsaDatakeyPairRequest{},
	"DecryptData":                   model.DecryptDataRequest{},
	"DecryptDatakey":                model.DecryptDatakeyRequest{},
	"DeleteAlias":                   model.DeleteAliasRequest{},
	"DeleteImportedKeyMaterial":     model.DeleteImportedKeyMaterialRequest{},
	"DeleteKey":                     model.DeleteKeyRequest{},
	"DeriveSharedSecret":            model.DeriveSharedSecretRequest{},
	"DisableKey":                    model.DisableKeyRequest{},
	"DisableKeyRotation":            model.DisableKeyRotationRequest{},
	"EnableKey":                     model.EnableKeyRequest{},
	"EnableKeyRotation":             model.EnableKeyRotationRequest{},
	"EncryptData":                   model.EncryptDataRequest{},
	"EncryptDatakey":                model.EncryptDatakeyRequest{},
	"GenerateMac":                   model.GenerateMacRequest{},
	"ImportKeyMaterial":             model.ImportKeyMaterialRequest{},
	"ListGrants":                    model.ListGrantsRequest{},
	"ListKeyDetail":                 model.ListKeyDetailRequest{},
	"ListKeys":                      model.ListKeysRequest{},
	"ListKmsByTags":                 model.ListKmsByTagsRequest{},
	"ListRetirableGrants":           model.ListRetirableGrantsRequest{},
	"ReEncrypt":                     model.ReEncryptRequest{},
	"ReplicateKey":                  model.ReplicateKeyRequest{},
	"ShowKeyRotationStatus":         model.ShowKeyRotationStatusRequest{},
	"ShowPublicKey":                 model.ShowPublicKeyRequest{},
	"Sign":                          model.SignRequest{},
	"UpdateKeyAlias":                model.UpdateKeyAliasRequest{},
	"UpdateKeyDescription":          model.UpdateKeyDescriptionRequest{},
	"UpdateKeyRotationInterval":     model.UpdateKeyRotationIntervalRequest{},
	"UpdatePrimaryRegion":           model.UpdatePrimaryRegionRequest{},
	"ValidateSignature":             model.ValidateSignatureRequest{},
	"VerifyMac":                     model.VerifyMacRequest{},
}

// jsonKind is the JSON type of a request member as the SDK's model types
// it (reference kms-api.md §5).
type jsonKind int

const (
	kindString jsonKind = iota
	kindInteger
	kindBoolean
	kindArray
	kindObject
)

func (k jsonKind) String() string {
	return [...]string{"string", "integer", "boolean", "array", "object"}[k]
}

// wrongValues are JSON values of every type but k.
func (k jsonKind) wrongValues() []string {
	switch k {
	case kindString:
		return []string{`5`, `true`, `{}`, `["x"]`}
	case kindInteger:
		return []string{`"30"`, `true`, `{}`, `[30]`}
	case kindBoolean:
		return []string{`"true"`, `1`, `{}`, `[true]`}
	case kindArray:
		return []string{`"x"`, `5`, `true`, `{}`}
	default:
		return []string{`"x"`, `5`, `true`, `[]`}
	}
}

// bodyMember is one member of a request body, possibly nested: path is
// its JSON path, "[]" standing for an array's first element.
type bodyMember struct {
	path     []string
	kind     jsonKind
	required bool
}

func (m bodyMember) name() string { return strings.Join(m.path, ".") }

// bodySchema returns every member of an SDK body model, nested ones
// included. A member is required when the SDK's field is neither a
// pointer nor omitempty (the SDK's own rule for required members).
func bodySchema(t reflect.Type, prefix []string) []bodyMember {
	var out []bodyMember
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" || name == "-" {
			continue
		}
		required := f.Type.Kind() != reflect.Pointer && !strings.Contains(opts, "omitempty")
		out = append(out, typeMembers(f.Type, append(slices.Clone(prefix), name), required)...)
	}
	return out
}

// typeMembers returns the member at path of Go type ft and, for arrays and
// objects, the members inside it.
func typeMembers(ft reflect.Type, path []string, required bool) []bodyMember {
	for ft.Kind() == reflect.Pointer {
		ft = ft.Elem()
	}
	switch ft.Kind() {
	case reflect.String:
		return []bodyMember{{path, kindString, required}}
	case reflect.Int, reflect.Int32, reflect.Int64:
		return []bodyMember{{path, kindInteger, required}}
	case reflect.Bool:
		return []bodyMember{{path, kindBoolean, required}}
	case reflect.Slice:
		out := []bodyMember{{path, kindArray, required}}
		return append(out, typeMembers(ft.Elem(), append(slices.Clone(path), "[]"), false)...)
	case reflect.Struct:
		if _, ok := ft.MethodByName("Value"); ok {
			// An SDK enum: a struct that travels as a JSON string.
			return []bodyMember{{path, kindString, required}}
		}
		out := []bodyMember{{path, kindObject, required}}
		return append(out, bodySchema(ft, path)...)
	}
	panic(fmt.Sprintf("unexpected Go type %v at %v", ft, path))
}

// sdkBodySchema returns the members of op's request body.
func sdkBodySchema(t *testing.T, op string) []bodyMember {
	t.Helper()
	m, ok := sdkRequestModels[op]
	if !ok {
		t.Fatalf("no SDK request model for %s", op)
	}
	f, ok := reflect.TypeOf(m).FieldByName("Body")
	if !ok {
		t.Fatalf("%s request has no Body", op)
	}
	return bodySchema(f.Type.Elem(), nil)
}

// setPath returns a deep copy of body with the member at path set to the
// raw JSON value v, creating the objects and arrays on the way.
func setPath(t *testing.T, body map[string]any, path []string, v json.RawMessage) map[string]any {
	t.Helper()
	var cp map[string]any
	b, _ := json.Marshal(body)
	if err := json.Unmarshal(b, &cp); err != nil || cp == nil {
		cp = map[string]any{}
	}
	var set func(container any, path []string) any
	set = func(container any, path []string) any {
		if len(path) == 0 {
			return v
		}
		if path[0] == "[]" {
			arr, _ := container.([]any)
			if len(arr) == 0 {
				arr = []any{nil}
				if len(path) > 1 {
					arr[0] = map[string]any{}
				}
			}
			arr[0] = set(arr[0], path[1:])
			return arr
		}
		obj, _ := container.(map[string]any)
		if obj == nil {
			obj = map[string]any{}
		}
		obj[path[0]] = set(obj[path[0]], path[1:])
		return obj
	}
	return set(cp, path).(map[string]any)
}

// deletePath returns a copy of body without its top-level member name.
func without(body map[string]any, name string) map[string]any {
	cp := make(map[string]any, len(body))
	for k, v := range body {
		if k != name {
			cp[k] = v
		}
	}
	return cp
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// wireFixture holds keys and values from which valid request bodies are
// built.
type wireFixture struct {
	aes, rsaSign, ecAgree, hmac, ext string
	ciphertext, dekCiphertext        string
	importToken, grantID, alias      string
	peerPublicKey                    string
}

func newWireFixture(t *testing.T, e *env) *wireFixture {
	t.Helper()
	c := e.admin()
	f := &wireFixture{
		aes:     newKey(t, c),
		rsaSign: createKeyRaw(t, e, "RSA_2048", "SIGN_VERIFY"),
		ecAgree: createKeyRaw(t, e, "EC_P256", "KEY_AGREEMENT"),
		hmac:    createKeyRaw(t, e, "HMAC_256", "GENERATE_VERIFY_MAC"),
		ext:     importKey(t, c, sdkEnum[model.CreateKeyRequestBodyKeySpec](t, "AES_256")),
	}
	enc, err := c.EncryptData(&model.EncryptDataRequest{Body: &model.EncryptDataRequestBody{KeyId: f.aes, PlainText: "wire"}})
	if err != nil {
		t.Fatal(err)
	}
	f.ciphertext = val(enc.CipherText)
	dek, err := c.CreateDatakeyWithoutPlaintext(&model.CreateDatakeyWithoutPlaintextRequest{Body: &model.CreateDatakeyRequestBody{KeyId: f.aes}})
	if err != nil {
		t.Fatal(err)
	}
	f.dekCiphertext = val(dek.CipherText)
	f.importToken = mustImportParams(t, c, f.ext, "RSAES_OAEP_SHA_256").token
	grant, err := c.CreateGrant(&model.CreateGrantRequest{Body: &model.CreateGrantRequestBody{KeyId: f.aes, GranteePrincipal: e.ids.ReaderID, Operations: []string{"describe-key"}}})
	if err != nil {
		t.Fatal(err)
	}
	f.grantID = val(grant.GrantId)
	f.alias = newExtraAlias()
	if _, err := createAlias(c, f.aes, f.alias); err != nil {
		t.Fatal(err)
	}
	peer, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(peer.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	f.peerPublicKey = base64.StdEncoding.EncodeToString(der)
	return f
}

// validBody returns a request body for op that is valid in every member
// (the key it names may be in a state the operation refuses), and the key
// id of the path, if the operation has one.
func (f *wireFixture) validBody(e *env, op string) (map[string]any, string) {
	msg := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32))
	seq := "919c82d4-8046-4722-9094-35c3c6524cff"
	switch op {
	case "CreateKey":
		return map[string]any{"key_alias": newAlias(), "key_spec": "AES_256", "key_usage": "ENCRYPT_DECRYPT", "key_description": "d", "origin": "kms", "enterprise_project_id": "0", "sequence": seq}, ""
	case "ListKeyDetail", "EnableKey", "DisableKey", "CancelKeyDeletion", "EnableKeyRotation", "DisableKeyRotation", "ShowKeyRotationStatus":
		return map[string]any{"key_id": f.aes, "sequence": seq}, ""
	case "DeleteImportedKeyMaterial":
		return map[string]any{"key_id": f.ext, "sequence": seq}, ""
	case "ShowPublicKey":
		return map[string]any{"key_id": f.rsaSign, "sequence": seq}, ""
	case "ListKeys":
		return map[string]any{"limit": "10", "marker": "0", "key_state": "2", "key_spec": "AES_256", "enterprise_project_id": "0", "sequence": seq}, ""
	case "DeleteKey":
		return map[string]any{"key_id": f.aes, "pending_days": "7", "sequence": seq}, ""
	case "UpdateKeyAlias":
		return map[string]any{"key_id": f.aes, "key_alias": newAlias(), "sequence": seq}, ""
	case "UpdateKeyDescription":
		return map[string]any{"key_id": f.aes, "key_description": "d", "sequence": seq}, ""
	case "EncryptData":
		return map[string]any{"key_id": f.aes, "plain_text": "p", "encryption_algorithm": "SYMMETRIC_DEFAULT", "additional_authenticated_data": "a", "sequence": seq}, ""
	case "DecryptData":
		return map[string]any{"cipher_text": f.ciphertext, "encryption_algorithm": "SYMMETRIC_DEFAULT", "key_id": f.aes, "additional_authenticated_data": "", "sequence": seq}, ""
	case "ReEncrypt":
		return map[string]any{"source_key_id": f.aes, "source_additional_authenticated_data": "", "source_encryption_algorithm": "SYMMETRIC_DEFAULT",
			"destination_key_id": f.aes, "destination_additional_authenticated_data": "", "destination_encryption_algorithm": "SYMMETRIC_DEFAULT", "cipher_text": f.ciphertext}, ""
	case "CreateRandom":
		return map[string]any{"random_data_length": "256", "sequence": seq}, ""
	case "CreateDatakey", "CreateDatakeyWithoutPlaintext":
		return map[string]any{"key_id": f.aes, "key_spec": "AES_256", "datakey_length": "256", "additional_authenticated_data": "a", "sequence": seq}, ""
	case "EncryptDatakey":
		return map[string]any{"key_id": f.aes, "plain_text": strings.Repeat("00", 64), "datakey_plain_length": "32", "additional_authenticated_data": "a", "sequence": seq}, ""
	case "DecryptDatakey":
		return map[string]any{"key_id": f.aes, "cipher_text": f.dekCiphertext, "datakey_cipher_length": "32", "sequence": seq}, ""
	case "CreateRsaDatakeyPair":
		return map[string]any{"key_id": f.aes, "key_spec": "RSA_2048", "with_plain_text": true, "additional_authenticated_data": "a", "sequence": seq}, ""
	case "CreateEcDatakeyPair":
		return map[string]any{"key_id": f.aes, "key_spec": "ECC_NIST_P256", "with_plain_text": true, "additional_authenticated_data": "a", "sequence": seq}, ""
	case "Sign":
		return map[string]any{"key_id": f.rsaSign, "message": msg, "signing_algorithm": "RSASSA_PSS_SHA_256", "message_type": "DIGEST", "sequence": seq}, ""
	case "ValidateSignature":
		return map[string]any{"key_id": f.rsaSign, "message": msg, "signature": msg, "signing_algorithm": "RSASSA_PSS_SHA_256", "message_type": "DIGEST", "sequence": seq}, ""
	case "DeriveSharedSecret":
		return map[string]any{"key_id": f.ecAgree, "key_agreement_algorithm": "ECDH", "public_key": f.peerPublicKey}, ""
	case "GenerateMac":
		return map[string]any{"key_id": f.hmac, "mac_algorithm": "HMAC_SHA_256", "message": msg}, ""
	case "VerifyMac":
		return map[string]any{"key_id": f.hmac, "mac_algorithm": "HMAC_SHA_256", "message": msg, "mac": strings.Repeat("00", 32)}, ""
	case "CreateGrant":
		return map[string]any{"key_id": f.aes, "grantee_principal": e.ids.ReaderID, "operations": []string{"describe-key"}, "name": "g", "retiring_principal": e.ids.ReaderID, "grantee_principal_type": "user", "sequence": seq}, ""
	case "ListGrants":
		return map[string]any{"key_id": f.aes, "limit": "10", "marker": "0", "sequence": seq}, ""
	case "ListRetirableGrants":
		return map[string]any{"limit": "10", "marker": "0", "sequence": seq}, ""
	case "CancelGrant", "CancelSelfGrant":
		return map[string]any{"key_id": f.aes, "grant_id": f.grantID, "sequence": seq}, ""
	case "CreateAlias":
		return map[string]any{"key_id": f.aes, "alias": newExtraAlias()}, ""
	case "AssociateAlias":
		return map[string]any{"alias": f.alias, "target_key_id": f.aes}, ""
	case "DeleteAlias":
		return map[string]any{"aliases": []string{f.alias}, "key_id": f.aes}, ""
	case "CreateKmsTag":
		return map[string]any{"tag": map[string]any{"key": "k", "value": "v"}, "sequence": seq}, f.aes
	case "BatchCreateKmsTags":
		return map[string]any{"tags": []any{map[string]any{"key": "k", "value": "v"}}, "action": "create", "sequence": seq}, f.aes
	case "ListKmsByTags":
		return map[string]any{"limit": "10", "offset": "0", "action": "filter", "tags": []any{map[string]any{"key": "k", "values": []string{"v"}}},
			"matches": []any{map[string]any{"key": "resource_name", "value": "x"}}, "sequence": seq}, ""
	case "UpdateKeyRotationInterval":
		return map[string]any{"key_id": f.aes, "rotation_interval": 30, "sequence": seq}, ""
	case "CreateParametersForImport":
		return map[string]any{"key_id": f.ext, "wrapping_algorithm": "RSAES_OAEP_SHA_256", "sequence": seq}, ""
	case "ReplicateKey":
		return map[string]any{"key_id": f.aes, "replica_region": "cn-east-3", "key_alias": newAlias(), "key_description": "d", "enterprise_project_id": "0",
			"replica_project_id": e.ids.Project2ID, "tags": []any{map[string]any{"key": "k", "value": "v"}}}, f.aes
	case "UpdatePrimaryRegion":
		return map[string]any{"key_id": f.aes, "primary_region": "cn-east-3"}, f.aes
	case "CreatePin":
		return map[string]any{"pin_type": "CipherText", "keystore_id": "0"}, ""
	case "CreateKeyStore":
		return map[string]any{"keystore_alias": "ks", "hsm_cluster_id": "hsm-1", "hsm_ca_cert": "", "cluster_id": "", "keystore_type": "DHSM"}, ""
	case "ImportKeyMaterial":
		return map[string]any{"key_id": f.ext, "import_token": f.importToken, "encrypted_key_material": msg, "expiration_time": time.Now().Add(time.Hour).Unix(), "sequence": seq}, ""
	}
	return nil, ""
}

// bodyRoutes returns the operations of the route table that carry a
// request body (POST, PUT, and DeleteAlias's DELETE).
func bodyRoutes() []api.Operation {
	var out []api.Operation
	for _, o := range api.Operations() {
		if strings.HasPrefix(o.Pattern, "/v3/") {
			continue
		}
		if _, ok := sdkRequestModels[o.Name]; ok {
			out = append(out, o)
		}
	}
	return out
}

// wirePath returns the concrete path of a pattern with the fixture's key.
func wirePath(e *env, pattern, keyID string) string {
	if keyID == "" {
		keyID = unknownKeyID
	}
	return strings.NewReplacer(
		"{project_id}", e.ids.ProjectID,
		"{key_id}", keyID,
		"{keystore_id}", "keystore-1",
		"{resource_instances}", "resource_instances",
	).Replace(pattern)
}

// TestWireBodyCoverage checks that sdkRequestModels names exactly the SDK
// operations whose request has a body, and that every one of them is in
// the route table.
func TestWireBodyCoverage(t *testing.T) {
	var want []string
	for op, gen := range sdkOperations {
		if slices.ContainsFunc(gen().RequestFields, func(f *def.FieldDef) bool { return f.LocationType == def.Body }) {
			want = append(want, op)
		}
	}
	var got []string
	for op := range sdkRequestModels {
		got = append(got, op)
	}
	sort.Strings(want)
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Errorf("sdkRequestModels has %v,\nthe SDK's operations with a body are %v", got, want)
	}
	var routed []string
	for _, o := range bodyRoutes() {
		routed = append(routed, o.Name)
	}
	sort.Strings(routed)
	if !slices.Equal(routed, want) {
		t.Errorf("body-carrying routes %v,\nwant %v", routed, want)
	}
}

// TestWireBodies sends every body-carrying operation of the route table
// malformed bodies, each member of its request with every wrong JSON
// type, its required members missing or null, and oversize bodies, and
// checks the status, the code, the JSON error body and X-Request-Id of
// each answer (docs/compatibility.md "Requests and errors").
func TestWireBodies(t *testing.T) {
	e := start(t)
	fx := newWireFixture(t, e)
	ak, sk := e.ids.AdminAK, e.ids.AdminSK
	for _, o := range bodyRoutes() {
		t.Run(o.Name, func(t *testing.T) {
			valid, pathKey := fx.validBody(e, o.Name)
			path := wirePath(e, o.Pattern, pathKey)
			call := func(t *testing.T, body []byte) (int, http.Header, []byte) {
				t.Helper()
				return rawCall(t, e, o.Method, path, body, ak, sk)
			}
			t.Run("oversize", func(t *testing.T) {
				// One byte over the operation's limit (64 KiB but for
				// the resource search), as valid JSON, then one byte
				// over the gateway's 12 MB.
				if o.MaxBody < 64<<10 || o.MaxBody >= api.GatewayMaxBody {
					t.Fatalf("body limit %d", o.MaxBody)
				}
				for _, tt := range []struct {
					size   int
					status int
					code   string
				}{{int(o.MaxBody) + 1, 400, "KMS.0203"}, {api.GatewayMaxBody + 1, 413, "APIGW.0201"}} {
					body := paddedBody(tt.size)
					status, h, b := call(t, body)
					wantRawError(t, status, h, b, tt.status, tt.code)
				}
			})
			if !o.Implemented {
				status, h, b := call(t, []byte(`{"key_id":`))
				wantRawError(t, status, h, b, 501, "KMSD.0501")
				return
			}
			if valid == nil {
				t.Fatalf("no valid body for %s", o.Name)
			}
			t.Run("malformed", func(t *testing.T) {
				for _, body := range []string{
					`{"key_id":`, `{`, `}`, `not json`, `{"key_id" "x"}`, `{'key_id':'x'}`, `{"a":1,}`,
					`[]`, `[{}]`, `"object"`, `5`, `true`, `null`,
					`{}{}`, `{} x`, `{"a":"` + "\xff\xfe" + `"}`, `{"a":"b` + "\x01" + `"}`,
					"\xef\xbb\xbf{}",
				} {
					status, h, b := call(t, []byte(body))
					checkWireError(t, fmt.Sprintf("%q", body), status, h, b, 400, "KMS.0202")
				}
			})
			schema := sdkBodySchema(t, o.Name)
			t.Run("empty", func(t *testing.T) {
				// Every required member is missing; an operation without
				// one runs with its defaults.
				required := len(docRequired[o.Name]) > 0 || slices.ContainsFunc(schema, func(m bodyMember) bool { return m.required })
				for _, body := range []string{"", "{}", " \n", "{ }\n"} {
					status, h, b := call(t, []byte(body))
					if required {
						checkWireError(t, fmt.Sprintf("%q", body), status, h, b, 400, "KMS.0204")
					} else if status != 200 {
						t.Errorf("%q: got %d %s, want 200", body, status, b)
					}
				}
			})
			for _, m := range schema {
				t.Run("wrong type "+m.name(), func(t *testing.T) {
					wrong := m.kind.wrongValues()
					if len(m.path) == 1 && slices.Contains(api.NumericMembers(o.Name), m.path[0]) {
						// A numeric string takes a JSON integer too
						// (TestNumericMembersTakeIntegers), not a float.
						wrong = []string{`5.5`, `true`, `{}`, `["5"]`}
					}
					for _, v := range wrong {
						// Alone, and in an otherwise valid body: the
						// type is wrong whatever else the body holds.
						for _, base := range []map[string]any{{}, valid} {
							body := mustJSON(t, setPath(t, base, m.path, json.RawMessage(v)))
							status, h, b := call(t, body)
							checkWireError(t, strings.TrimSpace(string(body)), status, h, b, 400, "KMS.0202")
						}
					}
				})
			}
			for _, m := range schema {
				if len(m.path) != 1 || !m.required && !slices.Contains(docRequired[o.Name], m.path[0]) {
					continue
				}
				name := m.path[0]
				t.Run("missing "+name, func(t *testing.T) {
					status, h, b := call(t, mustJSON(t, without(valid, name)))
					checkWireError(t, "without "+name, status, h, b, 400, "KMS.0204")
					nullCode := "KMS.0204"
					if c, ok := nullCodes[o.Name+"."+name]; ok {
						nullCode = c
					}
					status, h, b = call(t, mustJSON(t, setPath(t, valid, m.path, json.RawMessage(`null`))))
					checkWireError(t, name+" null", status, h, b, 400, nullCode)
				})
			}
		})
	}
}

// docRequired are the members kmsd requires (KMS.0204) though the SDK
// types them optional, as docs/compatibility.md says: a tag to create,
// and the action of a resource search.
var docRequired = map[string][]string{
	"CreateKmsTag":  {"tag"},
	"ListKmsByTags": {"action"},
	"CreatePin":     {"keystore_id"}, // for a CipherText PIN, the default
}

// nullCodes are the documented answers to a required member that is
// null, where it is not KMS.0204 (docs/compatibility.md).
var nullCodes = map[string]string{
	"BatchCreateKmsTags.tags": "KMS.0401", // null or [] is an empty tag list
}

// paddedBody returns a JSON object of exactly size bytes.
func paddedBody(size int) []byte {
	const head, tail = `{"pad":"`, `"}`
	b := make([]byte, 0, size)
	b = append(b, head...)
	b = append(b, bytes.Repeat([]byte{'a'}, size-len(head)-len(tail))...)
	return append(b, tail...)
}

// checkWireError is wantRawError for one of many requests of a subtest:
// it reports a wrong answer with the request that got it and goes on.
func checkWireError(t *testing.T, request string, status int, header http.Header, body []byte, wantStatus int, wantCode string) {
	t.Helper()
	if status != wantStatus || !strings.Contains(string(body), `"`+wantCode+`"`) {
		t.Errorf("%s: got %d %s, want %d %s", request, status, body, wantStatus, wantCode)
		return
	}
	wantRawError(t, status, header, body, wantStatus, wantCode)
}

// TestRequestSchemaMatchesSDK checks kmsd's table of request member types
// (internal/api/schema.go), which decides KMS.0202 before anything else,
// against the SDK's request models: every member of every operation with
// a body, nested ones included, with the same JSON type.
func TestRequestSchemaMatchesSDK(t *testing.T) {
	for op := range sdkRequestModels {
		want := map[string]string{}
		for _, m := range sdkBodySchema(t, op) {
			typ := m.kind.String()
			if m.kind == kindInteger {
				typ = "number"
			}
			want[strings.ReplaceAll(m.name(), ".[]", "[]")] = typ
		}
		got := api.RequestMembers(op)
		for path, typ := range want {
			if got[path] != typ {
				t.Errorf("%s: member %s: kmsd checks %q, the SDK types it %s", op, path, got[path], typ)
			}
		}
		for path, typ := range got {
			if _, ok := want[path]; !ok {
				t.Errorf("%s: kmsd checks member %s (%s), which the SDK's request does not have", op, path, typ)
			}
		}
	}
}

// TestWireCheckOrder checks which answer wins when a request is wrong in
// several ways. The gateway's checks come first: routing (404), the 12 MB
// body limit (413), then what the headers show about the caller (401);
// then an operation's body limit (KMS.0203), before the signature, which
// cannot be checked without reading the body; only an authenticated
// caller gets the service's answers about its body.
func TestWireCheckOrder(t *testing.T) {
	e := start(t)
	wrongSK := "WrongSecretKey00000000000000000000000003"
	addSecret(wrongSK)
	over := paddedBody(64<<10 + 1)
	huge := paddedBody(api.GatewayMaxBody + 1)
	tests := []struct {
		name         string
		method, path string
		body         []byte
		ak, sk       string
		status       int
		code         string
	}{
		{"unknown path, no valid signature", "POST", e.projectPath("no-such-operation"), over, e.ids.AdminAK, wrongSK, 404, "APIGW.0101"},
		{"over 12 MB, no valid signature", "POST", e.projectPath("describe-key"), huge, e.ids.AdminAK, wrongSK, 413, "APIGW.0201"},
		// A known access key passes the header checks; the signature
		// cannot be checked without the body, which the operation's
		// limit refuses unread (docs/security.md).
		{"over the operation's limit, no valid signature", "POST", e.projectPath("describe-key"), over, e.ids.AdminAK, wrongSK, 400, "KMS.0203"},
		{"over the operation's limit, unknown access key", "POST", e.projectPath("describe-key"), over, "UNKNOWNACCESSKEY0000", wrongSK, 401, "APIGW.0301"},
		{"malformed, no valid signature", "POST", e.projectPath("describe-key"), []byte(`{`), e.ids.AdminAK, wrongSK, 401, "APIGW.0301"},
		{"over the operation's limit, another project", "POST", "/v1.0/" + e.ids.Project2ID + "/kms/describe-key", over, e.ids.AdminAK, e.ids.AdminSK, 400, "KMS.0203"},
		{"over the operation's limit, read-only user", "POST", e.projectPath("create-key"), over, e.ids.ReaderAK, e.ids.ReaderSK, 400, "KMS.0203"},
		{"another project", "POST", "/v1.0/" + e.ids.Project2ID + "/kms/describe-key", []byte(`{}`), e.ids.AdminAK, e.ids.AdminSK, 403, "KMS.0321"},
		{"malformed, read-only user", "POST", e.projectPath("create-key"), []byte(`{`), e.ids.ReaderAK, e.ids.ReaderSK, 403, "KMS.0307"},
		{"over the operation's limit", "POST", e.projectPath("create-key"), over, e.ids.AdminAK, e.ids.AdminSK, 400, "KMS.0203"},
		{"over the operation's limit, not implemented", "POST", "/v1.0/" + e.ids.ProjectID + "/keystores", over, e.ids.AdminAK, e.ids.AdminSK, 400, "KMS.0203"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, h, b := rawCall(t, e, tt.method, tt.path, tt.body, tt.ak, tt.sk)
			wantRawError(t, status, h, b, tt.status, tt.code)
		})
	}
}

// TestWireConventions checks the HTTP conventions around the JSON bodies
// (reference kms-api.md §1): what requests may look like besides the
// SDK's exact form, and that every answer — success, 204, gateway and
// service errors, HEAD and OPTIONS — carries an X-Request-Id and, when it
// has a body, the JSON content type.
func TestWireConventions(t *testing.T) {
	e := start(t)
	ak, sk := e.ids.AdminAK, e.ids.AdminSK
	id := newKey(t, e.admin())
	describeBody := []byte(`{"key_id":"` + id + `"}` + "\n")

	wantOK := func(t *testing.T, r *http.Request, body []byte, wantStatus int) []byte {
		t.Helper()
		signRaw(t, r, body, "", ak, sk, time.Now())
		status, h, b := send(t, r)
		if status != wantStatus {
			t.Fatalf("got %d %s, want %d", status, b, wantStatus)
		}
		if h.Get("X-Request-Id") == "" {
			t.Error("no X-Request-Id")
		}
		if len(b) > 0 && h.Get("Content-Type") != "application/json;charset=UTF-8" {
			t.Errorf("got Content-Type %q, want application/json;charset=UTF-8", h.Get("Content-Type"))
		}
		return b
	}
	t.Run("content types", func(t *testing.T) {
		for _, ct := range []string{"application/json;charset=UTF-8", "application/json", "application/json; charset=utf-8", ""} {
			r := newRawRequest(t, e, "POST", e.projectPath("describe-key"), describeBody)
			if ct == "" {
				r.Header.Del("Content-Type")
			} else {
				r.Header.Set("Content-Type", ct)
			}
			wantOK(t, r, describeBody, 200)
		}
	})
	t.Run("query string on a POST", func(t *testing.T) {
		r := newRawRequest(t, e, "POST", e.projectPath("describe-key")+"?x=1&y=", describeBody)
		wantOK(t, r, describeBody, 200)
	})
	t.Run("chunked body", func(t *testing.T) {
		r := newRawRequest(t, e, "POST", e.projectPath("describe-key"), describeBody)
		r.ContentLength = -1 // sent chunked, without Content-Length
		wantOK(t, r, describeBody, 200)
	})
	t.Run("chunked body over 12 MB", func(t *testing.T) {
		// Undeclared, it is read to the operation's limit plus one byte
		// and refused there, not read on to tell 413 from KMS.0203.
		body := paddedBody(api.GatewayMaxBody + 1)
		r := newRawRequest(t, e, "POST", e.projectPath("describe-key"), body)
		r.ContentLength = -1
		signRaw(t, r, body, "", ak, sk, time.Now())
		status, h, b := send(t, r)
		wantRawError(t, status, h, b, 400, "KMS.0203")
	})
	t.Run("body of exactly 64 KiB", func(t *testing.T) {
		// The limit itself is allowed; the body is valid but for the
		// missing key_id.
		body := paddedBody(64 << 10)
		status, h, b := rawCall(t, e, "POST", e.projectPath("describe-key"), body, ak, sk)
		wantRawError(t, status, h, b, 400, "KMS.0204")
	})
	t.Run("204 answer", func(t *testing.T) {
		body := []byte(`{"tag":{"key":"k","value":"v"}}` + "\n")
		r := newRawRequest(t, e, "POST", e.projectPath(id+"/tags"), body)
		if b := wantOK(t, r, body, 204); len(b) != 0 {
			t.Errorf("204 with body %q", b)
		}
	})
	t.Run("HEAD and OPTIONS", func(t *testing.T) {
		for _, method := range []string{"HEAD", "OPTIONS"} {
			r := newRawRequest(t, e, method, e.projectPath("user-instances"), nil)
			signRaw(t, r, nil, "", ak, sk, time.Now())
			status, h, b := send(t, r)
			if status != 404 || h.Get("X-Request-Id") == "" {
				t.Errorf("%s: got %d with X-Request-Id %q, want 404 with one", method, status, h.Get("X-Request-Id"))
			}
			if method == "OPTIONS" {
				wantRawError(t, status, h, b, 404, "APIGW.0101")
			}
		}
	})
	t.Run("errors carry X-Request-Id", func(t *testing.T) {
		for _, tt := range []struct {
			method, path string
			body         []byte
			status       int
			code         string
		}{
			{"POST", e.projectPath("no-such-operation"), []byte("{}"), 404, "APIGW.0101"},
			{"DELETE", e.projectPath("describe-key"), nil, 404, "APIGW.0101"},
			{"PATCH", e.projectPath("describe-key"), []byte("{}"), 404, "APIGW.0101"},
			{"GET", "/v2/" + e.ids.ProjectID + "/kms/regions?limit=0", nil, 400, "KMS.1601"},
			{"PUT", "/v2/" + e.ids.ProjectID + "/kms/keys/" + id + "/update-primary-region", []byte("{}"), 400, "KMS.0204"},
			{"POST", e.projectPath("describe-key"), paddedBody(api.GatewayMaxBody + 1), 413, "APIGW.0201"},
		} {
			status, h, b := rawCall(t, e, tt.method, tt.path, tt.body, ak, sk)
			checkWireError(t, tt.method+" "+tt.path, status, h, b, tt.status, tt.code)
		}
	})
}

// TestWireTolerance checks what a valid request may carry besides the
// SDK's exact form: members kmsd does not know (ignored, as the real
// service ignores fields newer SDKs add), optional members that are null
// (absent), whitespace, and a member given twice (the last one counts, as
// in encoding/json). It uses the operations that change no key state.
func TestWireTolerance(t *testing.T) {
	e := start(t)
	fx := newWireFixture(t, e)
	ak, sk := e.ids.AdminAK, e.ids.AdminSK
	ops := map[string]int{
		"ListKeyDetail": 200, "ListKeys": 200, "CreateKey": 200, "EncryptData": 200, "DecryptData": 200, "ReEncrypt": 200,
		"CreateRandom": 200, "CreateDatakey": 200, "CreateDatakeyWithoutPlaintext": 200, "DecryptDatakey": 200,
		"CreateRsaDatakeyPair": 200, "CreateEcDatakeyPair": 200, "ShowPublicKey": 200, "Sign": 200, "ValidateSignature": 200,
		"DeriveSharedSecret": 200, "GenerateMac": 200, "VerifyMac": 200, "ListGrants": 200, "ListRetirableGrants": 200,
		"ListKmsByTags": 200, "ShowKeyRotationStatus": 200, "CreateParametersForImport": 200, "CreateKmsTag": 204,
	}
	for _, o := range bodyRoutes() {
		want, ok := ops[o.Name]
		if !ok {
			continue
		}
		t.Run(o.Name, func(t *testing.T) {
			valid, pathKey := fx.validBody(e, o.Name)
			path := wirePath(e, o.Pattern, pathKey)
			try := func(t *testing.T, what string, body []byte) {
				t.Helper()
				status, h, b := rawCall(t, e, o.Method, path, body, ak, sk)
				if status != want {
					t.Errorf("%s: got %d %s, want %d", what, status, b, want)
				}
				if h.Get("X-Request-Id") == "" {
					t.Errorf("%s: no X-Request-Id", what)
				}
			}
			fresh := func() map[string]any {
				b, _ := fx.validBody(e, o.Name) // a new alias for CreateKey
				return b
			}
			try(t, "valid", mustJSON(t, fresh()))
			try(t, "unknown members", mustJSON(t, setPath(t, setPath(t, fresh(), []string{"x_new_member"}, json.RawMessage(`{"a":[1,"b",null]}`)), []string{"x_flag"}, json.RawMessage(`true`))))
			indented, err := json.MarshalIndent(fresh(), " ", "\t")
			if err != nil {
				t.Fatal(err)
			}
			try(t, "indented", append(append([]byte("\r\n "), indented...), " \n\n"...))
			for _, m := range sdkBodySchema(t, o.Name) {
				if m.required || len(m.path) != 1 || slices.Contains(docRequired[o.Name], m.path[0]) {
					continue
				}
				if _, ok := valid[m.path[0]]; !ok {
					continue
				}
				try(t, m.path[0]+" null", mustJSON(t, setPath(t, fresh(), m.path, json.RawMessage(`null`))))
			}
		})
	}
	t.Run("a member twice", func(t *testing.T) {
		// Refused whichever comes last (issue 10): a proxy in front may
		// read the first, kmsd would read the last.
		path := e.projectPath("describe-key")
		status, h, b := rawCall(t, e, "POST", path, []byte(`{"key_id":"not-a-key-id","key_id":"`+fx.aes+`"}`), ak, sk)
		wantRawError(t, status, h, b, 400, "KMS.0202")
		status, h, b = rawCall(t, e, "POST", path, []byte(`{"key_id":"`+fx.aes+`","key_id":"not-a-key-id"}`), ak, sk)
		wantRawError(t, status, h, b, 400, "KMS.0202")
	})
}

// TestLargestValidBodies sends the largest requests the limits of the
// reference allow, which must not meet kmsd's own body limit (KMS.0203):
// a resource search with 20 tag keys of 36 characters, each with 20
// values of 43 characters, all outside the Basic Multilingual Plane (4
// bytes each in UTF-8, as the SDK sends them, and 12 as \u escapes).
func TestLargestValidBodies(t *testing.T) {
	e := start(t)
	path := e.projectPath("resource_instances/action")
	for _, escaped := range []bool{false, true} {
		var tags []any
		for i := range 20 {
			key := fmt.Sprintf("%02d", i) + strings.Repeat("😀", 34)
			var values []string
			for j := range 20 {
				values = append(values, fmt.Sprintf("%02d", j)+strings.Repeat("😀", 41))
			}
			tags = append(tags, map[string]any{"key": key, "values": values})
		}
		body := map[string]any{"action": "filter", "tags": tags, "matches": []any{map[string]any{"key": "resource_name", "value": strings.Repeat("😀", 255)}}}
		b := mustJSON(t, body)
		if escaped {
			b = bytes.ReplaceAll(b, []byte("😀"), []byte(`\ud83d\ude00`))
		}
		status, _, resp := rawCall(t, e, "POST", path, b, e.ids.AdminAK, e.ids.AdminSK)
		if status != 200 {
			t.Errorf("%d-byte body (escaped %v): got %d %.200s, want 200", len(b), escaped, status, resp)
		}
	}
}

// TestWireHygiene checks the answers to malformed requests: bad JSON,
// wrong JSON types, missing members, oversize bodies, unknown paths and
// methods.
func TestWireHygiene(t *testing.T) {
	e := start(t)
	describePath := e.projectPath("describe-key")
	tests := []struct {
		name         string
		method, path string
		body         []byte
		status       int
		code         string
	}{
		{"malformed JSON", "POST", describePath, []byte(`{"key_id":`), 400, "KMS.0202"},
		{"not an object", "POST", describePath, []byte(`["key_id"]`), 400, "KMS.0202"},
		{"null", "POST", describePath, []byte(`null`), 400, "KMS.0202"},
		{"two objects", "POST", describePath, []byte(`{"key_id":"` + unknownKeyID + `"}{}`), 400, "KMS.0202"},
		{"key_id a number", "POST", describePath, []byte(`{"key_id": 5}`), 400, "KMS.0202"},
		{"key_id a boolean", "POST", describePath, []byte(`{"key_id": true}`), 400, "KMS.0202"},
		{"pending_days a float", "POST", e.projectPath("schedule-key-deletion"), []byte(`{"key_id":"` + unknownKeyID + `","pending_days":7.5}`), 400, "KMS.0202"},
		{"missing key_id", "POST", describePath, []byte(`{}`), 400, "KMS.0204"},
		{"empty body", "POST", describePath, nil, 400, "KMS.0204"},
		{"key_id null", "POST", describePath, []byte(`{"key_id":null}`), 400, "KMS.0204"},
		{"missing key_alias", "POST", e.projectPath("create-key"), []byte(`{"key_spec":"AES_256"}`), 400, "KMS.0204"},
		{"body over 64 KiB", "POST", describePath, append([]byte(`{"key_id":"`+unknownKeyID+`","sequence":"`), append(bytes.Repeat([]byte("a"), 64<<10), []byte(`"}`)...)...), 400, "KMS.0203"},
		{"unknown path", "POST", e.projectPath("no-such-operation"), []byte(`{}`), 404, "APIGW.0101"},
		{"unknown version", "GET", "/v9/" + e.ids.ProjectID + "/kms/user-instances", nil, 404, "APIGW.0101"},
		{"known path, wrong method", "GET", describePath, nil, 404, "APIGW.0101"},
		{"known path, PUT", "PUT", e.projectPath("user-instances"), []byte(`{}`), 404, "APIGW.0101"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, h, b := rawCall(t, e, tt.method, tt.path, tt.body, e.ids.AdminAK, e.ids.AdminSK)
			wantRawError(t, status, h, b, tt.status, tt.code)
		})
	}
	t.Run("unknown path without credentials", func(t *testing.T) {
		status, h, b := send(t, newRawRequest(t, e, "GET", e.projectPath("no-such-operation"), nil))
		wantRawError(t, status, h, b, 404, "APIGW.0101")
	})
	// A well-formed request still works, with the SDK's compact body and
	// with extra whitespace.
	id := newKey(t, e.admin())
	for _, body := range []string{`{"key_id":"` + id + `"}` + "\n", " {\n \"key_id\" : \"" + id + "\" } "} {
		status, _, b := rawCall(t, e, "POST", describePath, []byte(body), e.ids.AdminAK, e.ids.AdminSK)
		if status != 200 {
			t.Errorf("body %q: got %d %s, want 200", body, status, b)
		}
	}
}
