package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync/atomic"
)

// RootKeySize is the length in bytes of a root key.
const RootKeySize = 32

// formatV1 is the first byte of a blob sealed by root key generation 1;
// formatV2 that of a blob sealed by a later generation, whose number
// follows it.
const (
	formatV1 byte = 0x01
	formatV2 byte = 0x02
)

// sealContext is the fixed context string at the start of the additional
// data of format version 1, sealContextV2 that of format version 2.
const (
	sealContext   = "kmsd keyring seal v1"
	sealContextV2 = "kmsd keyring seal v2"
)

// HKDF info labels for the two subkeys derived from the root key. They are
// distinct from each other and from sealContext; changing either makes every
// existing sealed blob or derived key unusable.
const (
	sealKeyLabel   = "kmsd keyring seal key v1"
	deriveKeyLabel = "kmsd keyring derive key v1"
)

const (
	nonceSize = 12
	tagSize   = 16
	genSize   = 4
	// overhead is the number of bytes Seal adds to a plaintext in format
	// version 1, overheadV2 in format version 2.
	overhead   = 1 + nonceSize + tagSize
	overheadV2 = 1 + genSize + nonceSize + tagSize
)

// ErrOpen is returned by [Keyring.Open] for every failure: a blob that is too
// short, an unknown format version, a generation the keyring does not hold,
// a wrong root key, a wrong binding or a modified blob. The causes are
// deliberately not distinguished; [GenerationOf] tells which generation a
// blob names.
var ErrOpen = errors.New("keyring: cannot open sealed blob")

// Binding is what a sealed blob is bound to. A blob opens only with exactly
// the Binding it was sealed with; a blob copied onto another purpose,
// project, key or version fails to open.
//
// Purpose names the kind of secret, e.g. "key-material" or
// "access-key-secret", and must not be empty. For key material, ProjectID
// and KeyID name the KMS key and Version its key version. For an access
// key's secret, ProjectID is "" (access keys belong to a user, not a
// project), KeyID holds the access key (AK) and Version is 0 unless the
// caller defines otherwise.
type Binding struct {
	Purpose   string
	ProjectID string
	KeyID     string
	Version   int
}

// Generation is one root key with its generation number. Generations are
// numbered from 1 (the root key a data directory was initialised with);
// each root key rotation adds the next number.
type Generation struct {
	Number uint32
	Root   []byte
}

// generation is what a Keyring keeps of one root key: its sealing AEAD and
// its check digest.
type generation struct {
	aead  cipher.AEAD // AES-256-GCM under the generation's sealing key
	check []byte      // Derive-equivalent check digest of this root key
	kdk   []byte      // this root key's own key-derivation key
}

// Keyring seals and opens secrets under keys derived from root keys. It
// does not keep the root keys: it derives from each a sealing key and a
// key-derivation key and keeps only those.
//
// A Keyring holds one or more root key generations. [Keyring.Seal] seals
// under the current one; [Keyring.Open] opens a blob of any generation it
// holds. [Keyring.Derive] uses one derivation key that does not change with
// the generation (see the package documentation).
//
// A Keyring is safe for concurrent use. SetDerivationKey and
// OpenDerivationKey must be called before the Keyring is shared.
type Keyring struct {
	gens    map[uint32]*generation // never changed after construction
	current atomic.Uint32
	kdk     []byte // key-derivation key for Derive; never exposed
}

// New returns a Keyring holding one root key, generation 1, of exactly
// [RootKeySize] bytes. New does not retain root; the caller may clear it
// once New returns.
func New(root []byte) (*Keyring, error) {
	return NewGenerations(1, Generation{Number: 1, Root: root})
}

// NewGenerations returns a Keyring holding the given root key generations,
// sealing under current, which must be one of them. Numbers must be at
// least 1 and distinct. The derivation key of [Keyring.Derive] is that of
// the current generation's root key until [Keyring.SetDerivationKey] or
// [Keyring.OpenDerivationKey] installs another. The roots are not
// retained.
func NewGenerations(current uint32, gens ...Generation) (*Keyring, error) {
	k := &Keyring{gens: make(map[uint32]*generation, len(gens))}
	for _, g := range gens {
		if g.Number == 0 {
			return nil, errors.New("keyring: root key generation 0: generations start at 1")
		}
		if _, dup := k.gens[g.Number]; dup {
			return nil, fmt.Errorf("keyring: root key generation %d given twice", g.Number)
		}
		gen, err := newGeneration(g.Root)
		if err != nil {
			return nil, err
		}
		k.gens[g.Number] = gen
	}
	cur, ok := k.gens[current]
	if !ok {
		return nil, fmt.Errorf("keyring: current root key generation %d is not among those given", current)
	}
	k.current.Store(current)
	k.kdk = cur.kdk
	return k, nil
}

