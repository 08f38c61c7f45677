package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// TestProgressCount checks the bar of backup, drawn in records.
func TestProgressCount(t *testing.T) {
	var bar bytes.Buffer
	p := progressCount(&bar, "backup")
	p(0, 2000)
	p(1000, 2000)
	p(2000, 2000)
	s := bar.String()
	if !strings.Contains(s, "\rbackup [") || !strings.Contains(s, "100% 2000 / 2000 records\n") || strings.Count(s, "\n") != 1 {
		t.Errorf("progress bar %q", s)
	}
}

// TestBackupQuietOffTerminal checks that backup and restore draw nothing
// on a stderr that is not a terminal.
func TestBackupQuietOffTerminal(t *testing.T) {
	dir := t.TempDir()
	cfg := dir + "/kmsd.yaml"
	if err := os.WriteFile(cfg, []byte("listen: 127.0.0.1:0\ndata_dir: "+dir+"/data\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), []string{"init", "--config", cfg}, &stdout, &stderr, noEnv); err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	if err := run(t.Context(), []string{"backup", "--config", cfg, "--out", dir + "/a.kmsdbak"}, &stdout, &stderr, noEnv); err != nil {
		t.Fatal(err)
	}
	if stderr.Len() != 0 || !strings.HasPrefix(stdout.String(), "backed up ") {
		t.Errorf("backup: stdout %q, stderr %q", stdout.String(), stderr.String())
	}
}
