package compat

// Audit of reference kms-api.md §5.E (get-publickey, sign, verify,
// derive-shared-secret and the asymmetric paths of encrypt-data and
// decrypt-data), §5.F (generate-mac, verify-mac) and §5.K (import), driven
// through the official SDK and checked with Go's own crypto.

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"hash"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	kms "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2/model"

	"github.com/kmsd/kmsd/internal/keyring"
	kmsdkms "github.com/kmsd/kmsd/internal/kms"
	"github.com/kmsd/kmsd/internal/store"
)

// asymHash returns the crypto.Hash of a signing algorithm (0 for SM2).
func asymHash(alg string) crypto.Hash {
	switch {
	case strings.HasSuffix(alg, "_256"):
		return crypto.SHA256
	case strings.HasSuffix(alg, "_384"):
		return crypto.SHA384
	case strings.HasSuffix(alg, "_512"):
		return crypto.SHA512
	}
	return 0
}

// asymStdPublicKey parses get-publickey's PEM with the standard library only
// (pem + crypto/x509), as a client without any SM library would.
func asymStdPublicKey(t *testing.T, c *kms.KmsClient, keyID string) crypto.PublicKey {
	t.Helper()
	resp, err := c.ShowPublicKey(&model.ShowPublicKeyRequest{Body: &model.OperateKeyRequestBody{KeyId: keyID}})
	if err != nil {
		t.Fatalf("ShowPublicKey: %v", err)
	}
	block, _ := pem.Decode([]byte(val(resp.PublicKey)))
	if block == nil || block.Type != "PUBLIC KEY" {
		t.Fatalf("public_key %q is not PEM", val(resp.PublicKey))
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatalf("crypto/x509 cannot parse the public key: %v", err)
	}
	return pub
}

// TestAuditAsymSignVerifyRSASizes signs with every RSA algorithm on RSA_3072
// and RSA_4096 keys in both message types and checks the signatures with
// crypto/rsa and the public key crypto/x509 parses.
func TestAuditAsymSignVerifyRSASizes(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	msg := []byte("audit: RSA sizes")
	for _, spec := range []string{"RSA_3072", "RSA_4096"} {
		t.Run(spec, func(t *testing.T) {
			t.Parallel()
			id := sdkKey(t, c, spec, "SIGN_VERIFY")
			pub, ok := asymStdPublicKey(t, c, id).(*rsa.PublicKey)
			if !ok {
				t.Fatal("not an RSA public key")
			}
			if want := map[string]int{"RSA_3072": 3072, "RSA_4096": 4096}[spec]; pub.N.BitLen() != want {
				t.Errorf("modulus of %d bits, want %d", pub.N.BitLen(), want)
			}
			for _, alg := range []string{"RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384", "RSASSA_PSS_SHA_512", "RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384", "RSASSA_PKCS1_V1_5_SHA_512"} {
				h := asymHash(alg)
				hh := h.New()
				hh.Write(msg)
				digest := hh.Sum(nil)
				for _, mt := range []string{"DIGEST", "RAW"} {
					in := digest
					if mt == "RAW" {
						in = msg
					}
					sig, err := sign(t, c, id, alg, mt, in)
					if err != nil {
						t.Fatalf("%s %s: %v", alg, mt, err)
					}
					var verr error
					if strings.HasPrefix(alg, "RSASSA_PSS") {
						verr = rsa.VerifyPSS(pub, h, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: h})
					} else {
						verr = rsa.VerifyPKCS1v15(pub, h, digest, sig)
					}
					if verr != nil {
						t.Errorf("%s %s: crypto/rsa: %v", alg, mt, verr)
					}
					if got, err := validate(t, c, id, alg, mt, in, sig); err != nil || got != "true" {
						t.Errorf("%s %s: ValidateSignature %q %v", alg, mt, got, err)
					}
				}
			}
		})
	}
}

