package sqlite

import (
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

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

// BenchmarkCreateKeyTriggers measures CreateKey in transactions of 1 000
// keys (one iteration is one transaction; three interleaved rounds) with the triggers of migration 0009 (block counts) and without
// them, on a project that already holds 10 000 keys: the difference is
// the triggers' cost per insert. cpu-ns/key is the CPU time of the
// process (user and system) per key, which neighbours on a shared machine
// disturb less than the wall clock.
//
//	go test -run XXX -bench CreateKeyTriggers -benchtime 20x ./internal/store/sqlite/
func BenchmarkCreateKeyTriggers(b *testing.B) {
	for range 3 {
		for _, blocks := range []bool{true, false} {
			b.Run(fmt.Sprintf("blocks=%v", blocks), func(b *testing.B) {
				s := open(b, filepath.Join(b.TempDir(), "kmsd.db"))
				storetest.FillKeys(b, s, 10_000)
				if !blocks {
					_, err := s.w.ExecContext(b.Context(), `DROP TRIGGER keys_list_blocks_insert;
					DROP TRIGGER keys_list_blocks_delete; DROP TRIGGER keys_list_blocks_update`)
					if err != nil {
						b.Fatal(err)
					}
				}
				i := 10_000
				cpu0 := cpuTime(b)
				for b.Loop() {
					err := s.Update(b.Context(), func(tx store.Tx) error {
						for j := range 1000 {
							if err := tx.CreateKey(storetest.BenchKey(i + j)); err != nil {
								return err
							}
						}
						return nil
					})
					if err != nil {
						b.Fatal(err)
					}
					i += 1000
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000), "ns/key")
				b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/float64(b.N*1000), "cpu-ns/key")
			})
		}
	}
}

// cpuTime returns the CPU time the process has used.
func cpuTime(b *testing.B) time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		b.Fatal(err)
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}
