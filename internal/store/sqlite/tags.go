package sqlite

import (
	"fmt"
	"strings"

	"github.com/kmsd/kmsd/internal/store"
)

// Tags of keys. The tags of a key go with it by ON DELETE CASCADE.

// The queries whose plans TestQueryPlans checks.
const (
	// keyTagsQuery walks the primary key of key_tags.
	keyTagsQuery = "SELECT tag_key, tag_value FROM key_tags WHERE project_id = ? AND key_id = ? ORDER BY tag_key"
	// projectTagsQuery walks the covering index key_tags_project.
	projectTagsQuery = "SELECT DISTINCT tag_key, tag_value FROM key_tags WHERE project_id = ? ORDER BY tag_key, tag_value"
)

func scanTag(s scanner) (store.Tag, error) {
	var tag store.Tag
	err := s.Scan(&tag.Key, &tag.Value)
	return tag, err
}

// PutTag inserts the tag or overwrites its value. The foreign key to keys
// makes a missing key store.ErrNotFound.
func (t *tx) PutTag(projectID, keyID, key, value string) error {
	_, err := t.exec(`INSERT INTO key_tags (project_id, key_id, tag_key, tag_value) VALUES (?, ?, ?, ?)
		ON CONFLICT (project_id, key_id, tag_key) DO UPDATE SET tag_value = excluded.tag_value`,
		projectID, keyID, key, value)
	return wrap("put tag", err)
}

func (t *tx) DeleteTag(projectID, keyID, key string) error {
	return t.execOne("delete tag",
		"DELETE FROM key_tags WHERE project_id = ? AND key_id = ? AND tag_key = ?", projectID, keyID, key)
}

// ListKeyTags returns the key's tags by tag key.
func (t *tx) ListKeyTags(projectID, keyID string) ([]store.Tag, error) {
	const op = "list key tags"
	if err := t.keyExists(op, projectID, keyID); err != nil {
		return nil, err
	}
	tags, err := query(t, scanTag, keyTagsQuery, projectID, keyID)
	return tags, wrap(op, err)
}

// ListProjectTags reads the project's distinct (tag key, value) pairs in
// order and groups them by tag key.
func (t *tx) ListProjectTags(projectID string) ([]store.TagValues, error) {
	pairs, err := query(t, scanTag, projectTagsQuery, projectID)
	if err != nil {
		return nil, wrap("list project tags", err)
	}
	var out []store.TagValues
	for _, p := range pairs {
		if n := len(out); n > 0 && out[n-1].Key == p.Key {
			out[n-1].Values = append(out[n-1].Values, p.Value)
			continue
		}
		out = append(out, store.TagValues{Key: p.Key, Values: []string{p.Value}})
	}
	return out, nil
}

// findKeysQueries returns the queries of FindKeysByTags for q: one counting
// the matches and one selecting a page of them (it takes two more
// arguments, limit and offset), and the arguments they share. A query with
// tags starts from the keys carrying its first tag, on the index
// key_tags_lookup, so that it reads those keys only (and sorts them);
// each further tag is one lookup on the primary key of key_tags. A query
// without tags walks the project's keys in the order of the index
// keys_list.
func findKeysQueries(projectID string, q store.TagQuery) (count, page string, args []any, err error) {
	var where strings.Builder
	args = []any{projectID}
	tags := q.Tags
	if len(tags) == 0 {
		where.WriteString(" FROM keys k WHERE k.project_id = ?")
	} else {
		where.WriteString(` FROM key_tags d CROSS JOIN keys k
			WHERE d.project_id = ? AND d.tag_key = ?`)
		args = append(args, tags[0].Key)
		args = appendValues(&where, "d", tags[0].Values, args)
		where.WriteString(" AND k.project_id = d.project_id AND k.key_id = d.key_id")
		tags = tags[1:]
	}
	for _, tag := range tags {
		where.WriteString(` AND EXISTS (SELECT 1 FROM key_tags t
			WHERE t.project_id = k.project_id AND t.key_id = k.key_id AND t.tag_key = ?`)
		args = append(args, tag.Key)
		args = appendValues(&where, "t", tag.Values, args)
		where.WriteString(")")
	}
	for _, m := range q.Matches {
		if m.Key != store.MatchResourceName {
			return "", "", nil, fmt.Errorf("unsupported match key %q (want %q)", m.Key, store.MatchResourceName)
		}
		// instr, unlike LIKE, gives no meaning to % and _ in the value.
		// lower folds ASCII letters only, as the key alias charset is
		// ASCII (reference kms-api.md §2.4).
		where.WriteString(" AND instr(lower(k.alias), lower(?)) > 0")
		args = append(args, m.Value)
	}
	count = "SELECT COUNT(*)" + where.String()
	page = "SELECT " + qualifiedKeyCols + where.String() + " ORDER BY k.created_at, k.key_id LIMIT ? OFFSET ?"
	return count, page, args, nil
}

// FindKeysByTags pages through the project's keys matching q in creation
// order.
func (t *tx) FindKeysByTags(projectID string, q store.TagQuery, offset, limit int) ([]store.Key, int, error) {
	const op = "find keys by tags"
	if len(q.Tags) == 0 && len(q.Matches) == 0 {
		// Every key of the project: the total is maintained.
		return t.ListKeys(projectID, store.KeyFilter{}, offset, limit)
	}
	count, pageQuery, args, err := findKeysQueries(projectID, q)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	return countedPage(t, op, scanKey, count, pageQuery, args, offset, limit)
}

// appendValues adds to where the condition that the tag value of the
// key_tags row named table is one of values, when there are any, and
// returns args with the values appended.
func appendValues(where *strings.Builder, table string, values []string, args []any) []any {
	if len(values) == 0 {
		return args
	}
	where.WriteString(" AND " + table + ".tag_value IN (?" + strings.Repeat(", ?", len(values)-1) + ")")
	for _, v := range values {
		args = append(args, v)
	}
	return args
}

// qualifiedKeyCols are keyCols of the table named k.
var qualifiedKeyCols = func() string {
	cols := strings.Split(keyCols, ",")
	for i, c := range cols {
		cols[i] = "k." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}()
