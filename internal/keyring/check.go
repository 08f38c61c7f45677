package keyring

import (
	"crypto/subtle"
	"errors"
)

// checkLabel is the derive label of the root key check value.
const checkLabel = "kmsd root key check v1"

// checkV1 is the first byte of a check value of format version 1.
const checkV1 byte = 0x01

// CheckValueSize is the length in bytes of a check value.
const CheckValueSize = 1 + 32

// ErrCheckMismatch is returned by [Keyring.VerifyCheckValue] when a stored
// check value was made by another root key.
var ErrCheckMismatch = errors.New("keyring: the root key does not match the stored check value")

// ErrCheckMalformed is returned by [Keyring.VerifyCheckValue] for a stored
// value that is not a check value of a known format version.
var ErrCheckMalformed = errors.New("keyring: malformed root key check value")

// CheckValue returns the key-check value of the keyring's root key: the
// format version 0x01 followed by [Keyring.Derive]("kmsd root key check v1",
// 32). It is stored beside the data the root key protects, so that a start
// with another root key is refused before anything is sealed under it. The
// value is an HKDF output used for nothing else, so it reveals nothing about
// the root key or the other subkeys.
func (k *Keyring) CheckValue() []byte {
	return append([]byte{checkV1}, k.Derive(checkLabel, 32)...)
}

// VerifyCheckValue reports whether stored is the check value of the
// keyring's root key, comparing in constant time. It returns
// [ErrCheckMalformed] for a value of the wrong length or an unknown format
// version and [ErrCheckMismatch] when the root keys differ.
func (k *Keyring) VerifyCheckValue(stored []byte) error {
	if len(stored) != CheckValueSize || stored[0] != checkV1 {
		return ErrCheckMalformed
	}
	if subtle.ConstantTimeCompare(k.CheckValue(), stored) != 1 {
		return ErrCheckMismatch
	}
	return nil
}
