package keyring

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"testing"
)

func newTwoGenerations(t testing.TB, current uint32) *Keyring {
	t.Helper()
	k, err := NewGenerations(current, Generation{Number: 1, Root: testRoot}, Generation{Number: 2, Root: testRoot2})
	if err != nil {
		t.Fatalf("NewGenerations: %v", err)
	}
	return k
}

// sealV2KAT is the known answer of format version 2: generation 2 with
// root key testRoot2 (0x20..0x3f), testBinding, nonce 0x00..0x0b and the
// plaintext "thirty-two bytes of key material".
const sealV2KAT = "0200000002000102030405060708090a0b06c5e4cc3cf19c7a0b4cd4586387dab21b7a2787c1097d1e9d1ef46b1f20765d25ecb737f733e4fe5c5fc161884cb3f9"

func TestSealV2KnownAnswer(t *testing.T) {
	k := newTwoGenerations(t, 2)
	nonce, _ := hex.DecodeString("000102030405060708090a0b")
	pt := []byte("thirty-two bytes of key material")
	got, err := k.sealWithNonce(2, testBinding, nonce, pt)
	if err != nil {
		t.Fatal(err)
	}
	// Recompute with Go's own HKDF and AES-GCM, as the package
	// documentation describes format version 2.
	sealKey, err := hkdf.Key(sha256.New, testRoot2, nil, "kmsd keyring seal key v1", 32)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := aes.NewCipher(sealKey)
	aead, _ := cipher.NewGCM(block)
	var ad []byte
	str := func(s string) { ad = binary.BigEndian.AppendUint32(ad, uint32(len(s))); ad = append(ad, s...) }
	str("kmsd keyring seal v2")
	ad = append(ad, 0x02, 0, 0, 0, 2)
	str(testBinding.Purpose)
	str(testBinding.ProjectID)
	str(testBinding.KeyID)
	ad = binary.BigEndian.AppendUint64(ad, uint64(testBinding.Version))
	want := append([]byte{0x02, 0, 0, 0, 2}, nonce...)
	want = aead.Seal(want, nonce, pt, ad)
	if !bytes.Equal(got, want) {
		t.Fatalf("sealWithNonce(2):\ngot  %x\nwant %x", got, want)
	}
	if hex.EncodeToString(got) != sealV2KAT {
		t.Errorf("sealWithNonce(2):\ngot  %x\nwant %s", got, sealV2KAT)
	}
	if len(got) != len(pt)+overheadV2 || overheadV2 != 33 {
		t.Errorf("format 2 blob is %d bytes for %d of plaintext, want 33 more", len(got), len(pt))
	}
}

