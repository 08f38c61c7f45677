package api

import (
	"fmt"
	"strconv"

	"github.com/kmsd/kmsd/internal/kms"
)

// keyDetails is KeyDetails of reference kms-api.md §4 with its exact JSON
// types: every member is a string, timestamps are Unix milliseconds.
type keyDetails struct {
	KeyID                  string `json:"key_id"`
	DomainID               string `json:"domain_id"`
	KeyAlias               string `json:"key_alias"`
	Realm                  string `json:"realm"`
	KeySpec                string `json:"key_spec"`
	KeyUsage               string `json:"key_usage"`
	KeyDescription         string `json:"key_description"`
	CreationDate           string `json:"creation_date"`
	ScheduledDeletionDate  string `json:"scheduled_deletion_date"`
	KeyState               string `json:"key_state"`
	DefaultKeyFlag         string `json:"default_key_flag"`
	KeyType                string `json:"key_type"`
	ExpirationTime         string `json:"expiration_time"`
	Origin                 string `json:"origin"`
	KeyRotationEnabled     string `json:"key_rotation_enabled"`
	SysEnterpriseProjectID string `json:"sys_enterprise_project_id"`
	KeystoreID             string `json:"keystore_id"`
}

func (h *Handler) details(k kms.Key) keyDetails {
	d := keyDetails{
		KeyID: k.KeyID, DomainID: k.AccountID, KeyAlias: k.Alias, Realm: h.kms.Region(),
		KeySpec: k.Spec, KeyUsage: k.Usage, KeyDescription: k.Description,
		CreationDate: millis(k.CreatedAt.UnixMilli()), KeyState: wireState(k.State),
		DefaultKeyFlag: "0", KeyType: "1", Origin: k.Origin, KeyRotationEnabled: strconv.FormatBool(k.RotationEnabled),
		SysEnterpriseProjectID: k.EnterpriseProjectID, KeystoreID: k.KeystoreID,
	}
	if k.Default {
		d.DefaultKeyFlag = "1"
	}
	if !k.DeletionDate.IsZero() {
		d.ScheduledDeletionDate = millis(k.DeletionDate.UnixMilli())
	}
	if !k.MaterialExpiresAt.IsZero() {
		d.ExpirationTime = millis(k.MaterialExpiresAt.UnixMilli())
	}
	return d
}

func millis(ms int64) string { return strconv.FormatInt(ms, 10) }

type keyStatusInfo struct {
	KeyID    string `json:"key_id"`
	KeyState string `json:"key_state"`
}

// wireState is a key state as the wire writes it (reference kms-api.md
// §2.1): the one place the digits are spelled.
func wireState(s kms.KeyState) string {
	switch s {
	case kms.StatePendingCreation:
		return "1"
	case kms.StateEnabled:
		return "2"
	case kms.StateDisabled:
		return "3"
	case kms.StatePendingDeletion:
		return "4"
	case kms.StatePendingImport:
		return "5"
	}
	return ""
}

// keyStateFilter reads the optional key_state member of list-keys: one of
// the wire digits, or absent or empty for every state.
func keyStateFilter(f fields) (kms.KeyState, error) {
	v, ok, err := f.str("key_state", false)
	if err != nil || !ok || v == "" {
		return 0, err
	}
	for s := kms.StatePendingCreation; s <= kms.StatePendingImport; s++ {
		if wireState(s) == v {
			return s, nil
		}
	}
	return 0, fmt.Errorf("%w: key_state %q", kms.ErrInvalidParameter, v)
}

// keyID reads the required key_id member and checks its shape.
func keyID(f fields) (string, error) {
	id, _, err := f.str("key_id", true)
	if err != nil {
		return "", err
	}
	if id == "" {
		return "", fmt.Errorf("%w: key_id", errMissingParameter)
	}
	return id, kms.ValidateKeyID(id)
}

