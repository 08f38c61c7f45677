package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"sync"

	"github.com/kmsd/kmsd/internal/store"
)

// countCache serves Store.KeyCounts, the counters of user-instances, from
// memory while the database is unchanged.
//
// PRAGMA data_version on one connection changes whenever another
// connection, of this process or any other, has committed since the last
// time that connection read it (https://sqlite.org/pragma.html#pragma_data_version).
// The cache's connection never writes, so an unchanged version means that
// nothing at all was committed since the version was read, and a counter
// read after that version is still the current one. Any commit, of any
// row, empties the cache; the next call reads the row again.
//
// Calls share version checks: a call joins the next check to start (a
// check that started before the call could miss a commit made just
// before it), and one check answers every call that joined it. So 64
// concurrent callers cost one PRAGMA between them, not 64 in a row behind
// a lock; the caller that runs a check first yields the processor, so
// that callers ready to run join it even on a single busy core. No call waits for a connection of the read pool: the row of a
// project, after a commit, is read on the cache's own connection too.
type countCache struct {
	db      *sql.DB   // one read-only connection
	version *sql.Stmt // PRAGMA data_version, prepared on it
	read    *sql.Stmt // keyCountsQuery, prepared on it

	mu      sync.Mutex
	running bool   // a check is running
	next    *check // the check the next callers join; nil when none waits
	seen    int64  // data_version when counts was last emptied
	counts  map[string]store.KeyCounts
}

// A check is one reading of data_version shared by the calls that joined
// it before it started.
type check struct {
	done chan struct{}
	err  error
	seen int64 // the version it read
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
	c := &countCache{db: db, seen: -1, counts: map[string]store.KeyCounts{}}
	if c.version, err = db.PrepareContext(ctx, "PRAGMA data_version"); err == nil {
		c.read, err = db.PrepareContext(ctx, keyCountsQuery)
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return c, nil
}

// dataVersion returns the data_version of a check started after the call:
// two calls that return the same value saw no commit, by any connection,
// between them.
func (c *countCache) dataVersion(ctx context.Context) (int64, error) {
	c.mu.Lock()
	ch := c.next
	if ch == nil {
		ch = &check{done: make(chan struct{})}
		c.next = ch
	}
	lead := !c.running
	if lead {
		c.running = true
	}
	c.mu.Unlock()
	if lead {
		// Let the goroutines that are ready to run go first: on a busy
		// core the PRAGMA, which never blocks, would otherwise run to its
		// end before any other caller could join it, and every caller
		// would run its own. Those that reach this point meanwhile join
		// ch, which has not started, so it still starts after their calls.
		runtime.Gosched()
		c.run(ctx)
	}
	<-ch.done
	return ch.seen, ch.err
}

// keyCounts returns the project's counters, from memory when no commit
// happened since they were read, from the cache's connection otherwise.
func (c *countCache) keyCounts(ctx context.Context, projectID string) (store.KeyCounts, error) {
	seen, err := c.dataVersion(ctx)
	if err != nil {
		return store.KeyCounts{}, err
	}
	c.mu.Lock()
	k, ok := c.counts[projectID]
	c.mu.Unlock()
	if ok && c.seenIs(seen) {
		return k, nil
	}
	// Read after the version: a commit between the two makes the next
	// check see another version and empty the cache.
	if err := c.read.QueryRowContext(ctx, projectID).Scan(&k.Custom, &k.Default); err != nil {
		return store.KeyCounts{}, wrap("key counts", err)
	}
	c.mu.Lock()
	if c.seen == seen {
		c.counts[projectID] = k
	}
	c.mu.Unlock()
	return k, nil
}

// seenIs reports whether the cache still holds what version v showed.
func (c *countCache) seenIs(v int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seen == v
}

// run runs the waiting checks one after the other until none waits.
func (c *countCache) run(ctx context.Context) {
	for {
		c.mu.Lock()
		ch := c.next
		c.next = nil
		if ch == nil {
			c.running = false
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		var v int64
		if err := c.version.QueryRowContext(context.WithoutCancel(ctx)).Scan(&v); err != nil {
			ch.err = fmt.Errorf("sqlite: key counts: data version: %w", err)
		} else {
			c.mu.Lock()
			if v != c.seen {
				clear(c.counts)
				c.seen = v
			}
			c.mu.Unlock()
			ch.seen = v
		}
		close(ch.done)
	}
}

func (c *countCache) close() error {
	c.version.Close()
	c.read.Close()
	return c.db.Close()
}

var _ store.KeyCountReader = (*Store)(nil)

// KeyCounts returns the project's counters as Tx.KeyCounts in a View
// started now would, without waiting for the read pool (see countCache).
// It fails with store.ErrNotFound when the project does not exist.
func (s *Store) KeyCounts(ctx context.Context, projectID string) (store.KeyCounts, error) {
	return s.counts.keyCounts(ctx, projectID)
}
