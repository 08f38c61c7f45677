package logging

import (
	"io"
	"sync"
	"time"
)

// FlushInterval is how long a line waits at most in a Buffer before it is
// written out.
const FlushInterval = 50 * time.Millisecond

// maxBuffered is the size past which Write writes the buffer out itself
// instead of letting it grow: a burst of lines slows its writers down
// rather than dropping lines or growing without bound.
const maxBuffered = 256 << 10

// Buffer is an io.Writer for log lines that keeps them in memory and
// writes them to the underlying writer from a goroutine of its own, at most
// FlushInterval later, in the order they were written. Logging a request
// then costs a copy into memory instead of a write system call on the
// request's path. Close writes out what is left, so a clean shutdown
// loses no line; a crash (kill -9) loses at most the last FlushInterval
// of lines. Buffer is safe for concurrent use; each Write is kept whole
// (log/slog handlers write one line per call).
type Buffer struct {
	w io.Writer

	out sync.Mutex // held while writing to w: keeps the order of flushes

	mu     sync.Mutex
	buf    []byte // lines not yet handed to w
	spare  []byte // the other buffer, reused
	closed bool

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// NewBuffer returns a Buffer writing to w; call Close when done.
func NewBuffer(w io.Writer) *Buffer {
	b := &Buffer{w: w, stop: make(chan struct{}), done: make(chan struct{})}
	go b.run()
	return b
}

// Write copies p into the buffer. After Close it writes p through. Errors
// of the underlying writer are not reported (a log line has nowhere to
// report them to).
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		b.out.Lock()
		defer b.out.Unlock()
		return b.w.Write(p)
	}
	b.buf = append(b.buf, p...)
	full := len(b.buf) >= maxBuffered
	b.mu.Unlock()
	if full {
		b.Flush()
	}
	return len(p), nil
}

// Flush writes out every line written so far.
func (b *Buffer) Flush() {
	b.out.Lock()
	defer b.out.Unlock()
	b.mu.Lock()
	data := b.buf
	b.buf = b.spare[:0]
	b.mu.Unlock()
	if len(data) > 0 {
		_, _ = b.w.Write(data)
	}
	b.mu.Lock()
	b.spare = data[:0]
	b.mu.Unlock()
}

func (b *Buffer) run() {
	defer close(b.done)
	t := time.NewTicker(FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			b.Flush()
		case <-b.stop:
			return
		}
	}
}

// Close stops the flushing goroutine and writes out what is left; later
// writes go straight to the underlying writer. It is safe to call more
// than once.
func (b *Buffer) Close() error {
	b.closeOnce.Do(func() {
		close(b.stop)
		<-b.done
		b.out.Lock()
		defer b.out.Unlock()
		b.mu.Lock()
		data := b.buf
		b.buf, b.closed = nil, true
		b.mu.Unlock()
		if len(data) > 0 {
			_, _ = b.w.Write(data)
		}
	})
	return nil
}
