package compat

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"hash"
	"strings"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	secpecdsa "github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
	smecdh "github.com/emmansun/gmsm/ecdh"
	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
	kms "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2/model"
)

// sdkEnum returns the SDK enum value of type E for s, as the SDK itself
// decodes enums.
func sdkEnum[E any](t *testing.T, s string) E {
	t.Helper()
	var v E
	if err := json.Unmarshal([]byte(`"`+s+`"`), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// createKeyRaw creates a key with a raw signed create-key request, for the
// specs and usages the SDK's CreateKey enums lack (HMAC_*, KEY_AGREEMENT).
func createKeyRaw(t *testing.T, e *env, spec, usage string) string {
	t.Helper()
	body := `{"key_alias":"` + newAlias() + `","key_spec":"` + spec + `","key_usage":"` + usage + `"}` + "\n"
	status, _, b := rawCall(t, e, "POST", e.projectPath("create-key"), []byte(body), e.ids.AdminAK, e.ids.AdminSK)
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

// sdkKey creates a key of an SDK CreateKey spec and usage ("" default).
func sdkKey(t *testing.T, c *kms.KmsClient, spec, usage string) string {
	t.Helper()
	body := model.CreateKeyRequestBody{KeySpec: ptr(sdkEnum[model.CreateKeyRequestBodyKeySpec](t, spec))}
	if usage != "" {
		body.KeyUsage = ptr(sdkEnum[model.CreateKeyRequestBodyKeyUsage](t, usage))
	}
	return createKey(t, c, body)
}

// publicKeyDER fetches a key's public key with ShowPublicKey, checks it is
// one PEM PUBLIC KEY block, and returns its DER.
func publicKeyDER(t *testing.T, c *kms.KmsClient, keyID string) []byte {
	t.Helper()
	resp, err := c.ShowPublicKey(&model.ShowPublicKeyRequest{Body: &model.OperateKeyRequestBody{KeyId: keyID}})
	if err != nil {
		t.Fatalf("ShowPublicKey: %v", err)
	}
	if val(resp.KeyId) != keyID {
		t.Errorf("got key_id %s, want %s", val(resp.KeyId), keyID)
	}
	p := val(resp.PublicKey)
	if !strings.HasPrefix(p, "-----BEGIN PUBLIC KEY-----\r\n") {
		t.Errorf("public_key does not start with a CRLF PEM header: %q", p[:min(len(p), 40)])
	}
	block, rest := pem.Decode([]byte(p))
	if block == nil || block.Type != "PUBLIC KEY" || len(bytes.TrimSpace(rest)) != 0 {
		t.Fatalf("public_key is not one PEM PUBLIC KEY block: %q", p)
	}
	return block.Bytes
}

var oidSecp256k1 = asn1.ObjectIdentifier{1, 3, 132, 0, 10}

type spki struct {
	Algorithm pkix.AlgorithmIdentifier
	PublicKey asn1.BitString
}

// parseSPKI parses a SubjectPublicKeyInfo with crypto/x509, smx509 (SM2)
// or encoding/asn1 and decred (secp256k1) and returns an *rsa.PublicKey or
// *ecdsa.PublicKey.
func parseSPKI(t *testing.T, der []byte) crypto.PublicKey {
	t.Helper()
	var info spki
	if rest, err := asn1.Unmarshal(der, &info); err != nil || len(rest) > 0 {
		t.Fatalf("SubjectPublicKeyInfo: %v", err)
	}
	var curve asn1.ObjectIdentifier
	_, _ = asn1.Unmarshal(info.Algorithm.Parameters.FullBytes, &curve)
	if curve.Equal(oidSecp256k1) {
		pub, err := secp256k1.ParsePubKey(info.PublicKey.Bytes)
		if err != nil || info.PublicKey.Bytes[0] != 4 {
			t.Fatalf("secp256k1 point %x: %v", info.PublicKey.Bytes, err)
		}
		return pub.ToECDSA()
	}
	if pub, err := x509.ParsePKIXPublicKey(der); err == nil {
		return pub
	}
	pub, err := smx509.ParsePKIXPublicKey(der)
	if err != nil {
		t.Fatalf("SubjectPublicKeyInfo: %v", err)
	}
	return pub
}

// digestFor returns what alg signs for msg under pub: the hash, or for
// SM2DSA_SM3 SM3(Z_A‖M) with the default user id.
func digestFor(t *testing.T, alg string, pub crypto.PublicKey, msg []byte) []byte {
	t.Helper()
	if alg == "SM2DSA_SM3" {
		d, err := sm2.CalculateSM2Hash(pub.(*ecdsa.PublicKey), msg, nil)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	var h hash.Hash
	switch alg[len(alg)-3:] {
	case "256":
		h = sha256.New()
	case "384":
		h = sha512.New384()
	default:
		h = sha512.New()
	}
	h.Write(msg)
	return h.Sum(nil)
}

// verifyLocal verifies a kmsd signature with Go's crypto (RSA, ECDSA on
// every curve, secp256k1 through decred's elliptic.Curve) or gmsm (SM2).
func verifyLocal(pub crypto.PublicKey, alg string, digest, sig []byte) bool {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		h := map[string]crypto.Hash{"256": crypto.SHA256, "384": crypto.SHA384, "512": crypto.SHA512}[alg[len(alg)-3:]]
		if strings.HasPrefix(alg, "RSASSA_PSS") {
			return rsa.VerifyPSS(p, h, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
		}
		return rsa.VerifyPKCS1v15(p, h, digest, sig) == nil
	case *ecdsa.PublicKey:
		if sm2.IsSM2PublicKey(p) {
			return sm2.VerifyASN1(p, digest, sig)
		}
		if p.Curve == secp256k1.S256() {
			s, err := secpecdsa.ParseDERSignature(sig)
			var x, y secp256k1.FieldVal
			x.SetByteSlice(p.X.Bytes())
			y.SetByteSlice(p.Y.Bytes())
			if err != nil || !s.Verify(digest, secp256k1.NewPublicKey(&x, &y)) {
				return false
			}
		}
		return ecdsa.VerifyASN1(p, digest, sig)
	}
	return false
}

func sign(t *testing.T, c *kms.KmsClient, keyID, alg, messageType string, msg []byte) ([]byte, error) {
	t.Helper()
	body := &model.SignRequestBody{KeyId: keyID, Message: base64.StdEncoding.EncodeToString(msg), SigningAlgorithm: sdkEnum[model.SignRequestBodySigningAlgorithm](t, alg)}
	if messageType != "" {
		body.MessageType = ptr(sdkEnum[model.SignRequestBodyMessageType](t, messageType))
	}
	resp, err := c.Sign(&model.SignRequest{Body: body})
	if err != nil {
		return nil, err
	}
	if val(resp.KeyId) != keyID {
		t.Errorf("got key_id %s, want %s", val(resp.KeyId), keyID)
	}
	sig, err := base64.StdEncoding.DecodeString(val(resp.Signature))
	if err != nil {
		t.Fatalf("signature is not base64: %v", err)
	}
	return sig, nil
}

// validate calls ValidateSignature and returns signature_valid, which the
// SDK types as a string.
func validate(t *testing.T, c *kms.KmsClient, keyID, alg, messageType string, msg, sig []byte) (string, error) {
	t.Helper()
	body := &model.VerifyRequestBody{
		KeyId: keyID, Message: base64.StdEncoding.EncodeToString(msg), Signature: base64.StdEncoding.EncodeToString(sig),
		SigningAlgorithm: sdkEnum[model.VerifyRequestBodySigningAlgorithm](t, alg),
	}
	if messageType != "" {
		body.MessageType = ptr(sdkEnum[model.VerifyRequestBodyMessageType](t, messageType))
	}
	resp, err := c.ValidateSignature(&model.ValidateSignatureRequest{Body: body})
	if err != nil {
		return "", err
	}
	return val(resp.SignatureValid), nil
}

// TestSignVerify signs through the SDK with every algorithm of every
// asymmetric spec, in both message types, verifies each signature locally
// with the public key from ShowPublicKey and through ValidateSignature,
// and checks a changed signature or message is "false".
func TestSignVerify(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	algs := map[string][]string{
		"RSA_2048":  {"RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384", "RSASSA_PSS_SHA_512", "RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384", "RSASSA_PKCS1_V1_5_SHA_512"},
		"EC_P256":   {"ECDSA_SHA_256", "ECDSA_SHA_384", "ECDSA_SHA_512"},
		"EC_P384":   {"ECDSA_SHA_384", "ECDSA_SHA_256", "ECDSA_SHA_512"},
		"SECP256K1": {"ECDSA_SHA_256", "ECDSA_SHA_512"},
		"SM2":       {"SM2DSA_SM3"},
	}
	msg := []byte("kmsd compat: a message to sign")
	addSecret(base64.StdEncoding.EncodeToString(msg))
	for spec, list := range algs {
		t.Run(spec, func(t *testing.T) {
			t.Parallel()
			id := sdkKey(t, c, spec, "")
			pub := parseSPKI(t, publicKeyDER(t, c, id))
			for _, alg := range list {
				digest := digestFor(t, alg, pub, msg)
				for _, mt := range []string{"", "DIGEST", "RAW"} {
					in := digest
					if mt == "RAW" {
						in = msg
					}
					sig, err := sign(t, c, id, alg, mt, in)
					if err != nil {
						t.Fatalf("%s %s: Sign: %v", alg, mt, err)
					}
					if !verifyLocal(pub, alg, digest, sig) {
						t.Errorf("%s %s: the signature does not verify locally", alg, mt)
					}
					if got, err := validate(t, c, id, alg, mt, in, sig); err != nil || got != "true" {
						t.Errorf("%s %s: ValidateSignature: got %q, %v, want \"true\"", alg, mt, got, err)
					}
					bad := bytes.Clone(sig)
					bad[len(bad)-1] ^= 0x40
					if got, err := validate(t, c, id, alg, mt, in, bad); err != nil || got != "false" {
						t.Errorf("%s %s: changed signature: got %q, %v, want \"false\"", alg, mt, got, err)
					}
					changed := bytes.Clone(in)
					changed[0] ^= 1
					if got, err := validate(t, c, id, alg, mt, changed, sig); err != nil || got != "false" {
						t.Errorf("%s %s: changed message: got %q, %v, want \"false\"", alg, mt, got, err)
					}
				}
			}
		})
	}
}

// TestVerifyWireTypes checks the raw verify answer: signature_valid is the
// JSON string "true"/"false", never a boolean.
func TestVerifyWireTypes(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	id := sdkKey(t, c, "EC_P256", "")
	d := sha256.Sum256([]byte("m"))
	sig, err := sign(t, c, id, "ECDSA_SHA_256", "", d[:])
	if err != nil {
		t.Fatal(err)
	}
	for want, s := range map[string][]byte{"true": sig, "false": append(bytes.Clone(sig[:len(sig)-1]), sig[len(sig)-1]^1)} {
		body := `{"key_id":"` + id + `","message":"` + base64.StdEncoding.EncodeToString(d[:]) + `","signature":"` + base64.StdEncoding.EncodeToString(s) + `","signing_algorithm":"ECDSA_SHA_256"}` + "\n"
		status, _, b := rawCall(t, e, "POST", e.projectPath("verify"), []byte(body), e.ids.AdminAK, e.ids.AdminSK)
		var v map[string]any
		if err := json.Unmarshal(b, &v); status != 200 || err != nil {
			t.Fatalf("verify: %d %s", status, b)
		}
		if v["signature_valid"] != want || v["key_id"] != id {
			t.Errorf("got %s, want signature_valid the string %q", b, want)
		}
	}
}

// TestAsymmetricErrors checks the refusals of get-publickey, sign and
// verify through the SDK: key class, usage, algorithm, digest length,
// state, another project's key, and the read-only role.
func TestAsymmetricErrors(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	ec := sdkKey(t, c, "EC_P256", "")
	aes := sdkKey(t, c, "AES_256", "")
	sm2Enc := sdkKey(t, c, "SM2", "ENCRYPT_DECRYPT")
	hmacKey := createKeyRaw(t, e, "HMAC_256", "GENERATE_VERIFY_MAC")
	d := make([]byte, 32)
	errs := func(keyID, alg, mt string, msg []byte) []error {
		_, errSign := sign(t, c, keyID, alg, mt, msg)
		_, errVerify := validate(t, c, keyID, alg, mt, msg, make([]byte, 72))
		return []error{errSign, errVerify}
	}
	tests := []struct {
		name   string
		errs   []error
		status int
		code   string
	}{
		{"symmetric key", errs(aes, "ECDSA_SHA_256", "", d), 400, "KMS.0331"},
		{"HMAC key", errs(hmacKey, "ECDSA_SHA_256", "", d), 400, "KMS.0341"},
		{"encryption key", errs(sm2Enc, "SM2DSA_SM3", "", d), 400, "KMS.0334"},
		{"RSA algorithm, EC key", errs(ec, "RSASSA_PKCS1_V1_5_SHA_256", "", d), 400, "KMS.0332"},
		{"SM2 algorithm, EC key", errs(ec, "SM2DSA_SM3", "DIGEST", d), 400, "KMS.0332"},
		{"digest too short", errs(ec, "ECDSA_SHA_256", "DIGEST", d[:20]), 400, "KMS.0329"},
		{"SHA-256 digest for ECDSA_SHA_512", errs(ec, "ECDSA_SHA_512", "", d), 400, "KMS.0329"},
		{"message of 4096 bytes", errs(ec, "ECDSA_SHA_256", "RAW", make([]byte, 4096)), 400, "KMS.0308"},
		{"unknown key", errs(unknownKeyID, "ECDSA_SHA_256", "", d), 404, "KMS.0207"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, err := range tt.errs {
				wantError(t, err, tt.status, tt.code)
			}
		})
	}
	for _, id := range []string{aes, hmacKey} {
		_, err := c.ShowPublicKey(&model.ShowPublicKeyRequest{Body: &model.OperateKeyRequestBody{KeyId: id}})
		wantError(t, err, 400, map[string]string{aes: "KMS.0331", hmacKey: "KMS.0341"}[id])
	}
	// A message of 4095 bytes is the largest.
	if _, err := sign(t, c, ec, "ECDSA_SHA_256", "RAW", make([]byte, 4095)); err != nil {
		t.Errorf("4095-byte message: %v", err)
	}

	// State: a disabled or pending-deletion key answers its state, for a
	// right and a wrong signature alike, and publishes no public key.
	sig, err := sign(t, c, ec, "ECDSA_SHA_256", "", d)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.DisableKey(&model.DisableKeyRequest{Body: &model.OperateKeyRequestBody{KeyId: ec}}); err != nil {
		t.Fatal(err)
	}
	for _, s := range [][]byte{sig, make([]byte, len(sig))} {
		_, err := validate(t, c, ec, "ECDSA_SHA_256", "", d, s)
		wantError(t, err, 400, "KMS.0209")
	}
	_, err = sign(t, c, ec, "ECDSA_SHA_256", "", d)
	wantError(t, err, 400, "KMS.0209")
	_, err = c.ShowPublicKey(&model.ShowPublicKeyRequest{Body: &model.OperateKeyRequestBody{KeyId: ec}})
	wantError(t, err, 400, "KMS.0209")
	if _, err := c.DeleteKey(&model.DeleteKeyRequest{Body: &model.ScheduleKeyDeletionRequestBody{KeyId: ec, PendingDays: "7"}}); err != nil {
		t.Fatal(err)
	}
	for _, s := range [][]byte{sig, make([]byte, len(sig))} {
		_, err := validate(t, c, ec, "ECDSA_SHA_256", "", d, s)
		wantError(t, err, 400, "KMS.0210")
	}
	_, err = sign(t, c, ec, "ECDSA_SHA_256", "", d)
	wantError(t, err, 400, "KMS.0210")

	// Another account's key does not exist for the caller.
	other := sdkKey(t, e.admin2(), "EC_P256", "")
	_, err = sign(t, c, other, "ECDSA_SHA_256", "", d)
	wantError(t, err, 404, "KMS.0207")
	_, err = c.ShowPublicKey(&model.ShowPublicKeyRequest{Body: &model.OperateKeyRequestBody{KeyId: other}})
	wantError(t, err, 404, "KMS.0207")
}

// TestReadOnlyCannotUseKeys checks the read-only role gets 403 KMS.0307
// from every operation of this area, before the key is looked at.
func TestReadOnlyCannotUseKeys(t *testing.T) {
	t.Parallel()
	e := start(t)
	ec := sdkKey(t, e.admin(), "EC_P256", "")
	aes := sdkKey(t, e.admin(), "AES_256", "")
	hmacKey := createKeyRaw(t, e, "HMAC_256", "GENERATE_VERIFY_MAC")
	r := e.reader()
	d := make([]byte, 32)
	_, errPub := r.ShowPublicKey(&model.ShowPublicKeyRequest{Body: &model.OperateKeyRequestBody{KeyId: ec}})
	_, errSign := sign(t, r, ec, "ECDSA_SHA_256", "", d)
	_, errVerify := validate(t, r, ec, "ECDSA_SHA_256", "", d, make([]byte, 70))
	_, errDerive := r.DeriveSharedSecret(&model.DeriveSharedSecretRequest{Body: &model.DeriveSharedSecretRequestBody{
		KeyId: ec, KeyAgreementAlgorithm: sdkEnum[model.DeriveSharedSecretRequestBodyKeyAgreementAlgorithm](t, "ECDH"), PublicKey: "AAAA"}})
	_, errRSAPair := r.CreateRsaDatakeyPair(&model.CreateRsaDatakeyPairRequest{Body: &model.CreateRsaDatakeyPairRequestBody{
		KeyId: aes, KeySpec: sdkEnum[model.CreateRsaDatakeyPairRequestBodyKeySpec](t, "RSA_2048")}})
	_, errECPair := r.CreateEcDatakeyPair(&model.CreateEcDatakeyPairRequest{Body: &model.CreateEcDatakeyPairRequestBody{
		KeyId: aes, KeySpec: sdkEnum[model.CreateEcDatakeyPairRequestBodyKeySpec](t, "SM2")}})
	_, errMAC := r.GenerateMac(&model.GenerateMacRequest{Body: &model.GenerateMacRequestBody{
		KeyId: hmacKey, MacAlgorithm: sdkEnum[model.GenerateMacRequestBodyMacAlgorithm](t, "HMAC_SHA_256"), Message: "bWFj"}})
	_, errVerifyMAC := r.VerifyMac(&model.VerifyMacRequest{Body: &model.VerifyMacRequestBody{
		KeyId: hmacKey, MacAlgorithm: sdkEnum[model.VerifyMacRequestBodyMacAlgorithm](t, "HMAC_SHA_256"), Message: "bWFj", Mac: "00"}})
	for name, err := range map[string]error{
		"ShowPublicKey": errPub, "Sign": errSign, "ValidateSignature": errVerify, "DeriveSharedSecret": errDerive,
		"CreateRsaDatakeyPair": errRSAPair, "CreateEcDatakeyPair": errECPair, "GenerateMac": errMAC, "VerifyMac": errVerifyMAC,
	} {
		t.Run(name, func(t *testing.T) { wantError(t, err, 403, "KMS.0307") })
	}
}

// peer is a local ECDH key on one curve.
type peer struct {
	spki []byte
	// secret computes the shared secret with kmsd's public key.
	secret func(t *testing.T, kmsdPub *ecdsa.PublicKey) []byte
}

func newPeer(t *testing.T, spec string) peer {
	t.Helper()
	switch spec {
	case "EC_P256", "EC_P384":
		priv, err := map[string]ecdh.Curve{"EC_P256": ecdh.P256(), "EC_P384": ecdh.P384()}[spec].GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalPKIXPublicKey(priv.PublicKey())
		if err != nil {
			t.Fatal(err)
		}
		return peer{der, func(t *testing.T, p *ecdsa.PublicKey) []byte {
			pub, err := p.ECDH()
			if err != nil {
				t.Fatal(err)
			}
			s, err := priv.ECDH(pub)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}}
	case "SM2":
		priv, err := smecdh.P256().GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		x, y := elliptic.Unmarshal(sm2.P256(), priv.PublicKey().Bytes())
		der, err := smx509.MarshalPKIXPublicKey(&ecdsa.PublicKey{Curve: sm2.P256(), X: x, Y: y})
		if err != nil {
			t.Fatal(err)
		}
		return peer{der, func(t *testing.T, p *ecdsa.PublicKey) []byte {
			pub, err := smecdh.P256().NewPublicKey(elliptic.Marshal(sm2.P256(), p.X, p.Y))
			if err != nil {
				t.Fatal(err)
			}
			s, err := priv.ECDH(pub)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}}
	case "SECP256K1":
		priv, err := secp256k1.GeneratePrivateKey()
		if err != nil {
			t.Fatal(err)
		}
		params, _ := asn1.Marshal(oidSecp256k1)
		point := priv.PubKey().SerializeUncompressed()
		der, err := asn1.Marshal(spki{
			pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}, Parameters: asn1.RawValue{FullBytes: params}},
			asn1.BitString{Bytes: point, BitLength: 8 * len(point)},
		})
		if err != nil {
			t.Fatal(err)
		}
		return peer{der, func(t *testing.T, p *ecdsa.PublicKey) []byte {
			pub, err := secp256k1.ParsePubKey(elliptic.Marshal(p.Curve, p.X, p.Y))
			if err != nil {
				t.Fatal(err)
			}
			return secp256k1.GenerateSharedSecret(priv, pub)
		}}
	}
	t.Fatalf("no peer for %s", spec)
	return peer{}
}

func derive(t *testing.T, c *kms.KmsClient, keyID string, peerDER []byte, recipient *model.Recipient) (*model.DeriveSharedSecretResponse, error) {
	t.Helper()
	return c.DeriveSharedSecret(&model.DeriveSharedSecretRequest{Body: &model.DeriveSharedSecretRequestBody{
		KeyId:                 keyID,
		KeyAgreementAlgorithm: sdkEnum[model.DeriveSharedSecretRequestBodyKeyAgreementAlgorithm](t, "ECDH"),
		PublicKey:             base64.StdEncoding.EncodeToString(peerDER),
		Recipient:             recipient,
	}})
}

// TestDeriveSharedSecret runs ECDH through the SDK with a KEY_AGREEMENT key
// of every curve (created with a raw request: the SDK's CreateKey enum has
// no KEY_AGREEMENT) and checks the secret equals a local computation with
// the kmsd key's public key; then the refusals.
func TestDeriveSharedSecret(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	peers := map[string]peer{}
	keys := map[string]string{}
	for _, spec := range []string{"EC_P256", "EC_P384", "SECP256K1", "SM2"} {
		keys[spec] = createKeyRaw(t, e, spec, "KEY_AGREEMENT")
		peers[spec] = newPeer(t, spec)
		t.Run(spec, func(t *testing.T) {
			if got := enumValue(describe(t, c, keys[spec]).KeyUsage); got != "KEY_AGREEMENT" {
				t.Errorf("describe-key: key_usage %s", got)
			}
			resp, err := derive(t, c, keys[spec], peers[spec].spki, nil)
			if err != nil {
				t.Fatal(err)
			}
			addSecret(val(resp.SharedSecret))
			got, err := base64.StdEncoding.DecodeString(val(resp.SharedSecret))
			if err != nil {
				t.Fatalf("shared_secret is not base64: %v", err)
			}
			want := peers[spec].secret(t, parseSPKI(t, publicKeyDER(t, c, keys[spec])).(*ecdsa.PublicKey))
			if !bytes.Equal(got, want) || len(want) == 0 {
				t.Errorf("got secret %x, want %x", got, want)
			}
			if val(resp.KeyId) != keys[spec] || val(resp.KeyAgreementAlgorithm) != "ECDH" || resp.CiphertextRecipient != nil {
				t.Errorf("got key_id %s, key_agreement_algorithm %s, ciphertext_recipient %v", val(resp.KeyId), val(resp.KeyAgreementAlgorithm), resp.CiphertextRecipient)
			}
		})
	}
	signKey := sdkKey(t, c, "EC_P256", "")
	aes := sdkKey(t, c, "AES_256", "")
	p256 := keys["EC_P256"]
	offCurve := bytes.Clone(peers["EC_P256"].spki)
	offCurve[len(offCurve)-1] ^= 1
	tests := []struct {
		name   string
		keyID  string
		peer   []byte
		rcpt   *model.Recipient
		status int
		code   string
	}{
		{"peer on P-384", p256, peers["EC_P384"].spki, nil, 400, "KMS.0308"},
		{"SM2 peer for a P-256 key", p256, peers["SM2"].spki, nil, 400, "KMS.0308"},
		{"P-256 peer for an SM2 key", keys["SM2"], peers["EC_P256"].spki, nil, 400, "KMS.0308"},
		{"point off the curve", p256, offCurve, nil, 400, "KMS.0308"},
		{"not DER", p256, []byte("peer"), nil, 400, "KMS.0308"},
		{"signing key", signKey, peers["EC_P256"].spki, nil, 400, "KMS.0335"},
		{"symmetric key", aes, peers["EC_P256"].spki, nil, 400, "KMS.0331"},
		{"recipient", p256, peers["EC_P256"].spki, &model.Recipient{AttestationDocument: ptr("doc"), KeyEncryptionAlgorithm: ptr("RSAES_OAEP_SHA_256")}, 501, "KMSD.0501"},
		{"unknown key", unknownKeyID, peers["EC_P256"].spki, nil, 404, "KMS.0207"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := derive(t, c, tt.keyID, tt.peer, tt.rcpt)
			wantError(t, err, tt.status, tt.code)
		})
	}
	if _, err := c.DisableKey(&model.DisableKeyRequest{Body: &model.OperateKeyRequestBody{KeyId: p256}}); err != nil {
		t.Fatal(err)
	}
	_, err := derive(t, c, p256, peers["EC_P256"].spki, nil)
	wantError(t, err, 400, "KMS.0209")
	// KEY_AGREEMENT keys cannot sign.
	_, err = sign(t, c, keys["SM2"], "SM2DSA_SM3", "", make([]byte, 32))
	wantError(t, err, 400, "KMS.0308")
}

