package ciphertext

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/sm4"
)

const (
	testKeyID   = "3f2a8c1e-0d4b-4c6e-9a7f-5b1d2e3c4a6f"
	testProject = "0123456789abcdef0123456789abcdef"
)

var algorithms = map[string]Algorithm{"AES-256-GCM": AES256GCM, "SM4-GCM": SM4GCM}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func loadJSON(t testing.TB, name string, v any) {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// testKey returns a key of the algorithm's size: bytes 0x00, 0x01, ….
func testKey(alg Algorithm) []byte {
	n := 32
	if alg == SM4GCM {
		n = 16
	}
	k := make([]byte, n)
	for i := range k {
		k[i] = byte(i)
	}
	return k
}

func newAEAD(t testing.TB, alg Algorithm, key []byte) cipher.AEAD {
	t.Helper()
	a, err := NewAEAD(alg, key)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func header(kind Kind, alg Algorithm, version uint32) Blob {
	return Blob{Kind: kind, Algorithm: alg, KeyVersion: version, KeyID: testKeyID, ProjectID: testProject}
}

// TestAEADKnownAnswer checks the AEADs that NewAEAD builds against
// published GCM vectors (testdata/gcm.json).
func TestAEADKnownAnswer(t *testing.T) {
	var file struct {
		Vectors []struct {
			Name, Algorithm, Key, Nonce, AAD, Plaintext, Ciphertext string
		}
	}
	loadJSON(t, "gcm.json", &file)
	if len(file.Vectors) == 0 {
		t.Fatal("testdata/gcm.json holds no vectors")
	}
	seen := map[Algorithm]bool{}
	for _, v := range file.Vectors {
		t.Run(v.Name, func(t *testing.T) {
			alg, ok := algorithms[v.Algorithm]
			if !ok {
				t.Fatalf("unknown algorithm %q", v.Algorithm)
			}
			seen[alg] = true
			aead := newAEAD(t, alg, mustHex(t, v.Key))
			nonce, aad, pt, want := mustHex(t, v.Nonce), mustHex(t, v.AAD), mustHex(t, v.Plaintext), mustHex(t, v.Ciphertext)
			if got := aead.Seal(nil, nonce, pt, aad); !bytes.Equal(got, want) {
				t.Errorf("Seal:\ngot  %x\nwant %x", got, want)
			}
			got, err := aead.Open(nil, nonce, want, aad)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if !bytes.Equal(got, pt) {
				t.Errorf("Open: got %x, want %x", got, pt)
			}
		})
	}
	if !seen[AES256GCM] || !seen[SM4GCM] {
		t.Errorf("testdata/gcm.json covers %v, want both algorithms", seen)
	}
}

// TestSM4KnownAnswer checks the SM4 block cipher under SM4-GCM against the
// examples of GB/T 32907-2016 (testdata/sm4.json).
func TestSM4KnownAnswer(t *testing.T) {
	var file struct {
		Vectors []struct {
			Name, Key, Plaintext, Ciphertext string
			Iterations                       int
		}
	}
	loadJSON(t, "sm4.json", &file)
	if len(file.Vectors) == 0 {
		t.Fatal("testdata/sm4.json holds no vectors")
	}
	for _, v := range file.Vectors {
		t.Run(v.Name, func(t *testing.T) {
			if v.Iterations > 1 && testing.Short() {
				t.Skip("long vector")
			}
			block, err := sm4.NewCipher(mustHex(t, v.Key))
			if err != nil {
				t.Fatal(err)
			}
			b := mustHex(t, v.Plaintext)
			for range v.Iterations {
				block.Encrypt(b, b)
			}
			if want := mustHex(t, v.Ciphertext); !bytes.Equal(b, want) {
				t.Errorf("got %x, want %x", b, want)
			}
		})
	}
}

// blobVector is one known answer in testdata/blob.json.
type blobVector struct {
	Name       string `json:"name"`
	Algorithm  string `json:"algorithm"`
	Kind       byte   `json:"kind"`
	KeyVersion uint32 `json:"key_version"`
	KeyID      string `json:"key_id"`
	ProjectID  string `json:"project_id"`
	Key        string `json:"key"`
	Nonce      string `json:"nonce"`
	AAD        string `json:"aad"`
	Plaintext  string `json:"plaintext"`
	Blob       string `json:"blob"`
}

func loadBlobVectors(t testing.TB) []blobVector {
	t.Helper()
	var file struct {
		Vectors []blobVector `json:"vectors"`
	}
	loadJSON(t, "blob.json", &file)
	if len(file.Vectors) == 0 {
		t.Fatal("testdata/blob.json holds no vectors")
	}
	return file.Vectors
}

// TestBlobKnownAnswer pins format version 1: each vector is checked
// against the package and against an independent construction from the
// layout in the package documentation. Either failing means the byte
// format changed and existing ciphertexts would no longer decrypt.
func TestBlobKnownAnswer(t *testing.T) {
	for _, v := range loadBlobVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			alg := algorithms[v.Algorithm]
			key, nonce, pt, want := mustHex(t, v.Key), mustHex(t, v.Nonce), mustHex(t, v.Plaintext), mustHex(t, v.Blob)
			h := Blob{Kind: Kind(v.Kind), Algorithm: alg, KeyVersion: v.KeyVersion, KeyID: v.KeyID, ProjectID: v.ProjectID}
			aead := newAEAD(t, alg, key)
			b, err := sealWithNonce(aead, h, nonce, pt, []byte(v.AAD))
			if err != nil {
				t.Fatal(err)
			}
			if got := b.Marshal(); !bytes.Equal(got, want) {
				t.Errorf("sealWithNonce:\ngot  %x\nwant %x", got, want)
			}
			if ind := independentBlob(t, v); !bytes.Equal(ind, want) {
				t.Errorf("independent construction:\ngot  %x\nwant %x", ind, want)
			}
			if len(want) != Overhead+len(pt) {
				t.Errorf("blob of %d bytes for %d plaintext bytes, want %d", len(want), len(pt), Overhead+len(pt))
			}
			parsed, err := Parse(want)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if parsed.Kind != h.Kind || parsed.Algorithm != alg || parsed.KeyVersion != v.KeyVersion || parsed.KeyID != v.KeyID || parsed.ProjectID != v.ProjectID {
				t.Errorf("Parse: got %+v, want the vector's header", parsed)
			}
			if parsed.PlaintextLen() != len(pt) {
				t.Errorf("PlaintextLen = %d, want %d", parsed.PlaintextLen(), len(pt))
			}
			if !bytes.Equal(parsed.Header(), want[:HeaderSize]) {
				t.Errorf("Header:\ngot  %x\nwant %x", parsed.Header(), want[:HeaderSize])
			}
			got, err := parsed.Open(aead, []byte(v.AAD))
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if !bytes.Equal(got, pt) {
				t.Errorf("Open: got %x, want %x", got, pt)
			}
		})
	}
}