func newGeneration(root []byte) (*generation, error) {
	if len(root) != RootKeySize {
		return nil, fmt.Errorf("keyring: root key is %d bytes, want %d", len(root), RootKeySize)
	}
	sealKey, err := hkdf.Key(sha256.New, root, nil, sealKeyLabel, 32)
	if err != nil {
		return nil, fmt.Errorf("keyring: deriving sealing key: %w", err)
	}
	defer clear(sealKey)
	kdk, err := hkdf.Key(sha256.New, root, nil, deriveKeyLabel, 32)
	if err != nil {
		return nil, fmt.Errorf("keyring: deriving key-derivation key: %w", err)
	}
	block, err := aes.NewCipher(sealKey)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	check, err := hkdf.Expand(sha256.New, kdk, checkLabel, checkDigestSize)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	return &generation{aead: aead, check: check, kdk: kdk}, nil
}

// Current returns the generation that Seal uses.
func (k *Keyring) Current() uint32 { return k.current.Load() }

// SetCurrent makes generation n the one Seal uses. It fails when the
// keyring does not hold n. Seals already under way finish with the
// generation they started with.
func (k *Keyring) SetCurrent(n uint32) error {
	if _, ok := k.gens[n]; !ok {
		return fmt.Errorf("keyring: root key generation %d is not configured", n)
	}
	k.current.Store(n)
	return nil
}

// Generations returns the numbers of the generations the keyring holds,
// in increasing order.
func (k *Keyring) Generations() []uint32 {
	out := make([]uint32, 0, len(k.gens))
	for n := range k.gens {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// Has reports whether the keyring holds generation n.
func (k *Keyring) Has(n uint32) bool {
	_, ok := k.gens[n]
	return ok
}

// GenerationOf returns the root key generation that sealed a blob, read
// from its header: 1 for format version 1, the stored number for format
// version 2. It returns [ErrOpen] for a blob too short to be sealed or of
// an unknown format version. It authenticates nothing.
func GenerationOf(sealed []byte) (uint32, error) {
	switch {
	case len(sealed) >= overhead && sealed[0] == formatV1:
		return 1, nil
	case len(sealed) >= overheadV2 && sealed[0] == formatV2:
		n := binary.BigEndian.Uint32(sealed[1 : 1+genSize])
		if n < 2 {
			return 0, ErrOpen // generation 1 seals format 1 only
		}
		return n, nil
	}
	return 0, ErrOpen
}

// Seal encrypts plaintext with AES-256-GCM under a fresh random nonce and
// binds it to b, under the current generation: format version 1 when that
// is generation 1, format version 2 otherwise. The result is a new slice
// laid out as described in the package documentation; plaintext is neither
// modified nor retained.
//
// Seal returns an error only for an unusable Binding: an empty Purpose or a
// string field longer than 2³²−1 bytes.
func (k *Keyring) Seal(b Binding, plaintext []byte) ([]byte, error) {
	return k.SealGeneration(k.Current(), b, plaintext)
}

// SealGeneration is Seal under generation n, which the keyring must hold.
// Only the root key rotation and node-local files (sealed under the newest
// generation a node holds, which no other node opens) choose n; everything
// else uses Seal.
func (k *Keyring) SealGeneration(n uint32, b Binding, plaintext []byte) ([]byte, error) {
	var nonce [nonceSize]byte
	rand.Read(nonce[:]) // Never fails; see crypto/rand.Read.
	return k.sealWithNonce(n, b, nonce[:], plaintext)
}

// sealWithNonce is SealGeneration with a caller-chosen nonce, for
// known-answer tests. Production code must use Seal.
func (k *Keyring) sealWithNonce(n uint32, b Binding, nonce, plaintext []byte) ([]byte, error) {
	g, ok := k.gens[n]
	if !ok {
		return nil, fmt.Errorf("keyring: seal: root key generation %d is not configured", n)
	}
	if b.Purpose == "" {
		return nil, errors.New("keyring: seal: binding has no purpose")
	}
	if len(nonce) != nonceSize {
		return nil, fmt.Errorf("keyring: seal: nonce is %d bytes, want %d", len(nonce), nonceSize)
	}
	ad, err := additionalData(n, b)
	if err != nil {
		return nil, fmt.Errorf("keyring: seal: %w", err)
	}
	var out []byte
	if n == 1 {
		out = make([]byte, 0, overhead+len(plaintext))
		out = append(out, formatV1)
	} else {
		out = make([]byte, 0, overheadV2+len(plaintext))
		out = append(out, formatV2)
		out = binary.BigEndian.AppendUint32(out, n)
	}
	out = append(out, nonce...)
	return g.aead.Seal(out, nonce, plaintext, ad), nil
}

// Open authenticates and decrypts a blob produced by [Keyring.Seal] with the
// same root key and Binding, whichever generation the keyring holds sealed
// it. Every failure returns [ErrOpen]; Open never panics, whatever sealed
// holds. The returned plaintext is a new slice that does not alias sealed.
func (k *Keyring) Open(b Binding, sealed []byte) ([]byte, error) {
	n, err := GenerationOf(sealed)
	if err != nil || b.Purpose == "" {
		return nil, ErrOpen
	}
	g, ok := k.gens[n]
	if !ok {
		return nil, ErrOpen
	}
	ad, err := additionalData(n, b)
	if err != nil {
		return nil, ErrOpen
	}
	hdr := 1
	if n != 1 {
		hdr += genSize
	}
	nonce, ct := sealed[hdr:hdr+nonceSize], sealed[hdr+nonceSize:]
	pt, err := g.aead.Open(nil, nonce, ct, ad)
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}

// Reseal opens sealed with the generation that sealed it and seals the
// plaintext again under generation n, for the same binding. A blob already
// of generation n is returned as it is.
func (k *Keyring) Reseal(n uint32, b Binding, sealed []byte) ([]byte, error) {
	if g, err := GenerationOf(sealed); err == nil && g == n {
		return sealed, nil
	}
	pt, err := k.Open(b, sealed)
	if err != nil {
		return nil, err
	}
	defer clear(pt)
	return k.SealGeneration(n, b, pt)
}

// additionalData encodes the GCM additional data of a blob sealed by
// generation gen: the context string of its format version, the format
// version, for format version 2 the generation, and every field of b, each
// string prefixed by its length, so that no two distinct inputs encode
// alike. The layout is documented in the package documentation.
func additionalData(gen uint32, b Binding) ([]byte, error) {
	fields := []string{b.Purpose, b.ProjectID, b.KeyID}
	n := 4 + len(sealContextV2) + 1 + genSize + 8
	for _, f := range fields {
		if uint64(len(f)) > math.MaxUint32 {
			return nil, errors.New("binding field too long")
		}
		n += 4 + len(f)
	}
	ad := make([]byte, 0, n)
	if gen == 1 {
		ad = appendString(ad, sealContext)
		ad = append(ad, formatV1)
	} else {
		ad = appendString(ad, sealContextV2)
		ad = append(ad, formatV2)
		ad = binary.BigEndian.AppendUint32(ad, gen)
	}
	for _, f := range fields {
		ad = appendString(ad, f)
	}
	return binary.BigEndian.AppendUint64(ad, uint64(int64(b.Version))), nil
}

func appendString(dst []byte, s string) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(s)))
	return append(dst, s...)
}

