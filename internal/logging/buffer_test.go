package logging

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncWriter is a bytes.Buffer safe for the test's concurrent reads.
type syncWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// TestBufferKeepsEveryLine writes lines from several goroutines, more than
// maxBuffered in all, closes the buffer and checks that every line arrived
// whole and that each writer's lines kept their order.
func TestBufferKeepsEveryLine(t *testing.T) {
	var w syncWriter
	b := NewBuffer(&w)
	const writers, lines = 8, 2000
	pad := strings.Repeat("x", 100)
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range lines {
				fmt.Fprintf(b, "%d %d %s\n", g, i, pad)
			}
		})
	}
	wg.Wait()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	next := make([]int, writers)
	got := strings.Split(strings.TrimSuffix(w.String(), "\n"), "\n")
	if len(got) != writers*lines {
		t.Fatalf("got %d lines, want %d", len(got), writers*lines)
	}
	for _, l := range got {
		var g, i int
		var p string
		if _, err := fmt.Sscanf(l, "%d %d %s", &g, &i, &p); err != nil || p != pad {
			t.Fatalf("line %q is not whole", l)
		}
		if i != next[g] {
			t.Fatalf("writer %d: line %d came after line %d", g, i, next[g]-1)
		}
		next[g]++
	}
	// After Close, lines go straight through.
	fmt.Fprintln(b, "late")
	if !strings.HasSuffix(w.String(), "late\n") {
		t.Error("a line written after Close did not arrive")
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestBufferFlushesWithoutClose checks that a line reaches the writer
// within a few flush intervals while the buffer stays open.
func TestBufferFlushesWithoutClose(t *testing.T) {
	var w syncWriter
	b := NewBuffer(&w)
	defer b.Close()
	fmt.Fprintln(b, "hello")
	deadline := time.Now().Add(100 * FlushInterval)
	for w.String() != "hello\n" {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: got %q, want the line", 100*FlushInterval, w.String())
		}
		time.Sleep(FlushInterval / 5)
	}
}