// independentBlob builds a vector's blob from the documented layout with
// crypto/aes or gmsm/sm4 and crypto/cipher directly.
func independentBlob(t *testing.T, v blobVector) []byte {
	t.Helper()
	alg := map[string]byte{"AES-256-GCM": 1, "SM4-GCM": 2}[v.Algorithm]
	ver := v.KeyVersion
	hdr := bytes.Join([][]byte{
		{0x01, v.Kind, alg, 0x00},
		{byte(ver >> 24), byte(ver >> 16), byte(ver >> 8), byte(ver)},
		[]byte(v.KeyID),
		[]byte(v.ProjectID),
	}, nil)
	if len(hdr) != 76 {
		t.Fatalf("independent header of %d bytes", len(hdr))
	}
	sum := sha256.Sum256([]byte(v.AAD))
	ad := append(bytes.Clone(hdr), sum[:]...)
	var block cipher.Block
	var err error
	if alg == 1 {
		block, err = aes.NewCipher(mustHex(t, v.Key))
	} else {
		block, err = sm4.NewCipher(mustHex(t, v.Key))
	}
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	nonce := mustHex(t, v.Nonce)
	return bytes.Join([][]byte{hdr, nonce, gcm.Seal(nil, nonce, mustHex(t, v.Plaintext), ad)}, nil)
}

