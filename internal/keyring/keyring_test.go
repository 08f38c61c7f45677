package keyring

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"testing"
)

// testRoot2 is a second fixed root key for tests: bytes 0x20..0x3f.
var testRoot2 = func() []byte {
	b := make([]byte, RootKeySize)
	for i := range b {
		b[i] = byte(0x20 + i)
	}
	return b
}()

// testRoot is a fixed root key for tests: bytes 0x00..0x1f.
var testRoot = func() []byte {
	b := make([]byte, RootKeySize)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}()

var testBinding = Binding{Purpose: "key-material", ProjectID: "0a1b2c3d4e5f", KeyID: "3f2a8c1e-0d4b-4c6e-9a7f-5b1d2e3c4a6f", Version: 1}

func newTestKeyring(t testing.TB) *Keyring {
	t.Helper()
	k, err := New(testRoot)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return k
}

func TestNewRootKeySize(t *testing.T) {
	for _, n := range []int{0, 1, 16, 31, 33, 64} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			if _, err := New(make([]byte, n)); err == nil {
				t.Errorf("New(%d bytes): got nil error, want an error", n)
			}
		})
	}
	if _, err := New(nil); err == nil {
		t.Error("New(nil): got nil error, want an error")
	}
}

// sealVector is one known answer in testdata/seal.json.
type sealVector struct {
	Name      string `json:"name"`
	Root      string `json:"root"`
	Purpose   string `json:"purpose"`
	ProjectID string `json:"project_id"`
	KeyID     string `json:"key_id"`
	Version   int    `json:"version"`
	Nonce     string `json:"nonce"`
	Plaintext string `json:"plaintext"`
	Sealed    string `json:"sealed"`
}

func loadSealVectors(t *testing.T) []sealVector {
	t.Helper()
	data, err := os.ReadFile("testdata/seal.json")
	if err != nil {
		t.Fatal(err)
	}
	var vs []sealVector
	if err := json.Unmarshal(data, &vs); err != nil {
		t.Fatal(err)
	}
	if len(vs) == 0 {
		t.Fatal("testdata/seal.json holds no vectors")
	}
	return vs
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSealKnownAnswer checks Seal against pinned vectors, and checks each
// vector independently: HKDF computed from HMAC by hand (RFC 5869 §2),
// AES-256-GCM from crypto/aes and crypto/cipher, and the additional data
// spelled out as in the package documentation. Either check failing means
// the byte format changed and existing blobs would no longer open.
func TestSealKnownAnswer(t *testing.T) {
	for _, v := range loadSealVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			root, nonce, pt, want := mustHex(t, v.Root), mustHex(t, v.Nonce), mustHex(t, v.Plaintext), mustHex(t, v.Sealed)
			b := Binding{Purpose: v.Purpose, ProjectID: v.ProjectID, KeyID: v.KeyID, Version: v.Version}
			k, err := New(root)
			if err != nil {
				t.Fatal(err)
			}
			got, err := k.sealWithNonce(1, b, nonce, pt)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("sealWithNonce:\ngot  %x\nwant %x", got, want)
			}
			if ind := independentSeal(t, root, b, nonce, pt); !bytes.Equal(ind, want) {
				t.Errorf("independent AES-256-GCM:\ngot  %x\nwant %x", ind, want)
			}
			opened, err := k.Open(b, want)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if !bytes.Equal(opened, pt) {
				t.Errorf("Open: got %x, want %x", opened, pt)
			}
		})
	}
}

// independentSeal computes a version 1 blob without the package's code.
func independentSeal(t *testing.T, root []byte, b Binding, nonce, pt []byte) []byte {
	t.Helper()
	// HKDF-SHA256 with an empty salt: PRK = HMAC(zeros, root);
	// T(1) = HMAC(PRK, info || 0x01) is the whole 32-byte key.
	prk := hmacSHA256(make([]byte, sha256.Size), root)
	sealKey := hmacSHA256(prk, []byte("kmsd keyring seal key v1"), []byte{0x01})

	lp := func(s string) []byte {
		n := len(s)
		return append([]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}, s...)
	}
	v := uint64(int64(b.Version))
	ad := bytes.Join([][]byte{
		{0, 0, 0, 20}, []byte("kmsd keyring seal v1"),
		{0x01},
		lp(b.Purpose), lp(b.ProjectID), lp(b.KeyID),
		{byte(v >> 56), byte(v >> 48), byte(v >> 40), byte(v >> 32), byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)},
	}, nil)

	block, err := aes.NewCipher(sealKey)
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	return append(append([]byte{0x01}, nonce...), gcm.Seal(nil, nonce, pt, ad)...)
}

