package api

import (
	"encoding/base64"
	"encoding/hex"

	"github.com/kmsd/kmsd/internal/kms"
)

// Data key capsules (reference kms-api-new.md §4.Q). The data key goes
// out as hex (as create-datakey's plain_text), or, when the caller sends
// public_key, RSAES-OAEP-SHA-256-wrapped as base64 datakey_cipher; the
// capsule is base64 (package capsule).

// createDatakeyCapsuleRequest is CreateDatakeyCapsuleRequestBody.
type createDatakeyCapsuleRequest struct {
	KeyID         string `json:"key_id" kms:"nonempty,key=create-datakey"`
	DatakeyLength string `json:"datakey_length" kms:"nonempty"`
	PublicKey     string `json:"public_key"`
	PolicyID      string `json:"policy_id"`
	KeyPolicy     string `json:"key_policy"`
}

func (h *Handler) createDatakeyCapsule(c *call, r *createDatakeyCapsuleRequest) (any, error) {
	dek, capsule, err := h.kms.CreateDatakeyCapsule(c.ctx, kms.CreateCapsuleInput{
		ProjectID: c.project(), KeyID: r.KeyID, DataKeyLength: r.DatakeyLength, PolicyID: r.PolicyID, InlinePolicy: r.KeyPolicy,
	})
	if err != nil {
		return nil, err
	}
	defer clear(dek)
	out := map[string]string{"key_id": r.KeyID, "datakey_capsule": base64.StdEncoding.EncodeToString(capsule)}
	if err := putDataKey(out, dek, r.PublicKey); err != nil {
		return nil, err
	}
	return out, nil
}

// putDataKey sets datakey (hex) or, with a public key, datakey_cipher.
func putDataKey(out map[string]string, dek []byte, publicKey string) error {
	if publicKey == "" {
		out["datakey"] = hex.EncodeToString(dek)
		return nil
	}
	wrapped, err := kms.WrapForPublicKey(publicKey, dek)
	if err != nil {
		return err
	}
	out["datakey_cipher"] = base64.StdEncoding.EncodeToString(wrapped)
	return nil
}

// attestationDocument is DecryptDatakeyCapsuleRequestBodyAttestationDocument.
type attestationDocument struct {
	ECSSignature    string `json:"ecs_signature"`
	CustomSignature string `json:"custom_signature"`
	CustomPublicKey string `json:"custom_public_key"`
	ExpireTime      string `json:"expire_time"`
	ServiceToken    string `json:"service_token"`
}

// decryptDatakeyCapsuleRequest is DecryptDatakeyCapsuleRequestBody.
type decryptDatakeyCapsuleRequest struct {
	KeyID               string               `json:"key_id" kms:"nonempty,key=decrypt-datakey"`
	DatakeyCapsule      string               `json:"datakey_capsule" kms:"nonempty"`
	AttestationDocument *attestationDocument `json:"attestation_document" kms:"req"`
	PublicKey           string               `json:"public_key"`
}

func (h *Handler) decryptDatakeyCapsule(c *call, r *decryptDatakeyCapsuleRequest) (any, error) {
	a := r.AttestationDocument
	dek, instance, err := h.kms.DecryptDatakeyCapsule(c.ctx, kms.DecryptCapsuleInput{
		ProjectID: c.project(), KeyID: r.KeyID, Capsule: r.DatakeyCapsule, PublicKey: r.PublicKey,
		Attestation: kms.Attestation{ECSSignature: a.ECSSignature, CustomSignature: a.CustomSignature,
			CustomPublicKey: a.CustomPublicKey, ExpireTime: a.ExpireTime, ServiceToken: a.ServiceToken},
	})
	if err != nil {
		return nil, err
	}
	defer clear(dek)
	out := map[string]string{"key_id": r.KeyID, "instance_id": instance}
	if err := putDataKey(out, dek, r.PublicKey); err != nil {
		return nil, err
	}
	return out, nil
}
