package sqlite

import (
	"fmt"
	"strings"

	"github.com/kmsd/kmsd/internal/store"
)

// Jumps of ListKeys to an offset through key_list_blocks (migration 0009):
// the counts of blocks of the list order per filter, summed up to the
// block that holds the offset, then a seek to that block's start and a
// skip of fewer than blockMax index entries.

// blockMax is the size at which the triggers of migration 0009 split a
// block; an offset closer than this to an end of the list is reached as
// fast by skipping index entries from that end.
const blockMax = 2000

// blockQueries returns the queries of a jump for f: blocks reads the
// blocks of f's filter in list order, reverse in the opposite order (each
// row start_at, start_id, n), and from selects a page starting at a
// position (it takes start_at, start_id, limit and offset). ok is false
// for a filter that has no blocks (one with an enterprise project).
func blockQueries(projectID string, f store.KeyFilter) (blocks, reverse, from string, blockArgs, fromArgs []any, ok bool) {
	if f.EnterpriseProjectID != "" {
		return "", "", "", nil, nil, false
	}
	dim := 0
	var where strings.Builder
	where.WriteString(" WHERE project_id = ?")
	fromArgs = []any{projectID}
	if f.Spec != "" {
		dim |= 1
		where.WriteString(" AND spec = ?")
		fromArgs = append(fromArgs, f.Spec)
	}
	if f.State != "" {
		dim |= 2
		where.WriteString(" AND state = ?")
		fromArgs = append(fromArgs, f.State)
	}
	blockArgs = []any{projectID, dim, f.Spec, f.State}
	const b = "SELECT start_at, start_id, n FROM key_list_blocks WHERE project_id = ? AND dim = ? AND spec = ? AND state = ?"
	blocks = b + " ORDER BY start_at, start_id"
	reverse = b + " ORDER BY start_at DESC, start_id DESC"
	from = "SELECT " + keyCols + " FROM keys" + where.String() +
		" AND (created_at, key_id) >= (?, ?) ORDER BY created_at, key_id LIMIT ? OFFSET ?"
	return blocks, reverse, from, blockArgs, fromArgs, true
}

// jump reads the page [offset, offset+limit) of the list of f, whose
// total is total, through the blocks, from the end nearer to offset. ok
// is false when f has no blocks.
func (t *tx) jump(projectID string, f store.KeyFilter, offset, limit, total int) (keys []store.Key, ok bool, err error) {
	blocks, reverse, from, blockArgs, fromArgs, ok := blockQueries(projectID, f)
	if !ok {
		return nil, false, nil
	}
	seek := store.NewBlockSeek(offset, total)
	q := blocks
	if !seek.Forward() {
		q = reverse
	}
	rows, err := t.queryRows(q, blockArgs...)
	if err != nil {
		return nil, true, err
	}
	defer rows.Close()
	found := false
	var startAt int64
	var startID string
	for rows.Next() {
		var n int
		if err := rows.Scan(&startAt, &startID, &n); err != nil {
			return nil, true, err
		}
		if seek.Next(n) {
			found = true
			break
		}
	}
	if err := rows.Err(); err != nil {
		return nil, true, err
	}
	rows.Close()
	if !found || seek.Before() < 0 {
		return nil, true, fmt.Errorf("the blocks of the list count %d keys, the total is %d", seek.Before(), total)
	}
	keys, err = query(t, scanKey, from, append(fromArgs, startAt, startID, limit, offset-seek.Before())...)
	return keys, true, err
}