func hmacSHA256(key []byte, parts ...[]byte) []byte {
	h := hmac.New(sha256.New, key)
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

func TestSealOpenRoundTrip(t *testing.T) {
	k := newTestKeyring(t)
	tests := []struct {
		name string
		b    Binding
		pt   []byte
	}{
		{"key material", testBinding, bytes.Repeat([]byte{0xa5}, 32)},
		{"access key secret", Binding{Purpose: "access-key-secret", KeyID: "HPUAXXXXXXXXXXXXXXXX"}, []byte("secret access key")},
		{"empty plaintext", testBinding, []byte{}},
		{"nil plaintext", testBinding, nil},
		{"large plaintext", testBinding, bytes.Repeat([]byte("0123456789"), 10000)},
		{"negative version", Binding{Purpose: "p", Version: -1}, []byte("x")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orig := bytes.Clone(tt.pt)
			sealed, err := k.Seal(tt.b, tt.pt)
			if err != nil {
				t.Fatalf("Seal: %v", err)
			}
			if !bytes.Equal(tt.pt, orig) {
				t.Error("Seal modified its plaintext")
			}
			if got, want := len(sealed), len(tt.pt)+29; got != want {
				t.Errorf("len(sealed) = %d, want %d", got, want)
			}
			if sealed[0] != 0x01 {
				t.Errorf("sealed[0] = %#x, want 0x01", sealed[0])
			}
			got, err := k.Open(tt.b, sealed)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if !bytes.Equal(got, tt.pt) {
				t.Errorf("Open: got %x, want %x", got, tt.pt)
			}
			// The plaintext must not alias the sealed blob.
			if len(got) > 0 {
				copyOfSealed := bytes.Clone(sealed)
				got[0] ^= 0xff
				if !bytes.Equal(sealed, copyOfSealed) {
					t.Error("Open's result aliases the sealed blob")
				}
			}
		})
	}
}

