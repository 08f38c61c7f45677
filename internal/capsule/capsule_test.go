package capsule

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"testing"
)

type vectors struct {
	Valid []struct {
		Name, Binding, Sealed, Capsule, AAD string
		Kind                                byte
	}
	Invalid []struct{ Name, Capsule string }
}

func loadVectors(t testing.TB) vectors {
	b, err := os.ReadFile("testdata/capsule.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Valid) == 0 || len(v.Invalid) == 0 {
		t.Fatal("testdata/capsule.json has no vectors")
	}
	return v
}

func unhex(t testing.TB, s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestKnownAnswers marshals the vectors' fields to their exact bytes and
// parses the bytes back to the fields.
func TestKnownAnswers(t *testing.T) {
	v := loadVectors(t)
	for _, tc := range v.Valid {
		t.Run(tc.Name, func(t *testing.T) {
			c := Capsule{Kind: tc.Kind, Binding: []byte(tc.Binding), Sealed: unhex(t, tc.Sealed)}
			got, err := c.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if want := unhex(t, tc.Capsule); !bytes.Equal(got, want) {
				t.Errorf("Marshal = %x, want %x", got, want)
			}
			if got, want := c.AAD(), unhex(t, tc.AAD); !bytes.Equal(got, want) {
				t.Errorf("AAD = %x, want %x", got, want)
			}
			p, err := Parse(unhex(t, tc.Capsule))
			if err != nil {
				t.Fatal(err)
			}
			if p.Kind != tc.Kind || string(p.Binding) != tc.Binding || !bytes.Equal(p.Sealed, c.Sealed) {
				t.Errorf("Parse = %+v, want %+v", p, c)
			}
		})
	}
	for _, tc := range v.Invalid {
		t.Run(tc.Name, func(t *testing.T) {
			if _, err := Parse(unhex(t, tc.Capsule)); !errors.Is(err, ErrMalformed) {
				t.Errorf("Parse: got %v, want ErrMalformed", err)
			}
		})
	}
}

func TestMarshalRefusesInvalid(t *testing.T) {
	for _, c := range []Capsule{
		{Kind: 9, Binding: []byte("{}"), Sealed: make([]byte, MinSealed)},
		{Kind: BindInline, Binding: make([]byte, MaxBinding+1), Sealed: make([]byte, MinSealed)},
		{Kind: BindInline, Binding: []byte("{}"), Sealed: make([]byte, MinSealed-1)},
	} {
		if _, err := c.Marshal(); !errors.Is(err, ErrMalformed) {
			t.Errorf("Marshal(%d, %d-byte binding, %d-byte sealed): got %v, want ErrMalformed", c.Kind, len(c.Binding), len(c.Sealed), err)
		}
	}
}

// FuzzParse checks that Parse never panics, that what it accepts
// marshals back to the same bytes, and that the header it reports is the
// input's.
func FuzzParse(f *testing.F) {
	v := loadVectors(f)
	for _, tc := range v.Valid {
		f.Add(unhex(f, tc.Capsule))
	}
	for _, tc := range v.Invalid {
		f.Add(unhex(f, tc.Capsule))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse: %v is not ErrMalformed", err)
			}
			return
		}
		out, err := c.Marshal()
		if err != nil {
			t.Fatalf("Marshal of a parsed capsule: %v", err)
		}
		if !bytes.Equal(out, b) {
			t.Fatalf("round trip: %x, want %x", out, b)
		}
		if h := c.Header(); !bytes.Equal(h, b[:len(h)]) {
			t.Fatalf("Header %x is not the input's prefix", h)
		}
	})
}
