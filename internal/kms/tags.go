package kms

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/kmsd/kmsd/internal/store"
)

// Tag limits (reference kms-api.md §2.4 and §5.I). Huawei's API document
// allows 10 tags per key and its console document 20; kmsd takes the
// larger documented number, so no key that the real service accepts is
// refused here.
const (
	MaxTagsPerKey    = 20
	MaxTagKeyLen     = 36 // Unicode characters
	MaxTagValueLen   = 43 // Unicode characters
	MaxMatchValueLen = 255
	// MaxQueryTags bounds the tag keys of one resource search, and
	// MaxQueryTagValues the values listed for one of them; a key carries
	// at most MaxTagsPerKey tags, so a longer query can match nothing
	// more.
	MaxQueryTags      = MaxTagsPerKey
	MaxQueryTagValues = 20
	// DefaultSearchLimit and MaxSearchLimit are the page sizes of the
	// resource search (reference §5.I ListKmsByTags: 1–1000, default 10).
	DefaultSearchLimit = 10
	MaxSearchLimit     = 1000
)

// Tag is one tag of a key (reference kms-api.md §4 TagItem).
type Tag = store.Tag

// TagValues is a tag key with values (reference kms-api.md §4 Tag).
type TagValues = store.TagValues

// TagQuery selects keys in FindKeysByTags; see store.TagQuery for its
// semantics.
type TagQuery = store.TagQuery

// MatchResourceName is the only match key of the resource search; its
// value is looked for in key aliases.
const MatchResourceName = store.MatchResourceName

// TaggedKey is a key with its tags, one result of the resource search.
type TaggedKey struct {
	Key
	Tags []Tag
}

// forbiddenTagChars are the characters besides ASCII 0–31 that tag keys
// and values must not contain (reference kms-api.md §2.4).
const forbiddenTagChars = `*<>\=`

func hasForbiddenTagChar(s string) bool {
	for _, r := range s {
		if r < 32 || strings.ContainsRune(forbiddenTagChars, r) {
			return true
		}
	}
	return false
}

// ValidateTagKey checks a tag key: 1–36 Unicode characters (KMS.0411),
// none of them ASCII 0–31 or one of * < > \ = (KMS.0406).
func ValidateTagKey(key string) error {
	if n := utf8.RuneCountInString(key); n == 0 || n > MaxTagKeyLen {
		return fmt.Errorf("%w: %d characters, want 1–%d", ErrTagKeyLength, n, MaxTagKeyLen)
	}
	if hasForbiddenTagChar(key) {
		return fmt.Errorf("%w: contains a control character or one of %s", ErrInvalidTagKey, forbiddenTagChars)
	}
	return nil
}

// ValidateTagValue checks a tag value: 0–43 Unicode characters
// (KMS.0410), none of them ASCII 0–31 or one of * < > \ = (KMS.0405).
func ValidateTagValue(value string) error {
	if n := utf8.RuneCountInString(value); n > MaxTagValueLen {
		return fmt.Errorf("%w: %d characters, want at most %d", ErrTagValueLength, n, MaxTagValueLen)
	}
	if hasForbiddenTagChar(value) {
		return fmt.Errorf("%w: contains a control character or one of %s", ErrInvalidTagValue, forbiddenTagChars)
	}
	return nil
}

// CreateTag sets one tag of a key, overwriting the value of a tag key the
// key already carries (create-kms-tag).
func (s *Service) CreateTag(ctx context.Context, projectID, keyID string, tag Tag) error {
	return s.PutTags(ctx, projectID, keyID, []Tag{tag})
}

