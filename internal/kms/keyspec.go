package kms

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"math/big"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

// Key usages (reference kms-api.md §2.2).
const (
	UsageEncryptDecrypt = "ENCRYPT_DECRYPT"
	UsageSignVerify     = "SIGN_VERIFY"
	UsageMAC            = "GENERATE_VERIFY_MAC"
	// UsageKeyAgreement is the real service's usage for ECDH keys; the
	// SDK's CreateKey enum lacks it (reference kms-api.md §2.2, §5.E).
	UsageKeyAgreement = "KEY_AGREEMENT"
)

// Origins of key material.
const (
	OriginKMS      = "kms"
	OriginExternal = "external"
)

// keyClass groups key specs by what their material is.
type keyClass int

const (
	classSymmetric keyClass = iota
	classRSA
	classEC
	classSM2
	classHMAC
)

// spec describes one key_spec value: its class, the usages it allows, the
// default usage and how to generate its material.
type spec struct {
	class        keyClass
	usages       []string
	defaultUsage string
	generate     func() ([]byte, error)
}

// specs is the table of key specs kmsd can create (reference kms-api.md
// §2.2). Material encodings: symmetric and HMAC keys are raw bytes; RSA,
// NIST EC and SM2 keys are PKCS#8 DER; SECP256K1 keys are the 32-byte
// big-endian private scalar (the standard library has no such curve).
var specs = map[string]spec{
	"AES_256":   {classSymmetric, []string{UsageEncryptDecrypt}, UsageEncryptDecrypt, randomBytes(32)},
	"SM4":       {classSymmetric, []string{UsageEncryptDecrypt}, UsageEncryptDecrypt, randomBytes(16)},
	"RSA_2048":  {classRSA, []string{UsageEncryptDecrypt, UsageSignVerify}, UsageSignVerify, rsaKey(2048)},
	"RSA_3072":  {classRSA, []string{UsageEncryptDecrypt, UsageSignVerify}, UsageSignVerify, rsaKey(3072)},
	"RSA_4096":  {classRSA, []string{UsageEncryptDecrypt, UsageSignVerify}, UsageSignVerify, rsaKey(4096)},
	"EC_P256":   {classEC, []string{UsageSignVerify, UsageKeyAgreement}, UsageSignVerify, ecKey(elliptic.P256())},
	"EC_P384":   {classEC, []string{UsageSignVerify, UsageKeyAgreement}, UsageSignVerify, ecKey(elliptic.P384())},
	"SECP256K1": {classEC, []string{UsageSignVerify, UsageKeyAgreement}, UsageSignVerify, secp256k1Key},
	"SM2":       {classSM2, []string{UsageEncryptDecrypt, UsageSignVerify, UsageKeyAgreement}, UsageSignVerify, sm2Key},
	"HMAC_256":  {classHMAC, []string{UsageMAC}, UsageMAC, randomBytes(32)},
	"HMAC_384":  {classHMAC, []string{UsageMAC}, UsageMAC, randomBytes(48)},
	"HMAC_512":  {classHMAC, []string{UsageMAC}, UsageMAC, randomBytes(64)},
	"HMAC_SM3":  {classHMAC, []string{UsageMAC}, UsageMAC, randomBytes(32)},
}

// KeySpecs returns the key specs kmsd can create, for help texts.
func KeySpecs() []string {
	return []string{"AES_256", "SM4", "RSA_2048", "RSA_3072", "RSA_4096", "EC_P256", "EC_P384", "SECP256K1", "SM2", "HMAC_256", "HMAC_384", "HMAC_512", "HMAC_SM3"}
}

// resolveUsage checks spec and usage and returns the usage to store.
func resolveUsage(specName, usage string) (spec, string, error) {
	s, ok := specs[specName]
	if !ok {
		return spec{}, "", fmt.Errorf("%w: %q", ErrInvalidKeySpec, specName)
	}
	if usage == "" {
		return s, s.defaultUsage, nil
	}
	for _, u := range s.usages {
		if u == usage {
			return s, usage, nil
		}
	}
	switch {
	case s.class == classEC && usage == UsageEncryptDecrypt:
		return spec{}, "", ErrECNoEncrypt
	case (s.class == classSymmetric || s.class == classHMAC) && usage == UsageSignVerify:
		return spec{}, "", ErrSymmetricNoSign
	}
	return spec{}, "", fmt.Errorf("%w: %s does not allow %q", ErrInvalidKeyUsage, specName, usage)
}

func randomBytes(n int) func() ([]byte, error) {
	return func() ([]byte, error) {
		b := make([]byte, n)
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		return b, nil
	}
}

func rsaKey(bits int) func() ([]byte, error) {
	return func() ([]byte, error) {
		k, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			return nil, err
		}
		return smx509.MarshalPKCS8PrivateKey(k)
	}
}

func ecKey(c elliptic.Curve) func() ([]byte, error) {
	return func() ([]byte, error) {
		k, err := ecdsa.GenerateKey(c, rand.Reader)
		if err != nil {
			return nil, err
		}
		return smx509.MarshalPKCS8PrivateKey(k)
	}
}

func sm2Key() ([]byte, error) {
	k, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return smx509.MarshalPKCS8PrivateKey(k)
}

// secp256k1N is the order of the secp256k1 group (SEC 2, §2.4.1).
var secp256k1N, _ = new(big.Int).SetString("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", 16)

// secp256k1Key draws a private scalar uniformly from [1, n-1] by rejection
// sampling and returns it as 32 big-endian bytes.
func secp256k1Key() ([]byte, error) {
	for {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		d := new(big.Int).SetBytes(b)
		if d.Sign() > 0 && d.Cmp(secp256k1N) < 0 {
			return b, nil
		}
	}
}

// privateKey parses asymmetric material: *rsa.PrivateKey,
// *ecdsa.PrivateKey (NIST curves), *sm2.PrivateKey, or
// *secp256k1.PrivateKey for SECP256K1.
func privateKey(specName string, material []byte) (any, error) {
	if specName == "SECP256K1" {
		if len(material) != 32 {
			return nil, fmt.Errorf("secp256k1 material of %d bytes", len(material))
		}
		return secp256k1.PrivKeyFromBytes(material), nil
	}
	switch specs[specName].class {
	case classRSA, classEC, classSM2:
		return smx509.ParsePKCS8PrivateKey(material)
	}
	return nil, fmt.Errorf("%w: %s has no private key", ErrSymmetricKey, specName)
}

// privateKey returns the parsed private key of version v (0: primary),
// parsed once per cached handle.
func (h *handle) privateKey(v int) (any, error) {
	return h.derived(v, "private", func(m []byte) (any, error) { return privateKey(h.Spec, m) })
}

// isAsymmetric reports whether a key spec is RSA, EC or SM2.
func isAsymmetric(specName string) bool {
	switch specs[specName].class {
	case classRSA, classEC, classSM2:
		return true
	}
	return false
}

// isHMAC reports whether a key spec is an HMAC spec.
func isHMAC(specName string) bool { return specs[specName].class == classHMAC }
