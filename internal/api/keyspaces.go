package api

import (
	"fmt"
	"strconv"

	"github.com/kmsd/kmsd/internal/kms"
)

// Key spaces (reference kms-api-new.md §0): documented by Huawei, in no
// SDK. Access points and key policies (access_points.go, key_policies.go)
// belong to one.

// createKeySpaceRequest is the body of CreateTrustedKeySpace.
type createKeySpaceRequest struct {
	KeyspaceName string `json:"keyspace_name" kms:"nonempty"`
	Type         string `json:"type"`
	KeystoreID   string `json:"keystore_id"`
	Description  string `json:"description"`
}

func (h *Handler) createKeySpace(c *call, r *createKeySpaceRequest) (any, error) {
	ks, err := h.kms.CreateKeySpace(c.ctx, kms.CreateKeySpaceInput{
		ProjectID: c.project(), Name: r.KeyspaceName, Type: r.Type, KeystoreID: r.KeystoreID, Description: r.Description,
	})
	if err != nil {
		return nil, err
	}
	return map[string]string{"keyspace_id": ks.ID}, nil
}

// keySpaceEntity is a key space as ListTrustedKeySpace returns it; the
// item's members are not documented (inferred from the create body).
type keySpaceEntity struct {
	KeyspaceID   string `json:"keyspace_id"`
	KeyspaceName string `json:"keyspace_name"`
	Type         string `json:"type"`
	KeystoreID   string `json:"keystore_id"`
	Description  string `json:"description"`
	CreateTime   string `json:"create_time"`
}

func (h *Handler) listKeySpaces(c *call) (any, error) {
	q := c.r.URL.Query()
	pg, err := spacePage(c)
	if err != nil {
		return nil, err
	}
	// The documented type filter is an integer; kmsd's types are "1"–"3".
	typ := q.Get("type")
	spaces, next, err := h.kms.ListKeySpaces(c.ctx, c.project(), q.Get("keyspace_id"), pg)
	if err != nil {
		return nil, err
	}
	out := struct {
		PageInfo  pageInfo         `json:"page_info"`
		Keyspaces []keySpaceEntity `json:"keyspaces"`
	}{Keyspaces: []keySpaceEntity{}}
	for _, ks := range spaces {
		if typ != "" && ks.Type != typ {
			continue
		}
		out.Keyspaces = append(out.Keyspaces, keySpaceEntity{
			KeyspaceID: ks.ID, KeyspaceName: ks.Name, Type: ks.Type, KeystoreID: ks.KeystoreID,
			Description: ks.Description, CreateTime: millis(ks.CreatedAt.UnixMilli()),
		})
	}
	out.PageInfo = pageInfo{NextMarker: next, CurrentCount: len(out.Keyspaces)}
	return out, nil
}

func (h *Handler) deleteKeySpace(c *call) (any, error) {
	return nil, h.kms.DeleteKeySpace(c.ctx, c.project(), c.params["key_space_id"])
}

// spacePage reads the limit (a numeric string, 1–100, default 50) and
// marker query parameters of the key-space lists (reference
// kms-api-new.md §1).
func spacePage(c *call) (kms.Page, error) {
	q := c.r.URL.Query()
	pg := kms.Page{Marker: q.Get("marker")}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || s[0] == '+' {
			return pg, fmt.Errorf("%w: limit %q", kms.ErrInvalidLimit, s)
		}
		pg.Limit = n
	}
	return pg, nil
}

// keySpaceList reads the query of the lists of a key space's access
// points and policies: the required keyspace_id (KMS.0204 when absent or
// empty) and the page.
func keySpaceList(c *call) (string, kms.Page, error) {
	ks := c.r.URL.Query().Get("keyspace_id")
	if ks == "" {
		return "", kms.Page{}, fmt.Errorf("%w: keyspace_id", errMissingParameter)
	}
	pg, err := spacePage(c)
	return ks, pg, err
}
