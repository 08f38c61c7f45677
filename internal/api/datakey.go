package api

import (
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
