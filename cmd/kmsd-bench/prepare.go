package main

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/kmsd/kmsd/internal/store"
	"github.com/kmsd/kmsd/internal/store/sqlite"
)

// prepareBatch is the number of keys created per transaction.
const prepareBatch = 10_000

// prepare adds --keys keys to a project of a kmsd data directory directly
// through the store, prepareBatch of them per transaction, so that a
// million keys take a minute rather than hours of create-key. The keys
// are real rows in an honest state: AES_256 keys of origin external still
// pending the import of their material (they hold no material, and nothing
// pretends they do). A running server sees them at once: SQLite serves
// several processes, and its counters follow every commit.
func prepare(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("prepare", flag.ContinueOnError)
	data := fs.String("data", "", "kmsd data directory (its kmsd.db)")
	db := fs.String("db", "", "SQLite database file (default DATA/kmsd.db)")
	project := fs.String("project", "", "project id")
	n := fs.Int("keys", 0, "number of keys to add")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *db == "" {
		if *data == "" {
			return fmt.Errorf("prepare: --data or --db is required")
		}
		*db = filepath.Join(*data, "kmsd.db")
	}
	if *project == "" || *n <= 0 {
		return fmt.Errorf("prepare: --project and --keys N > 0 are required")
	}
	st, err := sqlite.Open(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	var p store.Project
	if err := st.View(ctx, func(tx store.Tx) (err error) {
		p, err = tx.GetProject(*project)
		return err
	}); err != nil {
		return fmt.Errorf("prepare: project %s: %w", *project, err)
	}
	start := time.Now()
	for done := 0; done < *n; {
		batch := min(prepareBatch, *n-done)
		now := time.Now()
		err := st.Update(ctx, func(tx store.Tx) error {
			for i := range batch {
				err := tx.CreateKey(store.Key{
					ProjectID: p.ID, KeyID: newKeyID(uint32(done + i)),
					AccountID: p.AccountID, Spec: "AES_256", Usage: "ENCRYPT_DECRYPT",
					Origin: store.OriginExternal, State: store.StatePendingImport,
					CreatedAt: now,
				})
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("prepare: %w", err)
		}
		done += batch
		fmt.Fprintf(out, "\r%d keys added", done)
	}
	fmt.Fprintf(out, "\r%d keys added to project %s in %s\n", *n, p.ID, time.Since(start).Round(time.Millisecond))
	return nil
}

// newKeyID returns a version 4 lower-case UUID, like kms does, whose
// first 32 bits are seq and the rest random: ids in creation order go into
// the indexes in order, which makes a million of them a matter of seconds
// rather than of random B-tree updates.
func newKeyID(seq uint32) string {
	var b [16]byte
	rand.Read(b[:])
	binary.BigEndian.PutUint32(b[:4], seq)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
