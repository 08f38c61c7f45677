package kms

import (
	"crypto/ecdsa"
	"crypto/subtle"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
)

// errSM2Decrypt is every failure of sm2Decrypt; callers map it to their
// own error, so that no failure tells one cause from another.
var errSM2Decrypt = errors.New("sm2: decryption failed")

// sm2Ciphertext is the GM/T 0009 ASN.1 form of an SM2 ciphertext (C1C3C2).
type sm2Ciphertext struct {
	X, Y   *big.Int
	Hash   []byte
	Cipher []byte
}

// sm2Encrypt encrypts msg (at least one byte) to pub by GB/T 32918.4 with
// SM3 (algorithm A1–A8) and answers the GM/T 0009 ASN.1 form (C1C3C2).
//
// It is built on gmsm's key generation, curve, SM3 and KDF rather than on
// gmsm's own Encrypt: gmsm (v0.33.0 to v0.41.0) computes [k]PB into the
// recipient's point itself, so when the key stream t is all zero (one
// message byte in 256 of one-byte messages) its retry uses a corrupted
// PB and the ciphertext never decrypts.
func sm2Encrypt(random io.Reader, pub *ecdsa.PublicKey, msg []byte) ([]byte, error) {
	if len(msg) == 0 {
		return nil, errors.New("sm2: empty message")
	}
	if !sm2.P256().IsOnCurve(pub.X, pub.Y) {
		return nil, errors.New("sm2: public key is not on the curve")
	}
	for range 16 {
		// A1–A2: k and C1 = [k]G, a fresh ephemeral key pair each time.
		eph, err := sm2.GenerateKey(random)
		if err != nil {
			return nil, fmt.Errorf("sm2: %w", err)
		}
		// A4–A5: (x2, y2) = [k]PB, t = KDF(x2‖y2, klen); all zero means
		// another k.
		t, mac, ok := sm2KeyStream(pub.X, pub.Y, eph.D, len(msg))
		if !ok {
			continue
		}
		// A6: C2 = M ⊕ t. A7: C3 = SM3(x2‖M‖y2).
		subtle.XORBytes(t, t, msg)
		return asn1.Marshal(sm2Ciphertext{X: eph.PublicKey.X, Y: eph.PublicKey.Y, Hash: mac(msg), Cipher: t})
	}
	return nil, errors.New("sm2: no usable ephemeral key in 16 tries")
}

// sm2Decrypt decrypts an SM2 ciphertext (GB/T 32918.4 with SM3) in the
// GM/T 0009 ASN.1 form (first byte SEQUENCE) or the raw 04‖C1‖C3‖C2 form
// (first byte an uncompressed point).
//
// It is the standard's algorithm B1–B7 built on gmsm's curve, SM3 and KDF
// rather than gmsm's own Decrypt: gmsm (v0.33.0 to v0.41.0) checks the
// ciphertext C2 instead of the key stream t for all zeroes in step B4, so
// it refuses every valid ciphertext whose C2 happens to be zero — one in
// 256 of one-byte messages. See also sm2Encrypt.
func sm2Decrypt(k *sm2.PrivateKey, ct []byte) ([]byte, error) {
	curve := sm2.P256()
	size := (curve.Params().BitSize + 7) / 8
	var x, y *big.Int
	var c3, c2 []byte
	switch {
	case len(ct) > 0 && ct[0] == 0x30:
		var v sm2Ciphertext
		rest, err := asn1.Unmarshal(ct, &v)
		if err != nil || len(rest) != 0 {
			return nil, errSM2Decrypt
		}
		x, y, c3, c2 = v.X, v.Y, v.Hash, v.Cipher
	case len(ct) > 0 && ct[0] == 0x04:
		if len(ct) <= 1+2*size+sm3.Size {
			return nil, errSM2Decrypt
		}
		x = new(big.Int).SetBytes(ct[1 : 1+size])
		y = new(big.Int).SetBytes(ct[1+size : 1+2*size])
		c3, c2 = ct[1+2*size:1+2*size+sm3.Size], ct[1+2*size+sm3.Size:]
	default:
		return nil, errSM2Decrypt
	}
	// B1: C1 must be a point of the curve (the cofactor is 1, so B2 holds).
	if x.Sign() < 0 || y.Sign() < 0 || len(c3) != sm3.Size || len(c2) == 0 || !curve.IsOnCurve(x, y) {
		return nil, errSM2Decrypt
	}
	// B3–B4: (x2, y2) = [d]C1, t = KDF(x2‖y2, klen), which must not be
	// all zero.
	t, mac, ok := sm2KeyStream(x, y, k.D, len(c2))
	if !ok {
		return nil, errSM2Decrypt
	}
	// B5: M = C2 ⊕ t.
	subtle.XORBytes(t, t, c2)
	// B6: u = SM3(x2‖M‖y2) must equal C3.
	if subtle.ConstantTimeCompare(mac(t), c3) != 1 {
		clear(t)
		return nil, errSM2Decrypt
	}
	return t, nil
}

// sm2KeyStream computes (x2, y2) = [scalar](px, py) and the key stream
// t = KDF(x2‖y2, n) of GB/T 32918.4; ok is false when t is all zero. mac
// answers SM3(x2‖M‖y2) for a message M.
func sm2KeyStream(px, py, scalar *big.Int, n int) (t []byte, mac func(m []byte) []byte, ok bool) {
	curve := sm2.P256()
	size := (curve.Params().BitSize + 7) / 8
	x2, y2 := curve.ScalarMult(px, py, scalar.FillBytes(make([]byte, size)))
	z := make([]byte, 2*size)
	x2.FillBytes(z[:size])
	y2.FillBytes(z[size:])
	t = sm3.Kdf(z, n)
	var nonzero byte
	for _, b := range t {
		nonzero |= b
	}
	mac = func(m []byte) []byte {
		h := sm3.New()
		h.Write(z[:size])
		h.Write(m)
		h.Write(z[size:])
		return h.Sum(nil)
	}
	return t, mac, nonzero != 0
}
