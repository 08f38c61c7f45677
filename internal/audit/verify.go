package audit

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Problem locates where a chain stops being trustworthy.
type Problem struct {
	// File is the segment file; Offset the byte offset in it of the
	// entry (or header) at fault; Seq the sequence number expected there.
	File   string
	Offset int64
	Seq    uint64
	// Reason says what was found.
	Reason string
}

func (p *Problem) Error() string {
	return fmt.Sprintf("%s: offset %d (entry %d): %s", p.File, p.Offset, p.Seq, p.Reason)
}

// Report is the result of Verify.
type Report struct {
	Node        string
	Segments    int
	Records     int
	Checkpoints int
	// LastSeq is the sequence number of the last intact entry.
	LastSeq uint64
	// SignedSeq is the sequence number of the last checkpoint; entries
	// after it (Unsigned) are chained but not yet signed.
	SignedSeq uint64
	Unsigned  int
	// PublicKey verified the checkpoints.
	PublicKey ed25519.PublicKey
	// Problem is the first edited, removed, reordered or inserted entry
	// (nil when none).
	Problem *Problem
	// Truncated is an incomplete entry at the very end of the trail: what
	// a crash during a write leaves, or a cut.
	Truncated *Problem
}

// OK reports whether the trail verified without problem.
func (r *Report) OK() bool { return r.Problem == nil && r.Truncated == nil }

// Fingerprint is the hex SHA-256 of a public key, for humans to compare.
func Fingerprint(pub ed25519.PublicKey) string {
	s := sha256.Sum256(pub)
	return hex.EncodeToString(s[:])
}

// Verify checks the chain in dir offline: every segment's header, every
// entry's sequence number and link to the previous entry, every record's
// syntax and every checkpoint's signature. pin, when not nil, is the
// public key the checkpoints must carry; without it the first
// checkpoint's key is trusted and every later one must match it. Verify
// stops at the first problem. The error reports a trail it could not
// read at all.
func Verify(dir string, pin ed25519.PublicKey) (*Report, error) {
	segs, err := Segments(dir)
	if err != nil {
		return nil, err
	}
	if len(segs) == 0 {
		return nil, fmt.Errorf("audit: no segment files (%s*%s) in %s", segmentFilePrefix, segmentFileSuffix, dir)
	}
	rep := &Report{PublicKey: pin}
	var prev [HashSize]byte
	seq := uint64(0)
	lastKind := byte(0)
	for i, path := range segs {
		name := filepath.Base(path)
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		rep.Segments++
		fail := func(off int, want uint64, format string, args ...any) *Report {
			rep.Problem = &Problem{File: name, Offset: int64(off), Seq: want, Reason: fmt.Sprintf(format, args...)}
			return rep
		}
		h, n, err := ParseHeader(b)
		if err != nil {
			return fail(0, seq+1, "segment header: %v", err), nil
		}
		switch {
		case rep.Node == "":
			rep.Node = h.Node
		case h.Node != rep.Node:
			return fail(0, seq+1, "segment of node %q in the chain of node %q", h.Node, rep.Node), nil
		}
		if h.Segment != uint64(i+1) {
			return fail(0, seq+1, "segment number %d, want %d: a segment file was removed, renamed or inserted", h.Segment, i+1), nil
		}
		if name != segmentName(h.Segment) {
			return fail(0, seq+1, "file name does not match segment number %d", h.Segment), nil
		}
		if h.FirstSeq != seq+1 || h.Prev != prev {
			return fail(0, seq+1, "segment header does not continue the chain (first entry %d, want %d): the previous segment was cut or edited", h.FirstSeq, seq+1), nil
		}
		if i > 0 && lastKind != KindCheckpoint {
			return fail(0, seq+1, "the previous segment does not end with a checkpoint: it was cut"), nil
		}
		prev = sha256.Sum256(b[:n])
		off := n
		for off < len(b) {
			e, m, err := ParseEntry(b[off:])
			want := seq + 1
			if errors.Is(err, ErrTruncated) && i == len(segs)-1 {
				rep.Truncated = &Problem{File: name, Offset: int64(off), Seq: want, Reason: fmt.Sprintf("the trail ends inside entry %d (%d bytes of an incomplete entry): a crash during a write, or a cut", want, len(b)-off)}
				break
			}
			if err != nil {
				return fail(off, want, "%v: the entry was edited", err), nil
			}
			switch {
			case e.Seq != want:
				return fail(off, want, "found entry %d where entry %d belongs: entries were removed, reordered or inserted", e.Seq, want), nil
			case e.Prev != prev:
				if seq == h.FirstSeq-1 {
					return fail(off, want, "does not link to the segment header: the header or this entry was edited"), nil
				}
				return fail(off, want, "does not link to entry %d: entry %d (or this entry's link) was edited, or an entry was replaced", seq, seq), nil
			}
			switch e.Kind {
			case KindRecord:
				if _, err := ParseRecord(e.Payload); err != nil {
					return fail(off, want, "%v: the record was edited", err), nil
				}
				rep.Records++
				rep.Unsigned++
			case KindCheckpoint:
				c, err := ParseCheckpoint(e.Payload)
				if err != nil {
					return fail(off, want, "%v", err), nil
				}
				if rep.PublicKey == nil {
					rep.PublicKey = bytes.Clone(c.PublicKey)
				} else if !bytes.Equal(rep.PublicKey, c.PublicKey) {
					return fail(off, want, "checkpoint signed by key %s, want %s: the trail was rewritten with another key", Fingerprint(c.PublicKey)[:16], Fingerprint(rep.PublicKey)[:16]), nil
				}
				if !ed25519.Verify(c.PublicKey, SignedMessage(h.Node, e.Seq, e.Prev, c.Time, c.PublicKey), c.Signature) {
					return fail(off, want, "checkpoint signature does not verify: the checkpoint or the chain before it was edited"), nil
				}
				rep.Checkpoints++
				rep.SignedSeq = e.Seq
				rep.Unsigned = 0
			}
			lastKind = e.Kind
			seq, prev = e.Seq, sha256.Sum256(b[off:off+m])
			rep.LastSeq = seq
			off += m
		}
	}
	return rep, nil
}
