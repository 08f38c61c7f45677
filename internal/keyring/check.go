package keyring

import (
	"crypto/subtle"
	"encoding/binary"
	"errors"
)

// checkLabel is the derive label of the root key check value. It is
// expanded from each root key's own key-derivation key, never from the
// keyring's derivation key, so that it identifies the root key.
const checkLabel = "kmsd root key check v1"

// checkV1 is the first byte of a check value of format version 1 (root key
// generation 1), checkV2 that of format version 2 (a later generation).
const (
	checkV1 byte = 0x01
	checkV2 byte = 0x02
)

// checkDigestSize is the length of a root key's check digest.
const checkDigestSize = 32

// CheckValueSize is the length in bytes of a check value of format
// version 1; CheckValueSizeV2 of format version 2.
const (
	CheckValueSize   = 1 + checkDigestSize
	CheckValueSizeV2 = 1 + genSize + checkDigestSize
)

// ErrCheckMismatch is returned by [Keyring.VerifyCheckValue] when a stored
// check value was made by another root key.
var ErrCheckMismatch = errors.New("keyring: the root key does not match the stored check value")

// ErrCheckMalformed is returned by [Keyring.VerifyCheckValue] for a stored
// value that is not a check value of a known format version.
var ErrCheckMalformed = errors.New("keyring: malformed root key check value")

// CheckValue returns the key-check value of the keyring's current root key
// generation. For generation 1 it is the format version 0x01 followed by
// the root key's check digest, HKDF-Expand-SHA256(the root key's own
// key-derivation key, "kmsd root key check v1", 32); for a later
// generation n it is 0x02, n as four big-endian bytes, and the digest. It
// is stored beside the data the root key protects, so that a start with
// another root key is refused before anything is sealed under it. The
// digest is an HKDF output used for nothing else, so it reveals nothing
// about the root key or the other subkeys.
func (k *Keyring) CheckValue() []byte {
	n := k.Current()
	d := k.gens[n].check
	if n == 1 {
		return append([]byte{checkV1}, d...)
	}
	out := binary.BigEndian.AppendUint32([]byte{checkV2}, n)
	return append(out, d...)
}

// CheckDigest returns the check digest of generation n's root key, or nil
// when the keyring does not hold n.
func (k *Keyring) CheckDigest(n uint32) []byte {
	g, ok := k.gens[n]
	if !ok {
		return nil
	}
	return append([]byte(nil), g.check...)
}

// RootCheckDigest returns the check digest of one root key of
// [RootKeySize] bytes without making a keyring of it, so that a root key
// can be matched with the generation it is before its number is known.
func RootCheckDigest(root []byte) ([]byte, error) {
	g, err := newGeneration(root)
	if err != nil {
		return nil, err
	}
	clear(g.kdk)
	return g.check, nil
}

// VerifyCheckValue reports whether stored is the check value of a root key
// generation the keyring holds (the one it names), comparing in constant
// time. It returns [ErrCheckMalformed] for a value of the wrong length or
// an unknown format version and [ErrCheckMismatch] when the root keys
// differ or the keyring does not hold the generation.
func (k *Keyring) VerifyCheckValue(stored []byte) error {
	var n uint32
	var digest []byte
	switch {
	case len(stored) == CheckValueSize && stored[0] == checkV1:
		n, digest = 1, stored[1:]
	case len(stored) == CheckValueSizeV2 && stored[0] == checkV2:
		n, digest = binary.BigEndian.Uint32(stored[1:1+genSize]), stored[1+genSize:]
		if n < 2 {
			return ErrCheckMalformed
		}
	default:
		return ErrCheckMalformed
	}
	g, ok := k.gens[n]
	if !ok || subtle.ConstantTimeCompare(g.check, digest) != 1 {
		return ErrCheckMismatch
	}
	return nil
}