// TestAuditAsymSignVerifyECStd checks ECDSA signatures of EC_P256 and EC_P384
// keys with crypto/ecdsa and a public key parsed by crypto/x509, for every
// ECDSA hash and both message types.
func TestAuditAsymSignVerifyECStd(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	msg := []byte("audit: ECDSA")
	for _, spec := range []string{"EC_P256", "EC_P384"} {
		t.Run(spec, func(t *testing.T) {
			t.Parallel()
			id := sdkKey(t, c, spec, "")
			pub, ok := asymStdPublicKey(t, c, id).(*ecdsa.PublicKey)
			if !ok {
				t.Fatal("not an ECDSA public key")
			}
			for _, alg := range []string{"ECDSA_SHA_256", "ECDSA_SHA_384", "ECDSA_SHA_512"} {
				hh := asymHash(alg).New()
				hh.Write(msg)
				digest := hh.Sum(nil)
				for _, mt := range []string{"", "RAW"} {
					in := digest
					if mt == "RAW" {
						in = msg
					}
					sig, err := sign(t, c, id, alg, mt, in)
					if err != nil {
						t.Fatalf("%s %q: %v", alg, mt, err)
					}
					if !ecdsa.VerifyASN1(pub, digest, sig) {
						t.Errorf("%s %q: crypto/ecdsa rejects the signature", alg, mt)
					}
				}
			}
		})
	}
}

// TestAuditAsymDigestLengths checks message_type DIGEST against each hash's
// length: one byte short or long is KMS.0329, the exact length signs.
func TestAuditAsymDigestLengths(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	keys := map[string]string{
		"RSA": sdkKey(t, c, "RSA_2048", ""),
		"EC":  sdkKey(t, c, "EC_P384", ""),
		"SM2": sdkKey(t, c, "SM2", "SIGN_VERIFY"),
	}
	for _, tt := range []struct {
		class, alg string
		n          int
	}{
		{"RSA", "RSASSA_PSS_SHA_256", 32}, {"RSA", "RSASSA_PSS_SHA_384", 48}, {"RSA", "RSASSA_PSS_SHA_512", 64},
		{"RSA", "RSASSA_PKCS1_V1_5_SHA_256", 32}, {"RSA", "RSASSA_PKCS1_V1_5_SHA_384", 48}, {"RSA", "RSASSA_PKCS1_V1_5_SHA_512", 64},
		{"EC", "ECDSA_SHA_256", 32}, {"EC", "ECDSA_SHA_384", 48}, {"EC", "ECDSA_SHA_512", 64},
		{"SM2", "SM2DSA_SM3", 32},
	} {
		t.Run(tt.alg, func(t *testing.T) {
			id := keys[tt.class]
			for _, n := range []int{tt.n - 1, tt.n + 1, 20} {
				_, err := sign(t, c, id, tt.alg, "DIGEST", make([]byte, n))
				wantError(t, err, 400, "KMS.0329")
				_, err = validate(t, c, id, tt.alg, "DIGEST", make([]byte, n), make([]byte, 64))
				wantError(t, err, 400, "KMS.0329")
			}
			d := make([]byte, tt.n)
			rand.Read(d)
			sig, err := sign(t, c, id, tt.alg, "DIGEST", d)
			if err != nil {
				t.Fatalf("digest of %d bytes: %v", tt.n, err)
			}
			if got, err := validate(t, c, id, tt.alg, "DIGEST", d, sig); err != nil || got != "true" {
				t.Errorf("ValidateSignature %q %v", got, err)
			}
		})
	}
}