func TestSealOpenRoundTrip(t *testing.T) {
	for name, alg := range algorithms {
		for _, kind := range []Kind{KindData, KindDataKey} {
			for _, n := range []int{1, 32, 4096} {
				t.Run(fmt.Sprintf("%s/kind%d/%d", name, kind, n), func(t *testing.T) {
					aead := newAEAD(t, alg, testKey(alg))
					pt := bytes.Repeat([]byte{0xa5}, n)
					orig := bytes.Clone(pt)
					b, err := Seal(aead, header(kind, alg, 3), pt, []byte("aad"))
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(pt, orig) {
						t.Error("Seal modified its plaintext")
					}
					wire := b.Marshal()
					if len(wire) != n+Overhead {
						t.Errorf("len = %d, want %d", len(wire), n+Overhead)
					}
					p, err := Parse(wire)
					if err != nil {
						t.Fatal(err)
					}
					got, err := p.Open(aead, []byte("aad"))
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(got, pt) {
						t.Error("Open returned other bytes")
					}
					got[0] ^= 0xff
					if !bytes.Equal(p.Marshal(), wire) {
						t.Error("Open's result aliases the blob")
					}
				})
			}
		}
	}
}

// TestAppendSeal checks that AppendSeal keeps what dst holds, appends a
// blob that opens, draws a fresh nonce each time, and matches Seal's
// layout.
func TestAppendSeal(t *testing.T) {
	for name, alg := range algorithms {
		t.Run(name, func(t *testing.T) {
			aead := newAEAD(t, alg, testKey(alg))
			pt := []byte("plaintext")
			prefix := []byte("prefix")
			var blobs [][]byte
			for _, dst := range [][]byte{nil, bytes.Clone(prefix), append(make([]byte, 0, 256), prefix...)} {
				out, err := AppendSeal(dst, aead, header(KindData, alg, 2), pt, []byte("aad"))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.HasPrefix(out, dst) {
					t.Fatalf("AppendSeal lost dst: %q", out)
				}
				wire := out[len(dst):]
				if len(wire) != len(pt)+Overhead {
					t.Errorf("len = %d, want %d", len(wire), len(pt)+Overhead)
				}
				b, err := Parse(wire)
				if err != nil {
					t.Fatal(err)
				}
				if got, err := b.Open(aead, []byte("aad")); err != nil || !bytes.Equal(got, pt) {
					t.Fatalf("Open = %q, %v", got, err)
				}
				for _, other := range blobs {
					if bytes.Equal(other[HeaderSize:HeaderSize+NonceSize], b.Nonce) {
						t.Errorf("two AppendSeals used the same nonce %x", b.Nonce)
					}
				}
				blobs = append(blobs, wire)
			}
			if _, err := AppendSeal(nil, aead, Blob{}, pt, nil); err == nil {
				t.Error("AppendSeal with a zero header: got nil error")
			}
		})
	}
}

