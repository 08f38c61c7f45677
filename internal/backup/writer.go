package backup

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"

	"github.com/kmsd/kmsd/internal/keyring"
	"github.com/kmsd/kmsd/internal/store"
)

// chain is the HMAC chain of an archive: the tag of each record covers
// the tag before it, so records cannot be removed, reordered or moved to
// another archive undetected.
type chain struct {
	mac  hash.Hash
	prev [tagSize]byte
	hdr  [1 + binary.MaxVarintLen64]byte
}

func newChain(kr *keyring.Keyring) *chain {
	key := kr.Derive(macLabel, 32)
	c := &chain{mac: hmac.New(sha256.New, key)}
	clear(key)
	c.mac.Write([]byte(magic))
	c.mac.Write([]byte{formatV1})
	c.mac.Sum(c.prev[:0])
	return c
}

// frameHead returns the kind byte and the uvarint length of a record.
func (c *chain) frameHead(k Kind, n int) []byte {
	c.hdr[0] = byte(k)
	return c.hdr[:1+binary.PutUvarint(c.hdr[1:], uint64(n))]
}

// next returns the tag of the record whose kind and length are head and
// whose payload is payload, and makes it the chain's last tag.
func (c *chain) next(head, payload []byte) []byte {
	c.mac.Reset()
	c.mac.Write(c.prev[:])
	c.mac.Write(head)
	c.mac.Write(payload)
	c.mac.Sum(c.prev[:0])
	return c.prev[:]
}

// Options are what Write needs besides the store and the keyring.
type Options struct {
	// Version is the kmsd version written into the header.
	Version string
	// Backend names the store: sqlite or postgres.
	Backend string
	// Now returns the time written into the header (time.Now when nil).
	Now func() time.Time
	// Progress, when set, is called now and then with the records written
	// so far and the records the archive will hold.
	Progress func(done, total int64)
}

// writer writes records to an archive.
type writer struct {
	w     *bufio.Writer
	chain *chain
	buf   []byte
	n     counts
	done  int64
}

func (w *writer) record(k Kind, payload []byte) error {
	if len(payload) > maxPayload {
		return fmt.Errorf("backup: a %s record of %d bytes exceeds the format's limit", kindName(k), len(payload))
	}
	head := w.chain.frameHead(k, len(payload))
	w.w.Write(head)
	w.w.Write(payload)
	_, err := w.w.Write(w.chain.next(head, payload))
	return err
}

// row writes one store row.
func (w *writer) row(v any) error {
	k, _ := kindOf(v)
	w.buf = encodeRow(w.buf[:0], v)
	w.n[k-firstRow]++
	w.done++
	return w.record(k, w.buf)
}

