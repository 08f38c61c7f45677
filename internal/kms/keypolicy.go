package kms

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/kmsd/kmsd/internal/store"
)

// ErrInvalidPolicyDocument is a key policy document that does not parse
// or breaks a rule of ParsePolicyDocument; its detail names the rule.
var ErrInvalidPolicyDocument = errors.New("invalid key policy document")

// PolicyVersion is the one key policy language version kmsd knows (the
// reference documents none; "1" is its guess).
const PolicyVersion = "1"

// maxPolicyList bounds each allow-list of a policy document (inferred).
const maxPolicyList = 100

// KeyPolicy is a key policy of a key space with its parsed document.
type KeyPolicy struct {
	store.KeyPolicy
	Doc PolicyDocument
}

// PolicyDocument is a key policy document (reference kms-api-new.md §3).
type PolicyDocument struct {
	Version string
	// Start and End bound the validity period; a decryption is allowed
	// when Start ≤ now < End.
	Start, End time.Time
	// AccessPoints and Zones are the allow-lists: access point ids (lower
	// case) and data security zone ids.
	AccessPoints []string
	Zones        []string
}

// ParsePolicyDocument parses the JSON text of a key policy document
// strictly: an object with version "1", validity_period {start_time,
// end_time}, allowed_access_point and allowed_data_security_zone, each key
// in snake_case or camelCase (validityPeriod, allowedAccessPoint,
// allowedDataSecurityZone, startTime, endTime) but not both; no other key;
// times as Unix milliseconds (a string of digits or a JSON integer) or RFC
// 3339 strings, end after start; access point ids UUIDs, zone ids
// non-empty strings, no duplicates, at most 100 of each, and at least one
// entry in the two lists together. Whether the access points exist is the
// caller's check (checkAccessPoints).
func ParsePolicyDocument(text string) (PolicyDocument, error) {
	var d PolicyDocument
	members, err := strictObject([]byte(text), "policy")
	if err != nil {
		return d, err
	}
	get := func(names ...string) (json.RawMessage, error) {
		var out json.RawMessage
		found := ""
		for _, n := range names {
			if v, ok := members[n]; ok {
				if found != "" {
					return nil, fmt.Errorf("%w: both %s and %s", ErrInvalidPolicyDocument, found, n)
				}
				out, found = v, n
				delete(members, n)
			}
		}
		return out, nil
	}
	version, err := get("version")
	if err != nil {
		return d, err
	}
	if version == nil || json.Unmarshal(version, &d.Version) != nil || d.Version != PolicyVersion {
		return d, fmt.Errorf("%w: version must be the string %q", ErrInvalidPolicyDocument, PolicyVersion)
	}
	vp, err := get("validity_period", "validityPeriod")
	if err != nil {
		return d, err
	}
	if vp == nil {
		return d, fmt.Errorf("%w: validity_period is required", ErrInvalidPolicyDocument)
	}
	period, err := strictObject(vp, "validity_period")
	if err != nil {
		return d, err
	}
	for _, t := range []struct {
		names []string
		dst   *time.Time
	}{{[]string{"start_time", "startTime"}, &d.Start}, {[]string{"end_time", "endTime"}, &d.End}} {
		var raw json.RawMessage
		for _, n := range t.names {
			if v, ok := period[n]; ok {
				if raw != nil {
					return d, fmt.Errorf("%w: both spellings of %s", ErrInvalidPolicyDocument, t.names[0])
				}
				raw = v
				delete(period, n)
			}
		}
		if raw == nil {
			return d, fmt.Errorf("%w: validity_period.%s is required", ErrInvalidPolicyDocument, t.names[0])
		}
		if *t.dst, err = policyTime(raw); err != nil {
			return d, fmt.Errorf("%w: validity_period.%s: %v", ErrInvalidPolicyDocument, t.names[0], err)
		}
	}
	for k := range period {
		return d, fmt.Errorf("%w: unknown member validity_period.%s", ErrInvalidPolicyDocument, k)
	}
	if !d.End.After(d.Start) {
		return d, fmt.Errorf("%w: validity_period.end_time must be after start_time", ErrInvalidPolicyDocument)
	}
	for _, l := range []struct {
		names []string
		dst   *[]string
		uuid  bool
	}{
		{[]string{"allowed_access_point", "allowedAccessPoint"}, &d.AccessPoints, true},
		{[]string{"allowed_data_security_zone", "allowedDataSecurityZone"}, &d.Zones, false},
	} {
		raw, err := get(l.names...)
		if err != nil {
			return d, err
		}
		if raw == nil || bytes.Equal(raw, []byte("null")) {
			continue
		}
		var list []string
		if err := json.Unmarshal(raw, &list); err != nil {
			return d, fmt.Errorf("%w: %s must be an array of strings", ErrInvalidPolicyDocument, l.names[0])
		}
		if len(list) > maxPolicyList {
			return d, fmt.Errorf("%w: %s lists more than %d ids", ErrInvalidPolicyDocument, l.names[0], maxPolicyList)
		}
		for i, id := range list {
			if l.uuid {
				if id, err = spaceID(l.names[0], id); err != nil {
					return d, fmt.Errorf("%w: %s: %q is not an access point id", ErrInvalidPolicyDocument, l.names[0], list[i])
				}
				list[i] = id
			} else if id == "" || len(id) > 255 {
				return d, fmt.Errorf("%w: %s: empty or overlong id", ErrInvalidPolicyDocument, l.names[0])
			}
			if slices.Contains(list[:i], list[i]) {
				return d, fmt.Errorf("%w: %s lists %q twice", ErrInvalidPolicyDocument, l.names[0], list[i])
			}
		}
		*l.dst = list
	}
	for k := range members {
		return d, fmt.Errorf("%w: unknown member %q", ErrInvalidPolicyDocument, k)
	}
	if len(d.AccessPoints)+len(d.Zones) == 0 {
		return d, fmt.Errorf("%w: allowed_access_point and allowed_data_security_zone are both empty", ErrInvalidPolicyDocument)
	}
	return d, nil
}