// parsePKCS8 parses a data key pair's private key with crypto/x509,
// smx509 (SM2) or encoding/asn1 and decred (secp256k1) and returns its
// public key.
func parsePKCS8(t *testing.T, der []byte) crypto.PublicKey {
	t.Helper()
	var info struct {
		Version    int
		Algo       pkix.AlgorithmIdentifier
		PrivateKey []byte
	}
	if rest, err := asn1.Unmarshal(der, &info); err != nil || len(rest) > 0 {
		t.Fatalf("PKCS #8: %v", err)
	}
	var curve asn1.ObjectIdentifier
	_, _ = asn1.Unmarshal(info.Algo.Parameters.FullBytes, &curve)
	if curve.Equal(oidSecp256k1) {
		var ec struct {
			Version    int
			PrivateKey []byte
			Curve      asn1.ObjectIdentifier `asn1:"optional,explicit,tag:0"`
			PublicKey  asn1.BitString        `asn1:"optional,explicit,tag:1"`
		}
		if _, err := asn1.Unmarshal(info.PrivateKey, &ec); err != nil || ec.Version != 1 || len(ec.PrivateKey) != 32 {
			t.Fatalf("secp256k1 ECPrivateKey: %v", err)
		}
		k := secp256k1.PrivKeyFromBytes(ec.PrivateKey)
		if !bytes.Equal(k.PubKey().SerializeUncompressed(), ec.PublicKey.Bytes) {
			t.Fatal("secp256k1 ECPrivateKey: the public key is not the scalar's")
		}
		return k.PubKey().ToECDSA()
	}
	if priv, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		return priv.(crypto.Signer).Public()
	}
	priv, err := smx509.ParsePKCS8PrivateKey(der)
	if err != nil {
		t.Fatalf("PKCS #8: %v", err)
	}
	return priv.(crypto.Signer).Public()
}