// TestAuditAsymVerifyLocalSignatures signs locally with the key's private key
// (opened from the dev server's data directory) and checks kmsd verifies:
// RSA-PSS with the longest salt, PKCS #1 v1.5, ECDSA and SM2 (with the
// default user id for RAW).
func TestAuditAsymVerifyLocalSignatures(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	msg := []byte("audit: local signatures")
	sum := func(h crypto.Hash) []byte { x := h.New(); x.Write(msg); return x.Sum(nil) }

	rsaID := sdkKey(t, c, "RSA_2048", "")
	rk := serverPrivateKey(t, e, rsaID).(*rsa.PrivateKey)
	pss, err := rsa.SignPSS(rand.Reader, rk, crypto.SHA384, sum(crypto.SHA384), &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
	if err != nil {
		t.Fatal(err)
	}
	pkcs, err := rsa.SignPKCS1v15(nil, rk, crypto.SHA512, sum(crypto.SHA512))
	if err != nil {
		t.Fatal(err)
	}
	ecID := sdkKey(t, c, "EC_P256", "")
	ek := serverPrivateKey(t, e, ecID).(*ecdsa.PrivateKey)
	ecSig, err := ecdsa.SignASN1(rand.Reader, ek, sum(crypto.SHA256))
	if err != nil {
		t.Fatal(err)
	}
	smID := sdkKey(t, c, "SM2", "SIGN_VERIFY")
	sk := serverPrivateKey(t, e, smID).(*sm2.PrivateKey)
	smSig, err := sm2.SignASN1(rand.Reader, sk, msg, sm2.DefaultSM2SignerOpts)
	if err != nil {
		t.Fatal(err)
	}
	smDigest, err := sm2.CalculateSM2Hash(&sk.PublicKey, msg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, id, alg, mt string
		in, sig           []byte
	}{
		{"PSS longest salt DIGEST", rsaID, "RSASSA_PSS_SHA_384", "DIGEST", sum(crypto.SHA384), pss},
		{"PSS longest salt RAW", rsaID, "RSASSA_PSS_SHA_384", "RAW", msg, pss},
		{"PKCS1 RAW", rsaID, "RSASSA_PKCS1_V1_5_SHA_512", "RAW", msg, pkcs},
		{"ECDSA DIGEST", ecID, "ECDSA_SHA_256", "", sum(crypto.SHA256), ecSig},
		{"SM2 RAW", smID, "SM2DSA_SM3", "RAW", msg, smSig},
		{"SM2 DIGEST", smID, "SM2DSA_SM3", "DIGEST", smDigest, smSig},
	} {
		if got, err := validate(t, c, tt.id, tt.alg, tt.mt, tt.in, tt.sig); err != nil || got != "true" {
			t.Errorf("%s: ValidateSignature %q %v, want \"true\"", tt.name, got, err)
		}
	}
}

// TestAuditAsymSignWire sends what the SDK cannot: wrong JSON types, missing
// members, values outside the enums, a bad sequence.
func TestAuditAsymSignWire(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	id := sdkKey(t, c, "EC_P256", "")
	d := base64.StdEncoding.EncodeToString(make([]byte, 32))
	sigB := base64.StdEncoding.EncodeToString(make([]byte, 70))
	for _, tt := range []struct {
		name, op, body string
		status         int
		code           string
	}{
		{"key_id a number", "sign", `{"key_id":5,"message":"` + d + `","signing_algorithm":"ECDSA_SHA_256"}`, 400, "KMS.0202"},
		{"message missing", "sign", `{"key_id":"` + id + `","signing_algorithm":"ECDSA_SHA_256"}`, 400, "KMS.0204"},
		{"message null", "sign", `{"key_id":"` + id + `","message":null,"signing_algorithm":"ECDSA_SHA_256"}`, 400, "KMS.0204"},
		{"message not base64", "sign", `{"key_id":"` + id + `","message":"*-*","signing_algorithm":"ECDSA_SHA_256"}`, 400, "KMS.0308"},
		{"message a number", "sign", `{"key_id":"` + id + `","message":12,"signing_algorithm":"ECDSA_SHA_256"}`, 400, "KMS.0202"},
		{"algorithm missing", "sign", `{"key_id":"` + id + `","message":"` + d + `"}`, 400, "KMS.0204"},
		{"algorithm unknown", "sign", `{"key_id":"` + id + `","message":"` + d + `","signing_algorithm":"ECDSA_SHA_1"}`, 400, "KMS.0308"},
		{"message_type unknown", "sign", `{"key_id":"` + id + `","message":"` + d + `","signing_algorithm":"ECDSA_SHA_256","message_type":"HASH"}`, 400, "KMS.0308"},
		{"message_type a boolean", "sign", `{"key_id":"` + id + `","message":"` + d + `","signing_algorithm":"ECDSA_SHA_256","message_type":true}`, 400, "KMS.0202"},
		{"bad sequence", "sign", `{"key_id":"` + id + `","message":"` + d + `","signing_algorithm":"ECDSA_SHA_256","sequence":"x"}`, 400, "KMS.0206"},
		{"malformed key_id", "sign", `{"key_id":"alias/x","message":"` + d + `","signing_algorithm":"ECDSA_SHA_256"}`, 400, "KMS.0205"},
		{"signature missing", "verify", `{"key_id":"` + id + `","message":"` + d + `","signing_algorithm":"ECDSA_SHA_256"}`, 400, "KMS.0204"},
		{"signature not base64", "verify", `{"key_id":"` + id + `","message":"` + d + `","signature":"%%","signing_algorithm":"ECDSA_SHA_256"}`, 400, "KMS.0308"},
		{"signature a number", "verify", `{"key_id":"` + id + `","message":"` + d + `","signature":1,"signing_algorithm":"ECDSA_SHA_256"}`, 400, "KMS.0202"},
		{"verify algorithm unknown", "verify", `{"key_id":"` + id + `","message":"` + d + `","signature":"` + sigB + `","signing_algorithm":"X"}`, 400, "KMS.0308"},
		{"publickey key_id missing", "get-publickey", `{}`, 400, "KMS.0204"},
		{"publickey key_id empty", "get-publickey", `{"key_id":""}`, 400, "KMS.0204"},
		{"publickey malformed JSON", "get-publickey", `{"key_id":`, 400, "KMS.0202"},
		{"publickey unknown key", "get-publickey", `{"key_id":"` + unknownKeyID + `"}`, 404, "KMS.0207"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, h, b := rawCall(t, e, "POST", e.projectPath(tt.op), []byte(tt.body+"\n"), e.ids.AdminAK, e.ids.AdminSK)
			wantRawError(t, status, h, b, tt.status, tt.code)
		})
	}
}

