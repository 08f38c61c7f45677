package api

import (
	"github.com/kmsd/kmsd/internal/kms"
)

// Key policies (reference kms-api-new.md §3, §4.O, §5).

// policyObject is KeyPolicyDocument as every policy read-back returns
// it: both spellings of the members the SDK models disagree on.
type policyObject struct {
	Version                 string         `json:"version"`
	ValidityPeriod          validityPeriod `json:"validity_period"`
	ValidityPeriodCamel     validityPeriod `json:"validityPeriod"`
	AllowedAccessPoint      []string       `json:"allowed_access_point"`
	AllowedAccessPointCamel []string       `json:"allowedAccessPoint"`
	AllowedDataSecurityZone []string       `json:"allowed_data_security_zone"`
}

type validityPeriod struct {
	StartTime string `json:"start_time"`
	EndTime   string `json:"end_time"`
}

func policyOf(d kms.PolicyDocument) policyObject {
	vp := validityPeriod{StartTime: millis(d.Start.UnixMilli()), EndTime: millis(d.End.UnixMilli())}
	aps, zones := d.AccessPoints, d.Zones
	if aps == nil {
		aps = []string{}
	}
	if zones == nil {
		zones = []string{}
	}
	return policyObject{Version: d.Version, ValidityPeriod: vp, ValidityPeriodCamel: vp,
		AllowedAccessPoint: aps, AllowedAccessPointCamel: aps, AllowedDataSecurityZone: zones}
}

// keyPolicyEntity is ShowKeyPolicy's body and KeyspacePolicy of the list.
type keyPolicyEntity struct {
	PolicyID       string       `json:"policy_id"`
	PolicyName     string       `json:"policy_name"`
	KeyspaceID     string       `json:"keyspace_id"`
	Policy         policyObject `json:"policy"`
	Description    string       `json:"description"`
	CreatedBy      string       `json:"created_by"`
	CreateTime     string       `json:"create_time"`
	LastModifyTime string       `json:"last_modify_time"`
	LastAccessTime string       `json:"last_access_time"`
}

func keyPolicyEntityOf(p kms.KeyPolicy) keyPolicyEntity {
	e := keyPolicyEntity{
		PolicyID: p.ID, PolicyName: p.Name, KeyspaceID: p.KeySpaceID, Policy: policyOf(p.Doc), Description: p.Description,
		CreatedBy: p.CreatedBy, CreateTime: millis(p.CreatedAt.UnixMilli()), LastModifyTime: millis(p.UpdatedAt.UnixMilli()),
	}
	if !p.LastAccessAt.IsZero() {
		e.LastAccessTime = millis(p.LastAccessAt.UnixMilli())
	}
	return e
}

// createKeyPolicyRequest is CreateKeyPolicyRequestBody; policy is the
// document JSON-encoded into a string.
type createKeyPolicyRequest struct {
	KeyspaceID  string `json:"keyspace_id" kms:"nonempty"`
	PolicyName  string `json:"policy_name" kms:"nonempty"`
	Policy      string `json:"policy" kms:"nonempty"`
	Description string `json:"description"`
}

func (h *Handler) createKeyPolicy(c *call, r *createKeyPolicyRequest) (any, error) {
	p, err := h.kms.CreateKeyPolicy(c.ctx, kms.CreateKeyPolicyInput{
		ProjectID: c.project(), KeySpaceID: r.KeyspaceID, Name: r.PolicyName, Document: r.Policy,
		Description: r.Description, CreatedBy: c.principal.UserID,
	})
	if err != nil {
		return nil, err
	}
	return map[string]string{"policy_id": p.ID}, nil
}

func (h *Handler) listKeyPolicies(c *call) (any, error) {
	ks, pg, err := keySpaceList(c)
	if err != nil {
		return nil, err
	}
	ps, next, err := h.kms.ListKeyPolicies(c.ctx, c.project(), ks, pg)
	if err != nil {
		return nil, err
	}
	out := struct {
		PageInfo         pageInfo          `json:"page_info"`
		KeyspacePolicies []keyPolicyEntity `json:"keyspace_policies"`
	}{PageInfo: pageInfo{NextMarker: next, CurrentCount: len(ps)}, KeyspacePolicies: make([]keyPolicyEntity, len(ps))}
	for i, p := range ps {
		out.KeyspacePolicies[i] = keyPolicyEntityOf(p)
	}
	return out, nil
}

func (h *Handler) showKeyPolicy(c *call) (any, error) {
	p, err := h.kms.ShowKeyPolicy(c.ctx, c.project(), c.params["policy_id"])
	if err != nil {
		return nil, err
	}
	return keyPolicyEntityOf(p), nil
}

// updateKeyPolicyRequest is UpdateKeyPolicyRequestBody: the document is
// replaced whole; an absent or empty description stays.
type updateKeyPolicyRequest struct {
	Policy      string `json:"policy" kms:"nonempty"`
	Description string `json:"description"`
}

func (h *Handler) updateKeyPolicy(c *call, r *updateKeyPolicyRequest) (any, error) {
	var desc *string
	if r.Description != "" {
		desc = &r.Description
	}
	p, err := h.kms.UpdateKeyPolicy(c.ctx, c.project(), c.params["policy_id"], r.Policy, desc)
	if err != nil {
		return nil, err
	}
	return map[string]any{"policy_id": p.ID, "policy": policyOf(p.Doc), "description": p.Description,
		"last_modify_time": millis(p.UpdatedAt.UnixMilli())}, nil
}

func (h *Handler) deleteKeyPolicy(c *call) (any, error) {
	return nil, h.kms.DeleteKeyPolicy(c.ctx, c.project(), c.params["policy_id"])
}
