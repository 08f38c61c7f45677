package sqlite

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kmsd/kmsd/internal/store"
)

// TestListKeysCursor walks a list page by page, so that ListKeys seeks to
// each page from where the previous one ended, and checks the pages; then
// commits a deletion before the remembered position and checks that the
// next page follows the offset, not the stale position.
func TestListKeysCursor(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "kmsd.db"))
	k := seed(t, s) // created now: it sorts last
	var ids []string
	err := s.Update(t.Context(), func(tx store.Tx) error {
		for i := range 20 {
			nk := k
			nk.KeyID = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
			nk.CreatedAt = time.UnixMilli(int64(1000 + i/2)) // ties broken by key id
			if err := tx.CreateKey(nk); err != nil {
				return err
			}
			ids = append(ids, nk.KeyID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ids = append(ids, k.KeyID)
	page := func(offset int) []string {
		t.Helper()
		var got []string
		err := s.View(t.Context(), func(tx store.Tx) error {
			keys, _, err := tx.ListKeys(k.ProjectID, store.KeyFilter{}, offset, 5)
			for _, k := range keys {
				got = append(got, k.KeyID)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	for offset := 0; offset < len(ids); offset += 5 {
		if diff := cmp.Diff(ids[offset:min(offset+5, len(ids))], page(offset)); diff != "" {
			t.Errorf("page at %d (-want +got):\n%s", offset, diff)
		}
	}
	if s.cursors.hits < 3 {
		t.Errorf("%d pages sought from a remembered position, want at least 3", s.cursors.hits)
	}
	// Remember the position of offset 10, then delete the first key.
	page(5)
	if err := s.Update(t.Context(), func(tx store.Tx) error { return tx.DeleteKey(k.ProjectID, ids[0]) }); err != nil {
		t.Fatal(err)
	}
	ids = ids[1:]
	if diff := cmp.Diff(ids[10:15], page(10)); diff != "" {
		t.Errorf("page at 10 after a deletion (-want +got):\n%s", diff)
	}
}
