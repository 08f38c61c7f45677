package backup

import (
	"bytes"
	"flag"
	"testing"
	"time"

	"github.com/kmsd/kmsd/internal/store"
)

var benchKeys = flag.Int("bench-keys", 100_000, "keys of the store that BenchmarkBackupRestore backs up and restores")

// BenchmarkBackupRestore measures kmsd backup and kmsd restore of a store
// of -bench-keys keys (default 100 000: half in each of two projects, a
// quarter with two versions of 60-byte sealed material, every tenth with
// a grant, an alias, two tags, an import token and a multi-region state),
// on SQLite and PostgreSQL. Each sub-benchmark reports the keys per
// second and the archive's size. Run it once:
//
//	go test ./internal/backup -run '^$' -bench BackupRestore -benchtime 1x
func BenchmarkBackupRestore(b *testing.B) {
	kr := testKeyring(b, 1)
	src := openSQLite(b)
	start := time.Now()
	populate(b, src, kr, *benchKeys/2)
	b.Logf("populated SQLite with %d keys in %v", *benchKeys, time.Since(start))
	var archiveOf = map[string][]byte{}
	write := func(b *testing.B, st store.Store, backend string) {
		var buf bytes.Buffer
		for range b.N {
			buf.Reset()
			if _, err := Write(b.Context(), st, kr, &buf, Options{Version: "bench", Backend: backend}); err != nil {
				b.Fatal(err)
			}
		}
		archiveOf[backend] = append([]byte(nil), buf.Bytes()...)
		b.ReportMetric(float64(*benchKeys)*float64(b.N)/b.Elapsed().Seconds(), "keys/s")
		b.ReportMetric(float64(buf.Len()), "archive-bytes")
	}
	// The PostgreSQL store of the last restore into it is backed up
	// after; the outer benchmark keeps it open.
	var pg store.Store
	outer := b
	restore := func(b *testing.B, backend string, archive []byte) {
		for range b.N {
			b.StopTimer()
			dst := backends[backend](outer)
			b.StartTimer()
			if _, err := Restore(b.Context(), dst, kr, opener(archive), RestoreOptions{}); err != nil {
				b.Fatal(err)
			}
			if backend == "postgres" {
				pg = dst
			}
		}
		b.ReportMetric(float64(*benchKeys)*float64(b.N)/b.Elapsed().Seconds(), "keys/s")
	}
	b.Run("backup/sqlite", func(b *testing.B) { write(b, src, "sqlite") })
	b.Run("restore/sqlite-to-sqlite", func(b *testing.B) { restore(b, "sqlite", archiveOf["sqlite"]) })
	b.Run("restore/sqlite-to-postgres", func(b *testing.B) { restore(b, "postgres", archiveOf["sqlite"]) })
	if pg != nil {
		b.Run("backup/postgres", func(b *testing.B) { write(b, pg, "postgres") })
		b.Run("restore/postgres-to-sqlite", func(b *testing.B) { restore(b, "sqlite", archiveOf["postgres"]) })
	}
}
