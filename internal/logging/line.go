package logging

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"
)

// A request line is written once per request at the dev default (debug
// level), so it is encoded by hand into a pooled buffer instead of through
// slog.Record and its handler: the bytes are those slog's JSON or text
// handler writes for the same record (line_test.go holds them equal), at
// a fraction of the cost. Only what can be encoded without escaping or
// quoting takes the fast path; any other line — a value that needs either,
// a logger that is not New's own (With, WithGroup, another handler) —
// goes through slog as before.

// Line is a log line being built by Begin. Its methods add attributes in
// order; End writes it. A Line must not be used after End.
type Line struct {
	buf  []byte
	json bool
	ok   bool // every value so far is plain (plainValue)
	// hasID: a request_id attribute was added (requestIDHandler adds the
	// context's otherwise).
	hasID bool
	w     io.Writer
	// attrs keeps the attributes for the slog path, used when ok is false.
	attrs []slog.Attr
	log   *slog.Logger
	ctx   context.Context
	level slog.Level
	msg   string
}

var linePool = sync.Pool{New: func() any { return &Line{buf: make([]byte, 0, 512), attrs: make([]slog.Attr, 0, 12)} }}

// Begin starts a line of msg at level for log, or returns nil when log
// does not log at that level.
func Begin(log *slog.Logger, ctx context.Context, level slog.Level, msg string) *Line {
	if !log.Enabled(ctx, level) {
		return nil
	}
	return begin(log, ctx, level, msg, time.Now())
}

func begin(log *slog.Logger, ctx context.Context, level slog.Level, msg string, t time.Time) *Line {
	l := linePool.Get().(*Line)
	l.buf, l.attrs = l.buf[:0], l.attrs[:0]
	l.log, l.ctx, l.level, l.msg = log, ctx, level, msg
	l.ok, l.hasID = false, false
	h, own := log.Handler().(requestIDHandler)
	if !own || h.w == nil || !plainValue(msg) {
		return l
	}
	l.ok, l.json, l.w = true, h.json, h.w
	if l.json {
		l.buf = append(l.buf, `{"time":"`...)
		l.buf = t.AppendFormat(l.buf, time.RFC3339Nano)
		l.buf = append(l.buf, `","level":"`...)
		l.buf = append(l.buf, level.String()...)
		l.buf = append(l.buf, `","msg":"`...)
		l.buf = append(l.buf, msg...)
		l.buf = append(l.buf, '"')
	} else {
		l.buf = append(l.buf, "time="...)
		l.buf = appendRFC3339Millis(l.buf, t)
		l.buf = append(l.buf, " level="...)
		l.buf = append(l.buf, level.String()...)
		l.buf = append(l.buf, " msg="...)
		l.buf = append(l.buf, msg...)
	}
	return l
}

// appendRFC3339Millis is slog's text handler time format: RFC 3339 with
// exactly three digits of milliseconds.
func appendRFC3339Millis(b []byte, t time.Time) []byte {
	const prefixLen = len("2006-01-02T15:04:05.000")
	n := len(b)
	t = t.Truncate(time.Millisecond).Add(time.Millisecond / 10)
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b[:n+prefixLen], b[n+prefixLen+1:]...)
}

// plainValue reports whether slog writes s as it is, in JSON (between
// quotes) and in text (unquoted): non-empty, and only ASCII letters,
// digits and - _ . / : + @ ,
func plainValue(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '/' || c == ':' || c == '+' || c == '@' || c == ',') {
			return false
		}
	}
	return true
}

// key appends the separator and key (keys are the caller's constants,
// plain by plainValue).
func (l *Line) key(k string) {
	if l.json {
		l.buf = append(l.buf, `,"`...)
		l.buf = append(l.buf, k...)
		l.buf = append(l.buf, `":`...)
	} else {
		l.buf = append(l.buf, ' ')
		l.buf = append(l.buf, k...)
		l.buf = append(l.buf, '=')
	}
}

// String adds a string attribute.
func (l *Line) String(k, v string) {
	l.attrs = append(l.attrs, slog.String(k, v))
	if k == "request_id" {
		l.hasID = true
	}
	if !l.ok {
		return
	}
	if !plainValue(v) {
		l.ok = false
		return
	}
	l.key(k)
	if l.json {
		l.buf = append(l.buf, '"')
		l.buf = append(l.buf, v...)
		l.buf = append(l.buf, '"')
	} else {
		l.buf = append(l.buf, v...)
	}
}

// Int adds an integer attribute.
func (l *Line) Int(k string, v int) {
	l.attrs = append(l.attrs, slog.Int(k, v))
	if l.ok {
		l.key(k)
		l.buf = strconv.AppendInt(l.buf, int64(v), 10)
	}
}

// Bool adds a boolean attribute.
func (l *Line) Bool(k string, v bool) {
	l.attrs = append(l.attrs, slog.Bool(k, v))
	if l.ok {
		l.key(k)
		l.buf = strconv.AppendBool(l.buf, v)
	}
}

// Duration adds a duration attribute: nanoseconds in JSON, as
// time.Duration.String in text, as slog writes it.
func (l *Line) Duration(k string, v time.Duration) {
	l.attrs = append(l.attrs, slog.Duration(k, v))
	if !l.ok {
		return
	}
	l.key(k)
	if l.json {
		l.buf = strconv.AppendInt(l.buf, int64(v), 10)
	} else {
		l.buf = append(l.buf, v.String()...)
	}
}

// End writes the line, in one Write (the writer of New serializes them),
// and returns the Line to its pool.
func (l *Line) End() {
	if l.ok && !l.hasID {
		if id := RequestID(l.ctx); id != "" {
			l.String("request_id", id)
			l.attrs = l.attrs[:len(l.attrs)-1] // requestIDHandler adds it on the slog path
		}
	}
	if l.ok {
		if l.json {
			l.buf = append(l.buf, '}')
		}
		l.buf = append(l.buf, '\n')
		l.w.Write(l.buf)
	} else {
		l.log.LogAttrs(l.ctx, l.level, l.msg, l.attrs...)
	}
	l.log, l.ctx, l.w = nil, nil, nil
	clear(l.attrs)
	if cap(l.buf) <= 4<<10 {
		linePool.Put(l)
	}
}

// lockedWriter serializes the Writes of slog's handler and of Line.End,
// so that lines written by either never interleave.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}
