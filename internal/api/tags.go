package api

import (
	"fmt"

	"github.com/kmsd/kmsd/internal/kms"
)

// tagItem is TagItem of reference kms-api.md §4.
type tagItem struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// tagValues is Tag of reference kms-api.md §4.
type tagValues struct {
	Key    string   `json:"key"`
	Values []string `json:"values"`
}

// actionResource is ActionResources of reference kms-api.md §4: one key
// found by list-kms-by-tags, its KeyDetails a single object.
type actionResource struct {
	ResourceID     string     `json:"resource_id"`
	ResourceDetail keyDetails `json:"resource_detail"`
	ResourceName   string     `json:"resource_name"`
	Tags           []tagItem  `json:"tags"`
}

// Actions of batch-create-kms-tags and list-kms-by-tags (reference
// kms-api.md §5.I).
const (
	tagActionCreate = "create"
	tagActionDelete = "delete"
	searchFilter    = "filter"
	searchCount     = "count"
)

// tagItemRequest is a TagItem of a request: key is required by the
// reference (the SDK always sends it, "" when unset), value optional.
type tagItemRequest struct {
	Key   string `json:"key" kms:"req"`
	Value string `json:"value"`
}

func (t tagItemRequest) tag() kms.Tag { return kms.Tag{Key: t.Key, Value: t.Value} }

func tagsOf(items []tagItemRequest) []kms.Tag {
	tags := make([]kms.Tag, len(items))
	for i, t := range items {
		tags[i] = t.tag()
	}
	return tags
}

// pathKeyID returns the {key_id} path parameter, checked.
func pathKeyID(c *call) (string, error) {
	id := c.params["key_id"]
	return id, kms.ValidateKeyID(id)
}

// createKmsTagRequest is CreateKmsTagRequestBody.
type createKmsTagRequest struct {
	Tag *tagItemRequest `json:"tag" kms:"req"`
	sequenced
}

func (h *Handler) createKmsTag(c *call, r *createKmsTagRequest) (any, error) {
	id, err := pathKeyID(c)
	if err != nil {
		return nil, err
	}
	return nil, h.kms.CreateTag(c.ctx, c.project(), id, r.Tag.tag())
}

// batchCreateKmsTagsRequest is BatchCreateKmsTagsRequestBody: a null tags
// is an empty list, which kms refuses (KMS.0401).
type batchCreateKmsTagsRequest struct {
	Tags   []tagItemRequest `json:"tags" kms:"req,nullok"`
	Action string           `json:"action" kms:"req"`
	sequenced
}

func (h *Handler) batchCreateKmsTags(c *call, r *batchCreateKmsTagsRequest) (any, error) {
	id, err := pathKeyID(c)
	if err != nil {
		return nil, err
	}
	tags := tagsOf(r.Tags)
	switch r.Action {
	case tagActionCreate:
		return nil, h.kms.PutTags(c.ctx, c.project(), id, tags)
	case tagActionDelete:
		// Deletion matches on the tag key; a value is ignored.
		keys := make([]string, len(tags))
		for i, t := range tags {
			keys[i] = t.Key
		}
		return nil, h.kms.DeleteTags(c.ctx, c.project(), id, keys)
	}
	return nil, fmt.Errorf("%w: %q, want %s or %s", kms.ErrInvalidAction, r.Action, tagActionCreate, tagActionDelete)
}

// deleteTag removes the tag key named by the path's {key}. The SDK does
// not escape path parameters, so a tag key containing "/" reaches the
// server as more segments: the route's {key} takes the rest of the path
// (route.rest), and a client that escapes it as %2F is routed on the
// escaped path (routePath), so both name the same tag key.
func (h *Handler) deleteTag(c *call) (any, error) {
	id, err := pathKeyID(c)
	if err != nil {
		return nil, err
	}
	return nil, h.kms.DeleteTag(c.ctx, c.project(), id, c.params["key"])
}

func tagItemsOf(tags []kms.Tag) []tagItem {
	out := make([]tagItem, len(tags))
	for i, t := range tags {
		out[i] = tagItem{Key: t.Key, Value: t.Value}
	}
	return out
}

func (h *Handler) showKmsTags(c *call) (any, error) {
	id, err := pathKeyID(c)
	if err != nil {
		return nil, err
	}
	tags, err := h.kms.KeyTags(c.ctx, c.project(), id)
	if err != nil {
		return nil, err
	}
	return map[string]any{"tags": tagItemsOf(tags), "existTagsNum": len(tags)}, nil
}

func (h *Handler) listKmsTags(c *call) (any, error) {
	tags, err := h.kms.ProjectTags(c.ctx, c.project())
	if err != nil {
		return nil, err
	}
	out := make([]tagValues, len(tags))
	for i, t := range tags {
		out[i] = tagValues{Key: t.Key, Values: t.Values}
		if out[i].Values == nil {
			out[i].Values = []string{}
		}
	}
	return map[string]any{"tags": out}, nil
}

// listKmsByTagsRequest is ListKmsByTagsRequestBody: tags are Tag
// objects, matches TagItem objects, both optional.
type listKmsByTagsRequest struct {
	Limit  numeric `json:"limit"`
	Offset numeric `json:"offset"`
	Action string  `json:"action" kms:"req"`
	Tags   []struct {
		Key    string   `json:"key"`
		Values []string `json:"values"`
	} `json:"tags"`
	Matches []tagItemRequest `json:"matches"`
	sequenced
}

func (h *Handler) listKmsByTags(c *call, r *listKmsByTagsRequest) (any, error) {
	var q kms.TagQuery
	for _, t := range r.Tags {
		values := t.Values
		if values == nil {
			values = []string{}
		}
		q.Tags = append(q.Tags, kms.TagValues{Key: t.Key, Values: values})
	}
	for _, m := range r.Matches {
		q.Matches = append(q.Matches, m.tag())
	}
	// limit and offset are typed always and read only for filter
	// (reference §5.I: ignored for count).
	switch r.Action {
	case searchCount:
		n, err := h.kms.CountKeysByTags(c.ctx, c.project(), q)
		if err != nil {
			return nil, err
		}
		return map[string]int{"total_count": n}, nil
	case searchFilter:
	default:
		return nil, fmt.Errorf("%w: %q, want %s or %s", kms.ErrInvalidAction, r.Action, searchFilter, searchCount)
	}
	limit := kms.DefaultSearchLimit
	if r.Limit.Set {
		// Above the maximum page size is that size (docs/compatibility.md).
		limit = min(r.Limit.N, kms.MaxSearchLimit)
	}
	keys, total, err := h.kms.FindKeysByTags(c.ctx, c.project(), q, r.Offset.N, limit)
	if err != nil {
		return nil, err
	}
	res := make([]actionResource, len(keys))
	for i, k := range keys {
		res[i] = actionResource{ResourceID: k.KeyID, ResourceDetail: h.details(k.Key), ResourceName: k.Alias, Tags: tagItemsOf(k.Tags)}
	}
	return map[string]any{"resources": res, "total_count": total}, nil
}
