package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"hash"
	"math/big"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
)

// deriveScalar derives the private scalar of the asymmetric algorithms from
// (AK, SK) as the SDK does (reference auth.md §3.6): for counter 0..255,
// c = HMAC(key=SK, 00000001 ‖ alg ‖ 00 ‖ AK ‖ counter ‖ 00000100); the first
// c ≤ n−2 gives d = c+1, as a 32-byte big-endian integer.
func deriveScalar(alg string, newHash func() hash.Hash, n *big.Int, ak string, sk []byte) ([]byte, error) {
	nMinus2 := new(big.Int).Sub(n, big.NewInt(2))
	data := make([]byte, 0, 4+len(alg)+1+len(ak)+1+4)
	for counter := 0; counter <= 0xff; counter++ {
		data = data[:0]
		data = append(data, 0, 0, 0, 1)
		data = append(data, alg...)
		data = append(data, 0)
		data = append(data, ak...)
		data = append(data, byte(counter))
		data = append(data, 0, 0, 1, 0)
		m := hmac.New(newHash, sk)
		m.Write(data)
		c := new(big.Int).SetBytes(m.Sum(nil))
		if c.Cmp(nMinus2) <= 0 {
			return c.Add(c, big.NewInt(1)).FillBytes(make([]byte, (n.BitLen()+7)/8)), nil
		}
	}
	return nil, errors.New("auth: no private scalar in 256 tries")
}

func ecdsaKey(ak string, sk []byte) (*ecdsa.PrivateKey, error) {
	c := elliptic.P256()
	d, err := deriveScalar(AlgECDSAP256SHA256, sha256.New, c.Params().N, ak, sk)
	if err != nil {
		return nil, err
	}
	return ecdsa.ParseRawPrivateKey(c, d)
}

func sm2Key(ak string, sk []byte) (*sm2.PrivateKey, error) {
	d, err := deriveScalar(AlgSM2SM3, sm3.New, sm2.P256().Params().N, ak, sk)
	if err != nil {
		return nil, err
	}
	return sm2.NewPrivateKey(d)
}
