package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/kmsd/kmsd/internal/store"
	"github.com/kmsd/kmsd/internal/store/group"
)

// Group commit, as SQLite's (package group): Update hands its function to
// the store's committer, which runs every function waiting at that moment
// in one READ COMMITTED transaction, each inside a savepoint of its own,
// and commits them with one COMMIT, so one WAL flush of the server
// (synchronous_commit stays on) makes a whole group durable. A function
// that fails has its savepoint rolled back and gets its error; the others
// stay. Every caller is answered only after the COMMIT returned, or with
// its error when it failed.
//
// Rows a function locks (the project's key_counts row that a quota check
// reads FOR UPDATE, a key it updates) stay locked by the group's
// transaction until its commit: the later functions of the group see the
// first one's writes as committed, and writers on other nodes wait for the
// commit, so a quota is exact across nodes as before. Only the lock is
// taken once per group instead of once per key, which is why creations in
// one project, serialized by that row, no longer cost one commit each.
//
// A function that PostgreSQL aborts with a serialization failure or a
// deadlock (the group on another node held what it wanted) is rolled back
// to its savepoint, which releases what it locked, and Update runs it
// again in a later group.

// errClosed is the error of Update on a closed store.
var errClosed = errors.New("postgres: store is closed")

// Update runs fn in a READ COMMITTED transaction and commits it when fn
// returns nil; a nil error means the commit is durable (synchronous_commit
// is the server's business: keep it on). fn may share its transaction
// with other Update calls made at the same time on this Store (see Group
// commit above) and sees their writes as if they had committed just
// before. Reads that a caller checks before a write lock what they read
// (see KeyCounts, CountGrants, ListKeyTags), so checks hold across nodes.
// Update runs fn again, up to a few times, when PostgreSQL aborts it with
// a serialization failure or a deadlock, as the store contract permits.
// fn's statements run to their end even when ctx ends meanwhile (the
// statement timeout bounds them); fn must not call View or Update on the
// same Store. A panic of fn is raised again in the caller.
func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.committer.Do(ctx, fn)
		if errors.Is(err, group.ErrClosed) {
			return errClosed
		}
		if err == nil || !retryable(err) || attempt == maxAttempts || ctx.Err() != nil {
			return err
		}
	}
}

// CommitGroups reports the groups committed and the writes they held (see
// store.GroupCommitter).
func (s *Store) CommitGroups() (groups, writes int64) { return s.committer.Sizes() }

var _ store.GroupCommitter = (*Store)(nil)

// commitGroup is the committer's commit function: it runs the group in one
// transaction and returns each write's outcome. An error of the group
// (begin, a savepoint, the commit, a broken connection) fails every write
// that had succeeded.
func (s *Store) commitGroup(g []*group.Write[store.Tx]) []error {
	errs := make([]error, len(g))
	if err := s.runGroup(g, errs); err != nil {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
	}
	return errs
}

func (s *Store) runGroup(g []*group.Write[store.Tx], errs []error) error {
	// The transaction belongs to no single caller: one caller's ended
	// context must not interrupt the others' statements (pgx closes the
	// connection of a cancelled statement).
	ctx := context.WithoutCancel(g[0].Context())
	pgTx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return wrap("begin", err)
	}
	defer pgTx.Rollback(ctx)
	c := &conn{tx: pgTx}
	for i, w := range g {
		if err := w.Context().Err(); err != nil {
			errs[i] = err
			continue
		}
		// The savepoint statements are held and travel with the
		// function's first statement and the next one after it (see conn).
		c.hold("SAVEPOINT write")
		errs[i] = w.Run(&tx{ctx: context.WithoutCancel(w.Context()), tx: c, write: true})
		if errs[i] == nil {
			c.hold("RELEASE SAVEPOINT write")
		} else if err := c.rollbackTo(ctx, "write"); err != nil {
			return wrap("rollback to savepoint", err)
		}
	}
	return wrap("commit", c.Commit(ctx))
}
