package compat

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"hash"
	"strconv"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
	kms "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2/model"

	"github.com/kmsd/kmsd/internal/ciphertext"
	"github.com/kmsd/kmsd/internal/keyring"
	kmsdkms "github.com/kmsd/kmsd/internal/kms"
	"github.com/kmsd/kmsd/internal/server"
	"github.com/kmsd/kmsd/internal/store/sqlite"
)

// Import of key material (BYOK) through the official SDK (reference
// kms-api.md §5.K): the client wraps its own bytes locally with the
// returned public key, as Huawei's guide does with OpenSSL.

// wrappingAlgorithm returns the SDK enum value of name. The SDK's enum
// lists RSAES_OAEP_SHA_256 and SM2_ENCRYPT; RSAES_OAEP_SHA_1 (Huawei's
// console) goes through the enum's JSON decoder.
func wrappingAlgorithm(t *testing.T, name string) model.GetParametersForImportRequestBodyWrappingAlgorithm {
	t.Helper()
	var a model.GetParametersForImportRequestBodyWrappingAlgorithm
	if err := a.UnmarshalJSON([]byte(strconv.Quote(name))); err != nil {
		t.Fatal(err)
	}
	return a
}

// importKey creates a key of origin external and spec.
func importKey(t *testing.T, c *kms.KmsClient, spec model.CreateKeyRequestBodyKeySpec) string {
	t.Helper()
	origin := model.GetCreateKeyRequestBodyOriginEnum().EXTERNAL
	return createKey(t, c, model.CreateKeyRequestBody{KeySpec: &spec, Origin: &origin})
}

// importParams is a get-parameters-for-import answer.
type importParams struct {
	token   string
	expires int64
	public  any
}

func getImportParams(c *kms.KmsClient, keyID string, alg model.GetParametersForImportRequestBodyWrappingAlgorithm) (importParams, error) {
	resp, err := c.CreateParametersForImport(&model.CreateParametersForImportRequest{Body: &model.GetParametersForImportRequestBody{KeyId: keyID, WrappingAlgorithm: alg}})
	if err != nil {
		return importParams{}, err
	}
	if val(resp.KeyId) != keyID || resp.ImportToken == nil || resp.ExpirationTime == nil || resp.PublicKey == nil {
		return importParams{}, &answerError{resp.String()}
	}
	der, err := base64.StdEncoding.DecodeString(*resp.PublicKey)
	if err != nil {
		return importParams{}, err
	}
	pub, err := smx509.ParsePKIXPublicKey(der)
	if err != nil {
		return importParams{}, err
	}
	addSecret(*resp.ImportToken) // not a secret, but never to be logged either
	return importParams{token: *resp.ImportToken, expires: *resp.ExpirationTime, public: pub}, nil
}

type answerError struct{ answer string }

func (e *answerError) Error() string { return "incomplete answer " + e.answer }

func mustImportParams(t *testing.T, c *kms.KmsClient, keyID, alg string) importParams {
	t.Helper()
	p, err := getImportParams(c, keyID, wrappingAlgorithm(t, alg))
	if err != nil {
		t.Fatalf("CreateParametersForImport %s: %v", alg, err)
	}
	return p
}

