package kms_test

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
	"sync"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	secpecdsa "github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
	smecdh "github.com/emmansun/gmsm/ecdh"
	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"

	"github.com/kmsd/kmsd/internal/ciphertext"
	"github.com/kmsd/kmsd/internal/kms"
)

var oidSecp256k1 = asn1.ObjectIdentifier{1, 3, 132, 0, 10}

// parsePublicKey parses kmsd's SubjectPublicKeyInfo for spec with an
// implementation other than kmsd's: crypto/x509 for RSA and NIST curves,
// smx509 for SM2, encoding/asn1 and decred for secp256k1. It returns an
// *rsa.PublicKey or *ecdsa.PublicKey.
func parsePublicKey(t *testing.T, spec string, der []byte) crypto.PublicKey {
	t.Helper()
	switch spec {
	case "SM2":
		pub, err := smx509.ParsePKIXPublicKey(der)
		if err != nil {
			t.Fatalf("SM2 SPKI: %v", err)
		}
		if !sm2.IsSM2PublicKey(pub) {
			t.Fatalf("SM2 SPKI holds a %T", pub)
		}
		return pub
	case "SECP256K1":
		var info struct {
			Algorithm pkix.AlgorithmIdentifier
			PublicKey asn1.BitString
		}
		if rest, err := asn1.Unmarshal(der, &info); err != nil || len(rest) > 0 {
			t.Fatalf("secp256k1 SPKI: %v", err)
		}
		var curve asn1.ObjectIdentifier
		if _, err := asn1.Unmarshal(info.Algorithm.Parameters.FullBytes, &curve); err != nil || !curve.Equal(oidSecp256k1) {
			t.Fatalf("secp256k1 SPKI curve %v (%v)", curve, err)
		}
		if len(info.PublicKey.Bytes) != 65 || info.PublicKey.Bytes[0] != 4 {
			t.Fatalf("secp256k1 point is not uncompressed: %x", info.PublicKey.Bytes)
		}
		pub, err := secp256k1.ParsePubKey(info.PublicKey.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		return pub.ToECDSA()
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		t.Fatalf("%s SPKI: %v", spec, err)
	}
	return pub
}

var hashes = map[string]func() hash.Hash{
	"SHA_256": crypto.SHA256.New, "SHA_384": crypto.SHA384.New, "SHA_512": crypto.SHA512.New, "SM3": sm3.New,
}

func sum(newHash func() hash.Hash, msg []byte) []byte {
	h := newHash()
	h.Write(msg)
	return h.Sum(nil)
}

// verifyLocally checks sig with Go's or gmsm's verifier and the public key
// kmsd published. digest is what was signed (SM3(Z_A‖M) for SM2).
func verifyLocally(pub crypto.PublicKey, alg string, digest, sig []byte) bool {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		h := map[string]crypto.Hash{"256": crypto.SHA256, "384": crypto.SHA384, "512": crypto.SHA512}[alg[len(alg)-3:]]
		if alg[:10] == "RSASSA_PSS" {
			return rsa.VerifyPSS(p, h, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
		}
		return rsa.VerifyPKCS1v15(p, h, digest, sig) == nil
	case *ecdsa.PublicKey:
		if sm2.IsSM2PublicKey(p) {
			return sm2.VerifyASN1(p, digest, sig)
		}
		// Go's generic ECDSA verifies secp256k1 too (through the curve
		// decred adapts to elliptic.Curve).
		return ecdsa.VerifyASN1(p, digest, sig)
	}
	return false
}

// TestSignVerify signs with every algorithm of every asymmetric spec, both
// message types, and checks the signature with kmsd and with an
// independent verifier over the published public key; a changed message
// or signature verifies false.
func TestSignVerify(t *testing.T) {
	f := newFixture(t, "", 0)
	algs := map[string][]string{
		"RSA_2048":  {"RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384", "RSASSA_PSS_SHA_512", "RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384", "RSASSA_PKCS1_V1_5_SHA_512"},
		"EC_P256":   {"ECDSA_SHA_256", "ECDSA_SHA_384", "ECDSA_SHA_512"},
		"EC_P384":   {"ECDSA_SHA_256", "ECDSA_SHA_384", "ECDSA_SHA_512"},
		"SECP256K1": {"ECDSA_SHA_256", "ECDSA_SHA_384", "ECDSA_SHA_512"},
		"SM2":       {"SM2DSA_SM3"},
	}
	msg := []byte("the message kmsd signs")
	for spec, list := range algs {
		k := f.createUsage(t, spec, "")
		der, err := f.svc.PublicKey(t.Context(), project, k.KeyID)
		if err != nil {
			t.Fatalf("%s: PublicKey: %v", spec, err)
		}
		pub := parsePublicKey(t, spec, der)
		for _, alg := range list {
			hashName := alg[len(alg)-7:]
			if alg == "SM2DSA_SM3" {
				hashName = "SM3"
			}
			digest := sum(hashes[hashName], msg)
			if spec == "SM2" {
				if digest, err = sm2.CalculateSM2Hash(pub.(*ecdsa.PublicKey), msg, nil); err != nil {
					t.Fatal(err)
				}
			}
			for _, mt := range []string{"", kms.MessageDigest, kms.MessageRaw} {
				t.Run(spec+"/"+alg+"/"+mt, func(t *testing.T) {
					in := kms.SignInput{ProjectID: project, KeyID: k.KeyID, Algorithm: alg, MessageType: mt, Message: digest}
					if mt == kms.MessageRaw {
						in.Message = msg
					}
					sig, err := f.svc.Sign(t.Context(), in)
					if err != nil {
						t.Fatalf("Sign: %v", err)
					}
					if !verifyLocally(pub, alg, digest, sig) {
						t.Errorf("the signature does not verify with the published public key")
					}
					ok, err := f.svc.Verify(t.Context(), in, sig)
					if err != nil || !ok {
						t.Errorf("Verify: got %v, %v, want true", ok, err)
					}
					bad := bytes.Clone(sig)
					bad[len(bad)/2] ^= 1
					if ok, err := f.svc.Verify(t.Context(), in, bad); err != nil || ok {
						t.Errorf("Verify of a changed signature: got %v, %v, want false", ok, err)
					}
					changed := in
					changed.Message = bytes.Clone(in.Message)
					changed.Message[0] ^= 1
					if ok, err := f.svc.Verify(t.Context(), changed, sig); err != nil || ok {
						t.Errorf("Verify of a changed message: got %v, %v, want false", ok, err)
					}
					for _, junk := range [][]byte{nil, {0x30, 0x00}, make([]byte, 512)} {
						if ok, err := f.svc.Verify(t.Context(), in, junk); err != nil || ok {
							t.Errorf("Verify of %x: got %v, %v, want false", junk, ok, err)
						}
					}
				})
			}
		}
	}
}

// TestVerifyForeignSignatures checks kmsd verifies signatures made
// elsewhere: RSA-PSS with another salt length, and high-S ECDSA.
func TestVerifyForeignSignatures(t *testing.T) {
	f := newFixture(t, "", 0)
	k := f.createUsage(t, "SECP256K1", "")
	digest := sha256.Sum256([]byte("m"))
	in := kms.SignInput{ProjectID: project, KeyID: k.KeyID, Algorithm: "ECDSA_SHA_256", Message: digest[:]}
	sig, err := f.svc.Sign(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := secpecdsa.ParseDERSignature(sig)
	if err != nil {
		t.Fatal(err)
	}
	r, s := parsed.R(), parsed.S()
	s.Negate() // (r, n-s) is the other valid signature
	high := secpecdsa.NewSignature(&r, &s).Serialize()
	if ok, err := f.svc.Verify(t.Context(), in, high); err != nil || !ok {
		t.Errorf("high-S signature: got %v, %v, want true", ok, err)
	}
}

// TestSignErrors checks each refusal of sign and verify and its kind.
func TestSignErrors(t *testing.T) {
	f := newFixture(t, "", 0)
	ec := f.createUsage(t, "EC_P256", "")
	sm2Enc := f.createUsage(t, "SM2", kms.UsageEncryptDecrypt)
	agree := f.createUsage(t, "EC_P256", kms.UsageKeyAgreement)
	aes := f.createUsage(t, "AES_256", "")
	hmacKey := f.createUsage(t, "HMAC_256", "")
	disabled := f.createUsage(t, "EC_P256", "")
	if _, err := f.svc.DisableKey(t.Context(), project, disabled.KeyID); err != nil {
		t.Fatal(err)
	}
	pending := f.createUsage(t, "EC_P256", "")
	if _, err := f.svc.ScheduleKeyDeletion(t.Context(), project, pending.KeyID, 7); err != nil {
		t.Fatal(err)
	}
	d256 := make([]byte, 32)
	tests := []struct {
		name string
		in   kms.SignInput
		want error
	}{
		{"unknown algorithm", kms.SignInput{KeyID: ec.KeyID, Algorithm: "ECDSA_SHA_1", Message: d256}, kms.ErrInvalidParameter},
		{"unknown message type", kms.SignInput{KeyID: ec.KeyID, Algorithm: "ECDSA_SHA_256", MessageType: "HASH", Message: d256}, kms.ErrInvalidParameter},
		{"message of 4096 bytes", kms.SignInput{KeyID: ec.KeyID, Algorithm: "ECDSA_SHA_256", MessageType: kms.MessageRaw, Message: make([]byte, 4096)}, kms.ErrInvalidParameter},
		{"RSA algorithm, EC key", kms.SignInput{KeyID: ec.KeyID, Algorithm: "RSASSA_PSS_SHA_256", Message: d256}, kms.ErrAlgorithmMismatch},
		{"SM2 algorithm, EC key", kms.SignInput{KeyID: ec.KeyID, Algorithm: "SM2DSA_SM3", Message: d256}, kms.ErrAlgorithmMismatch},
		{"short digest", kms.SignInput{KeyID: ec.KeyID, Algorithm: "ECDSA_SHA_256", Message: d256[:31]}, kms.ErrDigestLength},
		{"digest of another hash", kms.SignInput{KeyID: ec.KeyID, Algorithm: "ECDSA_SHA_384", Message: d256}, kms.ErrDigestLength},
		{"encryption key", kms.SignInput{KeyID: sm2Enc.KeyID, Algorithm: "SM2DSA_SM3", Message: d256}, kms.ErrKeyForEncryption},
		{"key agreement key", kms.SignInput{KeyID: agree.KeyID, Algorithm: "ECDSA_SHA_256", Message: d256}, kms.ErrInvalidKeyUsage},
		{"symmetric key", kms.SignInput{KeyID: aes.KeyID, Algorithm: "ECDSA_SHA_256", Message: d256}, kms.ErrSymmetricKey},
		{"HMAC key", kms.SignInput{KeyID: hmacKey.KeyID, Algorithm: "ECDSA_SHA_256", Message: d256}, kms.ErrHMACKey},
		{"disabled", kms.SignInput{KeyID: disabled.KeyID, Algorithm: "ECDSA_SHA_256", Message: d256}, kms.ErrKeyDisabled},
		{"pending deletion", kms.SignInput{KeyID: pending.KeyID, Algorithm: "ECDSA_SHA_256", Message: d256}, kms.ErrKeyPendingDeletion},
		{"unknown key", kms.SignInput{KeyID: "00000000-0000-4000-8000-000000000000", Algorithm: "ECDSA_SHA_256", Message: d256}, kms.ErrKeyNotFound},
		{"malformed key id", kms.SignInput{KeyID: "nope", Algorithm: "ECDSA_SHA_256", Message: d256}, kms.ErrInvalidKeyID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.ProjectID = project
			if _, err := f.svc.Sign(t.Context(), tt.in); !errors.Is(err, tt.want) {
				t.Errorf("Sign: got %v, want %v", err, tt.want)
			}
			if _, err := f.svc.Verify(t.Context(), tt.in, make([]byte, 70)); !errors.Is(err, tt.want) {
				t.Errorf("Verify: got %v, want %v", err, tt.want)
			}
		})
	}
	// Another project's key does not exist for the caller.
	in := kms.SignInput{ProjectID: other, KeyID: ec.KeyID, Algorithm: "ECDSA_SHA_256", Message: d256}
	if _, err := f.svc.Sign(t.Context(), in); !errors.Is(err, kms.ErrKeyNotFound) {
		t.Errorf("another project's key: got %v, want ErrKeyNotFound", err)
	}
}

// TestPublicKey checks the public key of each asymmetric spec matches its
// private key and that other keys have none.
func TestPublicKey(t *testing.T) {
	f := newFixture(t, "", 0)
	for _, spec := range []string{"RSA_2048", "EC_P256", "EC_P384", "SECP256K1", "SM2"} {
		k := f.createUsage(t, spec, "")
		der, err := f.svc.PublicKey(t.Context(), project, k.KeyID)
		if err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
		pub := parsePublicKey(t, spec, der)
		switch p := pub.(type) {
		case *rsa.PublicKey:
			if p.N.BitLen() != 2048 {
				t.Errorf("RSA public key of %d bits", p.N.BitLen())
			}
		case *ecdsa.PublicKey:
			want := map[string]string{"EC_P256": "P-256", "EC_P384": "P-384", "SECP256K1": "secp256k1", "SM2": "sm2p256v1"}[spec]
			if got := p.Curve.Params().Name; got != want {
				t.Errorf("%s: curve %s, want %s", spec, got, want)
			}
		}
		again, err := f.svc.PublicKey(t.Context(), project, k.KeyID)
		if err != nil || !bytes.Equal(again, der) {
			t.Errorf("%s: a second call answered differently (%v)", spec, err)
		}
	}
	for spec, want := range map[string]error{"AES_256": kms.ErrSymmetricKey, "SM4": kms.ErrSymmetricKey, "HMAC_SM3": kms.ErrHMACKey} {
		k := f.createUsage(t, spec, "")
		if _, err := f.svc.PublicKey(t.Context(), project, k.KeyID); !errors.Is(err, want) {
			t.Errorf("%s: got %v, want %v", spec, err, want)
		}
	}
}

// peerKey is a local ECDH key pair of one curve.
type peerKey struct {
	spki   []byte
	secret func(kmsdPub crypto.PublicKey) []byte
}

// newPeer makes a local key on spec's curve and returns its SPKI and how
// it computes the shared secret with kmsd's public key.
func newPeer(t *testing.T, spec string) peerKey {
	t.Helper()
	switch spec {
	case "EC_P256", "EC_P384":
		c := map[string]ecdh.Curve{"EC_P256": ecdh.P256(), "EC_P384": ecdh.P384()}[spec]
		priv, err := c.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		spki, err := x509.MarshalPKIXPublicKey(priv.PublicKey())
		if err != nil {
			t.Fatal(err)
		}
		return peerKey{spki, func(p crypto.PublicKey) []byte {
			pub, err := p.(*ecdsa.PublicKey).ECDH()
			if err != nil {
				t.Fatal(err)
			}
			s, err := priv.ECDH(pub)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}}
	case "SM2":
		priv, err := sm2.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		spki, err := smx509.MarshalPKIXPublicKey(&priv.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		return peerKey{spki, func(p crypto.PublicKey) []byte {
			e, err := priv.ECDH()
			if err != nil {
				t.Fatal(err)
			}
			pub, err := smecdh.P256().NewPublicKey(elliptic.Marshal(sm2.P256(), p.(*ecdsa.PublicKey).X, p.(*ecdsa.PublicKey).Y))
			if err != nil {
				t.Fatal(err)
			}
			s, err := e.ECDH(pub)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}}
	case "SECP256K1":
		priv, err := secp256k1.GeneratePrivateKey()
		if err != nil {
			t.Fatal(err)
		}
		return peerKey{secp256k1SPKI(t, priv.PubKey().SerializeUncompressed()), func(p crypto.PublicKey) []byte {
			e := p.(*ecdsa.PublicKey)
			var x, y secp256k1.FieldVal
			x.SetByteSlice(e.X.Bytes())
			y.SetByteSlice(e.Y.Bytes())
			return secp256k1.GenerateSharedSecret(priv, secp256k1.NewPublicKey(&x, &y))
		}}
	}
	t.Fatalf("no peer for %s", spec)
	return peerKey{}
}

func secp256k1SPKI(t *testing.T, point []byte) []byte {
	t.Helper()
	params, _ := asn1.Marshal(oidSecp256k1)
	der, err := asn1.Marshal(struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}{
		pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}, Parameters: asn1.RawValue{FullBytes: params}},
		asn1.BitString{Bytes: point, BitLength: 8 * len(point)},
	})
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// TestDeriveSharedSecret checks ECDH on every curve against a local
// computation with kmsd's public key, and the refusals.
func TestDeriveSharedSecret(t *testing.T) {
	f := newFixture(t, "", 0)
	keys := map[string]kms.Key{}
	peers := map[string]peerKey{}
	for _, spec := range []string{"EC_P256", "EC_P384", "SECP256K1", "SM2"} {
		keys[spec] = f.createUsage(t, spec, kms.UsageKeyAgreement)
		peers[spec] = newPeer(t, spec)
		t.Run(spec, func(t *testing.T) {
			k := keys[spec]
			der, err := f.svc.PublicKey(t.Context(), project, k.KeyID)
			if err != nil {
				t.Fatal(err)
			}
			got, err := f.svc.DeriveSharedSecret(t.Context(), project, k.KeyID, kms.KeyAgreementECDH, peers[spec].spki)
			if err != nil {
				t.Fatal(err)
			}
			want := peers[spec].secret(parsePublicKey(t, spec, der))
			if !bytes.Equal(got, want) || len(got) == 0 {
				t.Errorf("got secret %x, want %x", got, want)
			}
		})
	}
	sign := f.createUsage(t, "EC_P256", "")
	sm2Enc := f.createUsage(t, "SM2", kms.UsageEncryptDecrypt)
	aes := f.createUsage(t, "AES_256", "")
	hmacKey := f.createUsage(t, "HMAC_512", "")
	p256 := keys["EC_P256"].KeyID
	// A P-256 point with y changed is not on the curve.
	offCurve := bytes.Clone(peers["EC_P256"].spki)
	offCurve[len(offCurve)-1] ^= 1
	compressed := func() []byte {
		priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		pt := elliptic.MarshalCompressed(elliptic.P256(), priv.X, priv.Y)
		params, _ := asn1.Marshal(asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7})
		der, _ := asn1.Marshal(struct {
			Algorithm pkix.AlgorithmIdentifier
			PublicKey asn1.BitString
		}{pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}, Parameters: asn1.RawValue{FullBytes: params}}, asn1.BitString{Bytes: pt, BitLength: 8 * len(pt)}})
		return der
	}()
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 1024)
	rsaSPKI, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	tests := []struct {
		name, keyID, alg string
		peer             []byte
		want             error
	}{
		{"not ECDH", p256, "DH", peers["EC_P256"].spki, kms.ErrInvalidParameter},
		{"peer on another curve", p256, "ECDH", peers["EC_P384"].spki, kms.ErrInvalidParameter},
		{"SM2 peer, P-256 key", p256, "ECDH", peers["SM2"].spki, kms.ErrInvalidParameter},
		{"secp256k1 peer, SM2 key", keys["SM2"].KeyID, "ECDH", peers["SECP256K1"].spki, kms.ErrInvalidParameter},
		{"point off the curve", p256, "ECDH", offCurve, kms.ErrInvalidParameter},
		{"compressed point", p256, "ECDH", compressed, kms.ErrInvalidParameter},
		{"RSA peer", p256, "ECDH", rsaSPKI, kms.ErrInvalidParameter},
		{"garbage", p256, "ECDH", []byte("not DER"), kms.ErrInvalidParameter},
		{"trailing data", p256, "ECDH", append(bytes.Clone(peers["EC_P256"].spki), 0), kms.ErrInvalidParameter},
		{"signing key", sign.KeyID, "ECDH", peers["EC_P256"].spki, kms.ErrKeyForSigning},
		{"encryption key", sm2Enc.KeyID, "ECDH", peers["SM2"].spki, kms.ErrKeyForEncryption},
		{"symmetric key", aes.KeyID, "ECDH", peers["EC_P256"].spki, kms.ErrSymmetricKey},
		{"HMAC key", hmacKey.KeyID, "ECDH", peers["EC_P256"].spki, kms.ErrHMACKey},
		{"unknown key", "00000000-0000-4000-8000-000000000000", "ECDH", peers["EC_P256"].spki, kms.ErrKeyNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := f.svc.DeriveSharedSecret(t.Context(), project, tt.keyID, tt.alg, tt.peer); !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := f.svc.DisableKey(t.Context(), project, p256); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.DeriveSharedSecret(t.Context(), project, p256, "ECDH", peers["EC_P256"].spki); !errors.Is(err, kms.ErrKeyDisabled) {
		t.Errorf("disabled: got %v, want ErrKeyDisabled", err)
	}
}

// TestKeyAgreementUsage checks which specs accept KEY_AGREEMENT.
func TestKeyAgreementUsage(t *testing.T) {
	f := newFixture(t, "", 0)
	for _, spec := range []string{"EC_P256", "EC_P384", "SECP256K1", "SM2"} {
		if k := f.createUsage(t, spec, kms.UsageKeyAgreement); k.Usage != kms.UsageKeyAgreement {
			t.Errorf("%s: usage %s", spec, k.Usage)
		}
	}
	for _, spec := range []string{"AES_256", "SM4", "HMAC_256"} {
		_, err := f.svc.CreateKey(t.Context(), kms.CreateKeyInput{ProjectID: project, AccountID: account, Alias: "ka-" + spec, Spec: spec, Usage: kms.UsageKeyAgreement})
		if !errors.Is(err, kms.ErrInvalidKeyUsage) {
			t.Errorf("%s KEY_AGREEMENT: got %v, want ErrInvalidKeyUsage", spec, err)
		}
	}
}

// TestSignConcurrently shares one cached key among many signers, for the
// race detector.
func TestSignConcurrently(t *testing.T) {
	f := newFixture(t, "", 0)
	var wg sync.WaitGroup
	for _, spec := range []string{"SM2", "EC_P256", "SECP256K1"} {
		k := f.createUsage(t, spec, "")
		alg := map[string]string{"SM2": "SM2DSA_SM3", "EC_P256": "ECDSA_SHA_256", "SECP256K1": "ECDSA_SHA_256"}[spec]
		for i := range 8 {
			wg.Go(func() {
				in := kms.SignInput{ProjectID: project, KeyID: k.KeyID, Algorithm: alg, MessageType: kms.MessageRaw, Message: []byte{byte(i)}}
				sig, err := f.svc.Sign(t.Context(), in)
				if err != nil {
					t.Error(err)
					return
				}
				if ok, err := f.svc.Verify(t.Context(), in, sig); err != nil || !ok {
					t.Errorf("%s: got %v, %v", spec, ok, err)
				}
				if _, err := f.svc.PublicKey(t.Context(), project, k.KeyID); err != nil {
					t.Error(err)
				}
			})
		}
	}
	wg.Wait()
}

// parsePrivateKey parses a data key pair's PKCS #8 private key with an
// implementation other than kmsd's encoder where one exists (crypto/x509,
// smx509; encoding/asn1 and decred for secp256k1) and returns its public
// key.
func parsePrivateKey(t *testing.T, spec string, der []byte) crypto.PublicKey {
	t.Helper()
	switch spec {
	case "SM2":
		priv, err := smx509.ParsePKCS8PrivateKey(der)
		if err != nil {
			t.Fatalf("SM2 PKCS #8: %v", err)
		}
		k, ok := priv.(*sm2.PrivateKey)
		if !ok {
			t.Fatalf("SM2 PKCS #8 holds a %T", priv)
		}
		return &k.PublicKey
	case "ECC_SECG_P256K1":
		var info struct {
			Version    int
			Algo       pkix.AlgorithmIdentifier
			PrivateKey []byte
		}
		if rest, err := asn1.Unmarshal(der, &info); err != nil || len(rest) > 0 {
			t.Fatalf("secp256k1 PKCS #8: %v", err)
		}
		var curve asn1.ObjectIdentifier
		if _, err := asn1.Unmarshal(info.Algo.Parameters.FullBytes, &curve); err != nil || !curve.Equal(oidSecp256k1) {
			t.Fatalf("secp256k1 PKCS #8 curve %v (%v)", curve, err)
		}
		var ec struct {
			Version    int
			PrivateKey []byte
			Curve      asn1.ObjectIdentifier `asn1:"optional,explicit,tag:0"`
			PublicKey  asn1.BitString        `asn1:"optional,explicit,tag:1"`
		}
		if rest, err := asn1.Unmarshal(info.PrivateKey, &ec); err != nil || len(rest) > 0 || ec.Version != 1 || len(ec.PrivateKey) != 32 {
			t.Fatalf("secp256k1 ECPrivateKey: %v (version %d, %d-byte scalar)", err, ec.Version, len(ec.PrivateKey))
		}
		k := secp256k1.PrivKeyFromBytes(ec.PrivateKey)
		if !bytes.Equal(k.PubKey().SerializeUncompressed(), ec.PublicKey.Bytes) {
			t.Fatal("secp256k1 ECPrivateKey: the embedded public key is not the scalar's")
		}
		return k.PubKey().ToECDSA()
	}
	priv, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		t.Fatalf("%s PKCS #8: %v", spec, err)
	}
	return priv.(crypto.Signer).Public()
}