// enum reads an optional string member that must be one of values.
func enum(f fields, name string, values ...string) (string, error) {
	s, ok, err := f.str(name, false)
	if err != nil || !ok || s == "" {
		return "", err
	}
	for _, v := range values {
		if s == v {
			return s, nil
		}
	}
	return "", fmt.Errorf("%w: %s %q", kms.ErrInvalidParameter, name, s)
}

func (h *Handler) createKey(c *call) (any, error) {
	f, err := c.request()
	if err != nil {
		return nil, err
	}
	alias, _, err := f.str("key_alias", true)
	if err != nil {
		return nil, err
	}
	in := kms.CreateKeyInput{ProjectID: c.project(), AccountID: c.principal.AccountID, Alias: alias}
	if in.Spec, _, err = f.str("key_spec", false); err != nil {
		return nil, err
	}
	if in.Usage, err = enum(f, "key_usage", kms.UsageEncryptDecrypt, kms.UsageSignVerify, kms.UsageMAC, kms.UsageKeyAgreement); err != nil {
		return nil, err
	}
	if in.Description, _, err = f.str("key_description", false); err != nil {
		return nil, err
	}
	if in.Origin, err = enum(f, "origin", kms.OriginKMS, kms.OriginExternal); err != nil {
		return nil, err
	}
	if in.EnterpriseProjectID, _, err = f.str("enterprise_project_id", false); err != nil {
		return nil, err
	}
	if in.KeystoreID, _, err = f.str("keystore_id", false); err != nil {
		return nil, err
	}
	k, err := h.kms.CreateKey(c.ctx, in)
	if err != nil {
		return nil, err
	}
	// KeKInfo (reference kms-api.md §4): region_id is the SDK's third
	// member, the region the key lives in (its KeyDetails realm).
	return map[string]any{"key_info": map[string]string{"key_id": k.KeyID, "domain_id": k.AccountID, "region_id": h.kms.Region()}}, nil
}

// keyRequest decodes the call's body (see call.request) and reads its
// required key_id.
func keyRequest(c *call) (string, fields, error) {
	f, err := c.request()
	if err != nil {
		return "", nil, err
	}
	id, err := keyID(f)
	return id, f, err
}

func (h *Handler) describeKey(c *call) (any, error) {
	id, _, err := keyRequest(c)
	if err != nil {
		return nil, err
	}
	k, err := h.kms.DescribeKey(c.ctx, c.project(), id)
	if err != nil {
		return nil, err
	}
	return map[string]any{"key_info": h.details(k)}, nil
}

// maxListLimit bounds one page of list-keys; it is also the default page
// size when the caller gives none.
const maxListLimit = 1000

func (h *Handler) listKeys(c *call) (any, error) {
	f, err := c.request()
	if err != nil {
		return nil, err
	}
	in := kms.ListKeysInput{ProjectID: c.project(), Limit: maxListLimit}
	if n, ok, err := f.numericString("limit", false, kms.ErrInvalidLimit); err != nil {
		return nil, err
	} else if ok {
		if n < 1 || n > maxListLimit {
			return nil, fmt.Errorf("%w: limit must be 1–%d", kms.ErrInvalidLimit, maxListLimit)
		}
		in.Limit = n
	}
	if n, ok, err := f.numericString("marker", false, kms.ErrInvalidMarker); err != nil {
		return nil, err
	} else if ok {
		if n < 0 {
			return nil, kms.ErrInvalidMarker
		}
		in.Offset = n
	}
	if in.State, err = keyStateFilter(f); err != nil {
		return nil, err
	}
	specs := append(kms.KeySpecs(), "ALL")
	if in.Spec, err = enum(f, "key_spec", specs...); err != nil {
		return nil, err
	}
	if in.EnterpriseProjectID, _, err = f.str("enterprise_project_id", false); err != nil {
		return nil, err
	}
	keys, total, err := h.kms.ListKeys(c.ctx, in)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(keys))
	details := make([]keyDetails, 0, len(keys))
	for _, k := range keys {
		ids = append(ids, k.KeyID)
		details = append(details, h.details(k))
	}
	next, truncated := "", "false"
	if end := in.Offset + len(keys); end < total {
		next, truncated = strconv.Itoa(end), "true"
	}
	return map[string]any{"keys": ids, "key_details": details, "next_marker": next, "truncated": truncated, "total": total}, nil
}