func TestSealFreshNonce(t *testing.T) {
	aead := newAEAD(t, AES256GCM, testKey(AES256GCM))
	a, err := Seal(aead, header(KindData, AES256GCM, 1), []byte("same"), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Seal(aead, header(KindData, AES256GCM, 1), []byte("same"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a.Nonce, b.Nonce) {
		t.Errorf("two Seals used the same nonce %x", a.Nonce)
	}
}

// TestOpenTamper flips every bit of real blobs, appends and truncates:
// each must fail with ErrMalformed (Parse) or ErrOpen (Open), and no
// plaintext may come out.
func TestOpenTamper(t *testing.T) {
	for name, alg := range algorithms {
		t.Run(name, func(t *testing.T) {
			aead := newAEAD(t, alg, testKey(alg))
			b, err := Seal(aead, header(KindDataKey, alg, 2), []byte("thirty-two bytes of data key!!!!"), []byte("aad"))
			if err != nil {
				t.Fatal(err)
			}
			wire := b.Marshal()
			try := func(what string, blob []byte) {
				t.Helper()
				p, err := Parse(blob)
				if err != nil {
					if !errors.Is(err, ErrMalformed) {
						t.Errorf("%s: Parse: got %v, want ErrMalformed", what, err)
					}
					return
				}
				pt, err := p.Open(aead, []byte("aad"))
				if err != ErrOpen {
					t.Errorf("%s: Open: got %x, %v; want ErrOpen", what, pt, err)
				}
			}
			for i := range len(wire) * 8 {
				tampered := bytes.Clone(wire)
				tampered[i/8] ^= 1 << (i % 8)
				try(fmt.Sprintf("bit %d flipped", i), tampered)
			}
			for _, extra := range [][]byte{{0}, {0x01}, make([]byte, 16)} {
				try(fmt.Sprintf("%d bytes appended", len(extra)), append(bytes.Clone(wire), extra...))
			}
			for n := range len(wire) {
				try(fmt.Sprintf("first %d bytes", n), wire[:n])
			}
		})
	}
}

// TestOpenWrongContext opens a blob with the wrong AAD, key, kind, version,
// key id or project: every case is ErrOpen, whatever was wrong.
func TestOpenWrongContext(t *testing.T) {
	aead := newAEAD(t, AES256GCM, testKey(AES256GCM))
	b, err := Seal(aead, header(KindData, AES256GCM, 5), []byte("plaintext"), []byte("context"))
	if err != nil {
		t.Fatal(err)
	}
	otherKey := testKey(AES256GCM)
	otherKey[0] ^= 1
	with := func(f func(*Blob)) Blob {
		c := b
		f(&c)
		return c
	}
	tests := []struct {
		name string
		b    Blob
		aead cipher.AEAD
		aad  []byte
	}{
		{"other AAD", b, aead, []byte("contexT")},
		{"no AAD", b, aead, nil},
		{"AAD with a suffix", b, aead, []byte("context\x00")},
		{"other key", b, newAEAD(t, AES256GCM, otherKey), []byte("context")},
		{"SM4 key", b, newAEAD(t, SM4GCM, testKey(SM4GCM)), []byte("context")},
		{"kind changed", with(func(c *Blob) { c.Kind = KindDataKey }), aead, []byte("context")},
		{"algorithm changed", with(func(c *Blob) { c.Algorithm = SM4GCM }), aead, []byte("context")},
		{"version changed", with(func(c *Blob) { c.KeyVersion = 4 }), aead, []byte("context")},
		{"key id changed", with(func(c *Blob) { c.KeyID = "3f2a8c1e-0d4b-4c6e-9a7f-5b1d2e3c4a60" }), aead, []byte("context")},
		{"project changed", with(func(c *Blob) { c.ProjectID = strings.Repeat("f", 32) }), aead, []byte("context")},
		{"nonce short", with(func(c *Blob) { c.Nonce = c.Nonce[:11] }), aead, []byte("context")},
		{"sealed short", with(func(c *Blob) { c.Sealed = c.Sealed[:15] }), aead, []byte("context")},
		{"invalid header", with(func(c *Blob) { c.KeyVersion = 0 }), aead, []byte("context")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if pt, err := tt.b.Open(tt.aead, tt.aad); err != ErrOpen {
				t.Errorf("Open: got %q, %v; want ErrOpen", pt, err)
			}
		})
	}
	if _, err := b.Open(aead, []byte("context")); err != nil {
		t.Errorf("Open with the right context: %v", err)
	}
}

func TestParseRejects(t *testing.T) {
	aead := newAEAD(t, AES256GCM, testKey(AES256GCM))
	b, err := Seal(aead, header(KindData, AES256GCM, 1), []byte("x"), nil)
	if err != nil {
		t.Fatal(err)
	}
	wire := b.Marshal()
	set := func(off int, v ...byte) []byte {
		c := bytes.Clone(wire)
		copy(c[off:], v)
		return c
	}
	tests := []struct {
		name string
		blob []byte
	}{
		{"empty", nil},
		{"one byte short", wire[:Overhead-1]},
		{"version 0", set(0, 0x00)},
		{"version 2", set(0, 0x02)},
		{"Huawei-style version 2 with length", set(0, 0x02, 0x00, 0xe8, 0x00)},
		{"kind 0", set(1, 0)},
		{"kind 3", set(1, 3)},
		{"algorithm 0", set(2, 0)},
		{"algorithm 3", set(2, 3)},
		{"reserved set", set(3, 1)},
		{"key version 0", set(4, 0, 0, 0, 0)},
		{"key id upper-case", set(8, 'F')},
		{"key id without dash", set(8+8, 'a')},
		{"key id with a dash elsewhere", set(8, '-')},
		{"key id NUL", set(8+35, 0)},
		{"project upper-case", set(44, 'A')},
		{"project not hex", set(44, 'g')},
		{"project NUL", set(44+31, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Parse(tt.blob); err != ErrMalformed {
				t.Errorf("Parse: got %v, want ErrMalformed", err)
			}
		})
	}
	if _, err := Parse(wire); err != nil {
		t.Errorf("Parse of the untouched blob: %v", err)
	}
	// Every other version byte is rejected.
	for v := range 256 {
		if v != int(FormatV1) {
			if _, err := Parse(set(0, byte(v))); err != ErrMalformed {
				t.Errorf("Parse with version %#02x: got %v, want ErrMalformed", v, err)
			}
		}
	}
}

func TestParseDoesNotAlias(t *testing.T) {
	aead := newAEAD(t, SM4GCM, testKey(SM4GCM))
	b, err := Seal(aead, header(KindData, SM4GCM, 1), []byte("x"), nil)
	if err != nil {
		t.Fatal(err)
	}
	wire := b.Marshal()
	p, err := Parse(wire)
	if err != nil {
		t.Fatal(err)
	}
	clear(wire)
	if _, err := p.Open(aead, nil); err != nil {
		t.Errorf("Open after the input was cleared: %v", err)
	}
}

func TestSealRejectsBadHeader(t *testing.T) {
	aead := newAEAD(t, AES256GCM, testKey(AES256GCM))
	good := header(KindData, AES256GCM, 1)
	with := func(f func(*Blob)) Blob {
		c := good
		f(&c)
		return c
	}
	for name, h := range map[string]Blob{
		"zero":       {},
		"kind":       with(func(b *Blob) { b.Kind = 9 }),
		"algorithm":  with(func(b *Blob) { b.Algorithm = 9 }),
		"version 0":  with(func(b *Blob) { b.KeyVersion = 0 }),
		"key id":     with(func(b *Blob) { b.KeyID = "not-a-key" }),
		"project id": with(func(b *Blob) { b.ProjectID = "0123" }),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Seal(aead, h, []byte("x"), nil); err == nil {
				t.Error("Seal: got nil error, want an error")
			}
		})
	}
	if _, err := sealWithNonce(aead, good, make([]byte, 11), []byte("x"), nil); err == nil {
		t.Error("sealWithNonce with an 11-byte nonce: got nil error")
	}
	short, err := cipher.NewGCMWithTagSize(mustBlock(t), 12)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Seal(short, good, []byte("x"), nil); err == nil {
		t.Error("Seal with a 12-byte tag AEAD: got nil error")
	}
}

