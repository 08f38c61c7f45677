package postgres

import (
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kmsd/kmsd/internal/store"
	"github.com/kmsd/kmsd/internal/store/storetest"
)

// BenchmarkListKeys is storetest.BenchListKeys on a new database of the
// throwaway server (pgtest), then vacuumed, as autovacuum does after bulk
// inserts, so that the visibility map lets the skips of an offset be
// index-only scans:
//
//	KMSD_BENCH_KEYS=10,10000,100000,1000000 go test -run XXX -bench ListKeys -timeout 30m ./internal/store/postgres/
//
// Up to 1 000 keys the database is filled through the store
// (storetest.FillKeys). Beyond, CreateKey in transactions of 10 000 keys
// is slow on PostgreSQL (10 000 keys took 34 s here: a savepoint per key,
// and one new version of the project's key_counts row per key in one
// transaction), so fillKeysSQL inserts the same keys with INSERT … SELECT;
// the triggers of migration 0005 count them as they count CreateKey's.
func BenchmarkListKeys(b *testing.B) {
	storetest.BenchListKeys(b, func(b *testing.B, n int) store.Store {
		s := open(b)
		start := time.Now()
		if n <= 1_000 {
			storetest.FillKeys(b, s, n)
		} else {
			fillKeysSQL(b, s, n)
		}
		b.Logf("%d keys created in %v", n, time.Since(start))
		if _, err := s.pool.Exec(b.Context(), "VACUUM (ANALYZE) keys"); err != nil {
			b.Fatal(err)
		}
		return s
	})
}

// fillKeysSQL creates what storetest.FillKeys does, 100 000 keys per
// statement, and checks a sample of the keys against storetest.BenchKey.
func fillKeysSQL(b testing.TB, s *Store, n int) {
	storetest.FillKeys(b, s, 0)
	ctx := b.Context()
	for start := 0; start < n; start += 100_000 {
		end := min(n, start+100_000)
		_, err := s.pool.Exec(ctx, `INSERT INTO keys (`+keyCols+`)
			SELECT $1, '00000000-0000-4000-8000-' || lpad(i::text, 12, '0'), $2, '', '',
				CASE WHEN i % 4 = 3 THEN 'SM4' ELSE 'AES_256' END, 'ENCRYPT_DECRYPT', $3,
				CASE WHEN i % 8 = 5 THEN $4 ELSE $5 END, false, '', '', 0,
				i, NULL, false, 0, NULL, 0, NULL, NULL, 0
			FROM generate_series($6::bigint, $7::bigint) AS i`,
			storetest.BenchProjectID, storetest.BenchAccountID, store.OriginExternal,
			store.StateDisabled, store.StatePendingImport, start, end-1)
		if err != nil {
			b.Fatal(err)
		}
		_, err = s.pool.Exec(ctx, "UPDATE key_counts SET custom_keys = custom_keys + $1 WHERE project_id = $2",
			end-start, storetest.BenchProjectID)
		if err != nil {
			b.Fatal(err)
		}
	}
	err := s.View(ctx, func(tx store.Tx) error {
		for _, i := range []int{0, 3, 5, n / 2, n - 1} {
			got, err := tx.GetKey(storetest.BenchProjectID, storetest.BenchKey(i).KeyID)
			if err != nil {
				return err
			}
			want := storetest.BenchKey(i)
			if got.CreatedAt.Equal(want.CreatedAt) {
				want.CreatedAt = got.CreatedAt
			}
			if !reflect.DeepEqual(got, want) {
				b.Fatalf("key %d is\n%+v, want\n%+v", i, got, want)
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkKeyWriteTriggers measures, on one project of 10 000 keys,
// concurrent writers (b.RunParallel, 8 per core) that each create a key,
// or change the state of a key of their own, in one Update per
// operation: with every trigger of migration 0005, without the
// block trigger (which locks the project's key_counts row), and without
// the count trigger either. The differences are the triggers' cost and
// the waiting on the rows they lock.
//
//	go test -run XXX -bench KeyWriteTriggers -benchtime 2000x ./internal/store/postgres/
func BenchmarkKeyWriteTriggers(b *testing.B) {
	for _, tc := range []struct {
		name string
		drop string
	}{
		{"triggers=all", ""},
		{"triggers=counts", "DROP TRIGGER keys_list_blocks_insert ON keys; DROP TRIGGER keys_list_blocks_update ON keys"},
		{"triggers=none", `DROP TRIGGER keys_list_blocks_insert ON keys; DROP TRIGGER keys_list_blocks_update ON keys;
			DROP TRIGGER keys_list_count_insert ON keys; DROP TRIGGER keys_list_count_update ON keys`},
	} {
		s := open(b)
		fillKeysSQL(b, s, 10_000)
		if tc.drop != "" {
			if _, err := s.pool.Exec(b.Context(), tc.drop); err != nil {
				b.Fatal(err)
			}
		}
		var next atomic.Int64
		next.Store(10_000)
		b.Run(tc.name+"/create", func(b *testing.B) {
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					k := storetest.BenchKey(int(next.Add(1)))
					err := s.Update(b.Context(), func(tx store.Tx) error { return tx.CreateKey(k) })
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
		var worker atomic.Int64
		b.Run(tc.name+"/state", func(b *testing.B) {
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				id := storetest.BenchKey(int(worker.Add(1)) * 8).KeyID // never SM4 nor disabled
				for pb.Next() {
					err := s.Update(b.Context(), func(tx store.Tx) error {
						k, err := tx.GetKey(storetest.BenchProjectID, id)
						if err != nil {
							return err
						}
						k.State = map[string]string{store.StatePendingImport: store.StateDisabled}[k.State]
						if k.State == "" {
							k.State = store.StatePendingImport
						}
						return tx.UpdateKey(k)
					})
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
