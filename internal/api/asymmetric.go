package api

import (
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"strconv"
	"strings"

	"github.com/kmsd/kmsd/internal/kms"
)

// This file serves the asymmetric operations of reference kms-api.md §5.E
// (get-publickey, sign, verify, derive-shared-secret) and the data key
// pairs of §5.D (create-rsa-datakey-pair, create-ec-datakey-pair).

// requiredBase64 reads a required member holding standard, padded base64
// and returns the decoded bytes; text that is not base64 is KMS.0308.
func requiredBase64(f fields, name string) ([]byte, error) {
	s, err := requiredText(f, name)
	if err != nil {
		return nil, err
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not base64", kms.ErrInvalidParameter, name)
	}
	return b, nil
}

// publicKeyPEM encodes a DER SubjectPublicKeyInfo as PEM with CRLF line
// breaks, as the reference's example shows.
func publicKeyPEM(der []byte) string {
	p := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	return strings.ReplaceAll(string(p), "\n", "\r\n")
}

type publicKeyResponse struct {
	KeyID     string `json:"key_id"`
	PublicKey string `json:"public_key"`
}

func (h *Handler) showPublicKey(c *call) (any, error) {
	id, _, err := keyRequest(c)
	if err != nil {
		return nil, err
	}
	der, err := h.kms.PublicKey(c.ctx, c.project(), id)
	if err != nil {
		return nil, err
	}
	return publicKeyResponse{KeyID: id, PublicKey: publicKeyPEM(der)}, nil
}

// signInput decodes the members sign and verify share.
func signInput(c *call) (kms.SignInput, fields, error) {
	id, f, err := keyRequest(c)
	if err != nil {
		return kms.SignInput{}, nil, err
	}
	in := kms.SignInput{ProjectID: c.project(), KeyID: id}
	if in.Message, err = requiredBase64(f, "message"); err != nil {
		return in, nil, err
	}
	if in.Algorithm, err = requiredText(f, "signing_algorithm"); err != nil {
		return in, nil, err
	}
	if in.MessageType, _, err = f.str("message_type", false); err != nil {
		return in, nil, err
	}
	return in, f, nil
}

type signResponse struct {
	KeyID     string `json:"key_id"`
	Signature string `json:"signature"`
}

func (h *Handler) sign(c *call) (any, error) {
	in, _, err := signInput(c)
	if err != nil {
		return nil, err
	}
	sig, err := h.kms.Sign(c.ctx, in)
	if err != nil {
		return nil, err
	}
	// signResponse{KeyID: in.KeyID, Signature: base64(sig)}, encoded by
	// hand: this is a hot response.
	return encodeKeyBase64(in.KeyID, "signature", sig), nil
}

// verifyResponse is ValidateSignatureResponse: signature_valid is a JSON
// string, "true" or "false" (reference kms-api.md §5.E).
type verifyResponse struct {
	KeyID          string `json:"key_id"`
	SignatureValid string `json:"signature_valid"`
}

func (h *Handler) verify(c *call) (any, error) {
	in, f, err := signInput(c)
	if err != nil {
		return nil, err
	}
	sig, err := requiredBase64(f, "signature")
	if err != nil {
		return nil, err
	}
	ok, err := h.kms.Verify(c.ctx, in, sig)
	if err != nil {
		return nil, err
	}
	return verifyResponse{KeyID: in.KeyID, SignatureValid: strconv.FormatBool(ok)}, nil
}

type sharedSecretResponse struct {
	KeyID                 string `json:"key_id"`
	KeyAgreementAlgorithm string `json:"key_agreement_algorithm"`
	SharedSecret          string `json:"shared_secret"`
}

func (h *Handler) deriveSharedSecret(c *call) (any, error) {
	id, f, err := keyRequest(c)
	if err != nil {
		return nil, err
	}
	alg, err := requiredText(f, "key_agreement_algorithm")
	if err != nil {
		return nil, err
	}
	peer, err := requiredBase64(f, "public_key")
	if err != nil {
		return nil, err
	}
	if raw, ok := f["recipient"]; ok && string(raw) != "null" {
		// The schema made it an object. A recipient is a Qingtian enclave's attestation document; kmsd
		// has no enclave attestation to check it against.
		return nil, fmt.Errorf("%w: derive-shared-secret with a recipient", kms.ErrNotImplemented)
	}
	secret, err := h.kms.DeriveSharedSecret(c.ctx, c.project(), id, alg, peer)
	if err != nil {
		return nil, err
	}
	resp := sharedSecretResponse{KeyID: id, KeyAgreementAlgorithm: alg, SharedSecret: base64.StdEncoding.EncodeToString(secret)}
	clear(secret)
	return resp, nil
}

// optionalBool reads an optional JSON boolean member (with_plain_text is a
// bool in the reference); absent or null is def, any other JSON type is
// KMS.0202.
func optionalBool(f fields, name string, def bool) (bool, error) {
	raw, ok := f[name]
	if !ok || string(raw) == "null" {
		return def, nil
	}
	switch string(raw) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("%w: %s must be a JSON boolean", errMalformedJSON, name)
}
