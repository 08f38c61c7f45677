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

// keyStateOf reads a key_state member, the list-keys filter: one of the
// wire digits, or "" for every state.
func keyStateOf(v string) (kms.KeyState, error) {
	if v == "" {
		return 0, nil
	}
	for s := kms.StatePendingCreation; s <= kms.StatePendingImport; s++ {
		if wireState(s) == v {
			return s, nil
		}
	}
	return 0, fmt.Errorf("%w: key_state %q", kms.ErrInvalidParameter, v)
}

// sequenced is the optional 36-character request serial that most
// bodies carry; requestPlan.decode checks it (KMS.0206).
type sequenced struct {
	Sequence string `json:"sequence"`
}

// keyRequest is the body of the operations that take only a key:
// enable-key, disable-key, cancel-key-deletion, get-publickey, the
// rotation switches and status, delete-imported-key-material.
type keyRequest struct {
	KeyID string `json:"key_id" kms:"nonempty,key"`
	sequenced
}

// enum checks an optional string member that must be one of values; ""
// is absent.
func enum(name, s string, values ...string) (string, error) {
	if s == "" {
		return "", nil
	}
	for _, v := range values {
		if s == v {
			return s, nil
		}
	}
	return "", fmt.Errorf("%w: %s %q", kms.ErrInvalidParameter, name, s)
}

// createKeyRequest is CreateKeyRequestBody (reference kms-api.md §5.B).
type createKeyRequest struct {
	KeyAlias            string `json:"key_alias" kms:"req"`
	KeySpec             string `json:"key_spec"`
	KeyUsage            string `json:"key_usage"`
	KeyDescription      string `json:"key_description"`
	Origin              string `json:"origin"`
	EnterpriseProjectID string `json:"enterprise_project_id"`
	sequenced
	KeystoreID string `json:"keystore_id"`
	VMID       string `json:"vm_id"`
}

func (h *Handler) createKey(c *call, r *createKeyRequest) (any, error) {
	in := kms.CreateKeyInput{
		ProjectID: c.project(), AccountID: c.principal.AccountID, Alias: r.KeyAlias, Spec: r.KeySpec,
		Description: r.KeyDescription, EnterpriseProjectID: r.EnterpriseProjectID, KeystoreID: r.KeystoreID,
	}
	var err error
	if in.Usage, err = enum("key_usage", r.KeyUsage, kms.UsageEncryptDecrypt, kms.UsageSignVerify, kms.UsageMAC, kms.UsageKeyAgreement); err != nil {
		return nil, err
	}
	if in.Origin, err = enum("origin", r.Origin, kms.OriginKMS, kms.OriginExternal); err != nil {
		return nil, err
	}
	k, err := h.kms.CreateKey(c.ctx, in)
	if err != nil {
		return nil, err
	}
	c.createdKeyID = k.KeyID // for the audit record
	// KeKInfo (reference kms-api.md §4): region_id is the SDK's third
	// member, the region the key lives in (its KeyDetails realm).
	return map[string]any{"key_info": map[string]string{"key_id": k.KeyID, "domain_id": k.AccountID, "region_id": h.kms.Region()}}, nil
}

// describeKeyRequest is ListKeyDetailRequestBody; a describe-key grant
// lets a grantee call it.
type describeKeyRequest struct {
	KeyID string `json:"key_id" kms:"nonempty,key=describe-key"`
	sequenced
}

func (h *Handler) describeKey(c *call, r *describeKeyRequest) (any, error) {
	k, err := h.kms.DescribeKey(c.ctx, c.project(), r.KeyID)
	if err != nil {
		return nil, err
	}
	return map[string]any{"key_info": h.details(k)}, nil
}

// maxListLimit bounds one page of list-keys and list-retirable-grants; it
// is also the default page size when the caller gives none. A larger
// limit is clamped to it, not refused: the Terraform provider asks for
// 2000 (docs/compatibility.md), and marker paging stays exact.
const maxListLimit = 1000

