package backup

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/kmsd/kmsd/internal/store"
)

// The constants of the format (see doc.go).
const (
	magic = "KMSDBKUP"
	// formatV1 is the format version byte this package writes and reads.
	formatV1 byte = 0x01
	// macLabel derives the archive's HMAC key from the root key; it names
	// the format version it serves.
	macLabel = "kmsd backup mac v1"
	tagSize  = 32
	// maxPayload bounds one record, so that a damaged length cannot make
	// a reader allocate much.
	maxPayload = 16 << 20
)

// Kind is the type byte of a record.
type Kind byte

// The record kinds, in the order they appear in an archive: each kind's
// rows may reference rows of the kinds before it.
const (
	KindHeader      Kind = 0x01
	KindAccount     Kind = 0x02
	KindProject     Kind = 0x03
	KindUser        Kind = 0x04
	KindAccessKey   Kind = 0x05
	KindPolicy      Kind = 0x06
	KindKeystore    Kind = 0x07
	KindKeySpace    Kind = 0x08
	KindKey         Kind = 0x09
	KindKeyVersion  Kind = 0x0a
	KindKeyRegion   Kind = 0x0b
	KindGrant       Kind = 0x0c
	KindAlias       Kind = 0x0d
	KindTag         Kind = 0x0e
	KindImportToken Kind = 0x0f
	KindAccessPoint Kind = 0x10
	KindKeyPolicy   Kind = 0x11
	KindMeta        Kind = 0x12
	KindTrailer     Kind = 0xff
)

// firstRow and lastRow bound the kinds of store rows; nRowKinds is their
// number, the number of counts in the header and the trailer.
const (
	firstRow  = KindAccount
	lastRow   = KindMeta
	nRowKinds = int(lastRow-firstRow) + 1
)

// Errors of the reader. Every failure to read an archive matches one of
// them with errors.Is.
var (
	// ErrNotArchive means the input does not start with the magic bytes.
	ErrNotArchive = errors.New("backup: not a kmsd backup archive")
	// ErrVersion means the archive has a format version this kmsd does
	// not read.
	ErrVersion = errors.New("backup: unsupported archive format version")
	// ErrWrongRootKey means the archive was written under another root
	// key than the one configured.
	ErrWrongRootKey = errors.New("backup: the archive was made under another root key")
	// ErrCorrupt means the archive is truncated, reordered, edited or
	// malformed: its integrity check failed.
	ErrCorrupt = errors.New("backup: the archive is damaged (truncated or edited)")
)

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// counts are the numbers of records of each row kind, indexed by kind -
// firstRow.
type counts [nRowKinds]int64

func (c *counts) fromStore(d store.DumpCounts) {
	*c = counts{d.Accounts, d.Projects, d.Users, d.AccessKeys, d.Policies, d.Keystores,
		d.KeySpaces, d.Keys, d.KeyVersions, d.KeyRegions, d.Grants, d.Aliases, d.Tags,
		d.ImportTokens, d.AccessPoints, d.KeyPolicies, d.Meta}
}

func (c counts) toStore() store.DumpCounts {
	return store.DumpCounts{Accounts: c[0], Projects: c[1], Users: c[2], AccessKeys: c[3],
		Policies: c[4], Keystores: c[5], KeySpaces: c[6], Keys: c[7], KeyVersions: c[8],
		KeyRegions: c[9], Grants: c[10], Aliases: c[11], Tags: c[12], ImportTokens: c[13],
		AccessPoints: c[14], KeyPolicies: c[15], Meta: c[16]}
}

// codec encodes the fields of a record (enc) or decodes them (dec) with
// the same sequence of calls, so that one function per kind describes its
// layout for both directions.
type codec struct {
	dec bool
	buf []byte // enc: the payload so far; dec: what is left to read
	err error  // dec: the first error
}

func (c *codec) fail(what string) {
	if c.err == nil {
		c.err = corrupt("malformed %s", what)
	}
	c.buf = nil
}

func (c *codec) uvarint(p *uint64) {
	if !c.dec {
		c.buf = binary.AppendUvarint(c.buf, *p)
		return
	}
	v, n := binary.Uvarint(c.buf)
	if n <= 0 {
		c.fail("unsigned varint")
		return
	}
	*p, c.buf = v, c.buf[n:]
}

func (c *codec) varint(p *int64) {
	if !c.dec {
		c.buf = binary.AppendVarint(c.buf, *p)
		return
	}
	v, n := binary.Varint(c.buf)
	if n <= 0 {
		c.fail("varint")
		return
	}
	*p, c.buf = v, c.buf[n:]
}

func (c *codec) int(p *int) {
	v := int64(*p)
	c.varint(&v)
	if c.dec {
		if v < math.MinInt32 || v > math.MaxInt32 {
			c.fail("integer")
			return
		}
		*p = int(v)
	}
}

func (c *codec) bool(p *bool) {
	if !c.dec {
		b := byte(0)
		if *p {
			b = 1
		}
		c.buf = append(c.buf, b)
		return
	}
	if len(c.buf) == 0 || c.buf[0] > 1 {
		c.fail("boolean")
		return
	}
	*p, c.buf = c.buf[0] == 1, c.buf[1:]
}

// bytes is a uvarint length and that many bytes; an empty field decodes
// as nil.
func (c *codec) bytes(p *[]byte) {
	n := uint64(len(*p))
	c.uvarint(&n)
	if !c.dec {
		c.buf = append(c.buf, *p...)
		return
	}
	if c.err != nil || n > uint64(len(c.buf)) {
		c.fail("length")
		return
	}
	*p = nil
	if n > 0 {
		*p = append([]byte(nil), c.buf[:n]...)
	}
	c.buf = c.buf[n:]
}

func (c *codec) str(p *string) {
	b := []byte(*p)
	c.bytes(&b)
	if c.dec {
		*p = string(b)
	}
}

// strs is a uvarint count and that many strings; an empty list decodes as
// nil.
func (c *codec) strs(p *[]string) {
	n := uint64(len(*p))
	c.uvarint(&n)
	if !c.dec {
		for i := range *p {
			c.str(&(*p)[i])
		}
		return
	}
	if c.err != nil || n > uint64(len(c.buf)) { // every string takes a byte at least
		c.fail("list")
		return
	}
	*p = nil
	for range n {
		var s string
		c.str(&s)
		*p = append(*p, s)
	}
}

// zeroTime is how the zero time.Time is written.
const zeroTime = math.MinInt64

// time is a varint of Unix microseconds in UTC; the zero time is
// math.MinInt64.
func (c *codec) time(p *time.Time) {
	v := int64(zeroTime)
	if !p.IsZero() {
		v = p.UnixMicro()
	}
	c.varint(&v)
	if c.dec {
		*p = time.Time{}
		if v != zeroTime {
			*p = time.UnixMicro(v).UTC()
		}
	}
}

// end reports the codec's error, or an error when a decoded payload has
// bytes left over.
func (c *codec) end(what string) error {
	if c.err == nil && c.dec && len(c.buf) != 0 {
		c.err = corrupt("%s record: %d bytes too many", what, len(c.buf))
	}
	return c.err
}
