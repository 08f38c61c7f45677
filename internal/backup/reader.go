package backup

import (
	"bufio"
	"crypto/hmac"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/kmsd/kmsd/internal/keyring"
)

// Reader reads an archive record by record, checking each record's tag as
// it goes. A record that Next returned is authentic (it was written by a
// kmsd holding the root key, in this position), but the archive is whole
// only once Next has returned io.EOF: until then it may be truncated.
type Reader struct {
	r     *bufio.Reader
	chain *chain
	hdr   Header
	want  counts // from the header
	n     counts // rows read
	last  Kind
	done  bool
	buf   []byte
	tag   [tagSize]byte
}

// NewReader reads the magic, the version byte and the header of the
// archive r. It fails with ErrNotArchive, ErrVersion, ErrWrongRootKey (the
// header's check value is not kr's: the archive needs another root key)
// or ErrCorrupt.
func NewReader(r io.Reader, kr *keyring.Keyring) (*Reader, error) {
	br := bufio.NewReaderSize(r, 256<<10)
	var start [len(magic) + 1]byte
	if _, err := io.ReadFull(br, start[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, ErrNotArchive
		}
		return nil, fmt.Errorf("backup: read: %w", err)
	}
	if string(start[:len(magic)]) != magic {
		return nil, ErrNotArchive
	}
	if start[len(magic)] != formatV1 {
		return nil, fmt.Errorf("%w: 0x%02x (this kmsd reads 0x%02x)", ErrVersion, start[len(magic)], formatV1)
	}
	rd := &Reader{r: br, chain: newChain(kr)}
	k, payload, head, err := rd.frame()
	if err != nil {
		return nil, err
	}
	if k != KindHeader {
		return nil, corrupt("the first record is a %s, not the header", kindName(k))
	}
	c := &codec{dec: true, buf: payload}
	rd.hdr.layout(c)
	if err := c.end("header"); err != nil {
		return nil, err
	}
	// The check value is compared before the tag: with another root key
	// the tag cannot match either, and the operator needs to hear which.
	switch err := kr.VerifyCheckValue(rd.hdr.CheckValue); {
	case errors.Is(err, keyring.ErrCheckMismatch):
		return nil, ErrWrongRootKey
	case err != nil:
		return nil, corrupt("the header's root key check value is malformed")
	}
	if err := rd.verify(head, payload); err != nil {
		return nil, err
	}
	rd.want.fromStore(rd.hdr.Counts)
	rd.last = KindHeader
	return rd, nil
}

// Header returns the archive's header.
func (r *Reader) Header() Header { return r.hdr }

// frame reads one record: its kind, its payload (valid until the next
// call) and its encoded kind and length. The tag is read into r.tag.
func (r *Reader) frame() (Kind, []byte, []byte, error) {
	kb, err := r.r.ReadByte()
	if err != nil {
		return 0, nil, nil, r.readErr(err)
	}
	n, err := binary.ReadUvarint(r.r)
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return 0, nil, nil, r.readErr(err)
		}
		return 0, nil, nil, corrupt("malformed record length")
	}
	if n > maxPayload {
		return 0, nil, nil, corrupt("a record of %d bytes", n)
	}
	if cap(r.buf) < int(n) {
		r.buf = make([]byte, n)
	}
	r.buf = r.buf[:n]
	if _, err := io.ReadFull(r.r, r.buf); err != nil {
		return 0, nil, nil, r.readErr(err)
	}
	if _, err := io.ReadFull(r.r, r.tag[:]); err != nil {
		return 0, nil, nil, r.readErr(err)
	}
	return Kind(kb), r.buf, r.chain.frameHead(Kind(kb), int(n)), nil
}

func (r *Reader) readErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return corrupt("it ends before its trailer (truncated)")
	}
	return fmt.Errorf("backup: read: %w", err)
}

// verify checks the tag just read against the chain.
func (r *Reader) verify(head, payload []byte) error {
	if !hmac.Equal(r.chain.next(head, payload), r.tag[:]) {
		return corrupt("a record's integrity tag does not match (edited, reordered or from another archive)")
	}
	return nil
}

// Next returns the next row: a value of one of the store types (store.Account,
// store.Project, …, store.KeyTag, store.Meta). After the last row it
// reads the trailer, checks that the archive ends there and that every
// count matches, and returns io.EOF; every error after that is io.EOF too.
func (r *Reader) Next() (any, error) {
	if r.done {
		return nil, io.EOF
	}
	k, payload, head, err := r.frame()
	if err != nil {
		return nil, err
	}
	if err := r.verify(head, payload); err != nil {
		return nil, err
	}
	if k == KindTrailer {
		return nil, r.trailer(payload)
	}
	if k < firstRow || k > lastRow {
		return nil, corrupt("a record of kind 0x%02x", byte(k))
	}
	if k < r.last {
		return nil, corrupt("a %s record after a %s record", kindName(k), kindName(r.last))
	}
	r.last = k
	if r.n[k-firstRow]++; r.n[k-firstRow] > r.want[k-firstRow] {
		return nil, corrupt("more %s records than its header counts", kindName(k))
	}
	return decodeRow(k, payload)
}

func (r *Reader) trailer(payload []byte) error {
	var got counts
	c := &codec{dec: true, buf: payload}
	got.layout(c)
	if err := c.end("trailer"); err != nil {
		return err
	}
	if got != r.want || r.n != r.want {
		return corrupt("its counts disagree: header %v, trailer %v, records %v", r.want, got, r.n)
	}
	if _, err := r.r.ReadByte(); !errors.Is(err, io.EOF) {
		if err != nil {
			return fmt.Errorf("backup: read: %w", err)
		}
		return corrupt("data after the trailer")
	}
	r.done = true
	return io.EOF
}

// Verify reads the whole archive r and reports whether it is intact and
// made under kr's root key, without writing anything anywhere. It returns
// the header.
func Verify(r io.Reader, kr *keyring.Keyring) (Header, error) {
	rd, err := NewReader(r, kr)
	if err != nil {
		return Header{}, err
	}
	for {
		if _, err := rd.Next(); err != nil {
			if errors.Is(err, io.EOF) {
				return rd.hdr, nil
			}
			return Header{}, err
		}
	}
}
