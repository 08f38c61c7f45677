package audit

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
)

// Version is the format version of segment files, the byte after the magic.
const Version byte = 0x01

// magic opens every segment file.
const magic = "KMSDAUDT"

// Entry kinds.
const (
	// KindRecord is an entry whose payload is one Record as JSON.
	KindRecord byte = 0x01
	// KindCheckpoint is an entry whose payload signs the chain head.
	KindCheckpoint byte = 0x02
)

// Sizes of the fixed parts of the format (doc.go).
const (
	HashSize           = sha256.Size
	entryHeaderSize    = 1 + 8 + HashSize + 4
	checkpointSize     = 8 + ed25519.PublicKeySize + ed25519.SignatureSize
	maxNodeLen         = 64
	maxPayload         = 1 << 20
	segmentFixedSize   = len(magic) + 1 + 1 + 8 + 8 + HashSize // without the node id
	checkpointContext  = "kmsd audit checkpoint v1"
	segmentFilePrefix  = "audit-"
	segmentFileSuffix  = ".log"
	signingKeyFileName = "signing-key.sealed"
)

// Errors of the parser. Every failure wraps one of them.
var (
	// ErrMalformed means bytes that are not a valid segment or entry.
	ErrMalformed = errors.New("audit: malformed")
	// ErrTruncated means the bytes end inside a header or an entry.
	ErrTruncated = errors.New("audit: truncated")
)

// Header is the start of a segment file.
type Header struct {
	// Node names the node whose chain the segment belongs to.
	Node string
	// Segment numbers the segments of a chain from 1.
	Segment uint64
	// FirstSeq is the sequence number of the segment's first entry.
	FirstSeq uint64
	// Prev is the hash of the last entry of the previous segment (zero
	// for segment 1).
	Prev [HashSize]byte
}

// Marshal returns the header's bytes.
func (h Header) Marshal() []byte {
	b := make([]byte, 0, segmentFixedSize+len(h.Node))
	b = append(b, magic...)
	b = append(b, Version, byte(len(h.Node)))
	b = append(b, h.Node...)
	b = binary.BigEndian.AppendUint64(b, h.Segment)
	b = binary.BigEndian.AppendUint64(b, h.FirstSeq)
	return append(b, h.Prev[:]...)
}

// ParseHeader parses a segment header at the start of b and returns it
// with its length.
func ParseHeader(b []byte) (Header, int, error) {
	var h Header
	if len(b) < len(magic)+2 {
		return h, 0, fmt.Errorf("%w: segment header", ErrTruncated)
	}
	if string(b[:len(magic)]) != magic {
		return h, 0, fmt.Errorf("%w: not an audit segment (bad magic)", ErrMalformed)
	}
	if b[len(magic)] != Version {
		return h, 0, fmt.Errorf("%w: segment format version %d, want %d", ErrMalformed, b[len(magic)], Version)
	}
	n := int(b[len(magic)+1])
	if n == 0 || n > maxNodeLen {
		return h, 0, fmt.Errorf("%w: node id length %d", ErrMalformed, n)
	}
	size := segmentFixedSize + n
	if len(b) < size {
		return h, 0, fmt.Errorf("%w: segment header", ErrTruncated)
	}
	p := len(magic) + 2
	h.Node = string(b[p : p+n])
	if !ValidNode(h.Node) {
		return h, 0, fmt.Errorf("%w: node id %q", ErrMalformed, h.Node)
	}
	p += n
	h.Segment = binary.BigEndian.Uint64(b[p:])
	h.FirstSeq = binary.BigEndian.Uint64(b[p+8:])
	copy(h.Prev[:], b[p+16:p+16+HashSize])
	if h.Segment == 0 || h.FirstSeq == 0 {
		return h, 0, fmt.Errorf("%w: segment or sequence number 0", ErrMalformed)
	}
	return h, size, nil
}