// Derive returns an n-byte subkey for label: HKDF-Expand with SHA-256 of the
// keyring's key-derivation key, with label as the info. The result is the
// same for the same derivation key and label, and keys for different labels
// are independent of each other and of the sealing keys. The derivation key
// does not change when the root key does (see the package documentation).
// Labels should name their use and carry a version, e.g. "kmsd token
// signing v1".
//
// Derive panics if n is not between 1 and 8160 (255 SHA-256 blocks); that is
// a programming error.
func (k *Keyring) Derive(label string, n int) []byte {
	if n < 1 || n > 255*sha256.Size {
		panic(fmt.Sprintf("keyring: Derive length %d out of range [1, %d]", n, 255*sha256.Size))
	}
	key, err := hkdf.Expand(sha256.New, k.kdk, label, n)
	if err != nil {
		panic("keyring: " + err.Error())
	}
	return key
}

// derivationKeySize is the length of the derivation key.
const derivationKeySize = 32

// SealDerivationKey returns the keyring's derivation key sealed under the
// current generation and bound to b, for the caller to store. Only the
// sealed form ever leaves the keyring.
func (k *Keyring) SealDerivationKey(b Binding) ([]byte, error) {
	return k.Seal(b, k.kdk)
}

// OpenDerivationKey opens a derivation key sealed by
// [Keyring.SealDerivationKey] (under any generation the keyring holds) and
// makes it the key of [Keyring.Derive]. It must be called before the
// Keyring is shared.
func (k *Keyring) OpenDerivationKey(b Binding, sealed []byte) error {
	kdk, err := k.Open(b, sealed)
	if err != nil {
		return err
	}
	if len(kdk) != derivationKeySize {
		clear(kdk)
		return fmt.Errorf("keyring: sealed derivation key is %d bytes, want %d", len(kdk), derivationKeySize)
	}
	k.kdk = kdk
	return nil
}

// UseGenerationDerivationKey makes the key-derivation key of generation n's
// own root key the key of [Keyring.Derive]: the derivation key of a data
// directory that stored none yet, whose values were derived from its
// first root key. It must be called before the Keyring is shared.
func (k *Keyring) UseGenerationDerivationKey(n uint32) error {
	g, ok := k.gens[n]
	if !ok {
		return fmt.Errorf("keyring: root key generation %d is not configured", n)
	}
	k.kdk = g.kdk
	return nil
}
