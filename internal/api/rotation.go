package api

// rotationStatus is the answer of get-key-rotation-status (reference
// kms-api.md §5.J). Unlike KeyDetails, key_rotation_enabled is a JSON
// boolean here; last_rotation_time is Unix milliseconds as a string, ""
// when the key never rotated.
type rotationStatus struct {
	KeyRotationEnabled bool   `json:"key_rotation_enabled"`
	RotationInterval   int    `json:"rotation_interval"`
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
	out := rotationStatus{KeyRotationEnabled: st.Enabled, RotationInterval: st.Interval, NumberOfRotations: st.Count}
	if !st.LastRotation.IsZero() {
		out.LastRotationTime = millis(st.LastRotation.UnixMilli())
	}
	return out, nil
}
