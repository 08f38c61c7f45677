package keyring

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCreateRootKeyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "root.key")
	if err := CreateRootKeyFile(path); err != nil {
		t.Fatalf("CreateRootKeyFile: %v", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("mode = %04o, want 0600", got)
	}
	if got := fi.Size(); got != RootKeySize {
		t.Errorf("size = %d, want %d", got, RootKeySize)
	}
	key, err := LoadRootKeyFile(path)
	if err != nil {
		t.Fatalf("LoadRootKeyFile: %v", err)
	}
	if len(key) != RootKeySize {
		t.Fatalf("len(key) = %d, want %d", len(key), RootKeySize)
	}
	if bytes.Equal(key, make([]byte, RootKeySize)) {
		t.Error("root key is all zeros")
	}
	if _, err := New(key); err != nil {
		t.Errorf("New(loaded key): %v", err)
	}

	path2 := filepath.Join(dir, "root2.key")
	if err := CreateRootKeyFile(path2); err != nil {
		t.Fatal(err)
	}
	key2, err := LoadRootKeyFile(path2)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(key, key2) {
		t.Error("two new root key files hold the same key")
	}
}

func TestCreateRootKeyFileExisting(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "root.key")
	if err := CreateRootKeyFile(path); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	err = CreateRootKeyFile(path)
	if !errors.Is(err, fs.ErrExist) {
		t.Errorf("second CreateRootKeyFile: got %v, want an error wrapping fs.ErrExist", err)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the existing root key file is gone: %v", err)
	}
	if !bytes.Equal(before, after) {
		t.Error("CreateRootKeyFile changed an existing root key file")
	}
}

func TestCreateRootKeyFileMissingDir(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "root.key")
	if err := CreateRootKeyFile(path); err == nil {
		t.Error("CreateRootKeyFile in a missing directory: got nil error")
	}
}

func TestLoadRootKeyFile(t *testing.T) {
	good := bytes.Repeat([]byte{0x5a}, RootKeySize)
	tests := []struct {
		name    string
		data    []byte
		mode    fs.FileMode
		wantErr string // substring; "" means success
	}{
		{"0600", good, 0o600, ""},
		{"0400", good, 0o400, ""},
		{"0700", good, 0o700, ""},
		{"0644", good, 0o644, "chmod 600"},
		{"0640", good, 0o640, "chmod 600"},
		{"0604", good, 0o604, "chmod 600"},
		{"0620", good, 0o620, "chmod 600"},
		{"0602", good, 0o602, "chmod 600"},
		{"0666", good, 0o666, "chmod 600"},
		{"empty", nil, 0o600, "exactly 32 bytes"},
		{"31 bytes", good[:31], 0o600, "exactly 32 bytes"},
		{"33 bytes", append(bytes.Clone(good), 0), 0o600, "exactly 32 bytes"},
		{"64 bytes", bytes.Repeat(good, 2), 0o600, "exactly 32 bytes"},
		{"hex text", []byte(strings.Repeat("5a", RootKeySize)), 0o600, "exactly 32 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "root.key")
			if err := os.WriteFile(path, tt.data, 0o600); err != nil {
				t.Fatal(err)
			}
			// Chmod after writing, so the umask does not interfere.
			if err := os.Chmod(path, tt.mode); err != nil {
				t.Fatal(err)
			}
			key, err := LoadRootKeyFile(path)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("LoadRootKeyFile: %v", err)
				}
				if !bytes.Equal(key, good) {
					t.Errorf("key = %x, want %x", key, good)
				}
				return
			}
			if err == nil {
				t.Fatalf("LoadRootKeyFile: got nil error, want one containing %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
			if key != nil {
				t.Errorf("key = %x on error, want nil", key)
			}
			if strings.Contains(err.Error(), "5a5a") || strings.Contains(err.Error(), "ZZZZ") {
				t.Errorf("error %q shows key bytes", err)
			}
		})
	}
}

func TestLoadRootKeyFileNotRegular(t *testing.T) {
	if _, err := LoadRootKeyFile(t.TempDir()); err == nil {
		t.Error("LoadRootKeyFile(directory): got nil error")
	}
	_, err := LoadRootKeyFile(filepath.Join(t.TempDir(), "missing"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("LoadRootKeyFile(missing): got %v, want an error wrapping fs.ErrNotExist", err)
	}
}
