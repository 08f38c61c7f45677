package kms_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/kmsd/kmsd/internal/kms"
)

// TestStateChangeLogged checks that every state change of a key logs one
// INFO line naming the request, the project and the key, and that a
// refused change logs none.
func TestStateChangeLogged(t *testing.T) {
	f := newFixture(t, "", 0)
	var logs bytes.Buffer
	f.svc = kms.New(f.st, f.kr, kms.Config{Region: "cn-north-4"}, slog.New(slog.NewJSONHandler(&logs, nil)))
	ctx := kms.WithRequestID(t.Context(), "req-1")
	k, err := f.svc.CreateKey(ctx, kms.CreateKeyInput{ProjectID: project, AccountID: account, Alias: "logged"})
	if err != nil {
		t.Fatal(err)
	}
	id := k.KeyID
	steps := []struct {
		msg string
		do  func() error
	}{
		{"key disabled", func() error { _, err := f.svc.DisableKey(ctx, project, id); return err }},
		{"key enabled", func() error { _, err := f.svc.EnableKey(ctx, project, id); return err }},
		{"key alias updated", func() error { _, err := f.svc.UpdateKeyAlias(ctx, project, id, "logged-2"); return err }},
		{"key description updated", func() error { _, err := f.svc.UpdateKeyDescription(ctx, project, id, "d"); return err }},
		{"key rotation enabled", func() error { _, err := f.svc.EnableKeyRotation(ctx, project, id); return err }},
		{"key rotation interval updated", func() error { _, err := f.svc.UpdateKeyRotationInterval(ctx, project, id, 90); return err }},
		{"key rotation disabled", func() error { _, err := f.svc.DisableKeyRotation(ctx, project, id); return err }},
		{"key deletion scheduled", func() error { _, err := f.svc.ScheduleKeyDeletion(ctx, project, id, 7); return err }},
		{"key deletion cancelled", func() error { _, err := f.svc.CancelKeyDeletion(ctx, project, id); return err }},
	}
	for _, s := range steps {
		logs.Reset()
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.msg, err)
		}
		lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
		if len(lines) != 1 {
			t.Fatalf("%s: %d log lines, want 1: %s", s.msg, len(lines), logs.String())
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(lines[0]), &v); err != nil {
			t.Fatal(err)
		}
		if v["level"] != "INFO" || v["msg"] != s.msg || v["request_id"] != "req-1" || v["project_id"] != project || v["key_id"] != id {
			t.Errorf("%s: logged %s", s.msg, lines[0])
		}
	}
	logs.Reset()
	if _, err := f.svc.CancelKeyDeletion(ctx, project, id); err == nil {
		t.Fatal("cancelling twice succeeded")
	}
	if logs.Len() != 0 {
		t.Errorf("a refused change logged %s", logs.String())
	}
}