// strictObject decodes a JSON object whose member names are distinct.
func strictObject(b []byte, what string) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("%w: %s is not a JSON object", ErrInvalidPolicyDocument, what)
	}
	m := map[string]json.RawMessage{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrInvalidPolicyDocument, what, err)
		}
		name := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrInvalidPolicyDocument, what, err)
		}
		if _, dup := m[name]; dup {
			return nil, fmt.Errorf("%w: %s names %q twice", ErrInvalidPolicyDocument, what, name)
		}
		m[name] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalidPolicyDocument, what, err)
	}
	if _, err := dec.Token(); err == nil {
		return nil, fmt.Errorf("%w: %s: data after the object", ErrInvalidPolicyDocument, what)
	}
	return m, nil
}

// policyTime reads a validity time: Unix milliseconds (digits in a string
// or a JSON integer) or an RFC 3339 string.
func policyTime(raw json.RawMessage) (time.Time, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		s = string(raw)
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 && s != "" && s[0] != '+' {
		return time.UnixMilli(n).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither Unix milliseconds nor RFC 3339", s)
	}
	return t.UTC().Truncate(time.Millisecond), nil
}

// Canonical returns the document's stored form: snake_case keys, times
// as Unix milliseconds in strings, empty lists as [].
func (d PolicyDocument) Canonical() []byte {
	b, _ := json.Marshal(canonicalDoc{
		Version:        d.Version,
		ValidityPeriod: validity{Start: ms(d.Start), End: ms(d.End)},
		AccessPoints:   orEmpty(d.AccessPoints), Zones: orEmpty(d.Zones),
	})
	return b
}

type validity struct {
	Start string `json:"start_time"`
	End   string `json:"end_time"`
}

type canonicalDoc struct {
	Version        string   `json:"version"`
	ValidityPeriod validity `json:"validity_period"`
	AccessPoints   []string `json:"allowed_access_point"`
	Zones          []string `json:"allowed_data_security_zone"`
}

func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// inPeriod reports whether now lies inside the validity period.
func (d PolicyDocument) inPeriod(now time.Time) bool {
	return !now.Before(d.Start) && now.Before(d.End)
}

// checkAccessPoints fails with ErrInvalidPolicyDocument when an access
// point of d does not exist in the project (in keySpaceID, unless it is
// "": an inline policy of a capsule belongs to no key space).
func checkAccessPoints(tx store.Tx, projectID, keySpaceID string, d PolicyDocument) error {
	for _, id := range d.AccessPoints {
		ap, err := tx.GetAccessPoint(projectID, id)
		switch {
		case errors.Is(err, store.ErrNotFound), err == nil && keySpaceID != "" && ap.KeySpaceID != keySpaceID:
			return fmt.Errorf("%w: allowed_access_point %s is not an access point of the key space", ErrInvalidPolicyDocument, id)
		case err != nil:
			return err
		}
	}
	return nil
}

func keyPolicyOf(tx store.Tx, projectID, id string) (KeyPolicy, error) {
	r, err := tx.GetKeyPolicy(projectID, id)
	if errors.Is(err, store.ErrNotFound) {
		return KeyPolicy{}, fmt.Errorf("%w: %s", ErrKeyPolicyNotFound, id)
	}
	if err != nil {
		return KeyPolicy{}, err
	}
	return parseStoredPolicy(r)
}

func parseStoredPolicy(r store.KeyPolicy) (KeyPolicy, error) {
	d, err := ParsePolicyDocument(string(r.Document))
	if err != nil {
		return KeyPolicy{}, fmt.Errorf("stored key policy %s: %v", r.ID, err)
	}
	return KeyPolicy{KeyPolicy: r, Doc: d}, nil
}

// CreateKeyPolicyInput are the parameters of CreateKeyPolicy.
type CreateKeyPolicyInput struct {
	ProjectID   string
	KeySpaceID  string
	Name        string
	Document    string
	Description string
	CreatedBy   string
}