// ValidNode reports whether s can name a node: 1 to 64 characters from
// [A-Za-z0-9._-], not starting with a dot.
func ValidNode(s string) bool {
	if len(s) == 0 || len(s) > maxNodeLen || s[0] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Entry is one link of the chain.
type Entry struct {
	Kind    byte
	Seq     uint64
	Prev    [HashSize]byte
	Payload []byte
}

// Append appends the entry's bytes to dst.
func (e Entry) Append(dst []byte) []byte {
	dst = append(dst, e.Kind)
	dst = binary.BigEndian.AppendUint64(dst, e.Seq)
	dst = append(dst, e.Prev[:]...)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(e.Payload)))
	return append(dst, e.Payload...)
}

// Hash is the SHA-256 of the entry's bytes: the next entry's Prev.
func (e Entry) Hash() [HashSize]byte {
	return sha256.Sum256(e.Append(make([]byte, 0, entryHeaderSize+len(e.Payload))))
}

// ParseEntry parses one entry at the start of b and returns it with its
// length. The payload aliases b.
func ParseEntry(b []byte) (Entry, int, error) {
	var e Entry
	if len(b) < entryHeaderSize {
		return e, 0, fmt.Errorf("%w: entry header (%d of %d bytes)", ErrTruncated, len(b), entryHeaderSize)
	}
	e.Kind = b[0]
	if e.Kind != KindRecord && e.Kind != KindCheckpoint {
		return e, 0, fmt.Errorf("%w: entry kind 0x%02x", ErrMalformed, e.Kind)
	}
	e.Seq = binary.BigEndian.Uint64(b[1:])
	copy(e.Prev[:], b[9:9+HashSize])
	n := binary.BigEndian.Uint32(b[9+HashSize:])
	if n > maxPayload || e.Kind == KindCheckpoint && n != checkpointSize {
		return e, 0, fmt.Errorf("%w: entry payload length %d", ErrMalformed, n)
	}
	if e.Seq == 0 {
		return e, 0, fmt.Errorf("%w: sequence number 0", ErrMalformed)
	}
	if len(b) < entryHeaderSize+int(n) {
		return e, 0, fmt.Errorf("%w: entry payload (%d of %d bytes)", ErrTruncated, len(b)-entryHeaderSize, n)
	}
	e.Payload = b[entryHeaderSize : entryHeaderSize+int(n)]
	return e, entryHeaderSize + int(n), nil
}

// Checkpoint is the payload of a KindCheckpoint entry: a signature of the
// chain head (the checkpoint entry's Prev) by the node's signing key.
type Checkpoint struct {
	// Time is when the checkpoint was written, in Unix nanoseconds.
	Time int64
	// PublicKey is the node's Ed25519 public key.
	PublicKey ed25519.PublicKey
	// Signature signs SignedMessage.
	Signature []byte
}

// Marshal returns the checkpoint payload.
func (c Checkpoint) Marshal() []byte {
	b := make([]byte, 0, checkpointSize)
	b = binary.BigEndian.AppendUint64(b, uint64(c.Time))
	b = append(b, c.PublicKey...)
	return append(b, c.Signature...)
}

// ParseCheckpoint parses a checkpoint payload.
func ParseCheckpoint(p []byte) (Checkpoint, error) {
	if len(p) != checkpointSize {
		return Checkpoint{}, fmt.Errorf("%w: checkpoint of %d bytes", ErrMalformed, len(p))
	}
	return Checkpoint{
		Time:      int64(binary.BigEndian.Uint64(p)),
		PublicKey: ed25519.PublicKey(p[8 : 8+ed25519.PublicKeySize]),
		Signature: p[8+ed25519.PublicKeySize:],
	}, nil
}

// SignedMessage is what a checkpoint signs: the context string, a zero
// byte, the node id's length and bytes, the checkpoint entry's sequence
// number and Prev (the chain head), the time and the public key.
func SignedMessage(node string, seq uint64, head [HashSize]byte, t int64, pub ed25519.PublicKey) []byte {
	b := make([]byte, 0, len(checkpointContext)+2+len(node)+8+HashSize+8+len(pub))
	b = append(b, checkpointContext...)
	b = append(b, 0, byte(len(node)))
	b = append(b, node...)
	b = binary.BigEndian.AppendUint64(b, seq)
	b = append(b, head[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(t))
	return append(b, pub...)
}

// segmentName is the file name of segment n.
func segmentName(n uint64) string {
	return fmt.Sprintf("%s%020d%s", segmentFilePrefix, n, segmentFileSuffix)
}
