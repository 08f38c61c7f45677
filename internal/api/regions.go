package api

import (
	"fmt"

	"github.com/kmsd/kmsd/internal/kms"
)

// Multi-region keys (reference kms-api.md §5.M).

// replicateKeyRequest is ReplicateKeyRequestBody; key_id is in the path
// and the body, and they must agree.
type replicateKeyRequest struct {
	KeyID               string           `json:"key_id" kms:"nonempty,key"`
	ReplicaRegion       string           `json:"replica_region" kms:"nonempty"`
	KeyAlias            string           `json:"key_alias" kms:"nonempty"`
	KeyDescription      string           `json:"key_description"`
	EnterpriseProjectID string           `json:"enterprise_project_id"`
	ReplicaProjectID    string           `json:"replica_project_id" kms:"nonempty"`
	Tags                []tagItemRequest `json:"tags"`
}

type replicateKeyResponse struct {
	KeyID    string `json:"key_id"`
	DomainID string `json:"domain_id"`
	Region   string `json:"region"`
}

func (h *Handler) replicateKey(c *call, r *replicateKeyRequest) (any, error) {
	if err := samePathKey(c, r.KeyID); err != nil {
		return nil, err
	}
	in := kms.ReplicateKeyInput{
		ProjectID: c.project(), KeyID: r.KeyID, ReplicaRegion: r.ReplicaRegion, ReplicaProjectID: r.ReplicaProjectID,
		Alias: r.KeyAlias, Description: r.KeyDescription, EnterpriseProjectID: r.EnterpriseProjectID,
	}
	for _, t := range r.Tags {
		in.Tags = append(in.Tags, t.tag())
	}
	res, err := h.kms.ReplicateKey(c.ctx, in)
	if err != nil {
		return nil, err
	}
	return replicateKeyResponse{KeyID: res.KeyID, DomainID: res.DomainID, Region: r.ReplicaRegion}, nil
}

// updatePrimaryRegionRequest is UpdatePrimaryRegionRequestBody.
type updatePrimaryRegionRequest struct {
	KeyID         string `json:"key_id" kms:"nonempty,key"`
	PrimaryRegion string `json:"primary_region" kms:"nonempty"`
}

type updatePrimaryRegionResponse struct {
	KeyID         string `json:"key_id"`
	PrimaryRegion string `json:"primary_region"`
}

func (h *Handler) updatePrimaryRegion(c *call, r *updatePrimaryRegionRequest) (any, error) {
	if err := samePathKey(c, r.KeyID); err != nil {
		return nil, err
	}
	primary, err := h.kms.UpdatePrimaryRegion(c.ctx, c.project(), r.KeyID, r.PrimaryRegion)
	if err != nil {
		return nil, err
	}
	return updatePrimaryRegionResponse{KeyID: r.KeyID, PrimaryRegion: primary}, nil
}

// samePathKey checks that the body's key_id is the path's.
func samePathKey(c *call, bodyKey string) error {
	id, err := pathKeyID(c)
	if err != nil {
		return err
	}
	if id != bodyKey {
		return fmt.Errorf("%w: key_id %s in the path, %s in the body", kms.ErrInvalidParameter, id, bodyKey)
	}
	return nil
}

// Region list bounds: Huawei's default page is 10.
const (
	defaultRegionLimit = 10
	maxRegionLimit     = 1000
)

func (h *Handler) listSupportRegions(c *call) (any, error) {
	limit, offset, err := pageQuery(c, defaultRegionLimit, maxRegionLimit)
	if err != nil {
		return nil, err
	}
	regions := h.kms.Regions()
	regions = regions[min(offset, len(regions)):]
	regions = regions[:min(limit, len(regions))]
	return map[string][]string{"regions": regions}, nil
}
