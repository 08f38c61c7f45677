package backup

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"

	"github.com/kmsd/kmsd/internal/keyring"
	"github.com/kmsd/kmsd/internal/store"
)

// rootCheckMeta is the meta entry of the root key check value (see
// internal/server/rootcheck.go).
const rootCheckMeta = "root_key_check"

// ErrNotEmpty means the target store of a restore already holds data.
var ErrNotEmpty = errors.New("backup: the target store is not empty")

// RestoreOptions tune Restore.
type RestoreOptions struct {
	// Progress, when set, is called now and then with the records written
	// so far and the archive's number of records.
	Progress func(done, total int64)
}

// Restore loads the archive that open opens into st, which must be empty
// (no row but meta values). It checks the archive twice: first it reads it
// whole (Verify) without writing, so that a wrong root key or a damaged
// archive is refused before anything is written; then it writes every row
// with st's own create methods in one Update, which it commits only once
// the trailer has been verified again and the rebuilt counters match the
// archive. Any failure rolls that transaction back: the store stays empty.
// open is called once per pass (and again when the backend retries the
// Update), so it must return the archive from its start each time.
func Restore(ctx context.Context, st store.Store, kr *keyring.Keyring, open func() (io.ReadCloser, error), o RestoreOptions) (Header, error) {
	if err := st.View(ctx, func(tx store.Tx) error { return checkEmpty(tx, kr) }); err != nil {
		return Header{}, err
	}
	f, err := open()
	if err != nil {
		return Header{}, err
	}
	h, err := Verify(f, kr)
	f.Close()
	if err != nil {
		return Header{}, err
	}
	var want counts
	want.fromStore(h.Counts)
	var total int64
	for _, n := range want {
		total += n
	}
	// One transaction; a backend that loads rows faster when a failure
	// may end it (every failure ends this one anyway) says so.
	load := func(load, check func(store.Tx) error) error {
		return st.Update(ctx, func(tx store.Tx) error {
			if err := load(tx); err != nil {
				return err
			}
			return check(tx)
		})
	}
	if l, ok := store.As[store.BulkLoader](st); ok {
		load = func(load, check func(store.Tx) error) error { return l.Load(ctx, load, check) }
	}
	keys := map[string]*store.KeyCounts{} // per project, as CreateKey must count them
	err = load(func(tx store.Tx) error {
		if err := checkEmpty(tx, kr); err != nil {
			return err
		}
		f, err := open()
		if err != nil {
			return err
		}
		defer f.Close()
		rd, err := NewReader(f, kr)
		if err != nil {
			return err
		}
		if rd.Header().CheckValue == nil || string(rd.Header().CheckValue) != string(h.CheckValue) || !rd.Header().Created.Equal(h.Created) {
			return corrupt("the archive changed between the verification and the restore")
		}
		clear(keys)
		var done int64
		for {
			v, err := rd.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := put(tx, v); err != nil {
				k, _ := kindOf(v)
				return fmt.Errorf("backup: restore a %s record: %w", kindName(k), err)
			}
			if k, ok := v.(store.Key); ok {
				c := keys[k.ProjectID]
				if c == nil {
					c = &store.KeyCounts{}
					keys[k.ProjectID] = c
				}
				if k.Default {
					c.Default++
				} else {
					c.Custom++
				}
			}
			if done++; o.Progress != nil && done%1024 == 0 {
				o.Progress(done, total)
			}
		}
		if o.Progress != nil {
			o.Progress(done, total)
		}
		return nil
	}, func(tx store.Tx) error { return checkRestored(tx, h, keys) })
	if err != nil {
		return Header{}, err
	}
	return h, nil
}

