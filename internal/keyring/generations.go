package keyring

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// generationsV1 is the first byte of a generation table of format
// version 1.
const generationsV1 byte = 0x01

// generationEntrySize is the size of one entry of a generation table.
const generationEntrySize = genSize + 1 + checkDigestSize

// Generation states in a generation table.
const (
	stateActive  byte = 0x01
	stateRetired byte = 0x02
)

// ErrGenerationsMalformed is returned by [ParseGenerations] for bytes that
// are not a generation table of a known format version.
var ErrGenerationsMalformed = errors.New("keyring: malformed root key generation table")

// GenerationRecord is what a data directory records of one root key
// generation: its number, its root key's check digest (see
// [RootCheckDigest]) and whether it is retired — no item sealed by it
// remains, so its root key is no longer needed.
type GenerationRecord struct {
	Number  uint32
	Retired bool
	Check   []byte
}

// MarshalGenerations encodes a generation table (format version 1, laid out
// in the package documentation). The records must have distinct numbers of
// at least 1 in increasing order and 32-byte check digests, and there must
// be at least one.
func MarshalGenerations(recs []GenerationRecord) ([]byte, error) {
	if len(recs) == 0 {
		return nil, errors.New("keyring: a generation table needs at least one generation")
	}
	out := make([]byte, 0, 1+len(recs)*generationEntrySize)
	out = append(out, generationsV1)
	var last uint32
	for _, r := range recs {
		if r.Number <= last {
			return nil, fmt.Errorf("keyring: generation table: generation %d after %d", r.Number, last)
		}
		if len(r.Check) != checkDigestSize {
			return nil, fmt.Errorf("keyring: generation table: check digest of generation %d is %d bytes", r.Number, len(r.Check))
		}
		last = r.Number
		out = binary.BigEndian.AppendUint32(out, r.Number)
		state := stateActive
		if r.Retired {
			state = stateRetired
		}
		out = append(out, state)
		out = append(out, r.Check...)
	}
	return out, nil
}

// ParseGenerations decodes a generation table made by
// [MarshalGenerations]. Anything else — an unknown format version, a
// length that is not a whole number of entries, no entry, numbers not
// strictly increasing from at least 1, an unknown state — is
// [ErrGenerationsMalformed]. The records do not alias b.
func ParseGenerations(b []byte) ([]GenerationRecord, error) {
	if len(b) < 1+generationEntrySize || b[0] != generationsV1 || (len(b)-1)%generationEntrySize != 0 {
		return nil, ErrGenerationsMalformed
	}
	var recs []GenerationRecord
	var last uint32
	for e := b[1:]; len(e) > 0; e = e[generationEntrySize:] {
		n := binary.BigEndian.Uint32(e[:genSize])
		state := e[genSize]
		if n <= last || (state != stateActive && state != stateRetired) {
			return nil, ErrGenerationsMalformed
		}
		last = n
		recs = append(recs, GenerationRecord{Number: n, Retired: state == stateRetired, Check: append([]byte(nil), e[genSize+1:generationEntrySize]...)})
	}
	return recs, nil
}