// listKeysRequest is ListKeysRequestBody.
type listKeysRequest struct {
	Limit               numeric `json:"limit"`
	Marker              numeric `json:"marker"`
	KeyState            string  `json:"key_state"`
	KeySpec             string  `json:"key_spec"`
	EnterpriseProjectID string  `json:"enterprise_project_id"`
	sequenced
}

func (h *Handler) listKeys(c *call, r *listKeysRequest) (any, error) {
	in := kms.ListKeysInput{ProjectID: c.project(), Limit: maxListLimit, Offset: r.Marker.N, EnterpriseProjectID: r.EnterpriseProjectID}
	if r.Limit.Set {
		if r.Limit.N < 1 {
			return nil, fmt.Errorf("%w: limit must be positive", kms.ErrInvalidLimit)
		}
		in.Limit = min(r.Limit.N, maxListLimit)
	}
	var err error
	if in.State, err = keyStateOf(r.KeyState); err != nil {
		return nil, err
	}
	specs := append(kms.KeySpecs(), "ALL")
	if in.Spec, err = enum("key_spec", r.KeySpec, specs...); err != nil {
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
func (h *Handler) stateChange(c *call, r *keyRequest, fn func(projectID, keyID string) (kms.Key, error)) (any, error) {
	k, err := fn(c.project(), r.KeyID)
	if err != nil {
		return nil, err
	}
	return map[string]any{"key_info": keyStatusInfo{KeyID: k.KeyID, KeyState: wireState(k.State)}}, nil
}

func (h *Handler) enableKey(c *call, r *keyRequest) (any, error) {
	return h.stateChange(c, r, func(p, id string) (kms.Key, error) { return h.kms.EnableKey(c.ctx, p, id) })
}

func (h *Handler) disableKey(c *call, r *keyRequest) (any, error) {
	return h.stateChange(c, r, func(p, id string) (kms.Key, error) { return h.kms.DisableKey(c.ctx, p, id) })
}

// scheduleKeyDeletionRequest is DeleteKeyRequestBody (the SDK's name for
// schedule-key-deletion).
type scheduleKeyDeletionRequest struct {
	KeyID       string  `json:"key_id" kms:"nonempty,key"`
	PendingDays numeric `json:"pending_days" kms:"req"`
	sequenced
}

func (h *Handler) scheduleKeyDeletion(c *call, r *scheduleKeyDeletionRequest) (any, error) {
	k, err := h.kms.ScheduleKeyDeletion(c.ctx, c.project(), r.KeyID, r.PendingDays.N)
	if err != nil {
		return nil, err
	}
	return keyStatusInfo{KeyID: k.KeyID, KeyState: wireState(k.State)}, nil
}

func (h *Handler) cancelKeyDeletion(c *call, r *keyRequest) (any, error) {
	k, err := h.kms.CancelKeyDeletion(c.ctx, c.project(), r.KeyID)
	if err != nil {
		return nil, err
	}
	return keyStatusInfo{KeyID: k.KeyID, KeyState: wireState(k.State)}, nil
}

// updateKeyAliasRequest is UpdateKeyAliasRequestBody.
type updateKeyAliasRequest struct {
	KeyID    string `json:"key_id" kms:"nonempty,key"`
	KeyAlias string `json:"key_alias" kms:"req"`
	sequenced
}

func (h *Handler) updateKeyAlias(c *call, r *updateKeyAliasRequest) (any, error) {
	k, err := h.kms.UpdateKeyAlias(c.ctx, c.project(), r.KeyID, r.KeyAlias)
	if err != nil {
		return nil, err
	}
	return map[string]any{"key_info": map[string]string{"key_id": k.KeyID, "key_alias": k.Alias}}, nil
}

// updateKeyDescriptionRequest is UpdateKeyDescriptionRequestBody; ""
// clears the description.
type updateKeyDescriptionRequest struct {
	KeyID          string `json:"key_id" kms:"nonempty,key"`
	KeyDescription string `json:"key_description" kms:"req"`
	sequenced
}

func (h *Handler) updateKeyDescription(c *call, r *updateKeyDescriptionRequest) (any, error) {
	k, err := h.kms.UpdateKeyDescription(c.ctx, c.project(), r.KeyID, r.KeyDescription)
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
	return encodeInstanceNum(n), nil
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
