// Package group batches concurrent writers for a store's group commit.
//
// A Committer runs one goroutine that takes the writes waiting at a moment
// (at most Max of them) and hands them, as one group, to the store's commit
// function, which runs every write's function in one transaction (each in
// a savepoint of its own) and commits once. Each writer is answered only
// after the commit function returned its outcome, so a nil error means the
// write is as durable as the store's commit. The order of the writes in a
// group is the order of their arrival.
//
// The committer is the store's: this package knows neither transactions
// nor SQL, only who waits, for how long, and who is answered what.
package group

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// ErrClosed is the error of Do once the Committer is closed.
var ErrClosed = errors.New("store is closed")

// Defaults of Options.
const (
	// DefaultMax bounds the writes committed together, so that one
	// commit's latency stays bounded.
	DefaultMax = 64
	// DefaultLinger bounds how long a group waits for the writers that
	// came with the previous group: a fraction of an fsync.
	DefaultLinger = 500 * time.Microsecond
)

// Options tune a Committer; zero fields take the defaults.
type Options struct {
	Max    int
	Linger time.Duration
	// Grow sizes groups by the writers there are rather than by the
	// last group: the committer yields the processor once before it
	// collects (with one core, the handlers ready to hand in a write
	// need it), and waits (at most Linger) for the previous group's
	// writers plus those that queued while it committed. Without Grow
	// a group waits for as many writers as the previous group had, so
	// that one small group keeps the next ones small.
	Grow bool
}

// A Write is one call of Do waiting for its group's commit.
type Write[T any] struct {
	ctx  context.Context
	fn   func(T) error
	done chan error // buffered; receives the outcome once
}

// Context returns the context the writer passed to Do. The commit function
// skips a write whose context has ended before its turn; a context that
// ends while the write runs must not interrupt the group (pass
// context.WithoutCancel of it to the statements).
func (w *Write[T]) Context() context.Context { return w.ctx }

// Run calls the write's function with t and returns its error. A panic of
// the function is returned as an error that Do raises again in the
// writer's goroutine; the commit function treats it as any failure.
func (w *Write[T]) Run(t T) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = panicked{v}
		}
	}()
	return w.fn(t)
}

// panicked carries a panic of a write's function to its writer.
type panicked struct{ v any }

func (p panicked) Error() string { return fmt.Sprintf("update function panicked: %v", p.v) }

// A Committer collects writes into groups and commits each group with its
// commit function, on one goroutine, one group at a time. It is safe for
// concurrent use.
type Committer[T any] struct {
	// commit runs the group and returns one error per write (nil: that
	// write is committed). It may retry; it must return.
	commit  func(group []*Write[T]) []error
	max     int
	linger  time.Duration
	grow    bool
	writes  chan *Write[T]
	quit    chan struct{}
	stopped chan struct{}
	once    sync.Once
	sizes   sizes
	// queued counts the writers in Do that no group has taken yet.
	queued atomic.Int64
}

// New starts a Committer that commits groups with commit.
func New[T any](o Options, commit func(group []*Write[T]) []error) *Committer[T] {
	if o.Max <= 0 {
		o.Max = DefaultMax
	}
	if o.Linger <= 0 {
		o.Linger = DefaultLinger
	}
	c := &Committer[T]{commit: commit, max: o.Max, linger: o.Linger, grow: o.Grow,
		writes: make(chan *Write[T]), quit: make(chan struct{}), stopped: make(chan struct{})}
	go c.loop()
	return c
}

// Do hands fn to the committer and waits for the outcome of its group's
// commit. It fails with ErrClosed once Close was called, and with ctx's
// error when ctx ends before fn was taken into a group; once taken, the
// outcome is waited for, because fn may be committing. A panic of fn is
// raised again here.
func (c *Committer[T]) Do(ctx context.Context, fn func(T) error) error {
	w := &Write[T]{ctx: ctx, fn: fn, done: make(chan error, 1)}
	c.queued.Add(1)
	select {
	case c.writes <- w:
	case <-c.quit:
		c.queued.Add(-1)
		return ErrClosed
	case <-ctx.Done():
		c.queued.Add(-1)
		return ctx.Err()
	}
	err := <-w.done
	if p, ok := err.(panicked); ok {
		panic(p.v)
	}
	return err
}

// Close stops the committer after the group it is committing; Do fails
// with ErrClosed afterwards. Close waits for the committer to end.
func (c *Committer[T]) Close() {
	c.once.Do(func() { close(c.quit) })
	<-c.stopped
}

// Sizes returns how many groups were committed and how many writes they
// held, since the Committer started.
func (c *Committer[T]) Sizes() (groups, writes int64) {
	return c.sizes.get()
}

// errGoexit answers the writes of a group whose commit ended the
// committer's goroutine (runtime.Goexit in a write's function: t.Fatal in
// a test, say).
var errGoexit = errors.New("update function ended its goroutine (runtime.Goexit)")

func (c *Committer[T]) loop() {
	group := make([]*Write[T], 0, c.max)
	committing := false
	defer func() {
		if !committing {
			close(c.stopped)
			return
		}
		// A write's function called runtime.Goexit in the middle of the
		// commit (whose own defers rolled the transaction back): answer
		// the group instead of leaving its writers waiting, and go on.
		for _, w := range group {
			w.done <- errGoexit
		}
		go c.loop()
	}()
	// want is how many writers the next group waits for (at most
	// linger): the writers of the previous group, answered and now
	// preparing their next write, and with Grow also those that queued
	// while it committed. A lone writer's want is 1, so it never waits.
	want := 0
	linger := time.NewTimer(0)
	for {
		select {
		case w := <-c.writes:
			group = append(group[:0], w)
		case <-c.quit:
			return
		}
		// With one core (GOMAXPROCS=1) the handlers that are ready to
		// hand in their write need the processor the committer holds:
		// yield it once so that they join this group.
		if c.grow {
			runtime.Gosched()
		}
		if !linger.Stop() {
			select {
			case <-linger.C:
			default:
			}
		}
		linger.Reset(c.linger)
	collect:
		for len(group) < c.max {
			select {
			case w := <-c.writes:
				group = append(group, w)
				continue
			default:
			}
			if len(group) >= want {
				break
			}
			select {
			case w := <-c.writes:
				group = append(group, w)
			case <-linger.C:
				break collect
			}
		}
		c.queued.Add(-int64(len(group)))
		committing = true
		errs := c.commit(group)
		committing = false
		want = len(group)
		if c.grow {
			want = min(c.max, want+int(c.queued.Load()))
		}
		for i, w := range group {
			w.done <- errs[i]
		}
		c.sizes.add(len(group))
		clear(group)
	}
}

// sizes counts groups and their writes.
type sizes struct {
	mu             sync.Mutex
	groups, writes int64
}

func (s *sizes) add(n int) {
	s.mu.Lock()
	s.groups++
	s.writes += int64(n)
	s.mu.Unlock()
}

func (s *sizes) get() (int64, int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.groups, s.writes
}
