package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/kmsd/kmsd/internal/store"
	"github.com/kmsd/kmsd/internal/store/storetest"
)

// BenchmarkListKeys is storetest.BenchListKeys on a new database file:
//
//	KMSD_BENCH_KEYS=10,10000,100000,1000000 go test -run XXX -bench ListKeys ./internal/store/sqlite/
func BenchmarkListKeys(b *testing.B) {
	storetest.BenchListKeys(b, func(b *testing.B, n int) store.Store {
		s := open(b, filepath.Join(b.TempDir(), "kmsd.db"))
		storetest.FillKeys(b, s, n)
		return s
	})
}