// PutTags sets tags on a key, overwriting the values of tag keys it
// already carries (batch-create-kms-tags, action "create"). Every tag is
// checked before any is stored; the key may then carry at most
// MaxTagsPerKey tags (KMS.0409). An empty list is KMS.0401, a list longer
// than MaxTagsPerKey KMS.0407, a tag key listed twice KMS.0412. Tags may
// be set on a key in any state.
func (s *Service) PutTags(ctx context.Context, projectID, keyID string, tags []Tag) error {
	if err := ValidateKeyID(keyID); err != nil {
		return err
	}
	if err := checkTagList(len(tags), func(i int) string { return tags[i].Key }); err != nil {
		return err
	}
	for _, t := range tags {
		if err := ValidateTagKey(t.Key); err != nil {
			return err
		}
		if err := ValidateTagValue(t.Value); err != nil {
			return err
		}
	}
	err := s.update(ctx, func(tx store.Tx) error {
		have, err := tx.ListKeyTags(projectID, keyID)
		if err != nil {
			return mapNotFound(err)
		}
		n := len(have)
		for _, t := range tags {
			if !carries(have, t.Key) {
				n++
			}
		}
		if n > MaxTagsPerKey {
			return fmt.Errorf("%w: the key would carry %d tags, at most %d are allowed", ErrTooManyTags, n, MaxTagsPerKey)
		}
		for _, t := range tags {
			if err := tx.PutTag(projectID, keyID, t.Key, t.Value); err != nil {
				return mapNotFound(err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.log.InfoContext(ctx, "key tags set", "request_id", RequestID(ctx), "project_id", projectID, "key_id", keyID, "tags", len(tags))
	return nil
}

// DeleteTags removes tag keys from a key (batch-create-kms-tags, action
// "delete"); tag keys the key does not carry are skipped, so the call is
// idempotent. The list is checked like PutTags' (KMS.0401, KMS.0407,
// KMS.0412, KMS.0406, KMS.0411).
func (s *Service) DeleteTags(ctx context.Context, projectID, keyID string, keys []string) error {
	if err := ValidateKeyID(keyID); err != nil {
		return err
	}
	if err := checkTagList(len(keys), func(i int) string { return keys[i] }); err != nil {
		return err
	}
	for _, k := range keys {
		if err := ValidateTagKey(k); err != nil {
			return err
		}
	}
	err := s.update(ctx, func(tx store.Tx) error {
		have, err := tx.ListKeyTags(projectID, keyID)
		if err != nil {
			return mapNotFound(err)
		}
		for _, k := range keys {
			if !carries(have, k) {
				continue
			}
			if err := tx.DeleteTag(projectID, keyID, k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.log.InfoContext(ctx, "key tags deleted", "request_id", RequestID(ctx), "project_id", projectID, "key_id", keyID, "tags", len(keys))
	return nil
}

// DeleteTag removes one tag key from a key (delete-tag). A tag key the
// key does not carry is ErrTagNotFound (KMS.0416).
func (s *Service) DeleteTag(ctx context.Context, projectID, keyID, key string) error {
	if err := ValidateKeyID(keyID); err != nil {
		return err
	}
	err := s.update(ctx, func(tx store.Tx) error {
		if _, err := tx.GetKey(projectID, keyID); err != nil {
			return mapNotFound(err)
		}
		err := tx.DeleteTag(projectID, keyID, key)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w (%v)", ErrTagNotFound, err)
		}
		return err
	})
	if err != nil {
		return err
	}
	s.log.InfoContext(ctx, "key tag deleted", "request_id", RequestID(ctx), "project_id", projectID, "key_id", keyID)
	return nil
}

// KeyTags returns a key's tags ordered by tag key (show-kms-tags).
func (s *Service) KeyTags(ctx context.Context, projectID, keyID string) ([]Tag, error) {
	if err := ValidateKeyID(keyID); err != nil {
		return nil, err
	}
	var tags []Tag
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		tags, err = tx.ListKeyTags(projectID, keyID)
		return err
	})
	return tags, mapNotFound(err)
}

// ProjectTags returns every tag key used on a key of the project, ordered,
// with its distinct values in ascending order (list-kms-tags).
func (s *Service) ProjectTags(ctx context.Context, projectID string) ([]TagValues, error) {
	var tags []TagValues
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		tags, err = tx.ListProjectTags(projectID)
		return err
	})
	return tags, err
}

// ValidateTagQuery checks a resource search: at most MaxQueryTags tag
// keys (KMS.0407), each valid and listed once (KMS.0414), with at most
// MaxQueryTagValues valid values (KMS.0413); matches only of the key
// MatchResourceName (KMS.0403), each listed once (KMS.0415), with a value
// of at most MaxMatchValueLen characters (KMS.0402).
func ValidateTagQuery(q TagQuery) error {
	if len(q.Tags) > MaxQueryTags {
		return fmt.Errorf("%w: %d tag keys, at most %d", ErrTagListSize, len(q.Tags), MaxQueryTags)
	}
	seen := make(map[string]bool, len(q.Tags))
	for _, t := range q.Tags {
		if err := ValidateTagKey(t.Key); err != nil {
			return err
		}
		if seen[t.Key] {
			return fmt.Errorf("%w: tag key %q listed twice", ErrInvalidTags, t.Key)
		}
		seen[t.Key] = true
		if len(t.Values) > MaxQueryTagValues {
			return fmt.Errorf("%w: %d values, at most %d", ErrTooManyTagValues, len(t.Values), MaxQueryTagValues)
		}
		for _, v := range t.Values {
			if err := ValidateTagValue(v); err != nil {
				return err
			}
		}
	}
	matched := false
	for _, m := range q.Matches {
		if m.Key != MatchResourceName {
			return fmt.Errorf("%w: %q, want %q", ErrInvalidMatchKey, m.Key, MatchResourceName)
		}
		if matched {
			return fmt.Errorf("%w: %q listed twice", ErrInvalidMatches, m.Key)
		}
		matched = true
		if n := utf8.RuneCountInString(m.Value); n > MaxMatchValueLen {
			return fmt.Errorf("%w: %d characters, at most %d", ErrInvalidMatchValue, n, MaxMatchValueLen)
		}
	}
	return nil
}

// FindKeysByTags returns one page of the project's keys (every state,
// default keys included) matching q, each with its tags, ordered by
// creation time then key id, and the total number of matches
// (list-kms-by-tags, action "filter"). offset must be ≥ 0
// (ErrInvalidOffset) and limit 1–MaxSearchLimit (ErrInvalidLimit).
func (s *Service) FindKeysByTags(ctx context.Context, projectID string, q TagQuery, offset, limit int) ([]TaggedKey, int, error) {
	if offset < 0 {
		return nil, 0, fmt.Errorf("%w: %d", ErrInvalidOffset, offset)
	}
	if limit < 1 || limit > MaxSearchLimit {
		return nil, 0, fmt.Errorf("%w: %d, want 1–%d", ErrInvalidLimit, limit, MaxSearchLimit)
	}
	if err := ValidateTagQuery(q); err != nil {
		return nil, 0, err
	}
	var out []TaggedKey
	var total int
	err := s.store.View(ctx, func(tx store.Tx) error {
		keys, n, err := tx.FindKeysByTags(projectID, q, offset, limit)
		if err != nil {
			return err
		}
		out, total = make([]TaggedKey, 0, len(keys)), n
		for _, r := range keys {
			k, err := keyOf(r)
			if err != nil {
				return err
			}
			tags, err := tx.ListKeyTags(projectID, k.KeyID)
			if err != nil {
				return err
			}
			out = append(out, TaggedKey{Key: k, Tags: tags})
		}
		return nil
	})
	return out, total, err
}

// CountKeysByTags returns the number of the project's keys matching q
// (list-kms-by-tags, action "count").
func (s *Service) CountKeysByTags(ctx context.Context, projectID string, q TagQuery) (int, error) {
	if err := ValidateTagQuery(q); err != nil {
		return 0, err
	}
	var total int
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		_, total, err = tx.FindKeysByTags(projectID, q, 0, 1)
		return err
	})
	return total, err
}

// checkTagList checks the size of a batch of n tags and that no tag key
// appears twice in it.
func checkTagList(n int, key func(int) string) error {
	if n == 0 {
		return ErrTagListEmpty
	}
	if n > MaxTagsPerKey {
		return fmt.Errorf("%w: %d tags, at most %d", ErrTagListSize, n, MaxTagsPerKey)
	}
	seen := make(map[string]bool, n)
	for i := range n {
		k := key(i)
		if seen[k] {
			return fmt.Errorf("%w: tag key %q listed twice", ErrInvalidTagList, k)
		}
		seen[k] = true
	}
	return nil
}

func carries(tags []Tag, key string) bool {
	for _, t := range tags {
		if t.Key == key {
			return true
		}
	}
	return false
}