// wrapKey wraps material for the wrapping key pub by alg, as a client
// does locally, and returns it base64-encoded.
func wrapKey(t *testing.T, alg string, pub any, material []byte) string {
	t.Helper()
	var out []byte
	var err error
	switch alg {
	case "RSAES_OAEP_SHA_256", "RSAES_OAEP_SHA_1":
		var h hash.Hash = sha256.New()
		if alg == "RSAES_OAEP_SHA_1" {
			h = sha1.New()
		}
		out, err = rsa.EncryptOAEP(h, rand.Reader, pub.(*rsa.PublicKey), material, nil)
	case "SM2_ENCRYPT":
		out, err = sm2.EncryptASN1(rand.Reader, pub.(*ecdsa.PublicKey), material)
	default:
		t.Fatalf("unknown wrapping algorithm %s", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(out)
}

// newMaterial returns n random bytes of key material and registers them
// (base64 and hex) for the scan of the server logs.
func newMaterial(t *testing.T, n int) []byte {
	t.Helper()
	m := make([]byte, n)
	rand.Read(m)
	addSecret(base64.StdEncoding.EncodeToString(m))
	addSecret(hex.EncodeToString(m))
	return m
}

func importMaterial(c *kms.KmsClient, keyID, token, wrapped string, expires *int64) error {
	_, err := c.ImportKeyMaterial(&model.ImportKeyMaterialRequest{Body: &model.ImportKeyMaterialRequestBody{
		KeyId: keyID, ImportToken: token, EncryptedKeyMaterial: wrapped, ExpirationTime: expires,
	}})
	return err
}

// importFresh imports material into keyID through fresh parameters of alg.
func importFresh(t *testing.T, c *kms.KmsClient, keyID, alg string, material []byte, expires *int64) error {
	t.Helper()
	p := mustImportParams(t, c, keyID, alg)
	return importMaterial(c, keyID, p.token, wrapKey(t, alg, p.public, material), expires)
}

func deleteMaterial(c *kms.KmsClient, keyID string) error {
	_, err := c.DeleteImportedKeyMaterial(&model.DeleteImportedKeyMaterialRequest{Body: &model.OperateKeyRequestBody{KeyId: keyID}})
	return err
}

func importEncrypt(c *kms.KmsClient, keyID, plaintext string) (string, error) {
	resp, err := c.EncryptData(&model.EncryptDataRequest{Body: &model.EncryptDataRequestBody{KeyId: keyID, PlainText: plaintext}})
	if err != nil {
		return "", err
	}
	return val(resp.CipherText), nil
}

func importDecrypt(c *kms.KmsClient, ct string) (string, error) {
	resp, err := c.DecryptData(&model.DecryptDataRequest{Body: &model.DecryptDataRequestBody{CipherText: ct}})
	if err != nil {
		return "", err
	}
	return val(resp.PlainText), nil
}

// openLocally opens an encrypt-data ciphertext with the material the test
// imported, which shows that the key encrypts with exactly those bytes.
func openLocally(t *testing.T, ct string, material []byte) string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(ct)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ciphertext.Parse(raw)
	if err != nil {
		t.Fatalf("parse ciphertext: %v", err)
	}
	aead, err := ciphertext.NewAEAD(b.Algorithm, material)
	if err != nil {
		t.Fatal(err)
	}
	pt, err := b.Open(aead, nil)
	if err != nil {
		t.Fatalf("the imported material does not open the ciphertext: %v", err)
	}
	return string(pt)
}

// TestImportKeyMaterial runs the whole life of imported material through
// the SDK: an external key, import parameters, material wrapped locally,
// import, use, deletion, a refused import of other material and the
// re-import of the same material, which opens what was encrypted before.
func TestImportKeyMaterial(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	specs := model.GetCreateKeyRequestBodyKeySpecEnum()
	tests := []struct {
		name string
		spec model.CreateKeyRequestBodyKeySpec
		alg  string
		size int
	}{
		{"AES_256 RSAES_OAEP_SHA_256", specs.AES_256, "RSAES_OAEP_SHA_256", 32},
		{"AES_256 RSAES_OAEP_SHA_1", specs.AES_256, "RSAES_OAEP_SHA_1", 32},
		{"AES_256 SM2_ENCRYPT", specs.AES_256, "SM2_ENCRYPT", 32},
		{"SM4 RSAES_OAEP_SHA_256", specs.SM4, "RSAES_OAEP_SHA_256", 16},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			id := importKey(t, c, tt.spec)
			d := describe(t, c, id)
			if val(d.KeyState) != statePendingImport || enumValue(d.Origin) != "external" || val(d.ExpirationTime) != "" {
				t.Fatalf("new external key: state %v, origin %v, expiration_time %q", val(d.KeyState), enumValue(d.Origin), val(d.ExpirationTime))
			}

			before := time.Now()
			p := mustImportParams(t, c, id, tt.alg)
			if lo, hi := before.Add(24*time.Hour-time.Second).Unix(), time.Now().Add(24*time.Hour).Unix(); p.expires < lo || p.expires > hi {
				t.Errorf("expiration_time %d, want 24 h from now (%d–%d)", p.expires, lo, hi)
			}
			if n := len(p.token); n < 200 || n > 6144 {
				t.Errorf("import_token of %d characters, want 200–6144", n)
			}
			switch pub := p.public.(type) {
			case *rsa.PublicKey:
				if tt.alg == "SM2_ENCRYPT" || pub.N.BitLen() != 2048 {
					t.Errorf("got an RSA-%d wrapping key for %s, want RSA-2048 for the RSA algorithms", pub.N.BitLen(), tt.alg)
				}
			case *ecdsa.PublicKey:
				if tt.alg != "SM2_ENCRYPT" || pub.Curve != sm2.P256() {
					t.Errorf("got an EC wrapping key on %s for %s, want SM2 for SM2_ENCRYPT", pub.Curve.Params().Name, tt.alg)
				}
			default:
				t.Fatalf("wrapping public key of type %T", p.public)
			}

			material := newMaterial(t, tt.size)
			expires := time.Now().Add(30 * 24 * time.Hour).Unix()
			if err := importMaterial(c, id, p.token, wrapKey(t, tt.alg, p.public, material), &expires); err != nil {
				t.Fatalf("ImportKeyMaterial: %v", err)
			}
			d = describe(t, c, id)
			if val(d.KeyState) != stateEnabled || enumValue(d.Origin) != "external" {
				t.Errorf("after import: state %v origin %v, want %v external", val(d.KeyState), enumValue(d.Origin), stateEnabled)
			}
			if got, want := val(d.ExpirationTime), strconv.FormatInt(expires*1000, 10); got != want {
				t.Errorf("expiration_time %q, want %q (Unix ms)", got, want)
			}

			plain := "byok-" + hex.EncodeToString(newMaterial(t, 8))
			addSecret(plain)
			ct, err := importEncrypt(c, id, plain)
			if err != nil {
				t.Fatalf("EncryptData: %v", err)
			}
			if got := openLocally(t, ct, material); got != plain {
				t.Errorf("opened locally: %q, want %q", got, plain)
			}
			if got, err := importDecrypt(c, ct); err != nil || got != plain {
				t.Errorf("DecryptData: %q, %v", got, err)
			}

			// Delete the material: the key waits for an import again.
			if err := deleteMaterial(c, id); err != nil {
				t.Fatalf("DeleteImportedKeyMaterial: %v", err)
			}
			d = describe(t, c, id)
			if val(d.KeyState) != statePendingImport || val(d.ExpirationTime) != "" {
				t.Errorf("after deletion: state %v expiration_time %q, want %v and none", val(d.KeyState), val(d.ExpirationTime), statePendingImport)
			}
			_, err = importEncrypt(c, id, plain)
			wantError(t, err, 400, "KMS.0310")
			_, err = importDecrypt(c, ct)
			wantError(t, err, 400, "KMS.0310")
			err = deleteMaterial(c, id)
			wantError(t, err, 400, "KMS.2701")

			// Other material never makes this key id another key.
			err = importFresh(t, c, id, tt.alg, newMaterial(t, tt.size), nil)
			wantError(t, err, 400, "KMS.2606")
			if got := val(describe(t, c, id).KeyState); got != statePendingImport {
				t.Errorf("refused import left state %v, want %v", got, statePendingImport)
			}

			// The same material makes it the same key again.
			if err := importFresh(t, c, id, tt.alg, material, nil); err != nil {
				t.Fatalf("re-import of the same material: %v", err)
			}
			if got, err := importDecrypt(c, ct); err != nil || got != plain {
				t.Errorf("DecryptData of the ciphertext made before the deletion: %q, %v", got, err)
			}
			if got := val(describe(t, c, id).ExpirationTime); got != "" {
				t.Errorf("imported without expiration_time: expiration_time %q, want none", got)
			}
		})
	}
}

