package kms

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/subtle"
	"fmt"
	"math/big"

	"github.com/emmansun/gmsm/sm2"
)

// rawMaterialSizes is the material size in bytes of the symmetric and
// HMAC specs (their material is raw bytes, see specs).
var rawMaterialSizes = map[string]int{
	"AES_256": 32, "SM4": 16,
	"HMAC_256": 32, "HMAC_384": 48, "HMAC_512": 64, "HMAC_SM3": 32,
}

// rsaBits and ecCurves are what the asymmetric specs' material must be.
var (
	rsaBits  = map[string]int{"RSA_2048": 2048, "RSA_3072": 3072, "RSA_4096": 4096}
	ecCurves = map[string]elliptic.Curve{"EC_P256": elliptic.P256(), "EC_P384": elliptic.P384()}
)

// checkMaterial checks that m is material of spec specName in the
// encoding of specs. It returns ErrInvalidParameter otherwise; the error
// never contains the material.
func checkMaterial(specName string, m []byte) error {
	if _, ok := specs[specName]; !ok {
		return fmt.Errorf("%w: %q", ErrInvalidKeySpec, specName)
	}
	if n, ok := rawMaterialSizes[specName]; ok {
		if len(m) != n {
			return fmt.Errorf("%w: %s material of %d bytes, want %d", ErrInvalidParameter, specName, len(m), n)
		}
		return nil
	}
	if specName == "SECP256K1" {
		d := new(big.Int).SetBytes(m)
		if len(m) != 32 || d.Sign() == 0 || d.Cmp(secp256k1N) >= 0 {
			return fmt.Errorf("%w: SECP256K1 material must be a 32-byte scalar in [1, n-1]", ErrInvalidParameter)
		}
		return nil
	}
	priv, err := privateKey(specName, m)
	if err != nil {
		return fmt.Errorf("%w: %s material is not a PKCS#8 private key", ErrInvalidParameter, specName)
	}
	ok := false
	switch k := priv.(type) {
	case *rsa.PrivateKey:
		ok = k.N.BitLen() == rsaBits[specName]
	case *sm2.PrivateKey:
		ok = specName == "SM2"
	case *ecdsa.PrivateKey:
		ok = ecCurves[specName] != nil && k.Curve == ecCurves[specName]
	}
	if !ok {
		return fmt.Errorf("%w: the private key is not a %s key", ErrInvalidParameter, specName)
	}
	return nil
}

// SeedMaterial returns a copy of the material of version 1 of a key,
// and how many versions the key has, for `kmsd seed export
// --with-material`. It is not reachable through the wire API; the caller
// owns and must clear the copy.
func (s *Service) SeedMaterial(ctx context.Context, projectID, keyID string) (material []byte, versions int, err error) {
	h, err := s.loadHandle(ctx, projectID, keyID)
	if err != nil {
		return nil, 0, err
	}
	m, ok := h.material[1]
	if !ok {
		return nil, len(h.material), nil
	}
	return append([]byte(nil), m...), len(h.material), nil
}

// SameMaterial reports whether version 1 of a key holds material m, in
// constant time.
func (s *Service) SameMaterial(ctx context.Context, projectID, keyID string, m []byte) (bool, error) {
	h, err := s.loadHandle(ctx, projectID, keyID)
	if err != nil {
		return false, err
	}
	v, ok := h.material[1]
	return ok && subtle.ConstantTimeCompare(v, m) == 1, nil
}
