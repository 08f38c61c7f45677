package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"github.com/kmsd/kmsd/internal/store"
)

// countCache serves Store.KeyCounts, the counters of user-instances, from
// memory while the database is unchanged, on a connection of its own.
//
// PRAGMA data_version on one connection changes whenever another
// connection, of this process or any other, has committed since the last
// time that connection read it (https://sqlite.org/pragma.html#pragma_data_version).
// The cache connection never writes, so an unchanged version means that
// nothing at all was committed since the version was read, and a counter
// read after that version is still the current one: the answer is the
// same as a read transaction started now would give. Any commit, of any
// row, empties the cache; the next call reads the row again.
//
// Callers wait for the mutex only, never for a connection of the read
// pool: a hit is one PRAGMA on the cache's connection.
type countCache struct {
	db *sql.DB // one read-only connection, used under mu only

	mu      sync.Mutex
	version int64 // data_version when counts was last emptied
	counts  map[string]store.KeyCounts
}

// newCountCache opens the cache's connection to the database file abs.
func newCountCache(ctx context.Context, abs string) (*countCache, error) {
	db, err := sql.Open("sqlite", dsn(abs, false))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return &countCache{db: db, version: -1, counts: map[string]store.KeyCounts{}}, nil
}

// keyCounts returns the project's counters, from memory when no commit
// happened since they were read.
func (c *countCache) keyCounts(ctx context.Context, projectID string) (store.KeyCounts, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var v int64
	if err := c.db.QueryRowContext(ctx, "PRAGMA data_version").Scan(&v); err != nil {
		return store.KeyCounts{}, fmt.Errorf("sqlite: key counts: data version: %w", err)
	}
	if v != c.version {
		clear(c.counts)
		c.version = v
	} else if k, ok := c.counts[projectID]; ok {
		return k, nil
	}
	// Read after the version: a commit between the two makes the next
	// call see another version and read again.
	var k store.KeyCounts
	err := c.db.QueryRowContext(ctx, keyCountsQuery, projectID).Scan(&k.Custom, &k.Default)
	if err != nil {
		return store.KeyCounts{}, wrap("key counts", err)
	}
	c.counts[projectID] = k
	return k, nil
}

func (c *countCache) close() error { return c.db.Close() }

var _ store.KeyCountReader = (*Store)(nil)

// KeyCounts returns the project's counters as Tx.KeyCounts in a View
// started now would, without taking a connection of the read pool (see
// countCache). It fails with store.ErrNotFound when the project does not
// exist.
func (s *Store) KeyCounts(ctx context.Context, projectID string) (store.KeyCounts, error) {
	return s.counts.keyCounts(ctx, projectID)
}
