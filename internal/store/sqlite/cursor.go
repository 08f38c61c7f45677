package sqlite

import (
	"sync"

	"github.com/kmsd/kmsd/internal/store"
)

// Cursors of ListKeys. The wire marker of list-keys is a numeric offset,
// and SQLite has no index that finds the k-th entry without stepping over
// the k before it. But a client walking the list hands back the
// next_marker of the page it just got; for that offset the store remembers
// where the page ended (the list order's created_at and key id of its last
// key) and the data_version the page was read at. While data_version is
// unchanged, before the total is read and after the page is, no commit
// happened in between, so the keys after that position are exactly the
// keys from that offset on, and the page is one index seek: O(page), at
// any depth.

// maxCursors bounds the remembered positions; past it the oldest half
// goes.
const maxCursors = 4096

type cursorKey struct {
	projectID string
	filter    store.KeyFilter
	offset    int
}

type cursor struct {
	version   int64 // data_version of the cache connection (countCache)
	createdAt int64 // of the last key before offset
	keyID     string
	seq       uint64 // insertion order, for eviction
}

type cursorCache struct {
	mu   sync.Mutex
	m    map[cursorKey]cursor
	seq  uint64
	hits int // positions found, for tests
}

func newCursorCache() *cursorCache { return &cursorCache{m: map[cursorKey]cursor{}} }

// get returns the position of offset in the list of (projectID, f) as
// seen at version.
func (c *cursorCache) get(k cursorKey, version int64) (cursor, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cur, ok := c.m[k]
	ok = ok && cur.version == version
	if ok {
		c.hits++
	}
	return cur, ok
}

func (c *cursorCache) put(k cursorKey, cur cursor) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxCursors {
		cut := c.seq - maxCursors/2
		for k, v := range c.m {
			if v.seq < cut || v.version != cur.version {
				delete(c.m, k)
			}
		}
	}
	c.seq++
	cur.seq = c.seq
	c.m[k] = cur
}
