//go:build unix

package sqlite

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/kmsd/kmsd/internal/store"
)

// TestOpenCreatesPrivateFiles checks that a new database and the -wal and
// -shm files SQLite makes beside it are readable by their owner only,
// whatever the umask: they hold sealed key material, sealed secret keys and
// password hashes, which are for the kmsd user alone.
func TestOpenCreatesPrivateFiles(t *testing.T) {
	for _, mask := range []int{0o022, 0o002, 0} {
		t.Run(fmt.Sprintf("umask %03o", mask), func(t *testing.T) {
			old := syscall.Umask(mask)
			defer syscall.Umask(old)
			path := filepath.Join(t.TempDir(), "kmsd.db")
			s := open(t, path)
			err := s.Update(t.Context(), func(tx store.Tx) error {
				return tx.CreateAccount(store.Account{ID: "0123456789abcdef0123456789abcdef", Name: "acme"})
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{path, path + "-wal", path + "-shm"} {
				fi, err := os.Stat(p)
				if err != nil {
					t.Fatal(err)
				}
				if got := fi.Mode().Perm(); got != 0o600 {
					t.Errorf("%s: mode %04o, want 0600", filepath.Base(p), got)
				}
			}
		})
	}
}
