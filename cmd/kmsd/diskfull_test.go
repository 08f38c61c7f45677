package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kmsd/kmsd/internal/iam"
)

// TestDiskFullMessage checks what a start on a full disk says (issue 10):
// that the disk is full, and not to start afresh elsewhere, which would
// point the operator away from their data.
func TestDiskFullMessage(t *testing.T) {
	for _, err := range []error{
		fmt.Errorf("bootstrap user dev/dev-admin: %w", &os.PathError{Op: "write", Path: "/d/kmsd.db-wal", Err: syscall.ENOSPC}),
		errors.New("bootstrap user dev/dev-admin: sqlite: database or disk is full (13)"),
	} {
		msg := devIdentitiesError(err, "/d").Error()
		if !strings.Contains(msg, "the disk holding /d is full") || strings.Contains(msg, "--data") || strings.Contains(msg, "afresh") {
			t.Errorf("got %q, want it to say the disk is full, and not to use another --data", msg)
		}
	}
	msg := devIdentitiesError(fmt.Errorf("bootstrap: %w: user dev-admin has id a1, not the declared a2", iam.ErrExists), "/d").Error()
	// Only an id conflict is solved by another directory.
	if !strings.Contains(msg, "KMSD_DEV_") || !strings.Contains(msg, "--data DIR") {
		t.Errorf("id conflict: got %q", msg)
	}
}

// TestWritePrivateFileUnchanged checks that dev.env holding the same
// lines is not written again at a restart.
func TestWritePrivateFileUnchanged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dev.env")
	if err := writePrivateFile(path, []byte("export A=1\n")); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	if err := writePrivateFile(path, []byte("export A=1\n")); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || !fi.ModTime().Equal(old) {
		t.Errorf("an unchanged dev.env was written again (%v)", err)
	}
	if err := writePrivateFile(path, []byte("export A=2\n")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "export A=2\n" {
		t.Errorf("a changed dev.env holds %q", b)
	}
}
