package api

import (
	"encoding/hex"
	"fmt"

	"github.com/kmsd/kmsd/internal/kms"
)

// This file serves the MAC operations of reference kms-api.md §5.F:
// generate-mac and verify-mac.

// macInput decodes the members generate-mac and verify-mac share.
func macInput(c *call) (kms.MACInput, fields, error) {
	id, f, err := keyRequest(c)
	if err != nil {
		return kms.MACInput{}, nil, err
	}
	in := kms.MACInput{ProjectID: c.project(), KeyID: id}
	if in.Algorithm, err = requiredText(f, "mac_algorithm"); err != nil {
		return in, nil, err
	}
	if in.Message, err = requiredBase64(f, "message"); err != nil {
		return in, nil, err
	}
	return in, f, nil
}

type macResponse struct {
	KeyID        string `json:"key_id"`
	MACAlgorithm string `json:"mac_algorithm"`
	MAC          string `json:"mac"`
}

func (h *Handler) generateMAC(c *call) (any, error) {
	in, _, err := macInput(c)
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

func (h *Handler) verifyMAC(c *call) (any, error) {
	in, f, err := macInput(c)
	if err != nil {
		return nil, err
	}
	s, err := requiredText(f, "mac")
	if err != nil {
		return nil, err
	}
	mac, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: mac is not hex", kms.ErrInvalidParameter)
	}
	ok, err := h.kms.VerifyMAC(c.ctx, in, mac)
	if err != nil {
		return nil, err
	}
	return verifyMACResponse{KeyID: in.KeyID, MACAlgorithm: in.Algorithm, MACValid: ok}, nil
}
