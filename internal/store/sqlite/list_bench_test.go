package sqlite

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kmsd/kmsd/internal/store"
)

// benchKeyCounts returns the key counts the list benchmarks run at:
// 10 and 10 000, or the comma-separated list in KMSD_BENCH_KEYS (the cost
// curve of docs/performance.md uses 10,10000,100000,1000000).
func benchKeyCounts(b *testing.B) []int {
	v := os.Getenv("KMSD_BENCH_KEYS")
	if v == "" {
		return []int{10, 10_000}
	}
	var ns []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(f)
		if err != nil {
			b.Fatalf("KMSD_BENCH_KEYS: %v", err)
		}
		ns = append(ns, n)
	}
	return ns
}

// fillKeys creates a project with n keys, three quarters AES_256 and a
// quarter SM4, every eighth one disabled, in batches of 10 000 per
// transaction, and returns the project id.
func fillKeys(b *testing.B, s *Store, n int) string {
	ctx := b.Context()
	accountID, projectID := strings.Repeat("a", 32), strings.Repeat("b", 32)
	err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateAccount(store.Account{ID: accountID, Name: "acme"}); err != nil {
			return err
		}
		return tx.CreateProject(store.Project{ID: projectID, AccountID: accountID, Name: "cn-north-4"})
	})
	if err != nil {
		b.Fatal(err)
	}
	for start := 0; start < n; start += 10_000 {
		err := s.Update(ctx, func(tx store.Tx) error {
			for i := start; i < min(n, start+10_000); i++ {
				k := store.Key{
					ProjectID: projectID, AccountID: accountID,
					KeyID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i),
					Spec:  "AES_256", Usage: "ENCRYPT_DECRYPT", Origin: store.OriginExternal,
					State:     store.StatePendingImport,
					CreatedAt: time.UnixMilli(int64(i)),
				}
				if i%4 == 3 {
					k.Spec = "SM4"
				}
				if i%8 == 5 {
					k.State = store.StateDisabled
				}
				if err := tx.CreateKey(k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return projectID
}

// BenchmarkListKeys measures a page of 10 keys of list-keys' filters at
// the start, the middle and the end of the project's keys.
func BenchmarkListKeys(b *testing.B) {
	for _, n := range benchKeyCounts(b) {
		s := open(b, filepath.Join(b.TempDir(), "kmsd.db"))
		projectID := fillKeys(b, s, n)
		for _, tc := range []struct {
			name string
			f    store.KeyFilter
		}{
			{"all", store.KeyFilter{}},
			{"spec", store.KeyFilter{Spec: "AES_256"}},
			{"state", store.KeyFilter{State: store.StateDisabled}},
			{"spec+state", store.KeyFilter{Spec: "SM4", State: store.StatePendingImport}},
		} {
			var total int
			err := s.View(b.Context(), func(tx store.Tx) error {
				var err error
				_, total, err = tx.ListKeys(projectID, tc.f, 0, 1)
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
			// A client walking the list with next_marker, from the middle
			// (the jump there, before the loop, is the "middle" case).
			b.Run(fmt.Sprintf("keys=%d/%s/walk", n, tc.name), func(b *testing.B) {
				offset := total / 2
				err := s.View(b.Context(), func(tx store.Tx) error {
					keys, _, err := tx.ListKeys(projectID, tc.f, offset, 10)
					offset += len(keys)
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
				for b.Loop() {
					err := s.View(b.Context(), func(tx store.Tx) error {
						keys, _, err := tx.ListKeys(projectID, tc.f, offset, 10)
						offset += len(keys)
						if offset >= total {
							offset = total / 2
						}
						return err
					})
					if err != nil {
						b.Fatal(err)
					}
				}
			})
			for _, at := range []struct {
				name   string
				offset int
			}{{"first", 0}, {"middle", total / 2}, {"last", max(total-10, 0)}} {
				b.Run(fmt.Sprintf("keys=%d/%s/%s", n, tc.name, at.name), func(b *testing.B) {
					for b.Loop() {
						err := s.View(b.Context(), func(tx store.Tx) error {
							keys, got, err := tx.ListKeys(projectID, tc.f, at.offset, 10)
							if err == nil && (got != total || len(keys) != min(10, total-at.offset)) {
								err = fmt.Errorf("got %d keys of %d, want %d of %d", len(keys), got, min(10, total-at.offset), total)
							}
							return err
						})
						if err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}
