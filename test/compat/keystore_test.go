package compat

import (
	"encoding/hex"
	"testing"

	kms "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2/model"

	kmsdconfig "github.com/kmsd/kmsd/internal/config"
	"github.com/kmsd/kmsd/internal/hsm/softhsm"
)

func keystoreType(t *testing.T, v string) *model.CreateKeyStoreRequestBodyKeystoreType {
	t.Helper()
	var k model.CreateKeyStoreRequestBodyKeystoreType
	if err := k.UnmarshalJSON([]byte(`"` + v + `"`)); err != nil {
		t.Fatal(err)
	}
	return &k
}

func createKeyStore(c *kms.KmsClient, alias, cluster, typ *string, t *testing.T) (*model.CreateKeyStoreResponse, error) {
	body := &model.CreateKeyStoreRequestBody{KeystoreAlias: *alias, HsmClusterId: cluster}
	if typ != nil {
		body.KeystoreType = keystoreType(t, *typ)
	}
	return c.CreateKeyStore(&model.CreateKeyStoreRequest{Body: body})
}

func keystoreKey(t *testing.T, c *kms.KmsClient, alias, keystoreID string, spec *model.CreateKeyRequestBodyKeySpec, origin *model.CreateKeyRequestBodyOrigin) (string, error) {
	t.Helper()
	resp, err := c.CreateKey(&model.CreateKeyRequest{Body: &model.CreateKeyRequestBody{KeyAlias: alias, KeystoreId: &keystoreID, KeySpec: spec, Origin: origin}})
	if err != nil {
		return "", err
	}
	return text(resp.KeyInfo.KeyId), nil
}

