package api

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/kmsd/kmsd/internal/kms"
)

// dataKeyInput decodes create-datakey and create-datakey-without-plaintext
// (reference kms-api.md §5.D). pin and pin_type serve Huawei's level-4
// assessment flows only; pin_type is checked, pin only typed (schema.go).
func dataKeyInput(c *call) (kms.CreateDataKeyInput, error) {
	id, f, err := keyRequest(c)
	if err != nil {
		return kms.CreateDataKeyInput{}, err
	}
	in := kms.CreateDataKeyInput{ProjectID: c.project(), KeyID: id}
	// kms checks the value: an unknown key_spec is KMS.1902.
	if in.KeySpec, _, err = f.str("key_spec", false); err != nil {
		return in, err
	}
	if in.Bits, in.HasBits, err = f.numericString("datakey_length", false, kms.ErrDataKeyLengthRange); err != nil {
		return in, err
	}
	if in.AAD, err = aadField(f, "additional_authenticated_data"); err != nil {
		return in, err
	}
	if _, err = enum(f, "pin_type", "CipherText", "PlainText"); err != nil {
		return in, err
	}
	return in, nil
}

type createDataKeyResponse struct {
	KeyID      string `json:"key_id"`
	PlainText  string `json:"plain_text"`
	CipherText string `json:"cipher_text"`
}

func (h *Handler) createDataKey(c *call) (any, error) {
	in, err := dataKeyInput(c)
	if err != nil {
		return nil, err
	}
	dek, blob, err := h.kms.CreateDataKey(c.ctx, in)
	if err != nil {
		return nil, err
	}
	defer clear(dek)
	return createDataKeyResponse{KeyID: in.KeyID, PlainText: upperHex(dek), CipherText: upperHex(blob)}, nil
}

type createDataKeyWithoutPlaintextResponse struct {
	KeyID      string `json:"key_id"`
	CipherText string `json:"cipher_text"`
}

func (h *Handler) createDataKeyWithoutPlaintext(c *call) (any, error) {
	in, err := dataKeyInput(c)
	if err != nil {
		return nil, err
	}
	dek, blob, err := h.kms.CreateDataKey(c.ctx, in)
	if err != nil {
		return nil, err
	}
	clear(dek)
	return createDataKeyWithoutPlaintextResponse{KeyID: in.KeyID, CipherText: upperHex(blob)}, nil
}

type encryptDataKeyResponse struct {
	KeyID         string `json:"key_id"`
	CipherText    string `json:"cipher_text"`
	DatakeyLength string `json:"datakey_length"`
}

func (h *Handler) encryptDataKey(c *call) (any, error) {
	id, f, err := keyRequest(c)
	if err != nil {
		return nil, err
	}
	s, err := requiredText(f, "plain_text")
	if err != nil {
		return nil, err
	}
	n, _, err := f.numericString("datakey_plain_length", true, kms.ErrInvalidParameter)
	if err != nil {
		return nil, err
	}
	aad, err := aadField(f, "additional_authenticated_data")
	if err != nil {
		return nil, err
	}
	if _, err = enum(f, "key_spec", "SM2", "RSA"); err != nil {
		return nil, err
	}
	plain, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: plain_text is not hex", kms.ErrInvalidDataKeyPlaintext)
	}
	defer clear(plain)
	blob, err := h.kms.EncryptDataKey(c.ctx, c.project(), id, plain, n, aad)
	if err != nil {
		return nil, err
	}
	return encryptDataKeyResponse{KeyID: id, CipherText: upperHex(blob), DatakeyLength: strconv.Itoa(n)}, nil
}

type decryptDataKeyResponse struct {
	DataKey       string `json:"data_key"`
	DatakeyLength string `json:"datakey_length"`
	DatakeyDgst   string `json:"datakey_dgst"`
}

func (h *Handler) decryptDataKey(c *call) (any, error) {
	id, f, err := keyRequest(c)
	if err != nil {
		return nil, err
	}
	s, err := requiredText(f, "cipher_text")
	if err != nil {
		return nil, err
	}
	n, _, err := f.numericString("datakey_cipher_length", true, kms.ErrInvalidParameter)
	if err != nil {
		return nil, err
	}
	aad, err := aadField(f, "additional_authenticated_data")
	if err != nil {
		return nil, err
	}
	blob, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: cipher_text is not hex", kms.ErrInvalidDataKeyCiphertext)
	}
	dek, digest, err := h.kms.DecryptDataKey(c.ctx, c.project(), id, blob, n, aad)
	if err != nil {
		return nil, err
	}
	defer clear(dek)
	return decryptDataKeyResponse{DataKey: upperHex(dek), DatakeyLength: strconv.Itoa(len(dek)), DatakeyDgst: upperHex(digest)}, nil
}

// Data key pair specs of the two operations (reference kms-api.md §5.D).
var (
	rsaPairSpecs = []string{"RSA_2048", "RSA_3072", "RSA_4096"}
	ecPairSpecs  = []string{"ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521", "ECC_SECG_P256K1", "SM2"}
)

// dataKeyPairResponse is CreateRsaDatakeyPairResponse and
// CreateEcDatakeyPairResponse: public_key is base64 DER
// SubjectPublicKeyInfo, private_key_plain_text base64 PKCS #8 DER (absent
// when with_plain_text is false), private_key_cipher_text base64 of an
// encrypt-data ciphertext that decrypt-data opens.
type dataKeyPairResponse struct {
	KeyID                string `json:"key_id"`
	KeySpec              string `json:"key_spec"`
	PublicKey            string `json:"public_key"`
	PrivateKeyCipherText string `json:"private_key_cipher_text"`
	PrivateKeyPlainText  string `json:"private_key_plain_text,omitempty"`
}

func (h *Handler) createRSADataKeyPair(c *call) (any, error) {
	return h.createDataKeyPair(c, rsaPairSpecs)
}

// createECDataKeyPair ignores pin and pin_type, which the schema types.
func (h *Handler) createECDataKeyPair(c *call) (any, error) {
	return h.createDataKeyPair(c, ecPairSpecs)
}

// createDataKeyPair serves both data key pair operations; specs are the
// operation's key_spec values.
func (h *Handler) createDataKeyPair(c *call, specs []string) (any, error) {
	id, f, err := keyRequest(c)
	if err != nil {
		return nil, err
	}
	spec, err := requiredText(f, "key_spec")
	if err != nil {
		return nil, err
	}
	if spec, err = enum(f, "key_spec", specs...); err != nil {
		return nil, err
	}
	withPlain, err := optionalBool(f, "with_plain_text", true)
	if err != nil {
		return nil, err
	}
	aad, _, err := f.str("additional_authenticated_data", false)
	if err != nil {
		return nil, err
	}
	p, err := h.kms.CreateDataKeyPair(c.ctx, kms.DataKeyPairInput{ProjectID: c.project(), KeyID: id, Spec: spec, AAD: []byte(aad)})
	if err != nil {
		return nil, err
	}
	defer clear(p.PrivateKey)
	resp := dataKeyPairResponse{
		KeyID: id, KeySpec: spec,
		PublicKey:            base64.StdEncoding.EncodeToString(p.PublicKey),
		PrivateKeyCipherText: base64.StdEncoding.EncodeToString(p.PrivateKeyCiphertext),
	}
	if withPlain {
		resp.PrivateKeyPlainText = base64.StdEncoding.EncodeToString(p.PrivateKey)
	}
	return resp, nil
}
