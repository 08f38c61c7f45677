package keyring

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// CreateRootKeyFile writes a new random root key of [RootKeySize] raw bytes
// to path with mode 0600. It fails if path already exists, so an existing
// root key is never overwritten. The file and its directory are synced
// before CreateRootKeyFile returns; on any error the partly written file is
// removed.
func CreateRootKeyFile(path string) (err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("keyring: create root key file: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(path)
		}
	}()
	key := make([]byte, RootKeySize)
	defer clear(key)
	rand.Read(key) // Never fails; see crypto/rand.Read.
	if _, err := f.Write(key); err != nil {
		return fmt.Errorf("keyring: write root key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("keyring: sync root key file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("keyring: close root key file: %w", err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("keyring: sync directory of root key file: %w", err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// LoadRootKeyFile reads a root key written by [CreateRootKeyFile]. The file
// must hold exactly [RootKeySize] bytes and must not be readable or writable
// by group or others (POSIX mode bits); otherwise LoadRootKeyFile returns an
// error that tells the operator what to fix. The error never contains key
// bytes.
func LoadRootKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("keyring: open root key file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("keyring: stat root key file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("keyring: root key file %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("keyring: root key file %s has mode %04o, which lets group or others access it; run: chmod 600 %s", path, perm, path)
	}
	// Read one byte more than needed to detect a file that is too long.
	buf := make([]byte, RootKeySize+1)
	n, err := io.ReadFull(f, buf)
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) && n == RootKeySize:
		return buf[:RootKeySize:RootKeySize], nil
	case err == nil, errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		clear(buf)
		return nil, fmt.Errorf("keyring: root key file %s must hold exactly %d bytes", path, RootKeySize)
	default:
		clear(buf)
		return nil, fmt.Errorf("keyring: read root key file: %w", err)
	}
}