// TestAuditAsymPublicKeyWire checks get-publickey's raw answer for every
// asymmetric spec and usage: key_id and public_key JSON strings, one CRLF
// PEM block, a SubjectPublicKeyInfo crypto/x509 (or smx509 for SM2 and
// secp256k1 through parseSPKI) parses.
func TestAuditAsymPublicKeyWire(t *testing.T) {
	t.Parallel()
	e := start(t)
	for _, k := range []struct{ spec, usage string }{
		{"RSA_2048", "ENCRYPT_DECRYPT"}, {"RSA_3072", "SIGN_VERIFY"}, {"EC_P256", "KEY_AGREEMENT"},
		{"EC_P384", "SIGN_VERIFY"}, {"SECP256K1", "SIGN_VERIFY"}, {"SM2", "ENCRYPT_DECRYPT"}, {"SM2", "KEY_AGREEMENT"},
	} {
		t.Run(k.spec+" "+k.usage, func(t *testing.T) {
			id := createKeyRaw(t, e, k.spec, k.usage)
			status, _, b := rawCall(t, e, "POST", e.projectPath("get-publickey"), []byte(`{"key_id":"`+id+`"}`+"\n"), e.ids.AdminAK, e.ids.AdminSK)
			if status != 200 {
				t.Fatalf("get-publickey: %d %s", status, b)
			}
			var v map[string]any
			if err := json.Unmarshal(b, &v); err != nil {
				t.Fatal(err)
			}
			p, ok := v["public_key"].(string)
			if v["key_id"] != id || !ok {
				t.Fatalf("got %s", b)
			}
			if !strings.HasSuffix(p, "-----END PUBLIC KEY-----\r\n") || strings.Contains(strings.ReplaceAll(p, "\r\n", ""), "\n") {
				t.Errorf("public_key is not a CRLF PEM block: %q", p)
			}
			block, _ := pem.Decode([]byte(p))
			if block == nil {
				t.Fatal("no PEM block")
			}
			pub := parseSPKI(t, block.Bytes)
			switch k.spec[:2] {
			case "RS":
				if _, ok := pub.(*rsa.PublicKey); !ok {
					t.Errorf("got %T", pub)
				}
			default:
				if _, ok := pub.(*ecdsa.PublicKey); !ok {
					t.Errorf("got %T", pub)
				}
			}
		})
	}
}

