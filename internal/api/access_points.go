package api

import (
	"github.com/kmsd/kmsd/internal/kms"
)

// Access points (reference kms-api-new.md §4.P, §5).

// createAccessPointRequest is CreateAccessPointRequestBody.
type createAccessPointRequest struct {
	KeyspaceID      string `json:"keyspace_id" kms:"nonempty"`
	AccessPointName string `json:"access_point_name" kms:"nonempty"`
	Type            *int32 `json:"type" kms:"req"`
	Identity        string `json:"identity"`
	ClusterID       string `json:"cluster_id"`
	Description     string `json:"description"`
}

func (h *Handler) createAccessPoint(c *call, r *createAccessPointRequest) (any, error) {
	ap, err := h.kms.CreateAccessPoint(c.ctx, kms.CreateAccessPointInput{
		ProjectID: c.project(), KeySpaceID: r.KeyspaceID, Name: r.AccessPointName, Type: int(*r.Type),
		Identity: r.Identity, ClusterID: r.ClusterID, Description: r.Description, CreatedBy: c.principal.UserID,
	})
	if err != nil {
		return nil, err
	}
	return map[string]string{"access_point_id": ap.ID}, nil
}

// accessPointEntity is AccessPoint of reference §5: state and type are
// JSON integers, and the SDKs read the misspelled lsat_modify_time
// (last_modify_time is sent too).
type accessPointEntity struct {
	AccessPointID   string `json:"access_point_id"`
	KeyspaceID      string `json:"keyspace_id"`
	AccessPointName string `json:"access_point_name"`
	State           int    `json:"state"`
	Type            int    `json:"type"`
	CreatedBy       string `json:"created_by"`
	CreateTime      string `json:"create_time"`
	LsatModifyTime  string `json:"lsat_modify_time"`
	LastModifyTime  string `json:"last_modify_time"`
}

func (h *Handler) listAccessPoints(c *call) (any, error) {
	ks, pg, err := keySpaceList(c)
	if err != nil {
		return nil, err
	}
	aps, next, err := h.kms.ListAccessPoints(c.ctx, c.project(), ks, pg)
	if err != nil {
		return nil, err
	}
	out := struct {
		PageInfo     pageInfo            `json:"page_info"`
		AccessPoints []accessPointEntity `json:"access_points"`
	}{PageInfo: pageInfo{NextMarker: next, CurrentCount: len(aps)}, AccessPoints: make([]accessPointEntity, len(aps))}
	for i, ap := range aps {
		mod := millis(ap.UpdatedAt.UnixMilli())
		out.AccessPoints[i] = accessPointEntity{
			AccessPointID: ap.ID, KeyspaceID: ap.KeySpaceID, AccessPointName: ap.Name, State: ap.State, Type: ap.Type,
			CreatedBy: ap.CreatedBy, CreateTime: millis(ap.CreatedAt.UnixMilli()), LsatModifyTime: mod, LastModifyTime: mod,
		}
	}
	return out, nil
}

func (h *Handler) enableAccessPoint(c *call) (any, error) {
	return nil, h.kms.SetAccessPointState(c.ctx, c.project(), c.params["access_point_id"], true)
}

func (h *Handler) disableAccessPoint(c *call) (any, error) {
	return nil, h.kms.SetAccessPointState(c.ctx, c.project(), c.params["access_point_id"], false)
}

func (h *Handler) deleteAccessPoint(c *call) (any, error) {
	return nil, h.kms.DeleteAccessPoint(c.ctx, c.project(), c.params["access_point_id"])
}

// downloadAccessPointPrivateKey hands out a Custom access point's private
// key (PEM, PKCS#8) once.
func (h *Handler) downloadAccessPointPrivateKey(c *call) (any, error) {
	id, pem, err := h.kms.DownloadAccessPointPrivateKey(c.ctx, c.project(), c.params["access_point_id"])
	if err != nil {
		return nil, err
	}
	out := map[string]string{"access_point_id": id, "private_key": string(pem)}
	clear(pem)
	return out, nil
}