// pairResult is what both data key pair operations answer.
type pairResult struct {
	keyID, keySpec, public, cipher string
	plain                          *string
}

func createPair(t *testing.T, c *kms.KmsClient, keyID, spec string, withPlain *bool, aad *string) (pairResult, error) {
	t.Helper()
	if strings.HasPrefix(spec, "RSA_") {
		resp, err := c.CreateRsaDatakeyPair(&model.CreateRsaDatakeyPairRequest{Body: &model.CreateRsaDatakeyPairRequestBody{
			KeyId: keyID, KeySpec: sdkEnum[model.CreateRsaDatakeyPairRequestBodyKeySpec](t, spec), WithPlainText: withPlain, AdditionalAuthenticatedData: aad}})
		if err != nil {
			return pairResult{}, err
		}
		return pairResult{val(resp.KeyId), enumValue(resp.KeySpec), val(resp.PublicKey), val(resp.PrivateKeyCipherText), resp.PrivateKeyPlainText}, nil
	}
	resp, err := c.CreateEcDatakeyPair(&model.CreateEcDatakeyPairRequest{Body: &model.CreateEcDatakeyPairRequestBody{
		KeyId: keyID, KeySpec: sdkEnum[model.CreateEcDatakeyPairRequestBodyKeySpec](t, spec), WithPlainText: withPlain, AdditionalAuthenticatedData: aad}})
	if err != nil {
		return pairResult{}, err
	}
	return pairResult{val(resp.KeyId), enumValue(resp.KeySpec), val(resp.PublicKey), val(resp.PrivateKeyCipherText), resp.PrivateKeyPlainText}, nil
}

