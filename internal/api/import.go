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

func (h *Handler) getParametersForImport(c *call) (any, error) {
	id, f, err := keyRequest(c)
	if err != nil {
		return nil, err
	}
	alg, err := requiredText(f, "wrapping_algorithm")
	if err != nil {
		return nil, err
	}
	// wrapping_key_spec is kmsd's own optional member (RSA_2048 by
	// default, as Huawei's).
	spec, _, err := f.str("wrapping_key_spec", false)
	if err != nil {
		return nil, err
	}
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

func (h *Handler) importKeyMaterial(c *call) (any, error) {
	id, f, err := keyRequest(c)
	if err != nil {
		return nil, err
	}
	in := kms.ImportMaterialInput{ProjectID: c.project(), KeyID: id}
	if in.Token, err = requiredText(f, "import_token"); err != nil {
		return nil, err
	}
	wrapped, err := requiredText(f, "encrypted_key_material")
	if err != nil {
		return nil, err
	}
	if in.EncryptedMaterial, err = base64.StdEncoding.DecodeString(wrapped); err != nil {
		return nil, fmt.Errorf("%w: encrypted_key_material is not base64", kms.ErrInvalidParameter)
	}
	if priv, _, err := f.str("encrypted_privatekey", false); err != nil {
		return nil, err
	} else if priv != "" {
		if in.EncryptedPrivateKey, err = base64.StdEncoding.DecodeString(priv); err != nil {
			return nil, fmt.Errorf("%w: encrypted_privatekey is not base64", kms.ErrInvalidParameter)
		}
	}
	if sec, ok, err := intMember(f, "expiration_time", false, 64, kms.ErrInvalidParameter); err != nil {
		return nil, err
	} else if ok {
		in.ExpiresAt = time.Unix(sec, 0)
	}
	if _, err := h.kms.ImportKeyMaterial(c.ctx, in); err != nil {
		return nil, err
	}
	return nil, nil // an empty 200, as the reference shows
}

func (h *Handler) deleteImportedKeyMaterial(c *call) (any, error) {
	id, _, err := keyRequest(c)
	if err != nil {
		return nil, err
	}
	if _, err := h.kms.DeleteImportedKeyMaterial(c.ctx, c.project(), id); err != nil {
		return nil, err
	}
	return nil, nil
}
