package group

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestDoAnswersEachWrite commits writes from many goroutines, with a
// commit function that records every group, and checks that each writer
// gets its own outcome, that groups respect Max, and that they did group.
func TestDoAnswersEachWrite(t *testing.T) {
	var mu sync.Mutex
	var sizes []int
	release := make(chan struct{})
	c := New(Options{Max: 8}, func(g []*Write[int]) []error {
		<-release // hold the first group so that the others queue up
		mu.Lock()
		sizes = append(sizes, len(g))
		mu.Unlock()
		errs := make([]error, len(g))
		for i, w := range g {
			errs[i] = w.Run(len(g))
		}
		return errs
	})
	defer c.Close()
	errOdd := errors.New("odd")
	const n = 40
	errs := make([]error, n)
	var wg sync.WaitGroup
	var calling atomic.Int64
	for i := range n {
		wg.Go(func() {
			calling.Add(1)
			errs[i] = c.Do(t.Context(), func(int) error {
				if i%2 == 1 {
					return errOdd
				}
				return nil
			})
		})
	}
	// Let every writer reach Do, and give them a moment to block in it,
	// before the first group commits.
	for calling.Load() < n {
		runtime.Gosched()
	}
	time.Sleep(20 * time.Millisecond)
	close(release)
	wg.Wait()
	for i, err := range errs {
		if i%2 == 1 && !errors.Is(err, errOdd) {
			t.Errorf("write %d: got %v, want %v", i, err, errOdd)
		}
		if i%2 == 0 && err != nil {
			t.Errorf("write %d: got %v, want nil", i, err)
		}
	}
	total, most := 0, 0
	for _, s := range sizes {
		total += s
		most = max(most, s)
	}
	if total != n || most > 8 {
		t.Errorf("groups %v: got %d writes, largest %d; want %d, at most 8", sizes, total, most, n)
	}
	if most < 2 {
		t.Errorf("groups %v: no two writes were committed together", sizes)
	}
	groups, writes := c.Sizes()
	if groups != int64(len(sizes)) || writes != n {
		t.Errorf("Sizes: got %d groups, %d writes; want %d, %d", groups, writes, len(sizes), n)
	}
}

// TestDoRaisesPanic checks that a panic of a write's function reaches its
// writer and leaves the committer working.
func TestDoRaisesPanic(t *testing.T) {
	c := New(Options{}, func(g []*Write[int]) []error {
		errs := make([]error, len(g))
		for i, w := range g {
			errs[i] = w.Run(0)
		}
		return errs
	})
	defer c.Close()
	func() {
		defer func() {
			if v := recover(); v != "boom" {
				t.Errorf("recovered %v, want boom", v)
			}
		}()
		_ = c.Do(t.Context(), func(int) error { panic("boom") })
	}()
	if err := c.Do(t.Context(), func(int) error { return nil }); err != nil {
		t.Errorf("Do after a panic: %v", err)
	}
}

// TestDoCancelledBeforeTaken returns the context's error without running
// the function while the committer is busy.
func TestDoCancelledBeforeTaken(t *testing.T) {
	busy, release := make(chan struct{}), make(chan struct{})
	c := New(Options{}, func(g []*Write[int]) []error {
		close(busy)
		<-release
		return make([]error, len(g))
	})
	defer c.Close()
	go c.Do(t.Context(), func(int) error { return nil })
	<-busy
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	ran := false
	if err := c.Do(ctx, func(int) error { ran = true; return nil }); !errors.Is(err, context.Canceled) || ran {
		t.Errorf("got %v (ran %v), want context.Canceled without running", err, ran)
	}
	close(release)
}

// TestDoAfterClose fails with ErrClosed instead of hanging.
func TestDoAfterClose(t *testing.T) {
	c := New(Options{}, func(g []*Write[int]) []error { return make([]error, len(g)) })
	c.Close()
	c.Close() // twice is fine
	if err := c.Do(t.Context(), func(int) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Errorf("got %v, want ErrClosed", err)
	}
}

// TestDoSurvivesGoexit answers the writers of a group whose commit ended
// the committer's goroutine, and keeps committing.
func TestDoSurvivesGoexit(t *testing.T) {
	c := New(Options{}, func(g []*Write[int]) []error {
		errs := make([]error, len(g))
		for i, w := range g {
			errs[i] = w.Run(0)
		}
		return errs
	})
	defer c.Close()
	if err := c.Do(t.Context(), func(int) error { runtime.Goexit(); return nil }); !errors.Is(err, errGoexit) {
		t.Errorf("got %v, want errGoexit", err)
	}
	if err := c.Do(t.Context(), func(int) error { return nil }); err != nil {
		t.Errorf("Do after a Goexit: %v", err)
	}
}

// TestGrowLoneWriterNeverWaits runs writes one after the other, some of
// them cancelled before their turn, with Grow and a Linger of an hour:
// were the writers still queued miscounted (a cancelled writer, say), a
// group would wait for one that never comes and the test would hang.
func TestGrowLoneWriterNeverWaits(t *testing.T) {
	busy, release := make(chan struct{}, 1), make(chan struct{})
	hold := atomic.Bool{}
	c := New(Options{Linger: time.Hour, Grow: true}, func(g []*Write[int]) []error {
		if hold.Load() {
			busy <- struct{}{}
			<-release
		}
		errs := make([]error, len(g))
		for i, w := range g {
			errs[i] = w.Run(0)
		}
		return errs
	})
	defer c.Close()
	for i := range 50 {
		if i%10 == 5 {
			// A writer cancelled while the committer is busy.
			hold.Store(true)
			done := make(chan error)
			go func() { done <- c.Do(t.Context(), func(int) error { return nil }) }()
			<-busy
			hold.Store(false)
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			if err := c.Do(ctx, func(int) error { return nil }); !errors.Is(err, context.Canceled) {
				t.Fatalf("cancelled write: got %v", err)
			}
			release <- struct{}{}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
		if err := c.Do(t.Context(), func(int) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if groups, writes := c.Sizes(); groups != writes {
		t.Errorf("got %d groups for %d lone writes", groups, writes)
	}
}
