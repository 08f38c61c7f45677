package envelope

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/emmansun/gmsm/sm4"
)

// Errors of the format. Every error of a [Reader] matches one of them.
var (
	// ErrFormat: the input is not a version-1 envelope header.
	ErrFormat = errors.New("envelope: not a kmsd envelope (or an unknown version)")
	// ErrAuth: the payload was truncated, reordered or altered, or the
	// data key is not the one it was sealed with.
	ErrAuth = errors.New("envelope: the file is truncated or was tampered with")
)

// Cipher is the payload cipher of an envelope.
type Cipher byte

// The ciphers of format version 1.
const (
	AES256GCM Cipher = 0x01
	SM4GCM    Cipher = 0x02
)

func (c Cipher) String() string {
	switch c {
	case AES256GCM:
		return "AES_256_GCM"
	case SM4GCM:
		return "SM4_GCM"
	}
	return fmt.Sprintf("Cipher(%#x)", byte(c))
}

// ParseCipher returns the cipher named name ("AES_256_GCM" or "SM4_GCM").
func ParseCipher(name string) (Cipher, error) {
	for _, c := range []Cipher{AES256GCM, SM4GCM} {
		if c.String() == name {
			return c, nil
		}
	}
	return 0, fmt.Errorf("envelope: unknown cipher %q (AES_256_GCM or SM4_GCM)", name)
}

const (
	magic   = "KMSDENV"
	version = 0x01
	// DataKeySize is the size of the data key of version 1, in bytes.
	DataKeySize = 32
	// DefaultChunkShift is the writer's chunk-size exponent: 64 KiB.
	DefaultChunkShift = 16
	minChunkShift     = 10
	maxChunkShift     = 24
	saltSize          = 16
	maxKeyID          = 128
	maxWrappedKey     = 4096
	tagSize           = 16
	nonceSize         = 12
)

// Header is the header of an envelope.
type Header struct {
	Cipher Cipher
	// ChunkShift is the chunk-size exponent (chunks of 1<<ChunkShift bytes).
	ChunkShift uint8
	Salt       [saltSize]byte
	// KeyID is the id of the CMK that wrapped the data key.
	KeyID string
	// WrappedKey is the data key as the KMS wrapped it.
	WrappedKey []byte
}

func (h *Header) check() error {
	if h.Cipher != AES256GCM && h.Cipher != SM4GCM {
		return fmt.Errorf("%w: unknown cipher %#x", ErrFormat, byte(h.Cipher))
	}
	if h.ChunkShift < minChunkShift || h.ChunkShift > maxChunkShift {
		return fmt.Errorf("%w: chunk-size exponent %d out of range", ErrFormat, h.ChunkShift)
	}
	if len(h.KeyID) == 0 || len(h.KeyID) > maxKeyID {
		return fmt.Errorf("%w: key id of %d bytes", ErrFormat, len(h.KeyID))
	}
	for i := 0; i < len(h.KeyID); i++ {
		if c := h.KeyID[i]; c <= ' ' || c > '~' {
			return fmt.Errorf("%w: key id is not printable ASCII", ErrFormat)
		}
	}
	if len(h.WrappedKey) == 0 || len(h.WrappedKey) > maxWrappedKey {
		return fmt.Errorf("%w: wrapped key of %d bytes", ErrFormat, len(h.WrappedKey))
	}
	return nil
}

// MarshalBinary encodes the header (see the package documentation).
func (h *Header) MarshalBinary() ([]byte, error) {
	if err := h.check(); err != nil {
		return nil, err
	}
	b := make([]byte, 0, 29+len(h.KeyID)+len(h.WrappedKey))
	b = append(b, magic...)
	b = append(b, version, byte(h.Cipher), h.ChunkShift)
	b = append(b, h.Salt[:]...)
	b = append(b, byte(len(h.KeyID)))
	b = append(b, h.KeyID...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(h.WrappedKey)))
	return append(b, h.WrappedKey...), nil
}

