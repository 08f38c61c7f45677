package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestWritePrivateFile checks that dev.env, which holds SKs and
// passwords, ends up readable by its owner only, even when it already
// existed with a wider mode.
func TestWritePrivateFile(t *testing.T) {
	tests := []struct {
		name     string
		existing os.FileMode // 0: no file yet
	}{
		{"new", 0},
		{"existing 0644", 0o644},
		{"existing 0666", 0o666},
		{"existing 0600", 0o600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "dev.env")
			if tt.existing != 0 {
				if err := os.WriteFile(path, []byte("old content that is longer\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(path, tt.existing); err != nil {
					t.Fatal(err)
				}
			}
			if err := writePrivateFile(path, []byte("export A=b\n")); err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Mode().Perm(); got != 0o600 {
				t.Errorf("mode %04o, want 0600", got)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := string(b), "export A=b\n"; got != want {
				t.Errorf("content %q, want %q", got, want)
			}
		})
	}
}
