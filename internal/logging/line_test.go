package logging

import (
	"bytes"
	"context"
	"log/slog"
	"regexp"
	"testing"
	"time"
)

// lineCase is one line: its attributes, written through Line and through
// slog's handler.
type lineCase struct {
	name  string
	ctxID string
	level slog.Level
	add   func(l *Line)
	attrs []slog.Attr
}

var lineCases = []lineCase{
	{name: "request", level: slog.LevelDebug, add: func(l *Line) {
		l.String("request_id", "0123456789abcdef0123456789abcdef")
		l.String("method", "POST")
		l.String("path", "/v1.0/0a1b2c/kms/encrypt-data")
		l.Int("status", 200)
		l.Duration("duration", 123456*time.Nanosecond)
		l.String("operation", "EncryptData")
		l.String("user_id", "u-1")
		l.String("project_id", "p_2")
		l.Bool("by_grant", true)
		l.String("error_code", "KMS.0101")
	}, attrs: []slog.Attr{
		slog.String("request_id", "0123456789abcdef0123456789abcdef"),
		slog.String("method", "POST"),
		slog.String("path", "/v1.0/0a1b2c/kms/encrypt-data"),
		slog.Int("status", 200),
		slog.Duration("duration", 123456*time.Nanosecond),
		slog.String("operation", "EncryptData"),
		slog.String("user_id", "u-1"),
		slog.String("project_id", "p_2"),
		slog.Bool("by_grant", true),
		slog.String("error_code", "KMS.0101"),
	}},
	{name: "durations and numbers", level: slog.LevelError, add: func(l *Line) {
		l.Duration("a", 0)
		l.Duration("b", 3*time.Second+time.Millisecond)
		l.Duration("c", -time.Microsecond)
		l.Int("n", -42)
		l.Bool("f", false)
	}, attrs: []slog.Attr{slog.Duration("a", 0), slog.Duration("b", 3*time.Second+time.Millisecond), slog.Duration("c", -time.Microsecond), slog.Int("n", -42), slog.Bool("f", false)}},
	{name: "request id from the context", ctxID: "feed", level: slog.LevelInfo, add: func(l *Line) {
		l.String("method", "GET")
	}, attrs: []slog.Attr{slog.String("method", "GET")}},
	{name: "request id in both", ctxID: "feed", level: slog.LevelInfo, add: func(l *Line) {
		l.String("request_id", "beef")
	}, attrs: []slog.Attr{slog.String("request_id", "beef")}},
	// Values slog escapes or quotes: the line goes through slog.
	{name: "space", level: slog.LevelInfo, add: func(l *Line) { l.String("cause", "key not found") }, attrs: []slog.Attr{slog.String("cause", "key not found")}},
	{name: "quote and newline", level: slog.LevelInfo, add: func(l *Line) { l.String("path", "/a\"b\n") }, attrs: []slog.Attr{slog.String("path", "/a\"b\n")}},
	{name: "empty", level: slog.LevelInfo, add: func(l *Line) { l.String("path", "") }, attrs: []slog.Attr{slog.String("path", "")}},
	{name: "equals and html", level: slog.LevelInfo, add: func(l *Line) { l.String("path", "/x=<y>&z") }, attrs: []slog.Attr{slog.String("path", "/x=<y>&z")}},
	{name: "invalid utf-8 and unicode", level: slog.LevelInfo, add: func(l *Line) { l.String("path", "/\xff/é\u2028") }, attrs: []slog.Attr{slog.String("path", "/\xff/é\u2028")}},
}

var timeField = regexp.MustCompile(`^(\{"time":"[^"]*"|time=\S+)`)

// TestLineIsSlogsLine holds Line's bytes equal to those slog's JSON and
// text handlers write for the same record, on the fast path and off it.
func TestLineIsSlogsLine(t *testing.T) {
	at := time.Date(2026, 12, 2, 4, 35, 35, 123456789, time.FixedZone("x", 3600))
	for _, format := range []string{"json", "text"} {
		for _, tc := range lineCases {
			t.Run(format+"/"+tc.name, func(t *testing.T) {
				ctx := context.Background()
				if tc.ctxID != "" {
					ctx = WithRequestID(ctx, tc.ctxID)
				}
				var level slog.LevelVar
				level.Set(slog.LevelDebug)
				var got, want bytes.Buffer
				l := begin(New(&got, &level, format), ctx, tc.level, "request", at)
				fast := l.ok
				tc.add(l)
				fast = fast && l.ok
				l.End()

				r := slog.NewRecord(at, tc.level, "request", 0)
				r.AddAttrs(tc.attrs...)
				if err := New(&want, &level, format).Handler().Handle(ctx, r); err != nil {
					t.Fatal(err)
				}
				g, w := got.String(), want.String()
				if !fast {
					// slog takes its own clock reading.
					g, w = timeField.ReplaceAllString(g, "T"), timeField.ReplaceAllString(w, "T")
				}
				if g != w {
					t.Errorf("fast path %v\n got %q\nwant %q", fast, g, w)
				}
				if plain := tc.name != "space" && tc.name != "quote and newline" && tc.name != "empty" && tc.name != "equals and html" && tc.name != "invalid utf-8 and unicode"; plain != fast {
					t.Errorf("fast path %v, want %v", fast, plain)
				}
			})
		}
	}
}

// TestLineOffTheOwnHandler: a logger with attributes, or of another
// handler, gets its lines through slog, attributes included.
func TestLineOffTheOwnHandler(t *testing.T) {
	var buf bytes.Buffer
	var level slog.LevelVar
	for _, log := range []*slog.Logger{
		New(&buf, &level, "json").With("component", "api"),
		slog.New(slog.NewJSONHandler(&buf, nil)).With("component", "api"),
	} {
		buf.Reset()
		l := Begin(log, context.Background(), slog.LevelInfo, "request")
		l.String("method", "GET")
		l.End()
		if !regexp.MustCompile(`^\{"time":"[^"]+","level":"INFO","msg":"request","component":"api","method":"GET"\}\n$`).MatchString(buf.String()) {
			t.Errorf("line %q", buf.String())
		}
	}
	if l := Begin(New(&buf, &level, "json"), context.Background(), slog.LevelDebug, "request"); l != nil {
		t.Error("a line below the level was begun")
	}
}

func BenchmarkLine(b *testing.B) {
	var level slog.LevelVar
	level.Set(slog.LevelDebug)
	var buf bytes.Buffer
	ctx := WithRequestID(context.Background(), "0123456789abcdef0123456789abcdef")
	for _, tc := range []struct {
		name string
		log  func(log *slog.Logger)
	}{
		{"line", func(log *slog.Logger) {
			l := Begin(log, ctx, slog.LevelDebug, "request")
			lineCases[0].add(l)
			l.End()
		}},
		{"slog", func(log *slog.Logger) {
			log.LogAttrs(ctx, slog.LevelDebug, "request", lineCases[0].attrs...)
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			log := New(&buf, &level, "json")
			b.ReportAllocs()
			for b.Loop() {
				buf.Reset()
				tc.log(log)
			}
		})
	}
}
