package sqlite

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kmsd/kmsd/internal/store"
)

// TestDeletedSealedBytesAreErased checks that destroying a key leaves no
// copy of its sealed versions in the database file, where free pages
// would otherwise keep them: with the root key (kept for the other keys)
// and a later copy of the file, a destroyed key would open again.
func TestDeletedSealedBytesAreErased(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kmsd.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	k := seed(t, s)
	sealed := make([]byte, 600) // larger than a row's usual spill, smaller than a page
	rand.Read(sealed)
	err = s.Update(t.Context(), func(tx store.Tx) error {
		return tx.PutKeyVersion(store.KeyVersion{ProjectID: k.ProjectID, KeyID: k.KeyID, Version: 1, Sealed: sealed, CreatedAt: time.UnixMilli(time.Now().UnixMilli())})
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(t.Context(), func(tx store.Tx) error { return tx.DeleteKey(k.ProjectID, k.KeyID) })
	if err != nil {
		t.Fatal(err)
	}
	// Close checkpoints the write-ahead log into the database file and
	// removes the log.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(p)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, sealed[:32]) {
			t.Errorf("%s still holds the sealed bytes of a destroyed key", filepath.Base(p))
		}
	}
}
