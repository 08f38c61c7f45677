package storetest

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kmsd/kmsd/internal/store"
)

// The list benchmarks of docs/performance.md ("list-keys"), shared by the
// backends so that their figures come from the same workload.

// BenchKeyCounts returns the key counts the list benchmarks run at:
// 10 and 10 000, or the comma-separated list in KMSD_BENCH_KEYS (the cost
// curve of docs/performance.md uses 10,10000,100000,1000000).
func BenchKeyCounts(b *testing.B) []int {
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

// Bench ids: the account and project FillKeys creates.
var (
	BenchAccountID = strings.Repeat("a", 32)
	BenchProjectID = strings.Repeat("b", 32)
)

// BenchKey returns the i-th key FillKeys creates: three quarters AES_256
// and a quarter SM4, every eighth one disabled, the others pending import,
// created i ms after the epoch.
func BenchKey(i int) store.Key {
	k := store.Key{
		ProjectID: BenchProjectID, AccountID: BenchAccountID,
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
	return k
}

// FillKeys creates the bench project with the keys BenchKey(0) to
// BenchKey(n-1), in batches of 10 000 per transaction, through the store.
func FillKeys(b testing.TB, s store.Store, n int) {
	ctx := b.Context()
	err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateAccount(store.Account{ID: BenchAccountID, Name: "acme"}); err != nil {
			return err
		}
		return tx.CreateProject(store.Project{ID: BenchProjectID, AccountID: BenchAccountID, Name: "cn-north-4"})
	})
	if err != nil {
		b.Fatal(err)
	}
	for start := 0; start < n; start += 10_000 {
		err := s.Update(ctx, func(tx store.Tx) error {
			for i := start; i < min(n, start+10_000); i++ {
				if err := tx.CreateKey(BenchKey(i)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchListKeys measures, on the store that open returns holding n keys
// (for each n of BenchKeyCounts), a page of 10 keys of list-keys' filters
// at the start, the middle and the end of the project's keys, a walk with
// next_marker from the middle, and the project's key counts (the read of
// user-instances) through store.KeyCountReader when the store has it.
func BenchListKeys(b *testing.B, open func(b *testing.B, n int) store.Store) {
	for _, n := range BenchKeyCounts(b) {
		s := open(b, n)
		projectID := BenchProjectID
		if r, ok := s.(store.KeyCountReader); ok {
			b.Run(fmt.Sprintf("keys=%d/counts", n), func(b *testing.B) {
				for b.Loop() {
					c, err := r.KeyCounts(b.Context(), projectID)
					if err != nil {
						b.Fatal(err)
					}
					if c.Custom != n {
						b.Fatalf("custom keys %d, want %d", c.Custom, n)
					}
				}
			})
		}
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
