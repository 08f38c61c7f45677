package api

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/kmsd/kmsd/internal/kms"
)

// createDataKeyRequest is CreateDatakeyRequestBody; a create-datakey
// grant lets a grantee call it. pin and pin_type serve Huawei's level-4
// assessment flows only; pin_type is checked, pin only typed.
type createDataKeyRequest struct {
	KeyID string `json:"key_id" kms:"nonempty,key=create-datakey"`
	dataKeyMembers
}

// createDataKeyWithoutPlaintextRequest is
// CreateDatakeyWithoutPlaintextRequestBody, with its own grant operation.
type createDataKeyWithoutPlaintextRequest struct {
	KeyID string `json:"key_id" kms:"nonempty,key=create-datakey-without-plaintext"`
	dataKeyMembers
}

// dataKeyMembers are the members the two create-datakey operations share.
type dataKeyMembers struct {
	// KeySpec is checked by kms: an unknown key_spec is KMS.1902.
	KeySpec       string  `json:"key_spec"`
	DatakeyLength numeric `json:"datakey_length"`
	AAD           string  `json:"additional_authenticated_data"`
	sequenced
	Pin     string `json:"pin"`
	PinType string `json:"pin_type"`
}

// dataKeyInput is the input of both create-datakey operations.
func dataKeyInput(c *call, keyID string, r *dataKeyMembers) (kms.CreateDataKeyInput, error) {
	in := kms.CreateDataKeyInput{
		ProjectID: c.project(), KeyID: keyID, KeySpec: r.KeySpec,
		Bits: r.DatakeyLength.N, HasBits: r.DatakeyLength.Set, AAD: aadBytes(r.AAD),
	}
	_, err := enum("pin_type", r.PinType, "CipherText", "PlainText")
	return in, err
}

type createDataKeyResponse struct {
	KeyID      string `json:"key_id"`
	PlainText  string `json:"plain_text"`
	CipherText string `json:"cipher_text"`
}

func (h *Handler) createDataKey(c *call, r *createDataKeyRequest) (any, error) {
	in, err := dataKeyInput(c, r.KeyID, &r.dataKeyMembers)
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

func (h *Handler) createDataKeyWithoutPlaintext(c *call, r *createDataKeyWithoutPlaintextRequest) (any, error) {
	in, err := dataKeyInput(c, r.KeyID, &r.dataKeyMembers)
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

// encryptDataKeyRequest is EncryptDatakeyRequestBody; an
// encrypt-datakey grant lets a grantee call it.
type encryptDataKeyRequest struct {
	KeyID              string  `json:"key_id" kms:"nonempty,key=encrypt-datakey"`
	PlainText          string  `json:"plain_text" kms:"nonempty"`
	DatakeyPlainLength numeric `json:"datakey_plain_length" kms:"req"`
	AAD                string  `json:"additional_authenticated_data"`
	sequenced
	Pin     string `json:"pin"`
	PinType string `json:"pin_type"`
	KeySpec string `json:"key_spec"`
}

func (h *Handler) encryptDataKey(c *call, r *encryptDataKeyRequest) (any, error) {
	if _, err := enum("key_spec", r.KeySpec, "SM2", "RSA"); err != nil {
		return nil, err
	}
	id, s, n, aad := r.KeyID, r.PlainText, r.DatakeyPlainLength.N, aadBytes(r.AAD)
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

// decryptDataKeyRequest is DecryptDatakeyRequestBody; a decrypt-datakey
// grant lets a grantee call it.
type decryptDataKeyRequest struct {
	KeyID               string  `json:"key_id" kms:"nonempty,key=decrypt-datakey"`
	CipherText          string  `json:"cipher_text" kms:"nonempty"`
	DatakeyCipherLength numeric `json:"datakey_cipher_length" kms:"req"`
	AAD                 string  `json:"additional_authenticated_data"`
	sequenced
}

func (h *Handler) decryptDataKey(c *call, r *decryptDataKeyRequest) (any, error) {
	id, s, n, aad := r.KeyID, r.CipherText, r.DatakeyCipherLength.N, aadBytes(r.AAD)
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

// rsaDataKeyPairRequest is CreateRsaDatakeyPairRequestBody.
type rsaDataKeyPairRequest struct {
	dataKeyPairMembers
}

// ecDataKeyPairRequest is CreateEcDatakeyPairRequestBody; pin and
// pin_type are only typed.
type ecDataKeyPairRequest struct {
	dataKeyPairMembers
	Pin     string `json:"pin"`
	PinType string `json:"pin_type"`
}

// dataKeyPairMembers are the members the two operations share.
type dataKeyPairMembers struct {
	KeyID         string `json:"key_id" kms:"nonempty,key"`
	KeySpec       string `json:"key_spec" kms:"nonempty"`
	WithPlainText *bool  `json:"with_plain_text"`
	AAD           string `json:"additional_authenticated_data"`
	sequenced
}

func (h *Handler) createRSADataKeyPair(c *call, r *rsaDataKeyPairRequest) (any, error) {
	return h.createDataKeyPair(c, &r.dataKeyPairMembers, rsaPairSpecs)
}

func (h *Handler) createECDataKeyPair(c *call, r *ecDataKeyPairRequest) (any, error) {
	return h.createDataKeyPair(c, &r.dataKeyPairMembers, ecPairSpecs)
}

// createDataKeyPair serves both data key pair operations; specs are the
// operation's key_spec values.
func (h *Handler) createDataKeyPair(c *call, r *dataKeyPairMembers, specs []string) (any, error) {
	id := r.KeyID
	spec, err := enum("key_spec", r.KeySpec, specs...)
	if err != nil {
		return nil, err
	}
	withPlain := r.WithPlainText == nil || *r.WithPlainText
	aad := r.AAD
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
