package api

import (
	"encoding/base64"
	"fmt"
	"strconv"
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
	if sec, ok, err := f.integer("expiration_time"); err != nil {
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

// integer returns a member the reference types as a JSON integer (int64 in
// the SDK). Absent or null is (0, false). A string, boolean or other JSON
// type is errMalformedJSON; a number that is not a 64-bit integer (1.5,
// 1e3, 1e30) is kms.ErrInvalidParameter.
func (f fields) integer(name string) (int64, bool, error) {
	raw, ok := f[name]
	if !ok || string(raw) == "null" {
		return 0, false, nil
	}
	if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
		return 0, false, fmt.Errorf("%w: %s must be a JSON number", errMalformedJSON, name)
	}
	v, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("%w: %s is not a 64-bit integer", kms.ErrInvalidParameter, name)
	}
	return v, true, nil
}