// CreateKeyPolicy creates a key policy in a key space; its name is unique
// there (ErrDuplicateName).
func (s *Service) CreateKeyPolicy(ctx context.Context, in CreateKeyPolicyInput) (KeyPolicy, error) {
	ksID, err := spaceID("keyspace_id", in.KeySpaceID)
	if err != nil {
		return KeyPolicy{}, err
	}
	if err := spaceName("policy_name", in.Name); err != nil {
		return KeyPolicy{}, err
	}
	if err := spaceDescription(in.Description); err != nil {
		return KeyPolicy{}, err
	}
	d, err := ParsePolicyDocument(in.Document)
	if err != nil {
		return KeyPolicy{}, err
	}
	now := s.Now().UTC().Truncate(time.Millisecond)
	p := KeyPolicy{KeyPolicy: store.KeyPolicy{
		ProjectID: in.ProjectID, KeySpaceID: ksID, ID: s.spaceIDs.next(now), Name: in.Name, Document: d.Canonical(),
		Description: in.Description, CreatedBy: in.CreatedBy, CreatedAt: now, UpdatedAt: now,
	}, Doc: d}
	err = s.update(ctx, func(tx store.Tx) error {
		if _, err := keySpaceOf(tx, in.ProjectID, ksID); err != nil {
			return err
		}
		if err := checkAccessPoints(tx, in.ProjectID, ksID, d); err != nil {
			return err
		}
		err := tx.CreateKeyPolicy(p.KeyPolicy)
		if errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("%w: key policy %q", ErrDuplicateName, in.Name)
		}
		return err
	})
	if err != nil {
		return KeyPolicy{}, err
	}
	s.log.InfoContext(ctx, "key policy created", "project_id", in.ProjectID, "keyspace_id", ksID, "policy_id", p.ID)
	return p, nil
}

// ShowKeyPolicy returns a key policy of the project.
func (s *Service) ShowKeyPolicy(ctx context.Context, projectID, id string) (KeyPolicy, error) {
	id, err := spaceID("policy_id", id)
	if err != nil {
		return KeyPolicy{}, err
	}
	var p KeyPolicy
	err = s.store.View(ctx, func(tx store.Tx) error {
		var err error
		p, err = keyPolicyOf(tx, projectID, id)
		return err
	})
	return p, err
}

// ListKeyPolicies returns a page of a key space's policies in creation
// order and the next page's marker.
func (s *Service) ListKeyPolicies(ctx context.Context, projectID, keySpaceID string, pg Page) ([]KeyPolicy, string, error) {
	ksID, err := spaceID("keyspace_id", keySpaceID)
	if err != nil {
		return nil, "", err
	}
	marker, limit, err := pg.check()
	if err != nil {
		return nil, "", err
	}
	var rows []store.KeyPolicy
	err = s.store.View(ctx, func(tx store.Tx) error {
		if _, err := keySpaceOf(tx, projectID, ksID); err != nil {
			return err
		}
		var err error
		rows, err = tx.ListKeyPolicies(projectID, ksID, marker, limit+1)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	rows, next := pageOf(rows, limit, func(p store.KeyPolicy) string { return p.ID })
	out := make([]KeyPolicy, 0, len(rows))
	for _, r := range rows {
		p, err := parseStoredPolicy(r)
		if err != nil {
			return nil, "", err
		}
		out = append(out, p)
	}
	return out, next, nil
}

// UpdateKeyPolicy replaces a policy's document and, when description is
// non-nil, its description.
func (s *Service) UpdateKeyPolicy(ctx context.Context, projectID, id, document string, description *string) (KeyPolicy, error) {
	id, err := spaceID("policy_id", id)
	if err != nil {
		return KeyPolicy{}, err
	}
	d, err := ParsePolicyDocument(document)
	if err != nil {
		return KeyPolicy{}, err
	}
	if description != nil {
		if err := spaceDescription(*description); err != nil {
			return KeyPolicy{}, err
		}
	}
	var out KeyPolicy
	err = s.update(ctx, func(tx store.Tx) error {
		p, err := keyPolicyOf(tx, projectID, id)
		if err != nil {
			return err
		}
		if err := checkAccessPoints(tx, projectID, p.KeySpaceID, d); err != nil {
			return err
		}
		p.Doc, p.Document = d, d.Canonical()
		if description != nil {
			p.Description = *description
		}
		p.UpdatedAt = s.Now().UTC().Truncate(time.Millisecond)
		out = p
		return tx.UpdateKeyPolicy(p.KeyPolicy)
	})
	if err != nil {
		return KeyPolicy{}, err
	}
	s.log.InfoContext(ctx, "key policy updated", "project_id", projectID, "policy_id", id)
	return out, nil
}

// DeleteKeyPolicy deletes a key policy; capsules bound to it by id then
// fail to decrypt (ErrCapsulePolicyGone).
func (s *Service) DeleteKeyPolicy(ctx context.Context, projectID, id string) error {
	id, err := spaceID("policy_id", id)
	if err != nil {
		return err
	}
	err = s.update(ctx, func(tx store.Tx) error { return tx.DeleteKeyPolicy(projectID, id) })
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %s", ErrKeyPolicyNotFound, id)
	}
	if err == nil {
		s.log.InfoContext(ctx, "key policy deleted", "project_id", projectID, "policy_id", id)
	}
	return err
}