// Write takes a snapshot of st in one read transaction (View) and writes
// it to out as an archive: the header, every row of every kind, and the
// trailer. Sealed values stay sealed: Write opens nothing. It returns the
// archive's header. st's transactions must implement store.Dumper.
//
// kr is a keyring of the store's root key alone (keyring.New of root_key,
// its newest root key generation): the archive's check value and MAC key
// come from that root key, so that a restore can check both before it
// reads anything else. Items sealed by older generations (a rotation not
// done) travel sealed like the rest, with the generation table.
func Write(ctx context.Context, st store.Store, kr *keyring.Keyring, out io.Writer, o Options) (Header, error) {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	w := &writer{w: bufio.NewWriterSize(out, 256<<10), chain: newChain(kr)}
	var h Header
	err := st.View(ctx, func(tx store.Tx) error {
		d, ok := tx.(store.Dumper)
		if !ok {
			return errors.New("backup: this store cannot be dumped (its transactions do not implement store.Dumper)")
		}
		// An archive claims the configured root key; a store sealed under
		// another would give one that no restore could use.
		if v, err := tx.GetMeta(rootCheckMeta); err == nil {
			if !sameRoot(kr, v) {
				return fmt.Errorf("%w: the store's root key check value is not the configured root key's", ErrWrongRootKey)
			}
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		c, err := d.DumpCounts()
		if err != nil {
			return err
		}
		h = Header{Version: o.Version, Created: now().UTC(), Backend: o.Backend, CheckValue: kr.CheckValue(), Counts: c}
		var total counts
		total.fromStore(c)
		var all int64
		for _, n := range total {
			all += n
		}
		if _, err := w.w.WriteString(magic); err != nil {
			return err
		}
		w.w.WriteByte(formatV1)
		hc := &codec{}
		h.layout(hc)
		if err := w.record(KindHeader, hc.buf); err != nil {
			return err
		}
		last := time.Now()
		progress := func() {
			if o.Progress != nil && time.Since(last) > 100*time.Millisecond {
				last = time.Now()
				o.Progress(w.done, all)
			}
		}
		if o.Progress != nil {
			o.Progress(0, all)
		}
		if err := eachRow(d, func(v any) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			progress()
			return w.row(v)
		}); err != nil {
			return err
		}
		// The snapshot's rows are what its counts say; a backend that
		// disagrees with itself must not yield an archive that a restore
		// would refuse.
		if w.n != total {
			return fmt.Errorf("backup: the store's counts %v differ from the rows it gave %v", total, w.n)
		}
		tc := &codec{}
		w.n.layout(tc)
		if err := w.record(KindTrailer, tc.buf); err != nil {
			return err
		}
		if o.Progress != nil {
			o.Progress(w.done, all)
		}
		return w.w.Flush()
	})
	if err != nil {
		return Header{}, err
	}
	return h, nil
}

// eachRow visits every row of d in archive order.
func eachRow(d store.Dumper, fn func(any) error) error {
	for _, each := range []func() error{
		func() error { return d.EachAccount(func(v store.Account) error { return fn(v) }) },
		func() error { return d.EachProject(func(v store.Project) error { return fn(v) }) },
		func() error { return d.EachUser(func(v store.User) error { return fn(v) }) },
		func() error { return d.EachAccessKey(func(v store.AccessKey) error { return fn(v) }) },
		func() error { return d.EachPolicy(func(v store.Policy) error { return fn(v) }) },
		func() error { return d.EachKeystore(func(v store.Keystore) error { return fn(v) }) },
		func() error { return d.EachKeySpace(func(v store.KeySpace) error { return fn(v) }) },
		func() error { return d.EachKey(func(v store.Key) error { return fn(v) }) },
		func() error { return d.EachKeyVersion(func(v store.KeyVersion) error { return fn(v) }) },
		func() error { return d.EachKeyRegion(func(v store.KeyRegion) error { return fn(v) }) },
		func() error { return d.EachGrant(func(v store.Grant) error { return fn(v) }) },
		func() error { return d.EachAlias(func(v store.Alias) error { return fn(v) }) },
		func() error { return d.EachTag(func(v store.KeyTag) error { return fn(v) }) },
		func() error { return d.EachImportToken(func(v store.ImportToken) error { return fn(v) }) },
		func() error { return d.EachAccessPoint(func(v store.AccessPoint) error { return fn(v) }) },
		func() error { return d.EachKeyPolicy(func(v store.KeyPolicy) error { return fn(v) }) },
		func() error { return d.EachMeta(func(v store.Meta) error { return fn(v) }) },
	} {
		if err := each(); err != nil {
			return err
		}
	}
	return nil
}

// kindName names a kind for messages.
func kindName(k Kind) string {
	names := [...]string{"header", "account", "project", "user", "access key", "policy", "keystore",
		"key space", "key", "key version", "key region", "grant", "alias", "tag", "import token",
		"access point", "key policy", "meta"}
	if k == KindTrailer {
		return "trailer"
	}
	if k >= KindHeader && int(k-KindHeader) < len(names) {
		return names[k-KindHeader]
	}
	return fmt.Sprintf("0x%02x", byte(k))
}
