package audit

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Read calls fn with every record of the chain in dir, in order, with its
// sequence number. It reads; it does not verify (Verify does). It stops
// at an incomplete last entry silently, at damage with an error, and when
// fn returns an error with that error.
func Read(dir string, fn func(seq uint64, r Record) error) error {
	segs, err := Segments(dir)
	if err != nil {
		return err
	}
	for _, path := range segs {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		_, off, err := ParseHeader(b)
		if err != nil {
			return fmt.Errorf("%s: %w", filepath.Base(path), err)
		}
		for off < len(b) {
			e, m, err := ParseEntry(b[off:])
			if errors.Is(err, ErrTruncated) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("%s at offset %d: %w", filepath.Base(path), off, err)
			}
			off += m
			if e.Kind != KindRecord {
				continue
			}
			r, err := ParseRecord(e.Payload)
			if err != nil {
				return fmt.Errorf("%s at offset %d: %w", filepath.Base(path), off-m, err)
			}
			if err := fn(e.Seq, r); err != nil {
				return err
			}
		}
	}
	return nil
}