// TestImportErrors checks the documented refusals through the SDK.
func TestImportErrors(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	specs := model.GetCreateKeyRequestBodyKeySpecEnum()
	sha256Alg := "RSAES_OAEP_SHA_256"

	native := newKey(t, c)
	_, err := getImportParams(c, native, wrappingAlgorithm(t, sha256Alg))
	wantError(t, err, 400, "KMS.0309")
	wantError(t, deleteMaterial(c, native), 400, "KMS.0309")
	_, err = getImportParams(c, unknownKeyID, wrappingAlgorithm(t, sha256Alg))
	wantError(t, err, 404, "KMS.0207")
	_, err = getImportParams(c, "not-a-key", wrappingAlgorithm(t, sha256Alg))
	wantError(t, err, 400, "KMS.0205")
	id := importKey(t, c, specs.AES_256)
	_, err = getImportParams(c, id, wrappingAlgorithm(t, "RSAES_PKCS1_V1_5"))
	wantError(t, err, 400, "KMS.0308")
	wantError(t, deleteMaterial(c, id), 400, "KMS.2701")

	p := mustImportParams(t, c, id, sha256Alg)
	other := importKey(t, c, specs.AES_256)
	po := mustImportParams(t, c, other, sha256Alg)
	material := newMaterial(t, 32)
	wrapped := wrapKey(t, sha256Alg, p.public, material)
	raw, err := base64.StdEncoding.DecodeString(p.token)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)/2] ^= 0x80
	altered := base64.StdEncoding.EncodeToString(raw)
	past := time.Now().Add(-time.Minute).Unix()
	tests := []struct {
		name         string
		keyID, token string
		wrapped      string
		expires      *int64
		status       int
		code         string
	}{
		{"another key's token", id, po.token, wrapped, nil, 400, "KMS.2603"},
		{"token for another key", other, p.token, wrapped, nil, 400, "KMS.2603"},
		{"altered token", id, altered, wrapped, nil, 400, "KMS.2605"},
		{"made-up token", id, base64.StdEncoding.EncodeToString(make([]byte, 200)), wrapped, nil, 400, "KMS.2605"},
		{"expiration in the past", id, p.token, wrapped, &past, 400, "KMS.2602"},
		{"16 bytes for AES_256", id, p.token, wrapKey(t, sha256Alg, p.public, newMaterial(t, 16)), nil, 400, "KMS.2604"},
		{"wrapped for another token", id, p.token, wrapKey(t, sha256Alg, po.public, material), nil, 400, "KMS.0311"},
		{"wrapped with SHA-1", id, p.token, wrapKey(t, "RSAES_OAEP_SHA_1", p.public, material), nil, 400, "KMS.0311"},
		{"origin kms", native, p.token, wrapped, nil, 400, "KMS.0309"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, importMaterial(c, tt.keyID, tt.token, tt.wrapped, tt.expires), tt.status, tt.code)
		})
	}
	if got := val(describe(t, c, id).KeyState); got != statePendingImport {
		t.Fatalf("refused imports left state %v, want %v", got, statePendingImport)
	}

	// The token is spent by a successful import: it cannot import again
	// after the material is deleted, and neither can a token issued before.
	spare := mustImportParams(t, c, id, sha256Alg)
	if err := importMaterial(c, id, p.token, wrapped, nil); err != nil {
		t.Fatal(err)
	}
	_, err = getImportParams(c, id, wrappingAlgorithm(t, sha256Alg))
	wantError(t, err, 400, "KMS.0310")
	wantError(t, importMaterial(c, id, p.token, wrapped, nil), 400, "KMS.0310")
	if err := deleteMaterial(c, id); err != nil {
		t.Fatal(err)
	}
	wantError(t, importMaterial(c, id, p.token, wrapped, nil), 400, "KMS.2605")
	wantError(t, importMaterial(c, id, spare.token, wrapKey(t, sha256Alg, spare.public, material), nil), 400, "KMS.2605")

	// A key pending deletion takes neither parameters nor material, and
	// its material cannot be deleted.
	if err := importFresh(t, c, id, sha256Alg, material, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteKey(&model.DeleteKeyRequest{Body: &model.ScheduleKeyDeletionRequestBody{KeyId: id, PendingDays: "7"}}); err != nil {
		t.Fatal(err)
	}
	wantError(t, deleteMaterial(c, id), 400, "KMS.2701")
	_, err = getImportParams(c, id, wrappingAlgorithm(t, sha256Alg))
	wantError(t, err, 400, "KMS.0310")
}

