// Package logging sets up kmsd's log/slog logger: JSON (text on a
// terminal, or when configured), a level that can change while the server
// runs, and the request id on every line logged with a request's context.
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
)

type requestIDKey struct{}

// WithRequestID returns ctx carrying a request id for the log lines made
// with it.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request id ctx carries ("" when none).
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// ParseLevel reads debug, info, warn or error.
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, nil
	case "info", "":
		return slog.LevelInfo, nil
	case "warn":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("log level %q: want debug, info, warn or error", s)
}

// IsTerminal reports whether w is a character device (a terminal).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// New returns a logger writing to w at level (which the caller may change
// at any time) in format: "json", "text", or "auto" (text when w is a
// terminal, JSON otherwise).
func New(w io.Writer, level *slog.LevelVar, format string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	lw := &lockedWriter{w: w}
	if format == "text" || format == "auto" && IsTerminal(w) {
		return slog.New(requestIDHandler{Handler: slog.NewTextHandler(lw, opts), w: lw})
	}
	return slog.New(requestIDHandler{Handler: slog.NewJSONHandler(lw, opts), w: lw, json: true})
}

// requestIDHandler adds the context's request id to every record that
// does not carry one already. The handler New makes also knows its writer
// and format, for Line's fast path; those of WithAttrs and WithGroup do
// not (their lines go through slog).
type requestIDHandler struct {
	slog.Handler
	w    io.Writer
	json bool
}

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		has := false
		r.Attrs(func(a slog.Attr) bool {
			has = a.Key == "request_id"
			return !has
		})
		if !has {
			r.AddAttrs(slog.String("request_id", id))
		}
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return requestIDHandler{Handler: h.Handler.WithAttrs(as)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{Handler: h.Handler.WithGroup(name)}
}
