package api

import (
	"encoding/json"
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

// objectMember decodes the member name of f as a JSON object. An absent or
// null member is (nil, false); another JSON type is errMalformedJSON.
func objectMember(f fields, name string) (fields, bool, error) {
	raw, ok := f[name]
	if !ok || string(raw) == "null" {
		return nil, false, nil
	}
	var o fields
	if raw[0] != '{' || json.Unmarshal(raw, &o) != nil {
		return nil, false, fmt.Errorf("%w: %s must be a JSON object", errMalformedJSON, name)
	}
	return o, true, nil
}

// arrayMember decodes the member name of f as a JSON array. An absent
// member is (nil, false); null is an empty array; another JSON type is
// errMalformedJSON.
func arrayMember(f fields, name string) ([]json.RawMessage, bool, error) {
	raw, ok := f[name]
	if !ok {
		return nil, false, nil
	}
	if string(raw) == "null" {
		return nil, true, nil
	}
	var a []json.RawMessage
	if raw[0] != '[' || json.Unmarshal(raw, &a) != nil {
		return nil, false, fmt.Errorf("%w: %s must be a JSON array", errMalformedJSON, name)
	}
	return a, true, nil
}

// objects decodes every element of a as a JSON object.
func objects(a []json.RawMessage, name string) ([]fields, error) {
	out := make([]fields, len(a))
	for i, raw := range a {
		o, ok, err := objectMember(fields{name: raw}, name)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("%w: %s[%d] is null", errMalformedJSON, name, i)
		}
		out[i] = o
	}
	return out, nil
}

// stringsMember decodes a JSON array member of strings; absent and null
// are empty.
func stringsMember(f fields, name string) ([]string, error) {
	a, _, err := arrayMember(f, name)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(a))
	for i, raw := range a {
		if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &out[i]) != nil {
			return nil, fmt.Errorf("%w: %s[%d] must be a JSON string", errMalformedJSON, name, i)
		}
	}
	return out, nil
}

// decodeTagItem reads a TagItem object: key (required by the reference;
// the SDK always sends it, "" when unset) and value (optional, "" when
// absent).
func decodeTagItem(o fields) (kms.Tag, error) {
	key, _, err := o.str("key", true)
	if err != nil {
		return kms.Tag{}, err
	}
	value, _, err := o.str("value", false)
	if err != nil {
		return kms.Tag{}, err
	}
	return kms.Tag{Key: key, Value: value}, nil
}

// tagItems reads the array member name of TagItem objects. An absent
// member is errMissingParameter; null and [] are an empty list.
func tagItems(f fields, name string) ([]kms.Tag, error) {
	a, ok, err := arrayMember(f, name)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: %s", errMissingParameter, name)
	}
	objs, err := objects(a, name)
	if err != nil {
		return nil, err
	}
	tags := make([]kms.Tag, len(objs))
	for i, o := range objs {
		if tags[i], err = decodeTagItem(o); err != nil {
			return nil, err
		}
	}
	return tags, nil
}

// pathKeyID returns the {key_id} path parameter, checked.
func pathKeyID(c *call) (string, error) {
	id := c.params["key_id"]
	return id, kms.ValidateKeyID(id)
}

// pathKeyRequest is keyRequest for the tag operations, whose key id is in
// the path: the body is checked first, in the order of the operations
// that carry key_id in the body.
func pathKeyRequest(c *call) (string, fields, error) {
	f, err := c.request()
	if err != nil {
		return "", nil, err
	}
	id, err := pathKeyID(c)
	return id, f, err
}

func (h *Handler) createKmsTag(c *call) (any, error) {
	id, f, err := pathKeyRequest(c)
	if err != nil {
		return nil, err
	}
	o, ok, err := objectMember(f, "tag")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: tag", errMissingParameter)
	}
	tag, err := decodeTagItem(o)
	if err != nil {
		return nil, err
	}
	return nil, h.kms.CreateTag(c.ctx, c.project(), id, tag)
}

func (h *Handler) batchCreateKmsTags(c *call) (any, error) {
	id, f, err := pathKeyRequest(c)
	if err != nil {
		return nil, err
	}
	action, _, err := f.str("action", true)
	if err != nil {
		return nil, err
	}
	tags, err := tagItems(f, "tags")
	if err != nil {
		return nil, err
	}
	switch action {
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
	return nil, fmt.Errorf("%w: %q, want %s or %s", kms.ErrInvalidAction, action, tagActionCreate, tagActionDelete)
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

// tagQuery reads the tags (Tag objects) and matches (TagItem objects) of a
// list-kms-by-tags body; both are optional.
func tagQuery(f fields) (kms.TagQuery, error) {
	var q kms.TagQuery
	a, _, err := arrayMember(f, "tags")
	if err != nil {
		return q, err
	}
	objs, err := objects(a, "tags")
	if err != nil {
		return q, err
	}
	for _, o := range objs {
		key, _, err := o.str("key", false)
		if err != nil {
			return q, err
		}
		values, err := stringsMember(o, "values")
		if err != nil {
			return q, err
		}
		q.Tags = append(q.Tags, kms.TagValues{Key: key, Values: values})
	}
	if a, _, err = arrayMember(f, "matches"); err != nil {
		return q, err
	}
	if objs, err = objects(a, "matches"); err != nil {
		return q, err
	}
	for _, o := range objs {
		m, err := decodeTagItem(o)
		if err != nil {
			return q, err
		}
		q.Matches = append(q.Matches, m)
	}
	return q, nil
}

func (h *Handler) listKmsByTags(c *call) (any, error) {
	f, err := c.request()
	if err != nil {
		return nil, err
	}
	action, _, err := f.str("action", true)
	if err != nil {
		return nil, err
	}
	q, err := tagQuery(f)
	if err != nil {
		return nil, err
	}
	// limit and offset are typed always (schema.go) and read only for
	// filter (reference §5.I: ignored for count).
	switch action {
	case searchCount:
		n, err := h.kms.CountKeysByTags(c.ctx, c.project(), q)
		if err != nil {
			return nil, err
		}
		return map[string]int{"total_count": n}, nil
	case searchFilter:
	default:
		return nil, fmt.Errorf("%w: %q, want %s or %s", kms.ErrInvalidAction, action, searchFilter, searchCount)
	}
	limit, offset := kms.DefaultSearchLimit, 0
	if n, ok, err := f.numericString("limit", false, kms.ErrInvalidLimit); err != nil {
		return nil, err
	} else if ok {
		limit = n
	}
	if n, ok, err := f.numericString("offset", false, kms.ErrInvalidOffset); err != nil {
		return nil, err
	} else if ok {
		offset = n
	}
	keys, total, err := h.kms.FindKeysByTags(c.ctx, c.project(), q, offset, limit)
	if err != nil {
		return nil, err
	}
	res := make([]actionResource, len(keys))
	for i, k := range keys {
		res[i] = actionResource{ResourceID: k.KeyID, ResourceDetail: h.details(k.Key), ResourceName: k.Alias, Tags: tagItemsOf(k.Tags)}
	}
	return map[string]any{"resources": res, "total_count": total}, nil
}
