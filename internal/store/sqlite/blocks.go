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

// blockQueries returns the queries of a jump for f: block finds the block
// that holds an offset, counting from the start (it takes the offset
// after blockArgs), and reverse counting from the end (it takes total -
// offset); each returns the block's start_at and start_id and the number
// of keys before it. SQLite sums the counts itself, in the order of the
// blocks' index, and stops at the block. from selects a page starting at
// a position (it takes start_at, start_id, limit and offset after
// fromArgs). ok is false for a filter that has no blocks (one with an
// enterprise project).
func blockQueries(projectID string, f store.KeyFilter) (block, reverse, from string, blockArgs, fromArgs []any, ok bool) {
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
	sum := func(order string) string {
		return "SELECT start_at, start_id, n, SUM(n) OVER (ORDER BY " + order + " ROWS UNBOUNDED PRECEDING) AS c" +
			" FROM key_list_blocks WHERE project_id = ? AND dim = ? AND spec = ? AND state = ?"
	}
	// The block holds the offset when the keys up to its end (c) pass it.
	block = "SELECT start_at, start_id, c - n FROM (" + sum("start_at, start_id") + ") WHERE c > ? LIMIT 1"
	// Counted from the end, the block holds the offset when the keys from
	// its start to the end (c) reach total - offset; total - c keys come
	// before it.
	reverse = "SELECT start_at, start_id, -c FROM (" + sum("start_at DESC, start_id DESC") + ") WHERE c >= ? LIMIT 1"
	from = "SELECT " + keyCols + " FROM keys" + where.String() +
		" AND (created_at, key_id) >= (?, ?) ORDER BY created_at, key_id LIMIT ? OFFSET ?"
	return block, reverse, from, blockArgs, fromArgs, true
}

// jump reads the page [offset, offset+limit) of the list of f, whose
// total is total, through the blocks, from the end nearer to offset. ok
// is false when f has no blocks.
func (t *tx) jump(projectID string, f store.KeyFilter, offset, limit, total int) (keys []store.Key, ok bool, err error) {
	block, reverse, from, blockArgs, fromArgs, ok := blockQueries(projectID, f)
	if !ok {
		return nil, false, nil
	}
	var startAt int64
	var startID string
	var before int
	if offset <= total/2 {
		err = t.queryRow(block, append(blockArgs, offset)...).Scan(&startAt, &startID, &before)
	} else {
		err = t.queryRow(reverse, append(blockArgs, total-offset)...).Scan(&startAt, &startID, &before)
		before += total
	}
	if err != nil {
		return nil, true, fmt.Errorf("the block of offset %d of %d: %w", offset, total, err)
	}
	if before < 0 || before > offset {
		return nil, true, fmt.Errorf("the blocks of the list count %d keys before offset %d, the total is %d", before, offset, total)
	}
	keys, err = query(t, scanKey, from, append(fromArgs, startAt, startID, limit, offset-before)...)
	return keys, true, err
}
