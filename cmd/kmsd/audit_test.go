package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kmsd/kmsd/internal/audit"
)

// auditTrail writes a closed trail of n records and returns its directory
// and public key.
func auditTrail(t *testing.T, n int) (string, ed25519.PublicKey) {
	t.Helper()
	dir := t.TempDir()
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	l, err := audit.Open(audit.Options{Dir: dir, Node: "kms-a", Key: key, SegmentSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		at := start.Add(time.Duration(i) * time.Hour)
		r := &audit.Record{TraceName: "EncryptData", RequestID: fmt.Sprintf("req-%02d", i), Time: at.UnixMilli(), TimeNanos: at.UnixNano(), Node: "kms-a"}
		r.SetStatus(200)
		if err := l.Append(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, pub
}

func TestAuditVerifyCommand(t *testing.T) {
	dir, pub := auditTrail(t, 20)
	out := mustKmsd(t, nil, "audit", "verify", dir)
	if !strings.Contains(out, "20 records") || !strings.Contains(out, "OK") || !strings.Contains(out, hex.EncodeToString(pub)) {
		t.Errorf("verify of an intact trail printed:\n%s", out)
	}
	mustKmsd(t, nil, "audit", "verify", "--key", hex.EncodeToString(pub), dir)
	other, _, _ := ed25519.GenerateKey(rand.Reader)
	if out, err := kmsd(t, nil, "audit", "verify", "--key", hex.EncodeToString(other), dir); err == nil || !strings.Contains(out, "another key") {
		t.Errorf("verify with another pinned key: %v\n%s", err, out)
	}
	segs, _ := audit.Segments(dir)
	b, _ := os.ReadFile(segs[0])
	_, off, _ := audit.ParseHeader(b)
	// Entry 3 of segment 1: skip two entries.
	for range 2 {
		_, m, _ := audit.ParseEntry(b[off:])
		off += m
	}
	_, m3, _ := audit.ParseEntry(b[off:])
	for _, tt := range []struct {
		name   string
		tamper func() []byte
		want   string
	}{
		{"edit", func() []byte { c := append([]byte{}, b...); c[off+60] ^= 0x20; return c }, "TAMPERED: audit-00000000000000000001.log offset " + fmt.Sprint(off+m3) + ", entry 4: does not link to entry 3"},
		{"drop", func() []byte { return append(append([]byte{}, b[:off]...), b[off+m3:]...) }, "entry 3: found entry 4 where entry 3 belongs"},
		{"cut", func() []byte { return b[:off+m3/2] }, "TRUNCATED"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			os.WriteFile(segs[0], tt.tamper(), 0o600)
			defer os.WriteFile(segs[0], b, 0o600)
			if len(segs) > 1 {
				// Cut in the first of several segments is a tampered
				// chain, not a truncated tail.
				if tt.name == "cut" {
					tt.want = "TAMPERED: audit-00000000000000000001.log offset " + fmt.Sprint(off)
				}
			}
			out, err := kmsd(t, nil, "audit", "verify", dir)
			if err == nil || !strings.Contains(out, tt.want) {
				t.Errorf("verify after %s: %v\n%s\nwant %q", tt.name, err, out, tt.want)
			}
		})
	}
}

func TestAuditTailAndExport(t *testing.T) {
	dir, _ := auditTrail(t, 12)
	out := mustKmsd(t, nil, "audit", "tail", "-n", "3", dir)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], `"req-09"`) || !strings.Contains(lines[2], `"req-11"`) {
		t.Errorf("tail -n 3 printed:\n%s", out)
	}
	out = mustKmsd(t, nil, "audit", "export", "--since", "2026-01-01T09:00:00Z", "--until", "2026-01-01T11:00:00Z", "--format", "json", dir)
	var recs []map[string]any
	if err := json.Unmarshal([]byte(out), &recs); err != nil {
		t.Fatalf("export --format json is not JSON: %v\n%s", err, out)
	}
	if len(recs) != 2 || recs[0]["request_id"] != "req-09" || recs[1]["request_id"] != "req-10" || recs[0]["seq"] == nil {
		t.Errorf("export printed %v", recs)
	}
	out = mustKmsd(t, nil, "audit", "export", "--format", "jsonl", dir)
	if n := len(strings.Split(strings.TrimSpace(out), "\n")); n != 12 {
		t.Errorf("export --format jsonl printed %d lines, want 12", n)
	}
	if _, err := kmsd(t, nil, "audit", "export", "--since", "yesterday", dir); err == nil {
		t.Error("--since yesterday accepted")
	}
}