// TestDataKeyPair creates a pair of every spec under AES_256 and SM4 keys:
// the private key parses and matches the public key, and the ciphertext is
// an encrypt-data blob of the CMK.
func TestDataKeyPair(t *testing.T) {
	f := newFixture(t, "", 0)
	cmks := map[string]kms.Key{"AES_256": f.createUsage(t, "AES_256", ""), "SM4": f.createUsage(t, "SM4", "")}
	pairSpecs := []string{"RSA_2048", "ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521", "ECC_SECG_P256K1", "SM2"}
	if !testing.Short() {
		// Slow under the race detector; one pair each.
		pairSpecs = append(pairSpecs, "RSA_3072", "RSA_4096")
	}
	for i, spec := range pairSpecs {
		cmkSpec := []string{"AES_256", "SM4"}[i%2]
		t.Run(spec+"/"+cmkSpec, func(t *testing.T) {
			cmk := cmks[cmkSpec]
			aad := []byte("pair aad")
			p, err := f.svc.CreateDataKeyPair(t.Context(), kms.DataKeyPairInput{ProjectID: project, KeyID: cmk.KeyID, Spec: spec, AAD: aad})
			if err != nil {
				t.Fatal(err)
			}
			fromPrivate := parsePrivateKey(t, spec, p.PrivateKey)
			var pub crypto.PublicKey
			switch spec {
			case "SM2":
				pub = parsePublicKey(t, "SM2", p.PublicKey)
			case "ECC_SECG_P256K1":
				pub = parsePublicKey(t, "SECP256K1", p.PublicKey)
			default:
				pub = parsePublicKey(t, "RSA_2048", p.PublicKey) // crypto/x509
			}
			if !pub.(interface{ Equal(crypto.PublicKey) bool }).Equal(fromPrivate) {
				t.Error("the public key does not match the private key")
			}
			switch k := pub.(type) {
			case *rsa.PublicKey:
				if want := "RSA_" + fmt.Sprint(k.N.BitLen()); want != spec {
					t.Errorf("got an RSA key of %d bits for %s", k.N.BitLen(), spec)
				}
			case *ecdsa.PublicKey:
				want := map[string]string{"ECC_NIST_P256": "P-256", "ECC_NIST_P384": "P-384", "ECC_NIST_P521": "P-521", "ECC_SECG_P256K1": "secp256k1", "SM2": "sm2p256v1"}[spec]
				if k.Curve.Params().Name != want {
					t.Errorf("got curve %s, want %s", k.Curve.Params().Name, want)
				}
			}
			blob, err := ciphertext.Parse(p.PrivateKeyCiphertext)
			if err != nil {
				t.Fatal(err)
			}
			wantAlg := map[string]ciphertext.Algorithm{"AES_256": ciphertext.AES256GCM, "SM4": ciphertext.SM4GCM}[cmkSpec]
			if blob.Kind != ciphertext.KindData || blob.Algorithm != wantAlg || blob.KeyID != cmk.KeyID || blob.ProjectID != project || blob.KeyVersion != 1 {
				t.Errorf("blob header %+v", blob)
			}
			if blob.PlaintextLen() != len(p.PrivateKey) {
				t.Errorf("blob holds %d bytes, the private key is %d", blob.PlaintextLen(), len(p.PrivateKey))
			}
			if bytes.Contains(p.PrivateKeyCiphertext, p.PrivateKey[len(p.PrivateKey)-16:]) {
				t.Error("the ciphertext contains the private key")
			}
		})
	}
}

