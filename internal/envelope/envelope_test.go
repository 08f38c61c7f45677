package envelope

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"testing"

	"github.com/emmansun/gmsm/sm4"
)

var update = flag.Bool("update", false, "rewrite testdata/kat.json")

func testHeader(c Cipher, shift uint8) *Header {
	h := &Header{Cipher: c, ChunkShift: shift, KeyID: "0d0466b0-e727-4d9c-b35d-f84bb474a37f", WrappedKey: bytes.Repeat([]byte{0x02, 0x00, 0x98}, 40)}
	for i := range h.Salt {
		h.Salt[i] = byte(i)
	}
	return h
}

func testKey() []byte {
	k := make([]byte, DataKeySize)
	for i := range k {
		k[i] = byte(0xa0 + i)
	}
	return k
}

func open(t testing.TB, env, key []byte) ([]byte, error) {
	t.Helper()
	r, _, err := NewReader(bytes.NewReader(env), func(*Header) ([]byte, error) { return bytes.Clone(key), nil })
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

func TestRoundTrip(t *testing.T) {
	const shift = 10
	size := 1 << shift
	for _, c := range []Cipher{AES256GCM, SM4GCM} {
		for _, n := range []int{0, 1, size - 1, size, size + 1, 3 * size, 3*size + 7} {
			pt := bytes.Repeat([]byte{byte(n)}, n)
			env, err := Seal(testHeader(c, shift), testKey(), pt)
			if err != nil {
				t.Fatal(err)
			}
			chunks := n/size + 1
			if want := len(mustHeader(t, c, shift)) + n + chunks*tagSize; len(env) != want {
				t.Errorf("%v %d bytes: envelope of %d bytes, want %d", c, n, len(env), want)
			}
			got, err := open(t, env, testKey())
			if err != nil || !bytes.Equal(got, pt) {
				t.Errorf("%v %d bytes: got %d bytes, %v", c, n, len(got), err)
			}
		}
	}
}

func mustHeader(t testing.TB, c Cipher, shift uint8) []byte {
	b, err := testHeader(c, shift).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// chunks splits an envelope of chunk-size exponent shift into its header
// and chunks.
func chunks(t *testing.T, env []byte, c Cipher, shift uint8) ([]byte, [][]byte) {
	hl := len(mustHeader(t, c, shift))
	var cs [][]byte
	for p := env[hl:]; len(p) > 0; {
		n := min(len(p), 1<<shift+tagSize)
		cs = append(cs, p[:n])
		p = p[n:]
	}
	return env[:hl], cs
}

func join(h []byte, cs ...[]byte) []byte {
	return bytes.Join(append([][]byte{h}, cs...), nil)
}

// TestTamper checks that truncation, reordering, duplication, dropping,
// trailing bytes, any flipped bit and a wrong key are all detected.
func TestTamper(t *testing.T) {
	const shift = 10
	pt := make([]byte, 3<<shift+100)
	for i := range pt {
		pt[i] = byte(i * 7)
	}
	env, err := Seal(testHeader(AES256GCM, shift), testKey(), pt)
	if err != nil {
		t.Fatal(err)
	}
	h, cs := chunks(t, env, AES256GCM, shift)
	if len(cs) != 4 {
		t.Fatalf("%d chunks, want 4", len(cs))
	}
	cases := map[string][]byte{
		"reordered":            join(h, cs[1], cs[0], cs[2], cs[3]),
		"duplicated":           join(h, cs[0], cs[0], cs[1], cs[2], cs[3]),
		"dropped":              join(h, cs[0], cs[2], cs[3]),
		"final dropped":        join(h, cs[0], cs[1], cs[2]),
		"final duplicated":     join(h, cs[0], cs[1], cs[2], cs[3], cs[3]),
		"trailing byte":        append(bytes.Clone(env), 0),
		"cut in the last":      env[:len(env)-1],
		"cut to the header":    h,
		"spliced from another": join(h, cs[0], mustSealChunk(t, pt, 1), cs[2], cs[3]),
	}
	for name, b := range cases {
		if _, err := open(t, b, testKey()); !errors.Is(err, ErrAuth) {
			t.Errorf("%s: got %v, want ErrAuth", name, err)
		}
	}
	// Every truncation fails.
	for n := 0; n < len(env); n++ {
		if _, err := open(t, env[:n], testKey()); err == nil {
			t.Fatalf("truncated to %d of %d bytes: no error", n, len(env))
		}
	}
	// Every flipped bit fails (of a smaller envelope, one bit per byte).
	small, err := Seal(testHeader(SM4GCM, shift), testKey(), pt[:1500])
	if err != nil {
		t.Fatal(err)
	}
	for i := range small {
		b := bytes.Clone(small)
		b[i] ^= 1 << (i % 8)
		if _, err := open(t, b, testKey()); err == nil {
			t.Fatalf("bit flipped in byte %d: no error", i)
		}
	}
	wrong := testKey()
	wrong[0] ^= 1
	if _, err := open(t, env, wrong); !errors.Is(err, ErrAuth) {
		t.Errorf("wrong data key: got %v, want ErrAuth", err)
	}
}

// mustSealChunk seals chunk i of pt under another salt: a chunk of
// another file at the same position.
func mustSealChunk(t *testing.T, pt []byte, i int) []byte {
	h := testHeader(AES256GCM, 10)
	h.Salt[0] ^= 0xff
	env, err := Seal(h, testKey(), pt)
	if err != nil {
		t.Fatal(err)
	}
	_, cs := chunks(t, env, AES256GCM, 10)
	return cs[i]
}

func TestHeaderRefused(t *testing.T) {
	good := mustHeader(t, AES256GCM, 16)
	mod := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	cases := map[string][]byte{
		"empty":          nil,
		"magic":          mod(func(b []byte) []byte { b[0] = 'X'; return b }),
		"version 2":      mod(func(b []byte) []byte { b[7] = 2; return b }),
		"cipher 0":       mod(func(b []byte) []byte { b[8] = 0; return b }),
		"cipher 3":       mod(func(b []byte) []byte { b[8] = 3; return b }),
		"chunk 9":        mod(func(b []byte) []byte { b[9] = 9; return b }),
		"chunk 25":       mod(func(b []byte) []byte { b[9] = 25; return b }),
		"key id 0":       append(mod(func(b []byte) []byte { return b[:26] }), 0, 0, 1, 1),
		"key id space":   mod(func(b []byte) []byte { b[27] = ' '; return b }),
		"wrapped 0":      mod(func(b []byte) []byte { n := 27 + int(b[26]); b[n], b[n+1] = 0, 0; return b[:n+2] }),
		"wrapped 4097":   mod(func(b []byte) []byte { n := 27 + int(b[26]); binary.BigEndian.PutUint16(b[n:], 4097); return b }),
		"short":          good[:len(good)-1],
		"key id too big": mod(func(b []byte) []byte { b[26] = 200; return b }),
	}
	for name, b := range cases {
		if _, _, err := ReadHeader(bytes.NewReader(b)); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: got %v, want ErrFormat", name, err)
		}
	}
	h, raw, err := ReadHeader(bytes.NewReader(append(bytes.Clone(good), "payload"...)))
	if err != nil || !bytes.Equal(raw, good) || h.KeyID != testHeader(AES256GCM, 16).KeyID {
		t.Errorf("good header: %+v %v", h, err)
	}
}

// referenceSeal seals pt as the package documentation describes, written
// from the documentation alone.
func referenceSeal(h *Header, dataKey, pt []byte) []byte {
	var hb []byte
	hb = append(hb, "KMSDENV"...)
	hb = append(hb, 1, byte(h.Cipher), h.ChunkShift)
	hb = append(hb, h.Salt[:]...)
	hb = append(hb, byte(len(h.KeyID)))
	hb = append(hb, h.KeyID...)
	hb = append(hb, byte(len(h.WrappedKey)>>8), byte(len(h.WrappedKey)))
	hb = append(hb, h.WrappedKey...)
	name, size := "AES_256_GCM", 32
	if h.Cipher == SM4GCM {
		name, size = "SM4_GCM", 16
	}
	key, _ := hkdf.Key(sha256.New, dataKey, h.Salt[:], "kmsd envelope v1 "+name, size)
	var b cipher.Block
	if h.Cipher == SM4GCM {
		b, _ = sm4.NewCipher(key)
	} else {
		b, _ = aes.NewCipher(key)
	}
	g, _ := cipher.NewGCM(b)
	ad := sha256.Sum256(hb)
	out := bytes.Clone(hb)
	cs := 1 << h.ChunkShift
	for i := 0; ; i++ {
		n := min(cs, len(pt))
		last := n < cs
		nonce := make([]byte, 12)
		binary.BigEndian.PutUint64(nonce[3:], uint64(i))
		if last {
			nonce[11] = 1
		}
		out = g.Seal(out, nonce, pt[:n], ad[:])
		pt = pt[n:]
		if last {
			return out
		}
	}
}

type kat struct {
	Name       string `json:"name"`
	Cipher     string `json:"cipher"`
	ChunkShift uint8  `json:"chunk_shift"`
	Salt       string `json:"salt"`
	KeyID      string `json:"key_id"`
	WrappedKey string `json:"wrapped_key"`
	DataKey    string `json:"data_key"`
	Plaintext  string `json:"plaintext"`
	Envelope   string `json:"envelope"`
}

// TestKAT checks the writer against testdata/kat.json and an independent
// implementation of the documented format; the reader opens each vector.
func TestKAT(t *testing.T) {
	b, err := os.ReadFile("testdata/kat.json")
	if err != nil && !*update {
		t.Fatal(err)
	}
	var kats []kat
	if *update {
		for _, c := range []Cipher{AES256GCM, SM4GCM} {
			for _, n := range []int{0, 5, 1024, 2100} {
				h := testHeader(c, 10)
				pt := bytes.Repeat([]byte("kmsd"), n/4+1)[:n]
				kats = append(kats, kat{Name: fmt.Sprintf("%s, %d bytes", c, n), Cipher: c.String(), ChunkShift: 10, Salt: hex.EncodeToString(h.Salt[:]), KeyID: h.KeyID, WrappedKey: hex.EncodeToString(h.WrappedKey), DataKey: hex.EncodeToString(testKey()), Plaintext: hex.EncodeToString(pt), Envelope: hex.EncodeToString(referenceSeal(h, testKey(), pt))})
			}
		}
		out, _ := json.MarshalIndent(kats, "", "  ")
		if err := os.WriteFile("testdata/kat.json", append(out, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	} else if err := json.Unmarshal(b, &kats); err != nil {
		t.Fatal(err)
	}
	if len(kats) == 0 {
		t.Fatal("no vectors")
	}
	dec := func(s string) []byte {
		b, err := hex.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, v := range kats {
		c, err := ParseCipher(v.Cipher)
		if err != nil {
			t.Fatal(err)
		}
		h := &Header{Cipher: c, ChunkShift: v.ChunkShift, KeyID: v.KeyID, WrappedKey: dec(v.WrappedKey)}
		copy(h.Salt[:], dec(v.Salt))
		pt, want := dec(v.Plaintext), dec(v.Envelope)
		got, err := Seal(h, dec(v.DataKey), pt)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: Seal differs from the vector (%v)", v.Name, err)
		}
		if ref := referenceSeal(h, dec(v.DataKey), pt); !bytes.Equal(ref, want) {
			t.Errorf("%s: the documented construction differs from the vector", v.Name)
		}
		if back, err := open(t, want, dec(v.DataKey)); err != nil || !bytes.Equal(back, pt) {
			t.Errorf("%s: open: %v", v.Name, err)
		}
	}
}

// FuzzReadHeader checks that a header that parses marshals back to the
// same bytes.
func FuzzReadHeader(f *testing.F) {
	f.Add(mustHeader(f, AES256GCM, 16))
	f.Add(mustHeader(f, SM4GCM, 10))
	f.Add([]byte("KMSDENV\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, raw, err := ReadHeader(bytes.NewReader(b))
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v is not ErrFormat", err)
			}
			return
		}
		again, err := h.MarshalBinary()
		if err != nil || !bytes.Equal(again, raw) || !bytes.HasPrefix(b, raw) {
			t.Fatalf("round trip: %x vs %x (%v)", again, raw, err)
		}
	})
}

// FuzzOpen checks that the reader never accepts a changed envelope: what
// opens without error re-seals to exactly the input (the envelope is not
// malleable).
func FuzzOpen(f *testing.F) {
	for _, n := range []int{0, 10, 1024, 1500} {
		env, err := Seal(testHeader(AES256GCM, 10), testKey(), bytes.Repeat([]byte{'x'}, n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(env)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		pt, err := open(t, b, testKey())
		if err != nil {
			if !errors.Is(err, ErrAuth) && !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v is neither ErrAuth nor ErrFormat", err)
			}
			return
		}
		h, _, _ := ReadHeader(bytes.NewReader(b))
		again, err := Seal(h, testKey(), pt)
		if err != nil || !bytes.Equal(again, b) {
			t.Fatal("an envelope opened that does not re-seal to itself")
		}
	})
}
