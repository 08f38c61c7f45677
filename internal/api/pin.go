package api

import (
	"fmt"

	"github.com/kmsd/kmsd/internal/kms"
)

type createPinResponse struct {
	Pin string `json:"pin"`
}

// createPinRequest is CreatePinRequestBody.
type createPinRequest struct {
	PinType    string `json:"pin_type"`
	KeystoreID string `json:"keystore_id"`
}

// createPin serves create-pin (reference kms-api.md §5.D): a CipherText
// PIN (the default) needs keystore_id.
func (h *Handler) createPin(c *call, r *createPinRequest) (any, error) {
	in := kms.CreatePinInput{ProjectID: c.project(), KeystoreID: r.KeystoreID}
	var err error
	if in.PinType, err = enum("pin_type", r.PinType, kms.PinCipherText, kms.PinPlainText); err != nil {
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