// TestDataKeyPairs creates a pair of every spec through the SDK under
// AES_256 and SM4 keys: the private key parses and matches the public key;
// with_plain_text false leaves it out; and, once decrypt-data is served,
// decrypt-data returns the private key from private_key_cipher_text.
func TestDataKeyPairs(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	cmks := []string{sdkKey(t, c, "AES_256", ""), sdkKey(t, c, "SM4", "")}
	// RSA_4096 is left to the kms unit tests: slow under -race.
	for i, spec := range []string{"RSA_2048", "RSA_3072", "ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521", "ECC_SECG_P256K1", "SM2"} {
		t.Run(spec, func(t *testing.T) {
			t.Parallel()
			cmk := cmks[i%2]
			aad := "pair-" + spec
			p, err := createPair(t, c, cmk, spec, nil, &aad)
			if err != nil {
				t.Fatal(err)
			}
			if p.plain == nil {
				t.Fatal("no private_key_plain_text without with_plain_text")
			}
			addSecret(*p.plain)
			if p.keyID != cmk || p.keySpec != spec {
				t.Errorf("got key_id %s key_spec %s", p.keyID, p.keySpec)
			}
			der, err := base64.StdEncoding.DecodeString(p.public)
			if err != nil {
				t.Fatalf("public_key is not base64: %v", err)
			}
			pub := parseSPKI(t, der)
			plain, err := base64.StdEncoding.DecodeString(*p.plain)
			if err != nil {
				t.Fatalf("private_key_plain_text is not base64: %v", err)
			}
			if !pub.(interface{ Equal(crypto.PublicKey) bool }).Equal(parsePKCS8(t, plain)) {
				t.Error("the private key does not match the public key")
			}
			if _, err := base64.StdEncoding.DecodeString(p.cipher); err != nil || len(p.cipher) < 128 {
				t.Errorf("private_key_cipher_text %q: %v", p.cipher, err)
			}
			resp, err := c.DecryptData(&model.DecryptDataRequest{Body: &model.DecryptDataRequestBody{CipherText: p.cipher, AdditionalAuthenticatedData: &aad}})
			switch {
			case isNotImplemented(err):
				t.Log("decrypt-data is not served yet; the private key ciphertext is checked by the kms tests")
			case err != nil:
				t.Errorf("DecryptData of private_key_cipher_text: %v", err)
			case val(resp.PlainTextBase64) != *p.plain:
				t.Error("DecryptData of private_key_cipher_text did not return the private key")
			}
			no, err := createPair(t, c, cmk, spec, ptr(false), nil)
			if err != nil {
				t.Fatal(err)
			}
			if no.plain != nil || no.public == "" || no.cipher == "" {
				t.Errorf("with_plain_text false: got plain %v, public %q, cipher %q", no.plain, no.public, no.cipher)
			}
		})
	}
}