// TestAuditAsymDeriveWire checks derive-shared-secret's raw refusals and its
// answer's types, and the secret against crypto/ecdh.
func TestAuditAsymDeriveWire(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	id := createKeyRaw(t, e, "EC_P384", "KEY_AGREEMENT")
	priv, err := ecdh.P384().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(priv.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	peerB64 := base64.StdEncoding.EncodeToString(der)
	body := `{"key_id":"` + id + `","key_agreement_algorithm":"ECDH","public_key":"` + peerB64 + `"}` + "\n"
	status, _, b := rawCall(t, e, "POST", e.projectPath("derive-shared-secret"), []byte(body), e.ids.AdminAK, e.ids.AdminSK)
	if status != 200 {
		t.Fatalf("derive-shared-secret: %d %s", status, b)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	s, _ := v["shared_secret"].(string)
	addSecret(s)
	if v["key_id"] != id || v["key_agreement_algorithm"] != "ECDH" {
		t.Errorf("got key_id %v, key_agreement_algorithm %v", v["key_id"], v["key_agreement_algorithm"])
	}
	if _, ok := v["ciphertext_recipient"]; ok {
		t.Error("ciphertext_recipient present without a recipient")
	}
	kpub, err := asymStdPublicKey(t, c, id).(*ecdsa.PublicKey).ECDH()
	if err != nil {
		t.Fatal(err)
	}
	want, err := priv.ECDH(kpub)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := base64.StdEncoding.DecodeString(s); err != nil || !bytes.Equal(got, want) {
		t.Errorf("shared_secret differs from crypto/ecdh's (%d bytes vs %d)", len(got), len(want))
	}

	for _, tt := range []struct {
		name, body string
		status     int
		code       string
	}{
		{"public_key missing", `{"key_id":"` + id + `","key_agreement_algorithm":"ECDH"}`, 400, "KMS.0204"},
		{"algorithm missing", `{"key_id":"` + id + `","public_key":"` + peerB64 + `"}`, 400, "KMS.0204"},
		{"algorithm unknown", `{"key_id":"` + id + `","key_agreement_algorithm":"ECDHE","public_key":"` + peerB64 + `"}`, 400, "KMS.0308"},
		{"algorithm a number", `{"key_id":"` + id + `","key_agreement_algorithm":1,"public_key":"` + peerB64 + `"}`, 400, "KMS.0202"},
		{"public_key not base64", `{"key_id":"` + id + `","key_agreement_algorithm":"ECDH","public_key":"!!"}`, 400, "KMS.0308"},
		{"recipient a string", `{"key_id":"` + id + `","key_agreement_algorithm":"ECDH","public_key":"` + peerB64 + `","recipient":"x"}`, 400, "KMS.0202"},
		{"key_id missing", `{"key_agreement_algorithm":"ECDH","public_key":"` + peerB64 + `"}`, 400, "KMS.0204"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, h, b := rawCall(t, e, "POST", e.projectPath("derive-shared-secret"), []byte(tt.body+"\n"), e.ids.AdminAK, e.ids.AdminSK)
			wantRawError(t, status, h, b, tt.status, tt.code)
		})
	}
	// Another project's key does not exist for the caller.
	other := asymCreateKeyIn(t, e, e.ids.Admin2AK, e.ids.Admin2SK, e.ids.Project2ID, "EC_P384", "KEY_AGREEMENT")
	_, err = derive(t, c, other, der, nil)
	wantError(t, err, 404, "KMS.0207")
}

// asymCreateKeyIn creates a key of spec and usage in another project.
func asymCreateKeyIn(t *testing.T, e *env, ak, sk, project, spec, usage string) string {
	t.Helper()
	body := `{"key_alias":"` + newAlias() + `","key_spec":"` + spec + `","key_usage":"` + usage + `"}` + "\n"
	status, _, b := rawCall(t, e, "POST", "/v1.0/"+project+"/kms/create-key", []byte(body), ak, sk)
	var v struct {
		KeyInfo struct {
			KeyID string `json:"key_id"`
		} `json:"key_info"`
	}
	if err := json.Unmarshal(b, &v); status != 200 || err != nil || v.KeyInfo.KeyID == "" {
		t.Fatalf("create-key %s %s: %d %s", spec, usage, status, b)
	}
	return v.KeyInfo.KeyID
}

// asymServerMaterial opens a key's raw version-1 material from the dev
// server's data directory, as serverPrivateKey does for asymmetric keys.
func asymServerMaterial(t *testing.T, e *env, keyID string) []byte {
	t.Helper()
	root, err := keyring.LoadRootKeyFile(filepath.Join(e.dir, "root.key"))
	if err != nil {
		t.Fatal(err)
	}
	kr, err := keyring.New(root)
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t, e.dir)
	var v store.KeyVersion
	err = st.View(t.Context(), func(tx store.Tx) error {
		var err error
		v, err = tx.GetKeyVersion(e.ids.ProjectID, keyID, 1)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	m, err := kr.Open(keyring.Binding{Purpose: kmsdkms.PurposeKeyMaterial, ProjectID: e.ids.ProjectID, KeyID: keyID, Version: 1}, v.Sealed)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestAuditAsymMACKnownAnswer checks generate-mac against crypto/hmac with the
// key's own material, for every HMAC spec.
func TestAuditAsymMACKnownAnswer(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	msg := []byte("audit: HMAC known answer")
	for spec, tc := range map[string]struct {
		alg string
		h   func() hash.Hash
	}{
		"HMAC_256": {"HMAC_SHA_256", sha256.New}, "HMAC_384": {"HMAC_SHA_384", sha512.New384},
		"HMAC_512": {"HMAC_SHA_512", sha512.New}, "HMAC_SM3": {"HMAC_SM3", sm3.New},
	} {
		t.Run(spec, func(t *testing.T) {
			t.Parallel()
			id := createKeyRaw(t, e, spec, "GENERATE_VERIFY_MAC")
			got, err := generateMAC(t, c, id, tc.alg, msg)
			if err != nil {
				t.Fatal(err)
			}
			m := hmac.New(tc.h, asymServerMaterial(t, e, id))
			m.Write(msg)
			if want := hex.EncodeToString(m.Sum(nil)); got != want {
				t.Errorf("mac %s, want crypto/hmac's %s", got, want)
			}
		})
	}
}

// TestAuditAsymMACWire sends the MAC requests the SDK cannot.
func TestAuditAsymMACWire(t *testing.T) {
	t.Parallel()
	e := start(t)
	id := createKeyRaw(t, e, "HMAC_256", "GENERATE_VERIFY_MAC")
	for _, tt := range []struct {
		name, op, body string
		status         int
		code           string
	}{
		{"algorithm missing", "generate-mac", `{"key_id":"` + id + `","message":"bQ=="}`, 400, "KMS.0204"},
		{"algorithm unknown", "generate-mac", `{"key_id":"` + id + `","mac_algorithm":"HMAC_MD5","message":"bQ=="}`, 400, "KMS.0308"},
		{"message missing", "generate-mac", `{"key_id":"` + id + `","mac_algorithm":"HMAC_SHA_256"}`, 400, "KMS.0204"},
		{"message not base64", "generate-mac", `{"key_id":"` + id + `","mac_algorithm":"HMAC_SHA_256","message":"m"}`, 400, "KMS.0308"},
		{"message a number", "generate-mac", `{"key_id":"` + id + `","mac_algorithm":"HMAC_SHA_256","message":1}`, 400, "KMS.0202"},
		{"key_id malformed", "generate-mac", `{"key_id":"k","mac_algorithm":"HMAC_SHA_256","message":"bQ=="}`, 400, "KMS.0205"},
		{"mac missing", "verify-mac", `{"key_id":"` + id + `","mac_algorithm":"HMAC_SHA_256","message":"bQ=="}`, 400, "KMS.0204"},
		{"mac a boolean", "verify-mac", `{"key_id":"` + id + `","mac_algorithm":"HMAC_SHA_256","message":"bQ==","mac":true}`, 400, "KMS.0202"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, h, b := rawCall(t, e, "POST", e.projectPath(tt.op), []byte(tt.body+"\n"), e.ids.AdminAK, e.ids.AdminSK)
			wantRawError(t, status, h, b, tt.status, tt.code)
		})
	}
	// generate-mac's answer: three JSON strings.
	status, _, b := rawCall(t, e, "POST", e.projectPath("generate-mac"), []byte(`{"key_id":"`+id+`","mac_algorithm":"HMAC_SHA_256","message":"bQ=="}`+"\n"), e.ids.AdminAK, e.ids.AdminSK)
	var v map[string]any
	if err := json.Unmarshal(b, &v); status != 200 || err != nil {
		t.Fatalf("generate-mac: %d %s", status, b)
	}
	if mac, ok := v["mac"].(string); !ok || len(mac) != 64 || v["key_id"] != id || v["mac_algorithm"] != "HMAC_SHA_256" {
		t.Errorf("got %s", b)
	}
}

// TestAuditAsymRSAEncryption covers RSA_3072/RSA_4096 OAEP through
// encrypt-data and decrypt-data: plaintext limits (k − 2·32 − 2 bytes),
// local crypto/rsa encryption decrypted by kmsd, and the refusals.
func TestAuditAsymRSAEncryption(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	encAlg := model.GetEncryptDataRequestBodyEncryptionAlgorithmEnum()
	decAlg := model.GetDecryptDataRequestBodyEncryptionAlgorithmEnum()
	for spec, limit := range map[string]int{"RSA_3072": 384 - 66, "RSA_4096": 512 - 66} {
		t.Run(spec, func(t *testing.T) {
			t.Parallel()
			id := sdkKey(t, c, spec, "ENCRYPT_DECRYPT")
			pub := asymStdPublicKey(t, c, id).(*rsa.PublicKey)
			pt := strings.Repeat("p", limit)
			addSecret(pt)
			enc, err := c.EncryptData(&model.EncryptDataRequest{Body: &model.EncryptDataRequestBody{KeyId: id, PlainText: pt, EncryptionAlgorithm: &encAlg.RSAES_OAEP_SHA_256}})
			if err != nil {
				t.Fatalf("EncryptData of %d bytes: %v", limit, err)
			}
			if n := len(val(enc.CipherText)); n != base64.StdEncoding.EncodedLen(pub.Size()) {
				t.Errorf("cipher_text of %d characters, want %d", n, base64.StdEncoding.EncodedLen(pub.Size()))
			}
			dec, err := c.DecryptData(&model.DecryptDataRequest{Body: &model.DecryptDataRequestBody{CipherText: val(enc.CipherText), KeyId: &id, EncryptionAlgorithm: &decAlg.RSAES_OAEP_SHA_256}})
			if err != nil || val(dec.PlainText) != pt || val(dec.PlainTextBase64) != base64.StdEncoding.EncodeToString([]byte(pt)) || val(dec.KeyId) != id {
				t.Errorf("DecryptData: %v", err)
			}
			_, err = c.EncryptData(&model.EncryptDataRequest{Body: &model.EncryptDataRequestBody{KeyId: id, PlainText: pt + "p", EncryptionAlgorithm: &encAlg.RSAES_OAEP_SHA_256}})
			wantError(t, err, 400, "KMS.2108")
			bin := []byte{0, 0xff, 0xfe, 1}
			local, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, pub, bin, nil)
			if err != nil {
				t.Fatal(err)
			}
			dec, err = c.DecryptData(&model.DecryptDataRequest{Body: &model.DecryptDataRequestBody{CipherText: base64.StdEncoding.EncodeToString(local), KeyId: &id, EncryptionAlgorithm: &decAlg.RSAES_OAEP_SHA_256}})
			if err != nil || val(dec.PlainTextBase64) != base64.StdEncoding.EncodeToString(bin) {
				t.Errorf("DecryptData of binary plaintext: %v", err)
			}
			_, err = c.DecryptData(&model.DecryptDataRequest{Body: &model.DecryptDataRequestBody{CipherText: base64.StdEncoding.EncodeToString(local), KeyId: &id, EncryptionAlgorithm: &decAlg.SM2_ENCRYPT}})
			wantError(t, err, 400, "KMS.2106")
			_, err = c.DecryptData(&model.DecryptDataRequest{Body: &model.DecryptDataRequestBody{CipherText: base64.StdEncoding.EncodeToString(local), KeyId: &id}})
			wantError(t, err, 400, "KMS.2106")
			// Signing with an ENCRYPT_DECRYPT key.
			_, err = sign(t, c, id, "RSASSA_PSS_SHA_256", "", make([]byte, 32))
			wantError(t, err, 400, "KMS.0334")
		})
	}
}

// TestAuditAsymImportIsolation checks the import operations refuse another
// project's key (404) and the read-only role (403), and their raw wire
// refusals.
func TestAuditAsymImportIsolation(t *testing.T) {
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
	body := `{"key_id":"` + id + `","import_token":"` + p.token + `","encrypted_key_material":"` + wrapped + `","expiration_time":` + asymJSONInt(future) + `}` + "\n"
	status, _, b = rawCall(t, e, "POST", e.projectPath("import-key-material"), []byte(body), e.ids.AdminAK, e.ids.AdminSK)
	if status != 200 || (len(bytes.TrimSpace(b)) != 0 && !json.Valid(b)) {
		t.Fatalf("import-key-material: %d %q", status, b)
	}
	if got, want := val(describe(t, c, id).ExpirationTime), asymJSONInt(future*1000); got != want {
		t.Errorf("expiration_time %s, want %s", got, want)
	}
	status, _, b = rawCall(t, e, "POST", e.projectPath("delete-imported-key-material"), []byte(`{"key_id":"`+id+`"}`+"\n"), e.ids.AdminAK, e.ids.AdminSK)
	if status != 200 || (len(bytes.TrimSpace(b)) != 0 && !json.Valid(b)) {
		t.Fatalf("delete-imported-key-material: %d %q", status, b)
	}
}

func asymJSONInt(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// TestAuditAsymSecp256k1AllHashes signs with every ECDSA hash on a
// SECP256K1 key and checks each signature with decred and crypto/ecdsa.
func TestAuditAsymSecp256k1AllHashes(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	id := sdkKey(t, c, "SECP256K1", "")
	pub := parseSPKI(t, publicKeyDER(t, c, id))
	msg := []byte("audit: secp256k1")
	for _, alg := range []string{"ECDSA_SHA_256", "ECDSA_SHA_384", "ECDSA_SHA_512"} {
		digest := digestFor(t, alg, pub, msg)
		for _, mt := range []string{"DIGEST", "RAW"} {
			in := digest
			if mt == "RAW" {
				in = msg
			}
			sig, err := sign(t, c, id, alg, mt, in)
			if err != nil {
				t.Fatalf("%s %s: %v", alg, mt, err)
			}
			if !verifyLocal(pub, alg, digest, sig) {
				t.Errorf("%s %s: does not verify locally", alg, mt)
			}
		}
	}
}

// TestAuditAsymSM2LongPlaintext encrypts the longest plaintext (4096
// bytes) with an SM2 key: its ciphertext must stay inside decrypt-data's
// 5648 base64 characters and decrypt again.
func TestAuditAsymSM2LongPlaintext(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	encAlg := model.GetEncryptDataRequestBodyEncryptionAlgorithmEnum()
	decAlg := model.GetDecryptDataRequestBodyEncryptionAlgorithmEnum()
	id := sdkKey(t, c, "SM2", "ENCRYPT_DECRYPT")
	for _, n := range []int{1, 4096} {
		pt := strings.Repeat("s", n)
		enc, err := c.EncryptData(&model.EncryptDataRequest{Body: &model.EncryptDataRequestBody{KeyId: id, PlainText: pt, EncryptionAlgorithm: &encAlg.SM2_ENCRYPT}})
		if err != nil {
			t.Fatalf("EncryptData of %d bytes: %v", n, err)
		}
		ct := val(enc.CipherText)
		if len(ct) < 128 || len(ct) > 5648 {
			t.Errorf("%d bytes: cipher_text of %d characters, outside 128–5648", n, len(ct))
		}
		dec, err := c.DecryptData(&model.DecryptDataRequest{Body: &model.DecryptDataRequestBody{CipherText: ct, KeyId: &id, EncryptionAlgorithm: &decAlg.SM2_ENCRYPT}})
		if err != nil || val(dec.PlainText) != pt {
			t.Errorf("%d bytes: DecryptData: %v", n, err)
		}
	}
}

// TestAuditAsymOtherProject checks every §5.E and §5.F operation answers
// 404 KMS.0207 for a key of another account's project, even when the
// request is otherwise right.
func TestAuditAsymOtherProject(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	ec := sdkKey(t, c, "EC_P256", "")
	agree := createKeyRaw(t, e, "EC_P256", "KEY_AGREEMENT")
	mac := createKeyRaw(t, e, "HMAC_256", "GENERATE_VERIFY_MAC")
	d := make([]byte, 32)
	sig, err := sign(t, c, ec, "ECDSA_SHA_256", "", d)
	if err != nil {
		t.Fatal(err)
	}
	m, err := generateMAC(t, c, mac, "HMAC_SHA_256", []byte("m"))
	if err != nil {
		t.Fatal(err)
	}
	p := newPeer(t, "EC_P256")
	o := e.admin2()
	_, errPub := o.ShowPublicKey(&model.ShowPublicKeyRequest{Body: &model.OperateKeyRequestBody{KeyId: ec}})
	_, errSign := sign(t, o, ec, "ECDSA_SHA_256", "", d)
	_, errVerify := validate(t, o, ec, "ECDSA_SHA_256", "", d, sig)
	_, errDerive := derive(t, o, agree, p.spki, nil)
	_, errMAC := generateMAC(t, o, mac, "HMAC_SHA_256", []byte("m"))
	_, errVerifyMAC := verifyMAC(t, o, mac, "HMAC_SHA_256", []byte("m"), m)
	for name, err := range map[string]error{
		"ShowPublicKey": errPub, "Sign": errSign, "ValidateSignature": errVerify,
		"DeriveSharedSecret": errDerive, "GenerateMac": errMAC, "VerifyMac": errVerifyMAC,
	} {
		t.Run(name, func(t *testing.T) { wantError(t, err, 404, "KMS.0207") })
	}
}
