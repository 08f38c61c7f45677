package capsule

import (
	"encoding/binary"
	"errors"
)

// Format constants (see the package documentation).
const (
	Version1 = 0x01

	BindPolicyID = 0x01
	BindInline   = 0x02

	// policyIDLen is the length of a policy id binding.
	policyIDLen = 36
	// MaxBinding bounds an inline document.
	MaxBinding = 8192
	// MinSealed is the shortest sealed data key: a ciphertext blob's 104
	// bytes of overhead and one byte of data key.
	MinSealed = 105

	headerFixed = 4
)

// aadLabel starts the additional data of the sealed data key.
const aadLabel = "kmsd datakey capsule v1"

// ErrMalformed is a capsule that does not parse.
var ErrMalformed = errors.New("capsule: malformed")

// Capsule is a parsed capsule. Binding and Sealed alias the parsed bytes.
type Capsule struct {
	Kind    byte
	Binding []byte
	Sealed  []byte
}

// Header returns bytes 0 to 3+n of the marshalled capsule.
func (c Capsule) Header() []byte {
	h := make([]byte, headerFixed, headerFixed+len(c.Binding))
	h[0], h[1] = Version1, c.Kind
	binary.BigEndian.PutUint16(h[2:4], uint16(len(c.Binding)))
	return append(h, c.Binding...)
}

// AAD returns the additional data the sealed data key is bound to.
func (c Capsule) AAD() []byte { return append([]byte(aadLabel), c.Header()...) }

// Valid reports whether c would marshal into a capsule that Parse accepts.
func (c Capsule) Valid() bool {
	switch c.Kind {
	case BindPolicyID:
		if !lowerUUID(c.Binding) {
			return false
		}
	case BindInline:
		if len(c.Binding) < 2 || len(c.Binding) > MaxBinding {
			return false
		}
	default:
		return false
	}
	return len(c.Sealed) >= MinSealed
}

// Marshal returns the capsule's bytes; it fails with ErrMalformed when c
// is not Valid.
func (c Capsule) Marshal() ([]byte, error) {
	if !c.Valid() {
		return nil, ErrMalformed
	}
	return append(c.Header(), c.Sealed...), nil
}

// Parse parses a capsule; see the package documentation for what it
// rejects.
func Parse(b []byte) (Capsule, error) {
	if len(b) < headerFixed || b[0] != Version1 {
		return Capsule{}, ErrMalformed
	}
	n := int(binary.BigEndian.Uint16(b[2:4]))
	if len(b) < headerFixed+n {
		return Capsule{}, ErrMalformed
	}
	c := Capsule{Kind: b[1], Binding: b[headerFixed : headerFixed+n], Sealed: b[headerFixed+n:]}
	if !c.Valid() {
		return Capsule{}, ErrMalformed
	}
	return c, nil
}

// lowerUUID reports whether b is a lower-case UUID in ASCII.
func lowerUUID(b []byte) bool {
	if len(b) != policyIDLen {
		return false
	}
	for i, ch := range b {
		switch i {
		case 8, 13, 18, 23:
			if ch != '-' {
				return false
			}
		default:
			if !('0' <= ch && ch <= '9' || 'a' <= ch && ch <= 'f') {
				return false
			}
		}
	}
	return true
}