// isNotImplemented reports whether err is kmsd's 501 for an operation it
// does not serve yet.
func isNotImplemented(err error) bool {
	var se *sdkerr.ServiceResponseError
	return errors.As(err, &se) && se.StatusCode == 501 && se.ErrorCode == "KMSD.0501"
}

// TestDataKeyPairErrors checks the refusals of the data key pair
// operations.
func TestDataKeyPairErrors(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	ec := sdkKey(t, c, "EC_P256", "")
	sm2Enc := sdkKey(t, c, "SM2", "ENCRYPT_DECRYPT")
	hmacKey := createKeyRaw(t, e, "HMAC_SM3", "GENERATE_VERIFY_MAC")
	aes := sdkKey(t, c, "AES_256", "")
	long := strings.Repeat("a", 129)
	tests := []struct {
		name, keyID, spec string
		aad               *string
		status            int
		code              string
	}{
		{"EC key", ec, "SM2", nil, 400, "KMS.0325"},
		{"SM2 encryption key", sm2Enc, "ECC_NIST_P256", nil, 400, "KMS.0325"},
		{"HMAC key", hmacKey, "RSA_2048", nil, 400, "KMS.0341"},
		{"AAD of 129 bytes", aes, "ECC_SECG_P256K1", &long, 400, "KMS.0308"},
		{"unknown key", unknownKeyID, "SM2", nil, 404, "KMS.0207"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := createPair(t, c, tt.keyID, tt.spec, nil, tt.aad)
			wantError(t, err, tt.status, tt.code)
		})
	}
	if _, err := c.DisableKey(&model.DisableKeyRequest{Body: &model.OperateKeyRequestBody{KeyId: aes}}); err != nil {
		t.Fatal(err)
	}
	_, err := createPair(t, c, aes, "ECC_NIST_P256", nil, nil)
	wantError(t, err, 400, "KMS.0209")
	// The raw answer: with_plain_text is a JSON boolean, a string is
	// malformed.
	body := `{"key_id":"` + aes + `","key_spec":"SM2","with_plain_text":"false"}` + "\n"
	status, h, b := rawCall(t, e, "POST", e.projectPath("create-ec-datakey-pair"), []byte(body), e.ids.AdminAK, e.ids.AdminSK)
	wantRawError(t, status, h, b, 400, "KMS.0202")
}
