package kms

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/kmsd/kmsd/internal/keyring"
)

// importService is a service with a fixed root key (32 bytes 0x07) and no
// store, enough for the token and fingerprint functions.
func importService(t testing.TB) *Service {
	t.Helper()
	kr, err := keyring.New(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return New(nil, kr, Config{}, nil)
}

// katToken is the token of the known-answer test; its id is 00 01 … 1f.
var katToken = func() importToken {
	t := importToken{
		expires:   1773587366, // 2026-03-15T15:09:26Z
		projectID: "0123456789abcdef0123456789abcdef",
		keyID:     "0b5e4a1c-7d2f-4e3a-9c1b-000000000001",
		algorithm: WrappingSM2,
		keySpec:   "SM2",
	}
	for i := range t.id {
		t.id[i] = byte(i)
	}
	return t
}()

// Known answers under the root key of 32 bytes 0x07. A change of either
// format breaks what is stored: issued tokens stop verifying, and the
// re-import of material deleted before the change is refused.
const (
	katTokenText   = "AQABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4fAAAAAGm2y6YgMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYkMGI1ZTRhMWMtN2QyZi00ZTNhLTljMWItMDAwMDAwMDAwMDAxC1NNMl9FTkNSWVBUA1NNMsX1RQ12csGicD9xKup5dRAlvm3DViXMHc4tAys9j9iH"
	katFingerprint = "21a51290571ebcfad26fee24da253d2c29c447ebd2b04f9bd24763ab58d8c589"
)

// TestImportTokenKnownAnswer pins format version 1 of the import token,
// built here byte by byte as the format comment in import.go describes.
func TestImportTokenKnownAnswer(t *testing.T) {
	s := importService(t)
	got := s.marshalImportToken(katToken)

	kr, _ := keyring.New(bytes.Repeat([]byte{7}, 32))
	var want []byte
	want = append(want, 0x01)
	want = append(want, katToken.id[:]...)
	want = append(want, 0, 0, 0, 0, 0x69, 0xb6, 0xcb, 0xa6) // 1773587366
	for _, f := range []string{katToken.projectID, katToken.keyID, katToken.algorithm, katToken.keySpec} {
		want = append(want, byte(len(f)))
		want = append(want, f...)
	}
	m := hmac.New(sha256.New, kr.Derive("kmsd import token v1", 32))
	m.Write(want)
	want = m.Sum(want)
	if got != base64.StdEncoding.EncodeToString(want) {
		t.Errorf("token does not follow the documented layout:\ngot  %s\nwant %s", got, base64.StdEncoding.EncodeToString(want))
	}
	if got != katTokenText {
		t.Errorf("token changed:\ngot  %s\nwant %s", got, katTokenText)
	}
	parsed, err := s.parseImportToken(got)
	if err != nil || parsed != katToken {
		t.Errorf("parse: got %+v, %v; want %+v", parsed, err, katToken)
	}
}

// TestFingerprintKnownAnswer pins the material fingerprint: HMAC-SHA256
// under the derived key "kmsd import fingerprint v1" of the length-prefixed
// project id, key id and material.
func TestFingerprintKnownAnswer(t *testing.T) {
	s := importService(t)
	material := bytes.Repeat([]byte{0x42}, 32)
	got := s.materialFingerprint(katToken.projectID, katToken.keyID, material)

	kr, _ := keyring.New(bytes.Repeat([]byte{7}, 32))
	m := hmac.New(sha256.New, kr.Derive("kmsd import fingerprint v1", 32))
	m.Write([]byte{0, 0, 0, 32})
	m.Write([]byte(katToken.projectID))
	m.Write([]byte{0, 0, 0, 36})
	m.Write([]byte(katToken.keyID))
	m.Write([]byte{0, 0, 0, 32})
	m.Write(material)
	if want := m.Sum(nil); !bytes.Equal(got, want) {
		t.Errorf("fingerprint does not follow the documented construction:\ngot  %x\nwant %x", got, want)
	}
	if hex.EncodeToString(got) != katFingerprint {
		t.Errorf("fingerprint changed:\ngot  %x\nwant %s", got, katFingerprint)
	}
	// Every input counts, and the field boundaries too.
	for _, c := range []struct{ p, k string }{
		{katToken.projectID + "0", katToken.keyID},
		{katToken.projectID, katToken.keyID + "0"},
		{katToken.projectID[:31], "f" + katToken.keyID},
	} {
		if bytes.Equal(s.materialFingerprint(c.p, c.k, material), got) {
			t.Errorf("fingerprint of (%s, %s) equals the vector's", c.p, c.k)
		}
	}
	if bytes.Equal(s.materialFingerprint(katToken.projectID, katToken.keyID, material[:31]), got) {
		t.Error("fingerprint ignores the material's last byte")
	}
}

// TestImportTokenTamper flips every bit of a token: each changed token
// fails verification.
func TestImportTokenTamper(t *testing.T) {
	s := importService(t)
	raw, err := base64.StdEncoding.DecodeString(s.marshalImportToken(katToken))
	if err != nil {
		t.Fatal(err)
	}
	for i := range raw {
		for bit := range 8 {
			b := bytes.Clone(raw)
			b[i] ^= 1 << bit
			if _, err := s.parseImportToken(base64.StdEncoding.EncodeToString(b)); !errors.Is(err, ErrImportTokenInvalid) {
				t.Fatalf("byte %d bit %d flipped: got %v, want ErrImportTokenInvalid", i, bit, err)
			}
		}
	}
	for n := range len(raw) {
		if _, err := s.parseImportToken(base64.StdEncoding.EncodeToString(raw[:n])); !errors.Is(err, ErrImportTokenInvalid) {
			t.Fatalf("truncated to %d bytes: got %v, want ErrImportTokenInvalid", n, err)
		}
	}
}

// TestImportTokenLength checks that every token kmsd issues is within the
// reference's 200–6144 base64 characters.
func TestImportTokenLength(t *testing.T) {
	s := importService(t)
	for alg, specs := range wrappingSpecs {
		for _, spec := range specs {
			tok := katToken
			tok.algorithm, tok.keySpec = alg, spec
			if n := len(s.marshalImportToken(tok)); n < 200 || n > 6144 {
				t.Errorf("%s %s: token of %d characters, want 200–6144", alg, spec, n)
			}
		}
	}
}

// FuzzImportToken checks that parsing never panics and that a token that
// verifies is exactly what marshalling its fields gives (no malleability).
func FuzzImportToken(f *testing.F) {
	s := importService(f)
	seeds := []string{s.marshalImportToken(katToken), "", "AQ==", "%%", base64.StdEncoding.EncodeToString(make([]byte, 200))}
	for alg, specs := range wrappingSpecs {
		tok := katToken
		tok.algorithm, tok.keySpec = alg, specs[len(specs)-1]
		seeds = append(seeds, s.marshalImportToken(tok))
	}
	for _, seed := range seeds {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		tok, err := s.parseImportToken(text)
		if err != nil {
			if !errors.Is(err, ErrImportTokenInvalid) {
				t.Fatalf("parse error %v is not ErrImportTokenInvalid", err)
			}
			return
		}
		if again := s.marshalImportToken(tok); again != text {
			t.Fatalf("token %q verifies but marshals to %q", text, again)
		}
	})
}
