package api

// rotationStatus is the answer of get-key-rotation-status (reference
// kms-api.md §5.J). Unlike KeyDetails, key_rotation_enabled is a JSON
// boolean here; last_rotation_time is Unix milliseconds as a string, ""
// when the key never rotated. rotation_interval is left out while rotation
// is off: Terraform's provider stores an interval it reads and then
// refuses every in-place change of a key without rotation (issue 9;
// docs/compatibility.md).
type rotationStatus struct {
	KeyRotationEnabled bool   `json:"key_rotation_enabled"`
	RotationInterval   int    `json:"rotation_interval,omitempty"`
	LastRotationTime   string `json:"last_rotation_time"`
	NumberOfRotations  int    `json:"number_of_rotations"`
}

func (h *Handler) enableKeyRotation(c *call, r *keyRequest) (any, error) {
	_, err := h.kms.EnableKeyRotation(c.ctx, c.project(), r.KeyID)
	return nil, err
}

func (h *Handler) disableKeyRotation(c *call, r *keyRequest) (any, error) {
	_, err := h.kms.DisableKeyRotation(c.ctx, c.project(), r.KeyID)
	return nil, err
}

// updateKeyRotationIntervalRequest is UpdateKeyRotationIntervalRequestBody:
// rotation_interval is a JSON integer (int32 in the SDK).
type updateKeyRotationIntervalRequest struct {
	KeyID            string `json:"key_id" kms:"nonempty,key"`
	RotationInterval *int32 `json:"rotation_interval" kms:"req"`
	sequenced
}

func (h *Handler) updateKeyRotationInterval(c *call, r *updateKeyRotationIntervalRequest) (any, error) {
	_, err := h.kms.UpdateKeyRotationInterval(c.ctx, c.project(), r.KeyID, int(*r.RotationInterval))
	return nil, err
}

func (h *Handler) showKeyRotationStatus(c *call, r *keyRequest) (any, error) {
	st, err := h.kms.KeyRotationStatus(c.ctx, c.project(), r.KeyID)
	if err != nil {
		return nil, err
	}
	out := rotationStatus{KeyRotationEnabled: st.Enabled, NumberOfRotations: st.Count}
	if st.Enabled {
		out.RotationInterval = st.Interval
	}
	if !st.LastRotation.IsZero() {
		out.LastRotationTime = millis(st.LastRotation.UnixMilli())
	}
	return out, nil
}

// rotateOnDemandRequest is RotateOnDemandRequestBody (reference
// kms-api-new.md §4.J').
type rotateOnDemandRequest struct {
	KeyID string `json:"key_id" kms:"nonempty,key"`
}

// rotateOnDemand rotates a key's material now, as the rotation job does
// (kms.RotateKey): docs/compatibility.md records the rules.
func (h *Handler) rotateOnDemand(c *call, r *rotateOnDemandRequest) (any, error) {
	if _, err := h.kms.RotateKey(c.ctx, c.project(), r.KeyID); err != nil {
		return nil, err
	}
	return map[string]string{"key_id": r.KeyID}, nil
}