// stateChange serves the operations that answer {"key_info": KeyStatusInfo}.
func (h *Handler) stateChange(c *call, fn func(projectID, keyID string) (kms.Key, error)) (any, error) {
	id, _, err := keyRequest(c)
	if err != nil {
		return nil, err
	}
	k, err := fn(c.project(), id)
	if err != nil {
		return nil, err
	}
	return map[string]any{"key_info": keyStatusInfo{KeyID: k.KeyID, KeyState: wireState(k.State)}}, nil
}

func (h *Handler) enableKey(c *call) (any, error) {
	return h.stateChange(c, func(p, id string) (kms.Key, error) { return h.kms.EnableKey(c.ctx, p, id) })
}

func (h *Handler) disableKey(c *call) (any, error) {
	return h.stateChange(c, func(p, id string) (kms.Key, error) { return h.kms.DisableKey(c.ctx, p, id) })
}

func (h *Handler) scheduleKeyDeletion(c *call) (any, error) {
	id, f, err := keyRequest(c)
	if err != nil {
		return nil, err
	}
	days, _, err := f.numericString("pending_days", true, kms.ErrInvalidPendingDays)
	if err != nil {
		return nil, err
	}
	k, err := h.kms.ScheduleKeyDeletion(c.ctx, c.project(), id, days)
	if err != nil {
		return nil, err
	}
	return keyStatusInfo{KeyID: k.KeyID, KeyState: wireState(k.State)}, nil
}

func (h *Handler) cancelKeyDeletion(c *call) (any, error) {
	id, _, err := keyRequest(c)
	if err != nil {
		return nil, err
	}
	k, err := h.kms.CancelKeyDeletion(c.ctx, c.project(), id)
	if err != nil {
		return nil, err
	}
	return keyStatusInfo{KeyID: k.KeyID, KeyState: wireState(k.State)}, nil
}

func (h *Handler) updateKeyAlias(c *call) (any, error) {
	id, f, err := keyRequest(c)
	if err != nil {
		return nil, err
	}
	alias, _, err := f.str("key_alias", true)
	if err != nil {
		return nil, err
	}
	k, err := h.kms.UpdateKeyAlias(c.ctx, c.project(), id, alias)
	if err != nil {
		return nil, err
	}
	return map[string]any{"key_info": map[string]string{"key_id": k.KeyID, "key_alias": k.Alias}}, nil
}

func (h *Handler) updateKeyDescription(c *call) (any, error) {
	id, f, err := keyRequest(c)
	if err != nil {
		return nil, err
	}
	desc, _, err := f.str("key_description", true)
	if err != nil {
		return nil, err
	}
	k, err := h.kms.UpdateKeyDescription(c.ctx, c.project(), id, desc)
	if err != nil {
		return nil, err
	}
	return map[string]any{"key_info": map[string]string{"key_id": k.KeyID, "key_description": k.Description}}, nil
}

func (h *Handler) showUserInstances(c *call) (any, error) {
	n, err := h.kms.InstanceCount(c.ctx, c.project())
	if err != nil {
		return nil, err
	}
	return map[string]int{"instance_num": n}, nil
}

type quotaResource struct {
	Type  string `json:"type"`
	Used  int    `json:"used"`
	Quota int    `json:"quota"`
}

func (h *Handler) showUserQuotas(c *call) (any, error) {
	qs, err := h.kms.Quotas(c.ctx, c.project())
	if err != nil {
		return nil, err
	}
	res := make([]quotaResource, len(qs))
	for i, q := range qs {
		res[i] = quotaResource{Type: q.Type, Used: q.Used, Quota: q.Quota}
	}
	return map[string]any{"quotas": map[string]any{"resources": res}}, nil
}