func TestSealFreshNonce(t *testing.T) {
	k := newTestKeyring(t)
	a, err := k.Seal(testBinding, []byte("same"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := k.Seal(testBinding, []byte("same"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a[1:13], b[1:13]) {
		t.Errorf("two Seals used the same nonce %x", a[1:13])
	}
}

func TestSealRejectsBadBinding(t *testing.T) {
	k := newTestKeyring(t)
	if _, err := k.Seal(Binding{KeyID: "k", Version: 1}, []byte("x")); err == nil {
		t.Error("Seal with empty Purpose: got nil error, want an error")
	}
	if _, err := k.sealWithNonce(1, testBinding, make([]byte, 11), []byte("x")); err == nil {
		t.Error("sealWithNonce with 11-byte nonce: got nil error, want an error")
	}
}

func TestOpenTamper(t *testing.T) {
	k := newTestKeyring(t)
	sealed, err := k.Seal(testBinding, []byte("thirty-two bytes of key material"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range len(sealed) * 8 {
		tampered := bytes.Clone(sealed)
		tampered[i/8] ^= 1 << (i % 8)
		if _, err := k.Open(testBinding, tampered); err != ErrOpen {
			t.Errorf("Open with bit %d flipped: got %v, want ErrOpen", i, err)
		}
	}
	for _, extra := range [][]byte{{0}, {0x01}, make([]byte, 16)} {
		if _, err := k.Open(testBinding, append(bytes.Clone(sealed), extra...)); err != ErrOpen {
			t.Errorf("Open with %d bytes appended: got %v, want ErrOpen", len(extra), err)
		}
	}
}

func TestOpenTruncated(t *testing.T) {
	k := newTestKeyring(t)
	for _, pt := range [][]byte{nil, []byte("x"), bytes.Repeat([]byte("k"), 32)} {
		sealed, err := k.Seal(testBinding, pt)
		if err != nil {
			t.Fatal(err)
		}
		for n := range len(sealed) {
			if _, err := k.Open(testBinding, sealed[:n]); err != ErrOpen {
				t.Errorf("Open of first %d of %d bytes: got %v, want ErrOpen", n, len(sealed), err)
			}
			if _, err := k.Open(testBinding, sealed[len(sealed)-n:]); err != ErrOpen {
				t.Errorf("Open of last %d of %d bytes: got %v, want ErrOpen", n, len(sealed), err)
			}
		}
	}
}

func TestOpenUnknownVersion(t *testing.T) {
	k := newTestKeyring(t)
	sealed, err := k.Seal(testBinding, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	for v := range 256 {
		if v == 0x01 {
			continue
		}
		blob := bytes.Clone(sealed)
		blob[0] = byte(v)
		if _, err := k.Open(testBinding, blob); err != ErrOpen {
			t.Errorf("Open with version %#02x: got %v, want ErrOpen", v, err)
		}
	}
}

func TestOpenWrongBinding(t *testing.T) {
	k := newTestKeyring(t)
	sealed, err := k.Seal(testBinding, []byte("key material"))
	if err != nil {
		t.Fatal(err)
	}
	with := func(f func(*Binding)) Binding {
		b := testBinding
		f(&b)
		return b
	}
	tests := []struct {
		name string
		b    Binding
	}{
		{"purpose", with(func(b *Binding) { b.Purpose = "access-key-secret" })},
		{"empty purpose", with(func(b *Binding) { b.Purpose = "" })},
		{"project", with(func(b *Binding) { b.ProjectID = "ffffffffffff" })},
		{"empty project", with(func(b *Binding) { b.ProjectID = "" })},
		{"key id", with(func(b *Binding) { b.KeyID = "3f2a8c1e-0d4b-4c6e-9a7f-5b1d2e3c4a60" })},
		{"version", with(func(b *Binding) { b.Version = 2 })},
		{"version zero", with(func(b *Binding) { b.Version = 0 })},
		{"project and key id swapped", with(func(b *Binding) { b.ProjectID, b.KeyID = b.KeyID, b.ProjectID })},
		{"boundary moved between project and key id", with(func(b *Binding) { b.ProjectID, b.KeyID = b.ProjectID+b.KeyID[:1], b.KeyID[1:] })},
		{"zero binding", Binding{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := k.Open(tt.b, sealed); err != ErrOpen {
				t.Errorf("Open: got %v, want ErrOpen", err)
			}
		})
	}
}

func TestOpenWrongRootKey(t *testing.T) {
	k := newTestKeyring(t)
	sealed, err := k.Seal(testBinding, []byte("key material"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range RootKeySize {
		other := bytes.Clone(testRoot)
		other[i] ^= 0x80
		k2, err := New(other)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := k2.Open(testBinding, sealed); err != ErrOpen {
			t.Errorf("Open under root key with byte %d changed: got %v, want ErrOpen", i, err)
		}
	}
}

func TestNewDoesNotRetainRoot(t *testing.T) {
	root := bytes.Clone(testRoot)
	k, err := New(root)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := k.Seal(testBinding, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	clear(root)
	if _, err := k.Open(testBinding, sealed); err != nil {
		t.Errorf("Open after the caller cleared the root key: %v", err)
	}
}

// TestDeriveKnownAnswer pins Derive, so that a changed label or derivation,
// which would invalidate every derived key in use, fails loudly.
func TestDeriveKnownAnswer(t *testing.T) {
	k := newTestKeyring(t)
	tests := []struct {
		label string
		n     int
		want  string
	}{
		{"kmsd token signing v1", 32, "51f8321471f71aa14192eb151de3db57a4cd6b55141590b7136972a04ba97d3e"},
		{"", 16, "899fe55d2fe4940a3f9425a8680e6be1"},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			if got := hex.EncodeToString(k.Derive(tt.label, tt.n)); got != tt.want {
				t.Errorf("Derive(%q, %d) = %s, want %s", tt.label, tt.n, got, tt.want)
			}
			// Independently: kdk = HKDF-SHA256(root, empty salt, derive
			// label), then T(1) = HMAC(kdk, label || 0x01).
			prk := hmacSHA256(make([]byte, sha256.Size), testRoot)
			kdk := hmacSHA256(prk, []byte("kmsd keyring derive key v1"), []byte{0x01})
			if got := hex.EncodeToString(hmacSHA256(kdk, []byte(tt.label), []byte{0x01})[:tt.n]); got != tt.want {
				t.Errorf("independent HKDF(%q, %d) = %s, want %s", tt.label, tt.n, got, tt.want)
			}
		})
	}
}

func TestDerive(t *testing.T) {
	k := newTestKeyring(t)
	k2 := newTestKeyring(t)
	a := k.Derive("kmsd token signing v1", 32)
	if b := k2.Derive("kmsd token signing v1", 32); !bytes.Equal(a, b) {
		t.Errorf("Derive is not deterministic: %x then %x", a, b)
	}

	other := bytes.Clone(testRoot)
	other[0] ^= 1
	k3, err := New(other)
	if err != nil {
		t.Fatal(err)
	}
	if c := k3.Derive("kmsd token signing v1", 32); bytes.Equal(a, c) {
		t.Error("Derive gives the same key under different root keys")
	}

	seen := map[string]string{}
	for _, label := range []string{"", "a", "b", "kmsd token signing v1", "kmsd token signing v2", "kmsd keyring seal key v1", "kmsd keyring derive key v1"} {
		key := string(k.Derive(label, 32))
		if prev, ok := seen[key]; ok {
			t.Errorf("Derive(%q) equals Derive(%q)", label, prev)
		}
		seen[key] = label
	}

	// No label yields the sealing key: a blob sealed under a key derived
	// with the sealing key's HKDF label must not open.
	for _, label := range []string{"kmsd keyring seal key v1", "kmsd keyring derive key v1"} {
		sub, err := New(k.Derive(label, 32))
		if err != nil {
			t.Fatal(err)
		}
		sealed, err := sub.Seal(testBinding, []byte("x"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := k.Open(testBinding, sealed); err != ErrOpen {
			t.Errorf("blob sealed under Derive(%q) opened under the keyring: %v", label, err)
		}
	}

	for _, n := range []int{1, 16, 64, 8160} {
		if got := len(k.Derive("len", n)); got != n {
			t.Errorf("len(Derive(_, %d)) = %d", n, got)
		}
	}
	// A shorter key is a prefix of a longer one under the same label
	// (HKDF-Expand); different uses must therefore use different labels.
	if !bytes.Equal(k.Derive("len", 16), k.Derive("len", 64)[:16]) {
		t.Error("Derive(_, 16) is not a prefix of Derive(_, 64)")
	}
}

func TestDerivePanicsOnBadLength(t *testing.T) {
	k := newTestKeyring(t)
	for _, n := range []int{-1, 0, 8161} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("Derive(_, %d) did not panic", n)
				}
			}()
			k.Derive("x", n)
		})
	}
}

func TestConcurrentUse(t *testing.T) {
	k := newTestKeyring(t)
	errc := make(chan error, 8)
	for i := range 8 {
		go func() {
			b := testBinding
			b.Version = i
			for range 100 {
				sealed, err := k.Seal(b, []byte("x"))
				if err != nil {
					errc <- err
					return
				}
				if _, err := k.Open(b, sealed); err != nil {
					errc <- err
					return
				}
				k.Derive("kmsd token signing v1", 32)
			}
			errc <- nil
		}()
	}
	for range 8 {
		if err := <-errc; err != nil {
			t.Error(err)
		}
	}
}

// FuzzOpen checks that Open never panics and only ever returns ErrOpen, and
// that a blob it accepts is exactly what Seal makes from the same
// generation, binding, nonce and plaintext: no other byte string opens
// (non-malleability), in either format version.
func FuzzOpen(f *testing.F) {
	k, err := NewGenerations(2, Generation{Number: 1, Root: testRoot}, Generation{Number: 2, Root: testRoot2})
	if err != nil {
		f.Fatal(err)
	}
	nonce := bytes.Repeat([]byte{0x42}, nonceSize)
	valid, err := k.sealWithNonce(1, testBinding, nonce, []byte("thirty-two bytes of key material"))
	if err != nil {
		f.Fatal(err)
	}
	empty, err := k.sealWithNonce(1, testBinding, nonce, nil)
	if err != nil {
		f.Fatal(err)
	}
	validV2, err := k.sealWithNonce(2, testBinding, nonce, []byte("thirty-two bytes of key material"))
	if err != nil {
		f.Fatal(err)
	}
	version2 := bytes.Clone(valid)
	version2[0] = 0x02
	gen1InV2 := bytes.Clone(validV2)
	gen1InV2[4] = 0x01
	gen3 := bytes.Clone(validV2)
	gen3[4] = 0x03
	seeds := [][]byte{
		valid,
		empty,
		valid[:len(valid)-1],
		empty[:28],
		version2,
		validV2,
		validV2[:len(validV2)-1],
		gen1InV2,
		gen3,
		{},
		{0x01},
		{0x02, 0, 0, 0, 2},
		append(bytes.Clone(valid), 0),
	}
	if len(seeds) == 0 {
		f.Fatal("FuzzOpen has no seed corpus")
	}
	for _, s := range seeds {
		f.Add(s, testBinding.Purpose, testBinding.ProjectID, testBinding.KeyID, testBinding.Version)
	}
	f.Add(valid, "", "", "", 0)
	f.Add(valid, "key-material", "", testBinding.ProjectID+testBinding.KeyID, 1)

	f.Fuzz(func(t *testing.T, sealed []byte, purpose, project, keyID string, version int) {
		b := Binding{Purpose: purpose, ProjectID: project, KeyID: keyID, Version: version}
		pt, err := k.Open(b, sealed)
		if err != nil {
			if err != ErrOpen {
				t.Fatalf("Open: got %v, want ErrOpen", err)
			}
			return
		}
		gen, err := GenerationOf(sealed)
		if err != nil {
			t.Fatalf("GenerationOf of an opened blob: %v", err)
		}
		hdr := 1
		if gen != 1 {
			hdr += genSize
		}
		again, err := k.sealWithNonce(gen, b, sealed[hdr:hdr+nonceSize], pt)
		if err != nil {
			t.Fatalf("sealWithNonce of an opened blob: %v", err)
		}
		if !bytes.Equal(again, sealed) {
			t.Fatalf("opened blob is not canonical:\ngot  %x\nwant %x", sealed, again)
		}
	})
}