// ReadHeader reads a header from r and returns it with its bytes. It
// reads exactly the header's bytes.
func ReadHeader(r io.Reader) (*Header, []byte, error) {
	fixed := make([]byte, 27)
	if _, err := io.ReadFull(r, fixed); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	if string(fixed[:7]) != magic {
		return nil, nil, fmt.Errorf("%w: bad magic", ErrFormat)
	}
	if fixed[7] != version {
		return nil, nil, fmt.Errorf("%w: version %d (this kmsd reads version %d)", ErrFormat, fixed[7], version)
	}
	h := &Header{Cipher: Cipher(fixed[8]), ChunkShift: fixed[9]}
	copy(h.Salt[:], fixed[10:26])
	n := int(fixed[26])
	rest := make([]byte, n+2)
	if _, err := io.ReadFull(r, rest); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	h.KeyID = string(rest[:n])
	m := int(binary.BigEndian.Uint16(rest[n:]))
	if m == 0 || m > maxWrappedKey {
		return nil, nil, fmt.Errorf("%w: wrapped key of %d bytes", ErrFormat, m)
	}
	h.WrappedKey = make([]byte, m)
	if _, err := io.ReadFull(r, h.WrappedKey); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	if err := h.check(); err != nil {
		return nil, nil, err
	}
	raw := append(append(fixed, rest...), h.WrappedKey...)
	return h, raw, nil
}

