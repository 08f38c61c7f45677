package backup

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kmsd/kmsd/internal/keyring"
)

// retag rewrites the tag of every well-framed record of b so that the
// chain verifies under kr, and stops at the first malformed frame. The
// fuzzer's mutations thus reach the record decoders, which the tags would
// otherwise guard.
func retag(b []byte, kr *keyring.Keyring) []byte {
	b = append([]byte(nil), b...)
	if len(b) < len(magic)+1 {
		return b
	}
	c := newChain(kr)
	for off := len(magic) + 1; off < len(b); {
		n, w := binary.Uvarint(b[off+1:])
		if w <= 0 || n > uint64(len(b)) {
			break
		}
		end := off + 1 + w + int(n)
		if end+tagSize > len(b) {
			break
		}
		copy(b[end:], c.next(b[off:off+1+w], b[off+1+w:end]))
		off = end + tagSize
	}
	return b
}

// read reads an archive to its end and returns its rows.
func read(b []byte, kr *keyring.Keyring) ([]any, error) {
	rd, err := NewReader(bytes.NewReader(b), kr)
	if err != nil {
		return nil, err
	}
	var rows []any
	for {
		v, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return nil, err
		}
		rows = append(rows, v)
	}
}

// FuzzReader feeds arbitrary bytes to the reader, as they are and with
// their tags made valid: it must never panic, every failure must be one of
// the package's errors, and every row it accepts must encode and decode
// to itself.
func FuzzReader(f *testing.F) {
	seed, err := os.ReadFile(filepath.Join("testdata", "one-account.kmsdbak"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add(seed[:len(seed)-1])
	f.Add([]byte(magic))
	kr := testKeyring(f, 0x42)
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, in := range [][]byte{b, retag(b, kr)} {
			rows, err := read(in, kr)
			if err != nil {
				if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrNotArchive) && !errors.Is(err, ErrVersion) && !errors.Is(err, ErrWrongRootKey) {
					t.Fatalf("an error of no kind: %v", err)
				}
				continue
			}
			for _, v := range rows {
				k, ok := kindOf(v)
				if !ok {
					t.Fatalf("a row of type %T", v)
				}
				back, err := decodeRow(k, encodeRow(nil, v))
				if err != nil || !cmp.Equal(back, v, cmpOpts) {
					t.Fatalf("%T does not round-trip: %v", v, err)
				}
			}
		}
	})
}