// TestKeystores runs the six keystore operations and keys in a dedicated
// keystore through the official SDK against SoftHSM2 tokens: the key is
// made in the token, encrypts, decrypts and protects data keys there, is
// refused rotation, stops with its keystore, survives a restart, and
// answers a clear error when its token leaves the configuration.
func TestKeystores(t *testing.T) {
	tokens := softhsm.New(t, "ks1", "ks2")
	clusters := []kmsdconfig.HSMCluster{
		{ID: "hsm-1", Module: tokens.Module, TokenLabel: "ks1", PinFile: tokens.PINFile},
		{ID: "hsm-2", Module: tokens.Module, TokenLabel: "ks2", PinFile: tokens.PINFile},
	}
	dir := t.TempDir()
	e := start(t, envOptions{dir: dir, hsm: clusters})
	c := e.admin()

	// create-keystore and its refusals.
	resp, err := createKeyStore(c, ptr("ks-a"), ptr("hsm-1"), ptr("DHSM"), t)
	if err != nil {
		t.Fatalf("CreateKeyStore: %v", err)
	}
	ksID := text(resp.Keystore.KeystoreId)
	if text(resp.Keystore.DomainId) != e.ids.AccountID || len(ksID) != 36 {
		t.Errorf("CreateKeyStore answered %v", resp)
	}
	_, err = createKeyStore(c, ptr("ks-b"), ptr("hsm-1"), nil, t)
	wantError(t, err, 400, "KMS.0308") // the token backs ks-a
	_, err = createKeyStore(c, ptr("ks-b"), ptr("no-such-hsm"), nil, t)
	wantError(t, err, 400, "KMS.0308")
	_, err = createKeyStore(c, ptr("ks-b"), nil, nil, t)
	wantError(t, err, 400, "KMS.0308")
	_, err = createKeyStore(c, ptr("ks-a"), ptr("hsm-2"), nil, t)
	wantError(t, err, 400, "KMS.0308") // alias taken
	_, err = createKeyStore(c, ptr("bad alias!"), ptr("hsm-2"), nil, t)
	wantError(t, err, 400, "KMS.1101")
	_, err = createKeyStore(c, ptr("ks-c"), ptr("hsm-2"), ptr("CDMS"), t)
	wantError(t, err, 400, "KMS.0340")
	_, err = createKeyStore(e.reader(), ptr("ks-r"), ptr("hsm-2"), nil, t)
	wantError(t, err, 403, "KMS.0307")

	// list and show.
	list, err := c.ListKeyStores(&model.ListKeyStoresRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if list.Total == nil || *list.Total != 1 || list.Keystores == nil || len(*list.Keystores) != 1 {
		t.Fatalf("ListKeyStores answered %v", list)
	}
	show, err := c.ShowKeyStore(&model.ShowKeyStoreRequest{KeystoreId: ksID})
	if err != nil {
		t.Fatal(err)
	}
	d := show.Keystore
	if text(d.KeystoreId) != ksID || text(d.KeystoreAlias) != "ks-a" || text(d.KeystoreType) != "DHSM" || text(d.HsmClusterId) != "hsm-1" || text(d.CreateTime) == "<absent>" {
		t.Errorf("ShowKeyStore answered %v", d)
	}
	_, err = c.ShowKeyStore(&model.ShowKeyStoreRequest{KeystoreId: "00000000-0000-4000-8000-000000000000"})
	wantError(t, err, 400, "KMS.0340")
	_, err = e.admin2().ShowKeyStore(&model.ShowKeyStoreRequest{KeystoreId: ksID})
	wantError(t, err, 400, "KMS.0340") // another account's project

	// Keys in the keystore.
	specs := model.GetCreateKeyRequestBodyKeySpecEnum()
	keyID, err := keystoreKey(t, c, "in-hsm", ksID, nil, nil)
	if err != nil {
		t.Fatalf("CreateKey in the keystore: %v", err)
	}
	_, err = keystoreKey(t, c, "in-hsm-sm4", ksID, &specs.SM4, nil)
	wantError(t, err, 400, "KMS.0340")
	ext := model.GetCreateKeyRequestBodyOriginEnum().EXTERNAL
	_, err = keystoreKey(t, c, "in-hsm-ext", ksID, nil, &ext)
	wantError(t, err, 400, "KMS.0339")
	_, err = keystoreKey(t, c, "in-no-ks", "00000000-0000-4000-8000-000000000000", nil, nil)
	wantError(t, err, 400, "KMS.0340")
	det, err := c.ListKeyDetail(&model.ListKeyDetailRequest{Body: &model.OperateKeyRequestBody{KeyId: keyID}})
	if err != nil {
		t.Fatal(err)
	}
	if text(det.KeyInfo.KeystoreId) != ksID {
		t.Errorf("describe-key keystore_id %q, want %s", text(det.KeyInfo.KeystoreId), ksID)
	}

	plain := secretText(t, "keystore")
	ct := encryptData(t, c, keyID, plain, ptr("ctx"))
	dec, err := decryptData(c, ct, ptr("ctx"), nil)
	if err != nil || text(dec.PlainText) != plain {
		t.Fatalf("DecryptData: %v, %v", dec, err)
	}
	_, err = decryptData(c, ct, ptr("other"), nil)
	wantError(t, err, 400, "KMS.0308")
	_, err = decryptData(c, flipByte(t, ct, -1), ptr("ctx"), nil)
	wantError(t, err, 400, "KMS.0308")
	dk, err := c.CreateDatakey(&model.CreateDatakeyRequest{Body: &model.CreateDatakeyRequestBody{KeyId: keyID}})
	if err != nil {
		t.Fatalf("CreateDatakey: %v", err)
	}
	addDEKSecret(text(dk.PlainText))
	dd, err := decryptDatakey(c, keyID, text(dk.CipherText), "32", nil)
	if err != nil {
		t.Fatalf("DecryptDatakey: %v", err)
	}
	if got, _ := hex.DecodeString(text(dd.DataKey)); hex.EncodeToString(got) == "" || !equalFoldHex(text(dd.DataKey), text(dk.PlainText)) {
		t.Errorf("decrypt-datakey returned another data key")
	}
	pin, err := c.CreatePin(&model.CreatePinRequest{Body: &model.CreatePinRequestBody{KeystoreId: &ksID}})
	if err != nil || len(text(pin.Pin)) != 122 {
		t.Errorf("CreatePin for the keystore: %v, %v", pin, err)
	}
	_, err = c.EnableKeyRotation(&model.EnableKeyRotationRequest{Body: &model.OperateKeyRequestBody{KeyId: keyID}})
	wantError(t, err, 400, "KMS.0338")

	// disable / enable.
	dis, err := c.DisableKeyStore(&model.DisableKeyStoreRequest{KeystoreId: ksID})
	if err != nil || text(dis.Keystore.KeystoreState) != "3" || text(dis.Keystore.KeystoreId) != ksID {
		t.Fatalf("DisableKeyStore: %v, %v", dis, err)
	}
	_, err = c.EncryptData(&model.EncryptDataRequest{Body: &model.EncryptDataRequestBody{KeyId: keyID, PlainText: plain}})
	wantError(t, err, 400, "KMS.0340")
	_, err = decryptData(c, ct, ptr("ctx"), nil)
	wantError(t, err, 400, "KMS.0340")
	_, err = keystoreKey(t, c, "in-disabled", ksID, nil, nil)
	wantError(t, err, 400, "KMS.0340")
	_, err = c.CreatePin(&model.CreatePinRequest{Body: &model.CreatePinRequestBody{KeystoreId: &ksID}})
	wantError(t, err, 400, "KMS.0340")
	en, err := c.EnableKeyStore(&model.EnableKeyStoreRequest{KeystoreId: ksID})
	if err != nil || text(en.Keystore.KeystoreState) != "2" {
		t.Fatalf("EnableKeyStore: %v, %v", en, err)
	}

	// delete-keystore waits for its keys to be destroyed.
	_, err = c.DeleteKeyStore(&model.DeleteKeyStoreRequest{KeystoreId: ksID})
	wantError(t, err, 400, "KMS.0308")
	ks2, err := createKeyStore(c, ptr("ks-empty"), ptr("hsm-2"), nil, t)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteKeyStore(&model.DeleteKeyStoreRequest{KeystoreId: text(ks2.Keystore.KeystoreId)}); err != nil {
		t.Fatalf("DeleteKeyStore of an empty keystore: %v", err)
	}
	_, err = c.ShowKeyStore(&model.ShowKeyStoreRequest{KeystoreId: text(ks2.Keystore.KeystoreId)})
	wantError(t, err, 400, "KMS.0340")
	builtin := cryptoKey(t, c, specs.AES_256, "")
	builtinCT := encryptData(t, c, builtin, plain, nil)

	// A restart keeps the key usable.
	e.close()
	e = start(t, envOptions{dir: dir, hsm: clusters})
	c = e.admin()
	dec, err = decryptData(c, ct, ptr("ctx"), nil)
	if err != nil || text(dec.PlainText) != plain {
		t.Fatalf("DecryptData after restart: %v, %v", dec, err)
	}

	// Without its token in the configuration, the keystore's keys answer
	// 503 KMSD.0503 and everything else works.
	e.close()
	e = start(t, envOptions{dir: dir, hsm: clusters[1:]})
	c = e.admin()
	_, err = decryptData(c, ct, ptr("ctx"), nil)
	wantError(t, err, 503, "KMSD.0503")
	_, err = c.EncryptData(&model.EncryptDataRequest{Body: &model.EncryptDataRequestBody{KeyId: keyID, PlainText: plain}})
	wantError(t, err, 503, "KMSD.0503")
	if _, err := c.ShowKeyStore(&model.ShowKeyStoreRequest{KeystoreId: ksID}); err != nil {
		t.Errorf("ShowKeyStore without its token: %v", err)
	}
	if dec, err := decryptData(c, builtinCT, nil, nil); err != nil || text(dec.PlainText) != plain {
		t.Errorf("a built-in key without the token: %v, %v", dec, err)
	}
}

func equalFoldHex(a, b string) bool {
	x, err1 := hex.DecodeString(a)
	y, err2 := hex.DecodeString(b)
	return err1 == nil && err2 == nil && hex.EncodeToString(x) == hex.EncodeToString(y)
}
