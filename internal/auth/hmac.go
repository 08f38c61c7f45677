package auth

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
)

func macOf(newHash func() hash.Hash, key []byte, msg string) []byte {
	m := hmac.New(newHash, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// derivedKey is the V11 signing key: the hex of HKDF-SHA256(secret=SK,
// salt=AK, info=scope), 32 bytes, used as ASCII (reference auth.md §3.6).
func derivedKey(ak string, sk []byte, scope string) ([]byte, error) {
	k, err := hkdf.Key(sha256.New, sk, []byte(ak), scope, 32)
	if err != nil {
		return nil, err
	}
	return []byte(hex.EncodeToString(k)), nil
}

// mac returns HMAC(key, msg) (RFC 2104) with alg's hash, in v.sum. It is
// the construction of crypto/hmac (TestVerifierMAC compares the two) on
// hashes the verifier keeps, because hmac.New allocates two hashes and
// both pads on every call; the pads are cleared before it returns.
func (v *verifier) mac(alg *algorithm, key, msg []byte) []byte {
	inner, outer := v.inner[alg.hashID], v.outer[alg.hashID]
	if inner == nil {
		inner, outer = alg.newHash(), alg.newHash()
		v.inner[alg.hashID], v.outer[alg.hashID] = inner, outer
	}
	pad := v.pad[:inner.BlockSize()]
	clear(pad)
	if len(key) > len(pad) {
		outer.Reset()
		outer.Write(key)
		outer.Sum(pad[:0])
	} else {
		copy(pad, key)
	}
	for i := range pad {
		pad[i] ^= 0x36
	}
	inner.Reset()
	inner.Write(pad)
	inner.Write(msg)
	for i := range pad {
		pad[i] ^= 0x36 ^ 0x5c
	}
	outer.Reset()
	outer.Write(pad)
	clear(pad)
	outer.Write(inner.Sum(v.sum[:0]))
	sum := outer.Sum(v.sum[:0])
	inner.Reset()
	outer.Reset()
	return sum
}