// newAEAD derives the payload key of h from dataKey.
func newAEAD(h *Header, dataKey []byte) (cipher.AEAD, error) {
	if len(dataKey) != DataKeySize {
		return nil, fmt.Errorf("envelope: data key of %d bytes, want %d", len(dataKey), DataKeySize)
	}
	size := 32
	if h.Cipher == SM4GCM {
		size = 16
	}
	key, err := hkdf.Key(sha256.New, dataKey, h.Salt[:], "kmsd envelope v1 "+h.Cipher.String(), size)
	if err != nil {
		return nil, err
	}
	defer clear(key)
	var b cipher.Block
	if h.Cipher == SM4GCM {
		b, err = sm4.NewCipher(key)
	} else {
		b, err = aes.NewCipher(key)
	}
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

func nonce(dst *[nonceSize]byte, i uint64, last bool) {
	clear(dst[:])
	binary.BigEndian.PutUint64(dst[3:11], i)
	if last {
		dst[11] = 1
	}
}

// Writer encrypts a stream into an envelope. Close writes the final chunk
// and must be called.
type Writer struct {
	w      io.Writer
	aead   cipher.AEAD
	ad     [sha256.Size]byte
	buf    []byte // plaintext of the chunk being filled
	out    []byte
	n      [nonceSize]byte
	i      uint64
	closed bool
	err    error
}

// NewWriter writes the header h to w and returns a Writer that seals what
// is written to it under dataKey, a fresh 32-byte data key that
// h.WrappedKey wraps. h.Salt must be random and unique; h.ChunkShift 0
// means [DefaultChunkShift].
func NewWriter(w io.Writer, h *Header, dataKey []byte) (*Writer, error) {
	if h.ChunkShift == 0 {
		h.ChunkShift = DefaultChunkShift
	}
	hb, err := h.MarshalBinary()
	if err != nil {
		return nil, err
	}
	aead, err := newAEAD(h, dataKey)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(hb); err != nil {
		return nil, err
	}
	size := 1 << h.ChunkShift
	return &Writer{w: w, aead: aead, ad: sha256.Sum256(hb), buf: make([]byte, 0, size), out: make([]byte, 0, size+tagSize)}, nil
}

// Write seals p in chunks. It writes a chunk only once the next byte is
// known to exist, so that the final chunk is always short.
func (w *Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.closed {
		return 0, errors.New("envelope: write after Close")
	}
	total := len(p)
	for len(p) > 0 {
		if len(w.buf) == cap(w.buf) {
			if err := w.flush(false); err != nil {
				return total - len(p), err
			}
		}
		n := copy(w.buf[len(w.buf):cap(w.buf)], p)
		w.buf = w.buf[:len(w.buf)+n]
		p = p[n:]
	}
	return total, nil
}

func (w *Writer) flush(last bool) error {
	nonce(&w.n, w.i, last)
	w.out = w.aead.Seal(w.out[:0], w.n[:], w.buf, w.ad[:])
	w.i++
	w.buf = w.buf[:0]
	if _, err := w.w.Write(w.out); err != nil {
		w.err = err
		return err
	}
	return nil
}

// Close writes the remaining chunks: a full chunk still held, then the
// short final one. It does not close the underlying writer.
func (w *Writer) Close() error {
	if w.err != nil || w.closed {
		return w.err
	}
	w.closed = true
	if len(w.buf) == cap(w.buf) {
		if err := w.flush(false); err != nil {
			return err
		}
	}
	return w.flush(true)
}

// Reader decrypts an envelope.
type Reader struct {
	r    io.Reader
	aead cipher.AEAD
	ad   [sha256.Size]byte
	in   []byte
	pt   []byte // authenticated plaintext not yet returned
	n    [nonceSize]byte
	i    uint64
	done bool
	err  error
}

// Unwrap returns the data key of an envelope's header, typically by
// asking the KMS to decrypt h.WrappedKey under h.KeyID.
type Unwrap func(h *Header) ([]byte, error)

// NewReader reads the header from r, obtains the data key from unwrap and
// returns a Reader of the plaintext, with the header.
func NewReader(r io.Reader, unwrap Unwrap) (*Reader, *Header, error) {
	h, hb, err := ReadHeader(r)
	if err != nil {
		return nil, nil, err
	}
	dk, err := unwrap(h)
	if err != nil {
		return nil, h, err
	}
	aead, err := newAEAD(h, dk)
	clear(dk)
	if err != nil {
		return nil, h, err
	}
	size := 1 << h.ChunkShift
	return &Reader{r: r, aead: aead, ad: sha256.Sum256(hb), in: make([]byte, size+tagSize)}, h, nil
}

// Read returns authenticated plaintext. It returns io.EOF only after the
// final chunk authenticated and nothing followed it; any other end is an
// error matching [ErrAuth].
func (r *Reader) Read(p []byte) (int, error) {
	for len(r.pt) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		if r.done {
			return 0, io.EOF
		}
		r.err = r.next()
	}
	n := copy(p, r.pt)
	r.pt = r.pt[n:]
	return n, nil
}

// next reads and opens one chunk.
func (r *Reader) next() error {
	n, err := io.ReadFull(r.r, r.in)
	switch {
	case err == nil:
		// A full chunk is never the final one.
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		if n < tagSize {
			return fmt.Errorf("%w: the final chunk is missing", ErrAuth)
		}
		r.done = true
	default:
		return err
	}
	nonce(&r.n, r.i, r.done)
	pt, err := r.aead.Open(r.in[:0], r.n[:], r.in[:n], r.ad[:])
	if err != nil {
		return fmt.Errorf("%w: chunk %d does not authenticate", ErrAuth, r.i)
	}
	r.i++
	r.pt = pt
	if r.done {
		var one [1]byte
		if m, _ := io.ReadFull(r.r, one[:]); m > 0 {
			r.pt = nil
			return fmt.Errorf("%w: bytes after the final chunk", ErrAuth)
		}
	}
	return nil
}

// Seal is the whole of a Writer over a buffer: it returns the envelope of
// plaintext. It is meant for tests and small inputs.
func Seal(h *Header, dataKey, plaintext []byte) ([]byte, error) {
	var b bytes.Buffer
	w, err := NewWriter(&b, h, dataKey)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(plaintext); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
