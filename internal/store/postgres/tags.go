package postgres

import (
	"fmt"
	"strings"

	"github.com/kmsd/kmsd/internal/store"
)

// Tags of keys. The tags of a key go with it by ON DELETE CASCADE.

func scanTag(s scanner) (store.Tag, error) {
	var tag store.Tag
	err := s.Scan(&tag.Key, &tag.Value)
	return tag, err
}

// PutTag inserts the tag or overwrites its value. The foreign key to keys
// makes a missing key store.ErrNotFound.
func (t *tx) PutTag(projectID, keyID, key, value string) error {
	_, err := t.exec("put tag", `INSERT INTO key_tags (project_id, key_id, tag_key, tag_value) VALUES ($1, $2, $3, $4)
		ON CONFLICT (project_id, key_id, tag_key) DO UPDATE SET tag_value = excluded.tag_value`,
		projectID, keyID, key, value)
	return err
}

func (t *tx) DeleteTag(projectID, keyID, key string) error {
	return t.execOne("delete tag",
		"DELETE FROM key_tags WHERE project_id = $1 AND key_id = $2 AND tag_key = $3", projectID, keyID, key)
}

// ListKeyTags returns the key's tags by tag key. Inside an Update it first
// locks the key (lockKey), so that the tag limits checked on the list hold
// against concurrent writers on every node.
func (t *tx) ListKeyTags(projectID, keyID string) ([]store.Tag, error) {
	const op = "list key tags"
	if err := t.lockKey(op, projectID, keyID); err != nil {
		return nil, err
	}
	tags, err := query(t, scanTag,
		"SELECT tag_key, tag_value FROM key_tags WHERE project_id = $1 AND key_id = $2 ORDER BY tag_key", projectID, keyID)
	return tags, wrap(op, err)
}

// ListProjectTags reads the project's distinct (tag key, value) pairs in
// order and groups them by tag key.
func (t *tx) ListProjectTags(projectID string) ([]store.TagValues, error) {
	pairs, err := query(t, scanTag,
		"SELECT DISTINCT tag_key, tag_value FROM key_tags WHERE project_id = $1 ORDER BY tag_key, tag_value", projectID)
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
// each further tag is one lookup on the primary key of key_tags. The
// primary key of key_tags allows one row per key and tag key, so the join
// repeats no key.
func findKeysQueries(projectID string, q store.TagQuery) (count, page string, args []any, err error) {
	var where strings.Builder
	args = []any{projectID}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	tags := q.Tags
	if len(tags) == 0 {
		where.WriteString(" FROM keys k WHERE k.project_id = $1")
	} else {
		fmt.Fprintf(&where, " FROM key_tags d JOIN keys k ON k.project_id = d.project_id AND k.key_id = d.key_id"+
			" WHERE d.project_id = $1 AND d.tag_key = %s", arg(tags[0].Key))
		if len(tags[0].Values) > 0 {
			fmt.Fprintf(&where, " AND d.tag_value = ANY (%s)", arg(tags[0].Values))
		}
		tags = tags[1:]
	}
	for _, tag := range tags {
		fmt.Fprintf(&where, ` AND EXISTS (SELECT 1 FROM key_tags t
			WHERE t.project_id = k.project_id AND t.key_id = k.key_id AND t.tag_key = %s`, arg(tag.Key))
		if len(tag.Values) > 0 {
			fmt.Fprintf(&where, " AND t.tag_value = ANY (%s)", arg(tag.Values))
		}
		where.WriteString(")")
	}
	for _, m := range q.Matches {
		if m.Key != store.MatchResourceName {
			return "", "", nil, fmt.Errorf("unsupported match key %q (want %q)", m.Key, store.MatchResourceName)
		}
		// strpos, unlike LIKE, gives no meaning to % and _ in the value.
		// The key alias charset is ASCII (reference kms-api.md §2.4), so
		// folding with lower is ASCII case folding here.
		fmt.Fprintf(&where, " AND strpos(lower(k.alias), lower(%s)) > 0", arg(m.Value))
	}
	count = "SELECT COUNT(*)" + where.String()
	page = "SELECT " + qualifiedKeyCols + where.String() +
		fmt.Sprintf(" ORDER BY k.created_at, k.key_id LIMIT $%d OFFSET $%d", len(args)+1, len(args)+2)
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
		return nil, 0, errf(op, err)
	}
	return countedPage(t, op, scanKey, count, pageQuery, args, offset, limit)
}