func TestGenerations(t *testing.T) {
	old := newTestKeyring(t)
	v1, err := old.Seal(testBinding, []byte("sealed by generation 1"))
	if err != nil {
		t.Fatal(err)
	}
	if v1[0] != 0x01 {
		t.Fatalf("generation 1 sealed format %#x, want 0x01", v1[0])
	}
	k := newTwoGenerations(t, 1)
	// Generation 1 keeps sealing format version 1, which older kmsd opens.
	if b, _ := k.Seal(testBinding, []byte("x")); b[0] != 0x01 {
		t.Errorf("Seal under generation 1: format %#x, want 0x01", b[0])
	}
	if err := k.SetCurrent(2); err != nil {
		t.Fatal(err)
	}
	if err := k.SetCurrent(3); err == nil {
		t.Error("SetCurrent(3) without generation 3: got nil error")
	}
	v2, err := k.Seal(testBinding, []byte("sealed by generation 2"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		sealed []byte
		gen    uint32
		pt     string
	}{{v1, 1, "sealed by generation 1"}, {v2, 2, "sealed by generation 2"}} {
		if g, err := GenerationOf(tc.sealed); err != nil || g != tc.gen {
			t.Errorf("GenerationOf: got %d, %v; want %d", g, err, tc.gen)
		}
		pt, err := k.Open(testBinding, tc.sealed)
		if err != nil || string(pt) != tc.pt {
			t.Errorf("Open generation %d: got %q, %v", tc.gen, pt, err)
		}
	}
	// A keyring without generation 2 cannot open its blobs.
	if _, err := old.Open(testBinding, v2); err != ErrOpen {
		t.Errorf("Open of generation 2 without it: got %v, want ErrOpen", err)
	}
	// Only generation 2: generation 1's blobs no longer open.
	only2, err := NewGenerations(2, Generation{Number: 2, Root: testRoot2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := only2.Open(testBinding, v1); err != ErrOpen {
		t.Errorf("Open of generation 1 without it: got %v, want ErrOpen", err)
	}
	// Reseal moves a blob to generation 2, bound as before.
	re, err := k.Reseal(2, testBinding, v1)
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := only2.Open(testBinding, re); err != nil || string(pt) != "sealed by generation 1" {
		t.Errorf("Open of a resealed blob: got %q, %v", pt, err)
	}
	if same, err := k.Reseal(2, testBinding, re); err != nil || !bytes.Equal(same, re) {
		t.Errorf("Reseal of a blob of the target generation: got a new blob or %v", err)
	}
	other := testBinding
	other.Version++
	if _, err := k.Reseal(2, other, v1); err != ErrOpen {
		t.Errorf("Reseal with another binding: got %v, want ErrOpen", err)
	}
	// The blob's generation is authenticated: renumbering it fails.
	renum := bytes.Clone(v2)
	renum[4] = 3
	k3, err := NewGenerations(3, Generation{Number: 2, Root: testRoot2}, Generation{Number: 3, Root: testRoot2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k3.Open(testBinding, renum); err != ErrOpen {
		t.Errorf("Open of a renumbered blob: got %v, want ErrOpen", err)
	}
}

func TestNewGenerationsRejects(t *testing.T) {
	for name, tc := range map[string]struct {
		current uint32
		gens    []Generation
	}{
		"zero":            {0, []Generation{{0, testRoot}}},
		"duplicate":       {1, []Generation{{1, testRoot}, {1, testRoot2}}},
		"current missing": {2, []Generation{{1, testRoot}}},
		"short root":      {1, []Generation{{1, testRoot[:31]}}},
		"none":            {1, nil},
	} {
		if _, err := NewGenerations(tc.current, tc.gens...); err == nil {
			t.Errorf("%s: got nil error", name)
		}
	}
}

// TestDeriveStableAcrossGenerations: the derivation key sealed by
// generation 1 and opened by a keyring whose current generation is 2 (or
// that holds only generation 2) derives what generation 1 derived.
func TestDeriveStableAcrossGenerations(t *testing.T) {
	b := Binding{Purpose: "derivation-key"}
	old := newTestKeyring(t)
	want := old.Derive("kmsd token signing v1", 32)
	sealed, err := old.SealDerivationKey(b)
	if err != nil {
		t.Fatal(err)
	}
	k := newTwoGenerations(t, 2)
	if bytes.Equal(k.Derive("kmsd token signing v1", 32), want) {
		t.Fatal("generation 2's own derivation key equals generation 1's")
	}
	if err := k.OpenDerivationKey(b, sealed); err != nil {
		t.Fatal(err)
	}
	if got := k.Derive("kmsd token signing v1", 32); !bytes.Equal(got, want) {
		t.Errorf("Derive after OpenDerivationKey: got %x, want %x", got, want)
	}
	re, err := k.Reseal(2, b, sealed)
	if err != nil {
		t.Fatal(err)
	}
	only2, _ := NewGenerations(2, Generation{Number: 2, Root: testRoot2})
	if err := only2.OpenDerivationKey(b, re); err != nil {
		t.Fatal(err)
	}
	if got := only2.Derive("kmsd token signing v1", 32); !bytes.Equal(got, want) {
		t.Errorf("Derive with only generation 2: got %x, want %x", got, want)
	}
	k2 := newTwoGenerations(t, 2)
	if err := k2.UseGenerationDerivationKey(1); err != nil {
		t.Fatal(err)
	}
	if got := k2.Derive("kmsd token signing v1", 32); !bytes.Equal(got, want) {
		t.Errorf("Derive after UseGenerationDerivationKey(1): got %x, want %x", got, want)
	}
	if err := k2.OpenDerivationKey(b, []byte("junk")); err == nil {
		t.Error("OpenDerivationKey of junk: got nil error")
	}
}

func TestCheckValueGenerations(t *testing.T) {
	k := newTwoGenerations(t, 1)
	v1 := k.CheckValue()
	if len(v1) != CheckValueSize || v1[0] != 0x01 {
		t.Fatalf("CheckValue of generation 1: %x", v1)
	}
	k.SetCurrent(2)
	v2 := k.CheckValue()
	want := append([]byte{0x02, 0, 0, 0, 2}, k.CheckDigest(2)...)
	if !bytes.Equal(v2, want) {
		t.Fatalf("CheckValue of generation 2: got %x, want %x", v2, want)
	}
	d, err := RootCheckDigest(testRoot2)
	if err != nil || !bytes.Equal(d, k.CheckDigest(2)) {
		t.Errorf("RootCheckDigest: got %x, %v; want %x", d, err, k.CheckDigest(2))
	}
	for _, v := range [][]byte{v1, v2} {
		if err := k.VerifyCheckValue(v); err != nil {
			t.Errorf("VerifyCheckValue(%x): %v", v, err)
		}
	}
	only1 := newTestKeyring(t)
	if err := only1.VerifyCheckValue(v2); !errors.Is(err, ErrCheckMismatch) {
		t.Errorf("VerifyCheckValue of generation 2 without it: got %v, want ErrCheckMismatch", err)
	}
	bad := bytes.Clone(v2)
	bad[4] = 1 // generation 1 in format version 2
	if err := k.VerifyCheckValue(bad); !errors.Is(err, ErrCheckMalformed) {
		t.Errorf("VerifyCheckValue of generation 1 in format 2: got %v, want ErrCheckMalformed", err)
	}
}

// generationsKAT is the table {1 retired, check 0x11…}, {2 active, check
// 0x22…}, byte by byte as the package documentation describes it.
var generationsKAT = "01" +
	"00000001" + "02" + "1111111111111111111111111111111111111111111111111111111111111111" +
	"00000002" + "01" + "2222222222222222222222222222222222222222222222222222222222222222"

func TestGenerationTable(t *testing.T) {
	recs := []GenerationRecord{
		{Number: 1, Retired: true, Check: bytes.Repeat([]byte{0x11}, 32)},
		{Number: 2, Check: bytes.Repeat([]byte{0x22}, 32)},
	}
	b, err := MarshalGenerations(recs)
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(b) != generationsKAT {
		t.Fatalf("MarshalGenerations:\ngot  %x\nwant %s", b, generationsKAT)
	}
	got, err := ParseGenerations(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Number != 1 || !got[0].Retired || got[1].Number != 2 || got[1].Retired || !bytes.Equal(got[1].Check, recs[1].Check) {
		t.Errorf("ParseGenerations: got %+v", got)
	}
	for name, bad := range map[string][]GenerationRecord{
		"empty":      nil,
		"zero":       {{Number: 0, Check: recs[0].Check}},
		"decreasing": {recs[1], recs[0]},
		"short":      {{Number: 1, Check: []byte{1}}},
	} {
		if _, err := MarshalGenerations(bad); err == nil {
			t.Errorf("MarshalGenerations %s: got nil error", name)
		}
	}
}

// FuzzParseGenerations checks that ParseGenerations never panics, returns
// only ErrGenerationsMalformed, and that what it accepts marshals back to
// the same bytes.
func FuzzParseGenerations(f *testing.F) {
	kat, _ := hex.DecodeString(generationsKAT)
	seeds := [][]byte{kat, kat[:38], kat[:37], {}, {0x01}, append([]byte{0x02}, kat[1:]...)}
	if len(seeds) == 0 {
		f.Fatal("no seed corpus")
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		recs, err := ParseGenerations(b)
		if err != nil {
			if err != ErrGenerationsMalformed {
				t.Fatalf("ParseGenerations: got %v", err)
			}
			return
		}
		again, err := MarshalGenerations(recs)
		if err != nil {
			t.Fatalf("MarshalGenerations of parsed records: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("round trip:\ngot  %x\nwant %x", again, b)
		}
	})
}
