package api

import (
	"encoding/hex"
	"fmt"

	"github.com/kmsd/kmsd/internal/kms"
)

// This file serves the MAC operations of reference kms-api.md §5.F:
// generate-mac and verify-mac.

// generateMACRequest is GenerateMacRequestBody.
type generateMACRequest struct {
	KeyID        string `json:"key_id" kms:"nonempty,key"`
	MACAlgorithm string `json:"mac_algorithm" kms:"nonempty"`
	Message      string `json:"message" kms:"nonempty"`
}

// verifyMACRequest is VerifyMacRequestBody: generateMACRequest and the mac.
type verifyMACRequest struct {
	generateMACRequest
	MAC string `json:"mac" kms:"nonempty"`
}

// macInput is the input of generate-mac and verify-mac.
func macInput(c *call, r *generateMACRequest) (kms.MACInput, error) {
	in := kms.MACInput{ProjectID: c.project(), KeyID: r.KeyID, Algorithm: r.MACAlgorithm}
	var err error
	in.Message, err = decodeBase64("message", r.Message)
	return in, err
}

type macResponse struct {
	KeyID        string `json:"key_id"`
	MACAlgorithm string `json:"mac_algorithm"`
	MAC          string `json:"mac"`
}

func (h *Handler) generateMAC(c *call, r *generateMACRequest) (any, error) {
	in, err := macInput(c, r)
	if err != nil {
		return nil, err
	}
	mac, err := h.kms.GenerateMAC(c.ctx, in)
	if err != nil {
		return nil, err
	}
	return macResponse{KeyID: in.KeyID, MACAlgorithm: in.Algorithm, MAC: hex.EncodeToString(mac)}, nil
}

// verifyMACResponse is VerifyMacResponse: mac_valid is a JSON boolean
// (reference kms-api.md §5.F).
type verifyMACResponse struct {
	KeyID        string `json:"key_id"`
	MACAlgorithm string `json:"mac_algorithm"`
	MACValid     bool   `json:"mac_valid"`
}

func (h *Handler) verifyMAC(c *call, r *verifyMACRequest) (any, error) {
	in, err := macInput(c, &r.generateMACRequest)
	if err != nil {
		return nil, err
	}
	mac, err := hex.DecodeString(r.MAC)
	if err != nil {
		return nil, fmt.Errorf("%w: mac is not hex", kms.ErrInvalidParameter)
	}
	ok, err := h.kms.VerifyMAC(c.ctx, in, mac)
	if err != nil {
		return nil, err
	}
	return verifyMACResponse{KeyID: in.KeyID, MACAlgorithm: in.Algorithm, MACValid: ok}, nil
}
