package sqlite

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kmsd/kmsd/internal/store"
	"github.com/kmsd/kmsd/internal/store/group"
)

// Group commit. Update hands its function to the store's committer
// (package group), which runs every function waiting at that moment (up
// to group.DefaultMax) in one write transaction, each inside a savepoint of its own,
// and commits them with one fsync. A function that fails has its savepoint
// rolled back and gets its error; the others stay. Every caller is
// answered only after the commit it belongs to returned, that is once it
// is durable, or with an error when that commit failed. The order of the
// functions in a group is the order of their arrival, so the group is
// what running them one by one would have done.

// Update runs fn in a write transaction and commits it when fn returns nil;
// a nil error means the commit is durable. Updates are serialized: fn may
// share its transaction with other Update calls, made at the same time,
// that ran before it (see Group commit above), and sees their writes as
// if they had committed just before. When another process holds the
// database lock beyond the busy timeout, Update runs fn again, up to a few
// times, as the store contract permits. fn must not call View or Update on
// the same Store. A panic of fn is raised again in the caller.
func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) error {
	err := s.committer.Do(ctx, fn)
	if errors.Is(err, group.ErrClosed) {
		return errClosed
	}
	return err
}

// CommitGroups reports the groups committed and the writes they held (see
// store.GroupCommitter).
func (s *Store) CommitGroups() (groups, writes int64) { return s.committer.Sizes() }

var _ store.GroupCommitter = (*Store)(nil)

// errClosed is the error of Update on a closed store.
var errClosed = errors.New("sqlite: store is closed")

// commit is the committer's commit function: it commits the group, and
// then prepares the statements the group missed while the connection is
// free. ctx is used only to prepare statements.
func (s *Store) commit(ctx context.Context, g []*group.Write[store.Tx]) []error {
	errs := s.commitGroup(g)
	s.wstmts.preparePending(ctx)
	return errs
}

// commitGroup runs and commits one group and returns the outcome of each
// write of it.
// When the write lock is busy beyond the busy timeout (another process),
// it runs the group again after a backoff, up to maxBusyAttempts times.
func (s *Store) commitGroup(g []*group.Write[store.Tx]) []error {
	backoff := 10 * time.Millisecond
	for attempt := 1; ; attempt++ {
		errs, err := s.runGroup(g)
		if err == nil || !isBusy(err) || attempt == maxBusyAttempts {
			for i := range errs {
				if err != nil && errs[i] == nil {
					errs[i] = err
				}
			}
			return errs
		}
		time.Sleep(backoff)
		backoff *= 2
	}
}

// runGroup runs the group's functions in one transaction and commits it.
// It returns each function's own error, and the error of the group (begin,
// savepoints, commit), which fails every function that succeeded.
func (s *Store) runGroup(g []*group.Write[store.Tx]) ([]error, error) {
	errs := make([]error, len(g))
	// The transaction belongs to no single caller: one caller's cancelled
	// context must not interrupt the others' statements.
	ctx := context.WithoutCancel(g[0].Context())
	sqlTx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return errs, fmt.Errorf("sqlite: begin: %w", err)
	}
	defer sqlTx.Rollback()
	for i, w := range g {
		if err := w.Context().Err(); err != nil {
			errs[i] = err
			continue
		}
		// The savepoint's statements are prepared once (the statement
		// cache) rather than parsed for every write.
		t := &tx{ctx: context.WithoutCancel(w.Context()), tx: sqlTx, stmts: s.wstmts}
		if _, err := t.exec("SAVEPOINT write"); err != nil {
			return errs, fmt.Errorf("sqlite: savepoint: %w", err)
		}
		errs[i] = w.Run(t)
		var err error
		if errs[i] == nil {
			_, err = t.exec("RELEASE write")
		} else {
			_, err = sqlTx.ExecContext(ctx, "ROLLBACK TO write; RELEASE write")
		}
		if err != nil {
			return errs, fmt.Errorf("sqlite: end savepoint: %w", err)
		}
	}
	if err := sqlTx.Commit(); err != nil {
		return errs, fmt.Errorf("sqlite: commit: %w", err)
	}
	return errs, nil
}

// groupOptions size the groups by the writers waiting (group.Options.Grow):
// a SQLite node's handlers and committer share its cores, and groups
// copied from the last one's size shrank to 2 or 3 writes with 32 clients
// on one core. The linger is short because a commit's fsync is local.
var groupOptions = group.Options{Grow: true, Linger: 200 * time.Microsecond}
