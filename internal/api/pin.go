package api

import (
	"fmt"

	"github.com/kmsd/kmsd/internal/kms"
)

type createPinResponse struct {
	Pin string `json:"pin"`
}

// createPin serves create-pin (reference kms-api.md §5.D): a CipherText
// PIN (the default) needs keystore_id.
func (h *Handler) createPin(c *call) (any, error) {
	f, err := c.request()
	if err != nil {
		return nil, err
	}
	in := kms.CreatePinInput{ProjectID: c.project()}
	if in.PinType, err = enum(f, "pin_type", kms.PinCipherText, kms.PinPlainText); err != nil {
		return nil, err
	}
	if in.KeystoreID, _, err = f.str("keystore_id", false); err != nil {
		return nil, err
	}
	if in.PinType != kms.PinPlainText && in.KeystoreID == "" {
		return nil, fmt.Errorf("%w: keystore_id (a CipherText PIN needs it)", errMissingParameter)
	}
	pin, err := h.kms.CreatePin(c.ctx, in)
	if err != nil {
		return nil, err
	}
	return createPinResponse{Pin: pin}, nil
}
