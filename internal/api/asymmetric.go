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

// decodeBase64 decodes the member name holding standard, padded base64;
// text that is not base64 is KMS.0308.
func decodeBase64(name, s string) ([]byte, error) {
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

func (h *Handler) showPublicKey(c *call, r *keyRequest) (any, error) {
	id := r.KeyID
	der, err := h.kms.PublicKey(c.ctx, c.project(), id)
	if err != nil {
		return nil, err
	}
	return publicKeyResponse{KeyID: id, PublicKey: publicKeyPEM(der)}, nil
}

// signRequest is SignRequestBody.
type signRequest struct {
	KeyID            string `json:"key_id" kms:"nonempty,key"`
	Message          string `json:"message" kms:"nonempty"`
	SigningAlgorithm string `json:"signing_algorithm" kms:"nonempty"`
	MessageType      string `json:"message_type"`
	sequenced
}

// verifyRequest is VerifyRequestBody: signRequest and the signature.
type verifyRequest struct {
	signRequest
	Signature string `json:"signature" kms:"nonempty"`
}

// signInput is the input of sign and verify.
func signInput(c *call, r *signRequest) (kms.SignInput, error) {
	in := kms.SignInput{ProjectID: c.project(), KeyID: r.KeyID, Algorithm: r.SigningAlgorithm, MessageType: r.MessageType}
	var err error
	in.Message, err = decodeBase64("message", r.Message)
	return in, err
}

type signResponse struct {
	KeyID     string `json:"key_id"`
	Signature string `json:"signature"`
}

func (h *Handler) sign(c *call, r *signRequest) (any, error) {
	in, err := signInput(c, r)
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

func (h *Handler) verify(c *call, r *verifyRequest) (any, error) {
	in, err := signInput(c, &r.signRequest)
	if err != nil {
		return nil, err
	}
	sig, err := decodeBase64("signature", r.Signature)
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

// deriveSharedSecretRequest is DeriveSharedSecretRequestBody.
type deriveSharedSecretRequest struct {
	KeyID                 string `json:"key_id" kms:"nonempty,key"`
	KeyAgreementAlgorithm string `json:"key_agreement_algorithm" kms:"nonempty"`
	PublicKey             string `json:"public_key" kms:"nonempty"`
	Recipient             *struct {
		AttestationDocument    string `json:"attestation_document"`
		KeyEncryptionAlgorithm string `json:"key_encryption_algorithm"`
	} `json:"recipient"`
}

func (h *Handler) deriveSharedSecret(c *call, r *deriveSharedSecretRequest) (any, error) {
	id, alg := r.KeyID, r.KeyAgreementAlgorithm
	peer, err := decodeBase64("public_key", r.PublicKey)
	if err != nil {
		return nil, err
	}
	if r.Recipient != nil {
		// A recipient is a Qingtian enclave's attestation document; kmsd
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
