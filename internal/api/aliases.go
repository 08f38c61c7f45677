package api

import (
	"fmt"
	"strconv"
	"time"

	"github.com/kmsd/kmsd/internal/kms"
)

// The multi-alias API (reference kms-api.md §5.H).

// aliasEntity is AliasEntity of reference kms-api.md §4: times are
// ISO-8601 UTC strings, unlike the millisecond strings of keys and grants.
type aliasEntity struct {
	DomainID   string `json:"domain_id"`
	KeyID      string `json:"key_id"`
	Alias      string `json:"alias"`
	AliasURN   string `json:"alias_urn"`
	CreateTime string `json:"create_time"`
	UpdateTime string `json:"update_time"`
}

func (h *Handler) aliasEntity(a kms.Alias) aliasEntity {
	return aliasEntity{
		DomainID: a.AccountID, KeyID: a.KeyID, Alias: a.Name, AliasURN: h.kms.URN(a),
		CreateTime: isoTime(a.CreatedAt), UpdateTime: isoTime(a.UpdatedAt),
	}
}

// isoTime formats t as the reference's ISO-8601 UTC, e.g.
// 2024-04-01T00:00:00Z.
func isoTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// createAliasRequest is CreateAliasRequestBody.
type createAliasRequest struct {
	KeyID string `json:"key_id" kms:"nonempty,key"`
	Alias string `json:"alias" kms:"nonempty"`
}

func (h *Handler) createAlias(c *call, r *createAliasRequest) (any, error) {
	a, err := h.kms.CreateAlias(c.ctx, c.project(), r.KeyID, r.Alias)
	if err != nil {
		return nil, err
	}
	return h.aliasEntity(a), nil
}

// associateAliasRequest is AssociateAliasRequestBody.
type associateAliasRequest struct {
	Alias       string `json:"alias" kms:"nonempty"`
	TargetKeyID string `json:"target_key_id" kms:"nonempty"`
}

func (h *Handler) associateAlias(c *call, r *associateAliasRequest) (any, error) {
	a, err := h.kms.AssociateAlias(c.ctx, c.project(), r.Alias, r.TargetKeyID)
	if err != nil {
		return nil, err
	}
	return h.aliasEntity(a), nil
}

// deleteAliasRequest is DeleteAliasRequestBody, sent with DELETE
// (reference kms-api.md §1).
type deleteAliasRequest struct {
	KeyID   string   `json:"key_id" kms:"nonempty,key"`
	Aliases []string `json:"aliases" kms:"req"`
}

func (h *Handler) deleteAlias(c *call, r *deleteAliasRequest) (any, error) {
	if len(r.Aliases) == 0 {
		return nil, fmt.Errorf("%w: aliases is empty", errMissingParameter)
	}
	return nil, h.kms.DeleteAliases(c.ctx, c.project(), r.KeyID, r.Aliases)
}

// listAliasPage is ListAliasResponseBody of reference kms-api.md §4.
type listAliasPage struct {
	Aliases  []aliasEntity `json:"aliases"`
	PageInfo pageInfo      `json:"page_info"`
}

type pageInfo struct {
	NextMarker   string `json:"next_marker"`
	CurrentCount int    `json:"current_count"`
}

// listAliases answers Huawei's documented object {"aliases","page_info"},
// which Terraform's provider reads, or a top-level JSON array holding that
// one page to the official SDKs, which decode the body into
// []ListAliasResponseBody (reference kms-api.md §5.H ListAliases; see
// client.go).
func (h *Handler) listAliases(c *call) (any, error) {
	q := c.r.URL.Query()
	in := kms.ListAliasesInput{ProjectID: c.project(), KeyID: q.Get("key_id"), Marker: q.Get("marker")}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%w: limit %q", kms.ErrInvalidLimit, s)
		}
		in.Limit = n
	}
	as, next, err := h.kms.ListAliases(c.ctx, in)
	if err != nil {
		return nil, err
	}
	page := listAliasPage{Aliases: make([]aliasEntity, len(as)), PageInfo: pageInfo{NextMarker: next, CurrentCount: len(as)}}
	for i, a := range as {
		page.Aliases[i] = h.aliasEntity(a)
	}
	if h.listAliasesArray(c) {
		return []listAliasPage{page}, nil
	}
	return page, nil
}
