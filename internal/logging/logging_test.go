package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

func TestRequestIDOnEveryLine(t *testing.T) {
	var buf bytes.Buffer
	var level slog.LevelVar
	log := New(&buf, &level, "json")
	ctx := WithRequestID(context.Background(), "0123abcd")
	log.InfoContext(ctx, "key created", "key_id", "k")
	log.InfoContext(ctx, "request", "request_id", "0123abcd")
	log.With("component", "kms").WarnContext(ctx, "with attrs")
	log.Info("no request")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines: %s", len(lines), buf.String())
	}
	for i, line := range lines[:3] {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		if m["request_id"] != "0123abcd" {
			t.Errorf("line %d lacks the request id: %s", i, line)
		}
		if strings.Count(line, "request_id") != 1 {
			t.Errorf("line %d repeats the request id: %s", i, line)
		}
	}
	if strings.Contains(lines[3], "request_id") {
		t.Errorf("a line without a request has a request id: %s", lines[3])
	}
}

func TestLevelChangesAtRunTime(t *testing.T) {
	var buf bytes.Buffer
	var level slog.LevelVar
	level.Set(slog.LevelWarn)
	log := New(&buf, &level, "text")
	log.Info("hidden")
	level.Set(slog.LevelDebug)
	log.Debug("shown")
	if strings.Contains(buf.String(), "hidden") || !strings.Contains(buf.String(), "msg=shown") {
		t.Errorf("log: %q", buf.String())
	}
}

func TestParseLevel(t *testing.T) {
	for s, want := range map[string]slog.Level{"debug": slog.LevelDebug, "INFO": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError} {
		if got, err := ParseLevel(s); err != nil || got != want {
			t.Errorf("ParseLevel(%q) = %v, %v", s, got, err)
		}
	}
	if _, err := ParseLevel("verbose"); err == nil {
		t.Error("verbose parsed")
	}
}

func TestAutoFormat(t *testing.T) {
	var buf bytes.Buffer
	New(&buf, new(slog.LevelVar), "auto").Info("x")
	if !strings.HasPrefix(buf.String(), "{") {
		t.Errorf("auto on a buffer is not JSON: %q", buf.String())
	}
}
