package api

import (
	"fmt"
	"strconv"

	"github.com/kmsd/kmsd/internal/kms"
)

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

// intMember returns a member the reference types as a JSON integer (e.g.
// "rotation_interval": 30, int32 in the SDK; "expiration_time", int64).
// Absent or null is (0, false), and errMissingParameter when required; a
// string, boolean or other JSON type is errMalformedJSON; a number that is
// not an integer of bits bits (30.5, 1e2, 9999999999 for 32) is badValue.
func intMember(f fields, name string, required bool, bits int, badValue error) (int64, bool, error) {
	raw, ok := f[name]
	if !ok || string(raw) == "null" {
		if required {
			return 0, false, fmt.Errorf("%w: %s", errMissingParameter, name)
		}
		return 0, false, nil
	}
	if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
		return 0, false, fmt.Errorf("%w: %s must be a JSON number", errMalformedJSON, name)
	}
	n, err := strconv.ParseInt(string(raw), 10, bits)
	if err != nil {
		return 0, false, fmt.Errorf("%w: %s is not a %d-bit integer", badValue, name, bits)
	}
	return n, true, nil
}

func (h *Handler) enableKeyRotation(c *call) (any, error) {
	id, _, err := keyRequest(c)
	if err != nil {
		return nil, err
	}
	_, err = h.kms.EnableKeyRotation(c.ctx, c.project(), id)
	return nil, err
}

func (h *Handler) disableKeyRotation(c *call) (any, error) {
	id, _, err := keyRequest(c)
	if err != nil {
		return nil, err
	}
	_, err = h.kms.DisableKeyRotation(c.ctx, c.project(), id)
	return nil, err
}

func (h *Handler) updateKeyRotationInterval(c *call) (any, error) {
	id, f, err := keyRequest(c)
	if err != nil {
		return nil, err
	}
	days, _, err := intMember(f, "rotation_interval", true, 32, kms.ErrInvalidRotationInterval)
	if err != nil {
		return nil, err
	}
	_, err = h.kms.UpdateKeyRotationInterval(c.ctx, c.project(), id, int(days))
	return nil, err
}

func (h *Handler) showKeyRotationStatus(c *call) (any, error) {
	id, _, err := keyRequest(c)
	if err != nil {
		return nil, err
	}
	st, err := h.kms.KeyRotationStatus(c.ctx, c.project(), id)
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