// secondNode opens a second kmsd node over the dev server's data directory
// — its own store connection, the same root key — with the clock now.
func secondNode(t *testing.T, e *env, now func() time.Time) *kmsdkms.Service {
	t.Helper()
	cfg := server.DevConfig(e.dir, "127.0.0.1:0", 0)
	root, err := server.LoadRootKey(cfg, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	kr, err := keyring.New(root)
	clear(root)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(t.Context(), cfg.Database.Path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	node := kmsdkms.New(st, kr, kmsdkms.Config{Region: cfg.Region}, nil)
	node.Now = now
	return node
}

// TestImportExpiry moves the clock with a second node sharing the store
// and the root key, as another node of a cluster: a token it issued 25
// hours ago has expired on the server, and its expiry job removes imported
// material whose expiration_time has passed and the expired tokens.
func TestImportExpiry(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	specs := model.GetCreateKeyRequestBodyKeySpecEnum()
	alg := "RSAES_OAEP_SHA_256"

	t.Run("expired token", func(t *testing.T) {
		id := importKey(t, c, specs.AES_256)
		past := secondNode(t, e, func() time.Time { return time.Now().Add(-25 * time.Hour) })
		p, err := past.GetParametersForImport(t.Context(), kmsdkms.ImportParametersInput{ProjectID: e.ids.ProjectID, KeyID: id, WrappingAlgorithm: alg})
		if err != nil {
			t.Fatal(err)
		}
		addSecret(p.Token)
		pub, err := smx509.ParsePKIXPublicKey(p.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		wrapped := wrapKey(t, alg, pub, newMaterial(t, 32))
		wantError(t, importMaterial(c, id, p.Token, wrapped, nil), 400, "KMS.2601")
		// Still expired, not unknown, once the job removed it (this run or
		// the server's own, whichever came first).
		now := secondNode(t, e, time.Now)
		if _, _, err := now.ExpireImportedMaterial(t.Context()); err != nil {
			t.Fatal(err)
		}
		if _, tokens, err := now.ExpireImportedMaterial(t.Context()); err != nil || tokens != 0 {
			t.Fatalf("a second run removed %d tokens, %v; want none left", tokens, err)
		}
		wantError(t, importMaterial(c, id, p.Token, wrapped, nil), 400, "KMS.2601")
	})

	t.Run("material", func(t *testing.T) {
		id, keep := importKey(t, c, specs.AES_256), importKey(t, c, specs.AES_256)
		material := newMaterial(t, 32)
		hour := time.Now().Add(time.Hour).Unix()
		if err := importFresh(t, c, id, alg, material, &hour); err != nil {
			t.Fatal(err)
		}
		week := time.Now().Add(7 * 24 * time.Hour).Unix()
		if err := importFresh(t, c, keep, alg, newMaterial(t, 32), &week); err != nil {
			t.Fatal(err)
		}
		plain := "expiring-" + hex.EncodeToString(newMaterial(t, 8))
		addSecret(plain)
		ct, err := importEncrypt(c, id, plain)
		if err != nil {
			t.Fatal(err)
		}
		pending := importKey(t, c, specs.AES_256)
		mustImportParams(t, c, pending, alg) // a token that expires in 24 h

		later := secondNode(t, e, func() time.Time { return time.Now().Add(2 * time.Hour) })
		keys, tokens, err := later.ExpireImportedMaterial(t.Context())
		if err != nil || keys != 1 || tokens != 0 {
			t.Fatalf("2 h later: expired %d keys and %d tokens, %v; want 1 and 0", keys, tokens, err)
		}
		// The server hears of the change (kmsd nodes otherwise see it
		// within the key cache's 30 s lifetime).
		e.srv.KMS.InvalidateKey(e.ids.ProjectID, id)
		d := describe(t, c, id)
		if val(d.KeyState) != statePendingImport || val(d.ExpirationTime) != "" {
			t.Errorf("expired material: state %v expiration_time %q, want %v and none", val(d.KeyState), val(d.ExpirationTime), statePendingImport)
		}
		_, err = importEncrypt(c, id, plain)
		wantError(t, err, 400, "KMS.0310")
		if got := val(describe(t, c, keep).KeyState); got != stateEnabled {
			t.Errorf("material that expires in a week: state %v, want %v", got, stateEnabled)
		}

		// The same material comes back; other material does not.
		wantError(t, importFresh(t, c, id, alg, newMaterial(t, 32), nil), 400, "KMS.2606")
		if err := importFresh(t, c, id, alg, material, nil); err != nil {
			t.Fatal(err)
		}
		if got, err := importDecrypt(c, ct); err != nil || got != plain {
			t.Errorf("DecryptData after re-import: %q, %v", got, err)
		}

		// A day later the unused token of pending has expired too.
		dayLater := secondNode(t, e, func() time.Time { return time.Now().Add(25 * time.Hour) })
		if _, tokens, err := dayLater.ExpireImportedMaterial(t.Context()); err != nil || tokens != 1 {
			t.Errorf("25 h later: removed %d tokens, %v; want 1", tokens, err)
		}
	})
}

// TestImportIsolation checks the import operations refuse another
// project's key (404) and the read-only role (403), and their raw wire
// refusals.
func TestImportIsolation(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	specs := model.GetCreateKeyRequestBodyKeySpecEnum()
	alg := "RSAES_OAEP_SHA_256"
	id := importKey(t, c, specs.AES_256)
	p := mustImportParams(t, c, id, alg)
	material := newMaterial(t, 32)
	wrapped := wrapKey(t, alg, p.public, material)

	for name, cl := range map[string]*kms.KmsClient{"other project": e.admin2(), "read-only": e.reader()} {
		t.Run(name, func(t *testing.T) {
			status, code := 404, "KMS.0207"
			if name == "read-only" {
				status, code = 403, "KMS.0307"
			}
			_, err := getImportParams(cl, id, wrappingAlgorithm(t, alg))
			wantError(t, err, status, code)
			wantError(t, importMaterial(cl, id, p.token, wrapped, nil), status, code)
			wantError(t, deleteMaterial(cl, id), status, code)
		})
	}
	wantError(t, deleteMaterial(c, unknownKeyID), 404, "KMS.0207")
	wantError(t, importMaterial(c, unknownKeyID, p.token, wrapped, nil), 404, "KMS.0207")

	future := time.Now().Add(time.Hour).Unix()
	for _, tt := range []struct {
		name, op, body string
		status         int
		code           string
	}{
		{"wrapping_algorithm missing", "get-parameters-for-import", `{"key_id":"` + id + `"}`, 400, "KMS.0204"},
		{"wrapping_algorithm a number", "get-parameters-for-import", `{"key_id":"` + id + `","wrapping_algorithm":1}`, 400, "KMS.0202"},
		{"params key_id missing", "get-parameters-for-import", `{"wrapping_algorithm":"RSAES_OAEP_SHA_256"}`, 400, "KMS.0204"},
		{"import_token missing", "import-key-material", `{"key_id":"` + id + `","encrypted_key_material":"` + wrapped + `"}`, 400, "KMS.0204"},
		{"material missing", "import-key-material", `{"key_id":"` + id + `","import_token":"` + p.token + `"}`, 400, "KMS.0204"},
		{"material not base64", "import-key-material", `{"key_id":"` + id + `","import_token":"` + p.token + `","encrypted_key_material":"@@"}`, 400, "KMS.0308"},
		{"expiration_time a string", "import-key-material", `{"key_id":"` + id + `","import_token":"` + p.token + `","encrypted_key_material":"` + wrapped + `","expiration_time":"` + time.Now().Add(time.Hour).Format("20060102") + `"}`, 400, "KMS.0202"},
		{"expiration_time a fraction", "import-key-material", `{"key_id":"` + id + `","import_token":"` + p.token + `","encrypted_key_material":"` + wrapped + `","expiration_time":1.5}`, 400, "KMS.0308"},
		{"delete key_id missing", "delete-imported-key-material", `{}`, 400, "KMS.0204"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, h, b := rawCall(t, e, "POST", e.projectPath(tt.op), []byte(tt.body+"\n"), e.ids.AdminAK, e.ids.AdminSK)
			wantRawError(t, status, h, b, tt.status, tt.code)
		})
	}
	if got := val(describe(t, c, id).KeyState); got != statePendingImport {
		t.Fatalf("refused imports left state %s", got)
	}

	// The answers: get-parameters-for-import's expiration_time a JSON
	// integer, import-key-material and delete-imported-key-material a
	// 200 the SDK accepts (empty or a JSON object).
	status, _, b := rawCall(t, e, "POST", e.projectPath("get-parameters-for-import"), []byte(`{"key_id":"`+id+`","wrapping_algorithm":"RSAES_OAEP_SHA_256"}`+"\n"), e.ids.AdminAK, e.ids.AdminSK)
	var v map[string]any
	if err := json.Unmarshal(b, &v); status != 200 || err != nil {
		t.Fatalf("get-parameters-for-import: %d %s", status, b)
	}
	if _, ok := v["expiration_time"].(float64); !ok {
		t.Errorf("expiration_time %v is not a JSON number", v["expiration_time"])
	}
	for _, f := range []string{"key_id", "import_token", "public_key"} {
		if _, ok := v[f].(string); !ok {
			t.Errorf("%s %v is not a JSON string", f, v[f])
		}
	}
	addSecret(v["import_token"].(string))
	body := `{"key_id":"` + id + `","import_token":"` + p.token + `","encrypted_key_material":"` + wrapped + `","expiration_time":` + jsonInt(future) + `}` + "\n"
	status, _, b = rawCall(t, e, "POST", e.projectPath("import-key-material"), []byte(body), e.ids.AdminAK, e.ids.AdminSK)
	if status != 200 || (len(bytes.TrimSpace(b)) != 0 && !json.Valid(b)) {
		t.Fatalf("import-key-material: %d %q", status, b)
	}
	if got, want := val(describe(t, c, id).ExpirationTime), jsonInt(future*1000); got != want {
		t.Errorf("expiration_time %s, want %s", got, want)
	}
	status, _, b = rawCall(t, e, "POST", e.projectPath("delete-imported-key-material"), []byte(`{"key_id":"`+id+`"}`+"\n"), e.ids.AdminAK, e.ids.AdminSK)
	if status != 200 || (len(bytes.TrimSpace(b)) != 0 && !json.Valid(b)) {
		t.Fatalf("delete-imported-key-material: %d %q", status, b)
	}
}
