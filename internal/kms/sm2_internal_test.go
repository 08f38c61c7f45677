package kms

import (
	"bytes"
	"crypto/rand"
	"encoding/asn1"
	"testing"

	"github.com/emmansun/gmsm/sm2"
)

// TestSM2DecryptForms decrypts both forms as other SM2 code writes them
// (gmsm's encryption of 16-byte messages, whose retry flaw needs a 2^-128
// event) and the ciphertexts gmsm's own decryption refuses: a zero C2.
func TestSM2DecryptForms(t *testing.T) {
	priv, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("sixteen bytes!!!")
	for i := 0; i < 50; i++ {
		asn, err := sm2.EncryptASN1(rand.Reader, &priv.PublicKey, msg)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := sm2.Encrypt(rand.Reader, &priv.PublicKey, msg, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, ct := range [][]byte{asn, raw} {
			if pt, err := sm2Decrypt(priv, ct); err != nil || !bytes.Equal(pt, msg) {
				t.Fatalf("sm2Decrypt(%x) = %q, %v", ct, pt, err)
			}
		}
	}

	// C2 = M ⊕ t is zero when t happens to equal the one-byte message.
	one := []byte("s")
	for i := 0; ; i++ {
		if i == 100000 {
			t.Fatal("no zero C2 in 100000 encryptions")
		}
		ct, err := sm2Encrypt(rand.Reader, &priv.PublicKey, one)
		if err != nil {
			t.Fatal(err)
		}
		var v sm2Ciphertext
		if _, err := asn1.Unmarshal(ct, &v); err != nil {
			t.Fatal(err)
		}
		if v.Cipher[0] != 0 {
			continue
		}
		raw := append([]byte{4}, v.X.FillBytes(make([]byte, 32))...)
		raw = append(raw, v.Y.FillBytes(make([]byte, 32))...)
		raw = append(append(raw, v.Hash...), v.Cipher...)
		for _, c := range [][]byte{ct, raw} {
			if pt, err := sm2Decrypt(priv, c); err != nil || !bytes.Equal(pt, one) {
				t.Fatalf("zero C2: sm2Decrypt(%x) = %q, %v", c, pt, err)
			}
		}
		if _, err := sm2.Decrypt(priv, raw); err == nil {
			t.Logf("gmsm now decrypts a zero C2: its step B4 is fixed")
		}
		break
	}
}

// TestSM2EncryptOneByteMessages runs sm2Encrypt often enough that its
// retry on an all-zero key stream (one try in 256 for one byte) happens
// many times, and checks every ciphertext against gmsm's decryption and
// sm2Decrypt.
func TestSM2EncryptOneByteMessages(t *testing.T) {
	priv, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5000; i++ {
		msg := []byte{byte(i)}
		ct, err := sm2Encrypt(rand.Reader, &priv.PublicKey, msg)
		if err != nil {
			t.Fatal(err)
		}
		if pt, err := sm2Decrypt(priv, ct); err != nil || !bytes.Equal(pt, msg) {
			t.Fatalf("sm2Decrypt(sm2Encrypt(%x)) = %x, %v", msg, pt, err)
		}
		// gmsm refuses a zero C2 (see sm2Decrypt); otherwise it must agree.
		var v sm2Ciphertext
		if _, err := asn1.Unmarshal(ct, &v); err != nil {
			t.Fatal(err)
		}
		if v.Cipher[0] == 0 {
			continue
		}
		if pt, err := priv.Decrypt(nil, ct, sm2.ASN1DecrypterOpts); err != nil || !bytes.Equal(pt, msg) {
			t.Fatalf("gmsm decryption of %x: %x, %v", ct, pt, err)
		}
	}
	if _, err := sm2Encrypt(rand.Reader, &priv.PublicKey, nil); err == nil {
		t.Error("sm2Encrypt of an empty message succeeded")
	}
}

func TestSM2DecryptRefuses(t *testing.T) {
	priv, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	other, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("a message of some length")
	raw, err := sm2.Encrypt(rand.Reader, &priv.PublicKey, msg, nil)
	if err != nil {
		t.Fatal(err)
	}
	asn, err := sm2.EncryptASN1(rand.Reader, &priv.PublicKey, msg)
	if err != nil {
		t.Fatal(err)
	}
	c1c2c3, err := sm2.Encrypt(rand.Reader, &priv.PublicKey, msg, sm2.NewPlainEncrypterOpts(sm2.MarshalUncompressed, sm2.C1C2C3))
	if err != nil {
		t.Fatal(err)
	}
	compressed, err := sm2.Encrypt(rand.Reader, &priv.PublicKey, msg, sm2.NewPlainEncrypterOpts(sm2.MarshalCompressed, sm2.C1C3C2))
	if err != nil {
		t.Fatal(err)
	}
	offCurve := bytes.Clone(raw)
	offCurve[10] ^= 1
	cases := map[string][]byte{
		"empty":            nil,
		"C1C2C3 order":     c1c2c3,
		"compressed point": compressed,
		"point off curve":  offCurve,
		"no C2":            raw[:1+64+32],
		"ASN.1 trailing":   append(bytes.Clone(asn), 0),
		"ASN.1 truncated":  asn[:len(asn)-1],
		"not a form":       append([]byte{0x05}, raw[1:]...),
	}
	for i := 1 + 64; i < len(raw); i += 7 {
		c := bytes.Clone(raw)
		c[i] ^= 0x80
		cases["flipped byte "+string(rune('A'+i%26))+string(rune('0'+i/26%10))] = c
	}
	for name, ct := range cases {
		if pt, err := sm2Decrypt(priv, ct); err == nil {
			t.Errorf("%s: decrypted to %q", name, pt)
		}
	}
	if pt, err := sm2Decrypt(other, raw); err == nil {
		t.Errorf("another key decrypted to %q", pt)
	}
}

func FuzzSM2Decrypt(f *testing.F) {
	priv, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	for _, n := range []int{1, 2, 32} {
		raw, err := sm2.Encrypt(rand.Reader, &priv.PublicKey, make([]byte, n), nil)
		if err != nil {
			f.Fatal(err)
		}
		asn, err := sm2.EncryptASN1(rand.Reader, &priv.PublicKey, make([]byte, n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
		f.Add(asn)
	}
	f.Fuzz(func(t *testing.T, ct []byte) {
		// Never panics; a success is a consistent decryption.
		if pt, err := sm2Decrypt(priv, ct); err == nil && len(pt) == 0 {
			t.Errorf("empty plaintext from %x", ct)
		}
	})
}
