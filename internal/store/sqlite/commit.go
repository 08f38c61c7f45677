package sqlite

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kmsd/kmsd/internal/store"
)

// Group commit. Update hands its function to the store's committer
// goroutine, which runs every function waiting at that moment (up to
// maxGroup) in one write transaction, each inside a savepoint of its own,
// and commits them with one fsync. A function that fails has its savepoint
// rolled back and gets its error; the others stay. Every caller is
// answered only after the commit it belongs to returned, that is once it
// is durable, or with an error when that commit failed. The order of the
// functions in a group is the order of their arrival, so the group is
// what running them one by one would have done.

// maxGroup bounds the functions committed together, so that one commit's
// latency stays bounded.
const maxGroup = 64

// maxLinger bounds how long a group waits for writers that came with the
// previous group (see commitLoop): a fraction of an fsync.
const maxLinger = 500 * time.Microsecond

// errClosed is the error of Update on a closed store.
var errClosed = errors.New("sqlite: store is closed")

// A write is one call of Update waiting for its commit.
type write struct {
	ctx  context.Context
	fn   func(store.Tx) error
	done chan error // buffered; receives the outcome once
}

// panicked carries a panic of a write's function to its caller.
type panicked struct{ v any }

func (p panicked) Error() string { return fmt.Sprintf("sqlite: update function panicked: %v", p.v) }

// Update runs fn in a write transaction and commits it when fn returns nil;
// a nil error means the commit is durable. Updates are serialized: fn may
// share its transaction with other Update calls, made at the same time,
// that ran before it (see Group commit above), and sees their writes as
// if they had committed just before. When another process holds the
// database lock beyond the busy timeout, Update runs fn again, up to a few
// times, as the store contract permits. fn must not call View or Update on
// the same Store. A panic of fn is raised again in the caller.
func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) error {
	w := &write{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case s.writes <- w:
	case <-s.quit:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once handed over, the outcome is waited for: the function may be
	// committing.
	err := <-w.done
	if p, ok := err.(panicked); ok {
		panic(p.v)
	}
	return err
}

// commitLoop is the committer goroutine; it ends when quit is closed. ctx
// is used only to prepare statements between groups.
func (s *Store) commitLoop(ctx context.Context) {
	defer close(s.stopped)
	group := make([]*write, 0, maxGroup)
	last := 0 // the size of the previous group
	linger := time.NewTimer(0)
	for {
		select {
		case w := <-s.writes:
			group = append(group[:0], w)
		case <-s.quit:
			return
		}
		// Take what is waiting; when fewer writers came than last time,
		// give the others (answered by the last commit and now preparing
		// their next write) a moment to join rather than paying a commit
		// of their own.
		if !linger.Stop() {
			select {
			case <-linger.C:
			default:
			}
		}
		linger.Reset(maxLinger)
	collect:
		for len(group) < maxGroup {
			select {
			case w := <-s.writes:
				group = append(group, w)
				continue
			default:
			}
			if len(group) >= last {
				break
			}
			select {
			case w := <-s.writes:
				group = append(group, w)
			case <-linger.C:
				break collect
			}
		}
		last = len(group)
		s.commitGroup(group)
		clear(group)
		s.wstmts.preparePending(ctx)
	}
}

// commitGroup runs and commits one group and answers every write of it.
// When the write lock is busy beyond the busy timeout (another process),
// it runs the group again after a backoff, up to maxBusyAttempts times.
func (s *Store) commitGroup(group []*write) {
	backoff := 10 * time.Millisecond
	for attempt := 1; ; attempt++ {
		errs, err := s.runGroup(group)
		if err == nil || !isBusy(err) || attempt == maxBusyAttempts {
			for i, w := range group {
				if err != nil && errs[i] == nil {
					errs[i] = err
				}
				w.done <- errs[i]
			}
			return
		}
		time.Sleep(backoff)
		backoff *= 2
	}
}

// runGroup runs the group's functions in one transaction and commits it.
// It returns each function's own error, and the error of the group (begin,
// savepoints, commit), which fails every function that succeeded.
func (s *Store) runGroup(group []*write) ([]error, error) {
	errs := make([]error, len(group))
	// The transaction belongs to no single caller: one caller's cancelled
	// context must not interrupt the others' statements.
	ctx := context.WithoutCancel(group[0].ctx)
	sqlTx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return errs, fmt.Errorf("sqlite: begin: %w", err)
	}
	defer sqlTx.Rollback()
	for i, w := range group {
		if err := w.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		if _, err := sqlTx.ExecContext(ctx, "SAVEPOINT write"); err != nil {
			return errs, fmt.Errorf("sqlite: savepoint: %w", err)
		}
		errs[i] = call(w.fn, &tx{ctx: context.WithoutCancel(w.ctx), tx: sqlTx, stmts: s.wstmts})
		undo := "RELEASE write"
		if errs[i] != nil {
			undo = "ROLLBACK TO write; RELEASE write"
		}
		if _, err := sqlTx.ExecContext(ctx, undo); err != nil {
			return errs, fmt.Errorf("sqlite: end savepoint: %w", err)
		}
	}
	if err := sqlTx.Commit(); err != nil {
		return errs, fmt.Errorf("sqlite: commit: %w", err)
	}
	return errs, nil
}

// call runs fn on t and turns a panic into a panicked error.
func call(fn func(store.Tx) error, t *tx) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = panicked{v}
		}
	}()
	return fn(t)
}
