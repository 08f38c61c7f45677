package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache keeps the prepared statements of the write connection, so
// that a transaction does not parse its SQL (and compile the triggers it
// fires) again on every call: with the pure-Go driver, preparing is a
// quarter of what create-key costs. A query is prepared on the pool, which
// needs the connection free, so a query not yet cached runs unprepared and
// is prepared by the committer between two groups (preparePending).
// Queries built from a request (tag queries with any number of tags) could
// be many; past maxStmts the cache stops growing.
type stmtCache struct {
	db      *sql.DB
	mu      sync.Mutex
	m       map[string]*sql.Stmt
	pending map[string]bool // queries to prepare when the connection is free
}

const maxStmts = 256

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, m: map[string]*sql.Stmt{}, pending: map[string]bool{}}
}

// get returns the prepared statement of query, or nil when it is not
// cached yet (it will be, unless the cache is full).
func (c *stmtCache) get(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[query]; ok {
		return st
	}
	if len(c.m)+len(c.pending) < maxStmts {
		c.pending[query] = true
	}
	return nil
}

// preparePending prepares the queries get missed. The pool's connection
// must be free: the caller holds no transaction.
func (c *stmtCache) preparePending(ctx context.Context) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q := range c.pending {
		if st, err := c.db.PrepareContext(ctx, q); err == nil {
			c.m[q] = st
		}
		delete(c.pending, q)
	}
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	clear(c.m)
}