func mustBlock(t *testing.T) cipher.Block {
	b, err := aes.NewCipher(testKey(AES256GCM))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNewAEADKeySizes(t *testing.T) {
	tests := []struct {
		alg Algorithm
		n   int
		ok  bool
	}{
		{AES256GCM, 32, true}, {AES256GCM, 16, false}, {AES256GCM, 24, false}, {AES256GCM, 0, false},
		{SM4GCM, 16, true}, {SM4GCM, 32, false}, {SM4GCM, 0, false},
		{0, 32, false}, {3, 16, false},
	}
	for _, tt := range tests {
		_, err := NewAEAD(tt.alg, make([]byte, tt.n))
		if (err == nil) != tt.ok {
			t.Errorf("NewAEAD(%d, %d bytes): got error %v, want ok %v", tt.alg, tt.n, err, tt.ok)
		}
	}
}

// FuzzParse checks that Parse never panics, that what it accepts marshals
// back to exactly the input, and that its Header is the input's first
// HeaderSize bytes. The seeds are the blobs of testdata/blob.json and
// variants of them.
func FuzzParse(f *testing.F) {
	var seeds [][]byte
	for _, v := range loadBlobVectors(f) {
		b := mustHex(f, v.Blob)
		seeds = append(seeds, b, b[:len(b)-1], b[:HeaderSize], append(bytes.Clone(b), 0))
		other := bytes.Clone(b)
		other[1] ^= 3 // the other kind
		seeds = append(seeds, other)
	}
	seeds = append(seeds, nil, []byte{FormatV1})
	if len(seeds) == 0 {
		f.Fatal("FuzzParse has no seed corpus")
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		b, err := Parse(in)
		if err != nil {
			if err != ErrMalformed {
				t.Fatalf("Parse: got %v, want ErrMalformed", err)
			}
			return
		}
		if out := b.Marshal(); !bytes.Equal(out, in) {
			t.Fatalf("Marshal(Parse(x)) != x:\ngot  %x\nwant %x", out, in)
		}
		if h := b.Header(); !bytes.Equal(h, in[:HeaderSize]) {
			t.Fatalf("Header: got %x, want %x", h, in[:HeaderSize])
		}
		again, err := Parse(b.Marshal())
		if err != nil {
			t.Fatalf("re-Parse: %v", err)
		}
		if again.KeyID != b.KeyID || again.ProjectID != b.ProjectID || again.KeyVersion != b.KeyVersion {
			t.Fatalf("re-Parse: got %+v, want %+v", again, b)
		}
	})
}
