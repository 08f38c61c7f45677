package api

import (
	"encoding/base64"
	"fmt"
	"time"

	"github.com/kmsd/kmsd/internal/kms"
)

// Import of key material (reference kms-api.md §5.K).

// importParameters is the answer of get-parameters-for-import;
// expiration_time is a JSON integer of Unix seconds.
type importParameters struct {
	KeyID          string `json:"key_id"`
	ImportToken    string `json:"import_token"`
	ExpirationTime int64  `json:"expiration_time"`
	PublicKey      string `json:"public_key"`
}

// getParametersForImportRequest is CreateParametersForImportRequestBody;
// wrapping_key_spec is kmsd's own optional member (RSA_2048 by default,
// as Huawei's).
type getParametersForImportRequest struct {
	KeyID             string `json:"key_id" kms:"nonempty,key"`
	WrappingAlgorithm string `json:"wrapping_algorithm" kms:"nonempty"`
	sequenced
	WrappingKeySpec string `json:"wrapping_key_spec" kms:"own"`
}

func (h *Handler) getParametersForImport(c *call, r *getParametersForImportRequest) (any, error) {
	id, alg, spec := r.KeyID, r.WrappingAlgorithm, r.WrappingKeySpec
	p, err := h.kms.GetParametersForImport(c.ctx, kms.ImportParametersInput{
		ProjectID: c.project(), KeyID: id, WrappingAlgorithm: alg, WrappingKeySpec: spec,
	})
	if err != nil {
		return nil, err
	}
	return importParameters{
		KeyID: p.KeyID, ImportToken: p.Token, ExpirationTime: p.ExpiresAt.Unix(),
		PublicKey: base64.StdEncoding.EncodeToString(p.PublicKey),
	}, nil
}

// importKeyMaterialRequest is ImportKeyMaterialRequestBody;
// expiration_time is a JSON integer of Unix seconds (int64 in the SDK).
type importKeyMaterialRequest struct {
	KeyID                string `json:"key_id" kms:"nonempty,key"`
	ImportToken          string `json:"import_token" kms:"nonempty"`
	EncryptedKeyMaterial string `json:"encrypted_key_material" kms:"nonempty"`
	EncryptedPrivateKey  string `json:"encrypted_privatekey"`
	ExpirationTime       *int64 `json:"expiration_time"`
	sequenced
}

func (h *Handler) importKeyMaterial(c *call, r *importKeyMaterialRequest) (any, error) {
	in := kms.ImportMaterialInput{ProjectID: c.project(), KeyID: r.KeyID, Token: r.ImportToken}
	var err error
	if in.EncryptedMaterial, err = base64.StdEncoding.DecodeString(r.EncryptedKeyMaterial); err != nil {
		return nil, fmt.Errorf("%w: encrypted_key_material is not base64", kms.ErrInvalidParameter)
	}
	if r.EncryptedPrivateKey != "" {
		if in.EncryptedPrivateKey, err = base64.StdEncoding.DecodeString(r.EncryptedPrivateKey); err != nil {
			return nil, fmt.Errorf("%w: encrypted_privatekey is not base64", kms.ErrInvalidParameter)
		}
	}
	if r.ExpirationTime != nil {
		in.ExpiresAt = time.Unix(*r.ExpirationTime, 0)
	}
	if _, err := h.kms.ImportKeyMaterial(c.ctx, in); err != nil {
		return nil, err
	}
	return nil, nil // an empty 200, as the reference shows
}

func (h *Handler) deleteImportedKeyMaterial(c *call, r *keyRequest) (any, error) {
	if _, err := h.kms.DeleteImportedKeyMaterial(c.ctx, c.project(), r.KeyID); err != nil {
		return nil, err
	}
	return nil, nil
}