// checkEmpty refuses a store that holds any row besides meta values, or
// whose root key check value is another root key's.
func checkEmpty(tx store.Tx, kr *keyring.Keyring) error {
	d, ok := tx.(store.Dumper)
	if !ok {
		return errors.New("backup: this store cannot be restored into (its transactions do not implement store.Dumper)")
	}
	c, err := d.DumpCounts()
	if err != nil {
		return err
	}
	meta := c.Meta
	c.Meta = 0
	if c != (store.DumpCounts{}) {
		return fmt.Errorf("%w: it holds %d accounts, %d projects, %d users and %d keys; restore only into a new, empty database", ErrNotEmpty, c.Accounts, c.Projects, c.Users, c.Keys)
	}
	if meta > 0 {
		v, err := tx.GetMeta(rootCheckMeta)
		if err == nil && !sameRoot(kr, v) {
			return fmt.Errorf("%w: it was initialised with another root key than the configured one", ErrNotEmpty)
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return nil
}

// sameRoot reports whether stored, a store's root key check value (format
// 1, or format 2 naming a later root key generation), is that of the root
// key of kr, a keyring of one root key (keyring.New).
func sameRoot(kr *keyring.Keyring, stored []byte) bool {
	if len(stored) == keyring.CheckValueSizeV2 && stored[0] == 0x02 {
		digest := stored[keyring.CheckValueSizeV2-(keyring.CheckValueSize-1):]
		return subtle.ConstantTimeCompare(digest, kr.CheckDigest(1)) == 1
	}
	return kr.VerifyCheckValue(stored) == nil
}

// checkRestored compares what the transaction now holds with the
// archive's counts, and every project's maintained key counters and
// list-keys total with the keys restored into it.
func checkRestored(tx store.Tx, h Header, keys map[string]*store.KeyCounts) error {
	c, err := tx.(store.Dumper).DumpCounts()
	if err != nil {
		return err
	}
	want := h.Counts
	// Meta values the empty store had already (its root key check value)
	// may be overwritten by the archive's or stay beside them.
	if c.Meta < want.Meta {
		return fmt.Errorf("backup: restored %d meta values, the archive holds %d", c.Meta, want.Meta)
	}
	c.Meta = want.Meta
	if c != want {
		return fmt.Errorf("backup: the restored store counts %+v, the archive %+v", c, want)
	}
	for project, wantKeys := range keys {
		got, err := tx.KeyCounts(project)
		if err != nil {
			return err
		}
		if got != *wantKeys {
			return fmt.Errorf("backup: project %s counts %+v keys after the restore, the archive holds %+v", project, got, *wantKeys)
		}
		// list-keys counts its totals on its own (SQLite: key_list_counts).
		if _, total, err := tx.ListKeys(project, store.KeyFilter{}, 0, 1); err != nil {
			return err
		} else if total != got.Custom+got.Default {
			return fmt.Errorf("backup: project %s lists %d keys after the restore, the archive holds %d", project, total, got.Custom+got.Default)
		}
	}
	return nil
}

// put writes one row with the store's create method of its kind.
func put(tx store.Tx, v any) error {
	switch v := v.(type) {
	case store.Account:
		return tx.CreateAccount(v)
	case store.Project:
		return tx.CreateProject(v)
	case store.User:
		return tx.CreateUser(v)
	case store.AccessKey:
		return tx.CreateAccessKey(v)
	case store.Policy:
		return tx.PutPolicy(v)
	case store.Keystore:
		return tx.CreateKeystore(v)
	case store.KeySpace:
		return tx.CreateKeySpace(v)
	case store.Key:
		return tx.CreateKey(v)
	case store.KeyVersion:
		return tx.PutKeyVersion(v)
	case store.KeyRegion:
		return tx.PutKeyRegion(v)
	case store.Grant:
		return tx.CreateGrant(v)
	case store.Alias:
		return tx.CreateAlias(v)
	case store.KeyTag:
		return tx.PutTag(v.ProjectID, v.KeyID, v.Key, v.Value)
	case store.ImportToken:
		return tx.PutImportToken(v)
	case store.AccessPoint:
		return tx.CreateAccessPoint(v)
	case store.KeyPolicy:
		return tx.CreateKeyPolicy(v)
	case store.Meta:
		return tx.PutMeta(v.Name, v.Value)
	}
	return fmt.Errorf("backup: no store method for %T", v)
}