// TestDataKeyPairErrors checks the refusals of the data key pair
// operations.
func TestDataKeyPairErrors(t *testing.T) {
	f := newFixture(t, "", 0)
	aes := f.createUsage(t, "AES_256", "")
	ec := f.createUsage(t, "EC_P256", "")
	sm2Enc := f.createUsage(t, "SM2", kms.UsageEncryptDecrypt)
	hmacKey := f.createUsage(t, "HMAC_256", "")
	disabled := f.createUsage(t, "AES_256", "")
	if _, err := f.svc.DisableKey(t.Context(), project, disabled.KeyID); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   kms.DataKeyPairInput
		want error
	}{
		{"unknown spec", kms.DataKeyPairInput{KeyID: aes.KeyID, Spec: "EC_P256"}, kms.ErrInvalidParameter},
		{"AAD of 129 bytes", kms.DataKeyPairInput{KeyID: aes.KeyID, Spec: "SM2", AAD: make([]byte, 129)}, kms.ErrInvalidParameter},
		{"EC key", kms.DataKeyPairInput{KeyID: ec.KeyID, Spec: "SM2"}, kms.ErrAsymmetricKey},
		{"SM2 encryption key", kms.DataKeyPairInput{KeyID: sm2Enc.KeyID, Spec: "SM2"}, kms.ErrAsymmetricKey},
		{"HMAC key", kms.DataKeyPairInput{KeyID: hmacKey.KeyID, Spec: "SM2"}, kms.ErrHMACKey},
		{"disabled", kms.DataKeyPairInput{KeyID: disabled.KeyID, Spec: "SM2"}, kms.ErrKeyDisabled},
		{"unknown key", kms.DataKeyPairInput{KeyID: "00000000-0000-4000-8000-000000000000", Spec: "SM2"}, kms.ErrKeyNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.ProjectID = project
			if _, err := f.svc.CreateDataKeyPair(t.Context(), tt.in); !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
	in := kms.DataKeyPairInput{ProjectID: project, KeyID: aes.KeyID, Spec: "SM2", AAD: make([]byte, 128)}
	if _, err := f.svc.CreateDataKeyPair(t.Context(), in); err != nil {
		t.Errorf("AAD of 128 bytes: %v", err)
	}
}
