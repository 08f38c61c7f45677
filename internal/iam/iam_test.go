package iam_test

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/kmsd/kmsd/internal/iam"
	"github.com/kmsd/kmsd/internal/keyring"
	"github.com/kmsd/kmsd/internal/store"
	"github.com/kmsd/kmsd/internal/store/sqlite"
)

func newService(t *testing.T) (*iam.Service, store.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kmsd.db")
	st, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	kr, err := keyring.New(bytes.Repeat([]byte{3}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return iam.New(st, kr, nil), st, path
}
