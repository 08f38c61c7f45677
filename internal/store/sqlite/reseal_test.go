package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/kmsd/kmsd/internal/store"
	"github.com/kmsd/kmsd/internal/store/storetest"
)

func TestResealConformance(t *testing.T) {
	storetest.RunReseal(t, func(t *testing.T) store.Store {
		return open(t, filepath.Join(t.TempDir(), "kmsd.db"))
	})
}
