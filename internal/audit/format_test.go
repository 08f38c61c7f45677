package audit

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/kat.json")

// kat is a known-answer vector: a header, one record entry and one
// checkpoint entry under a fixed key, byte by byte (doc.go).
type kat struct {
	Seed       string `json:"seed"`
	Header     string `json:"header"`
	Record     string `json:"record"`
	Checkpoint string `json:"checkpoint"`
}

func katVector() kat {
	seed := bytes.Repeat([]byte{0x01}, ed25519.SeedSize)
	key := ed25519.NewKeyFromSeed(seed)
	pub := key.Public().(ed25519.PublicKey)
	h := Header{Node: "node-1", Segment: 1, FirstSeq: 1}
	hb := h.Marshal()
	r := Entry{Kind: KindRecord, Seq: 1, Prev: sha256.Sum256(hb), Payload: []byte(`{"trace_name":"EncryptData"}`)}
	rb := r.Append(nil)
	const t = 1767225600000000000 // 2026-01-01T00:00:00Z
	sig := ed25519.Sign(key, SignedMessage("node-1", 2, sha256.Sum256(rb), t, pub))
	c := Entry{Kind: KindCheckpoint, Seq: 2, Prev: sha256.Sum256(rb), Payload: Checkpoint{Time: t, PublicKey: pub, Signature: sig}.Marshal()}
	return kat{Seed: hex.EncodeToString(seed), Header: hex.EncodeToString(hb), Record: hex.EncodeToString(rb), Checkpoint: hex.EncodeToString(c.Append(nil))}
}

func TestKnownAnswers(t *testing.T) {
	got := katVector()
	path := filepath.Join("testdata", "kat.json")
	if *update {
		b, _ := json.MarshalIndent(got, "", "  ")
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var want kat
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("vectors changed:\ngot  %+v\nwant %+v", got, want)
	}
	// The header, spelled out by hand from doc.go's table.
	hand := "4b4d534441554454" + "01" + "06" + hex.EncodeToString([]byte("node-1")) + "0000000000000001" + "0000000000000001" + string(bytes.Repeat([]byte("00"), 32))
	if want.Header != hand {
		t.Errorf("header %s, want %s", want.Header, hand)
	}
	// The record entry: kind, seq, prev = SHA-256(header), length, payload.
	hb, _ := hex.DecodeString(want.Header)
	prev := sha256.Sum256(hb)
	payload := `{"trace_name":"EncryptData"}`
	hand = "01" + "0000000000000001" + hex.EncodeToString(prev[:]) + "0000001c" + hex.EncodeToString([]byte(payload))
	if want.Record != hand {
		t.Errorf("record %s, want %s", want.Record, hand)
	}
	// The checkpoint parses and verifies, and links to the record.
	cb, _ := hex.DecodeString(want.Checkpoint)
	e, n, err := ParseEntry(cb)
	if err != nil || n != len(cb) {
		t.Fatal(n, err)
	}
	rb, _ := hex.DecodeString(want.Record)
	if e.Prev != sha256.Sum256(rb) {
		t.Error("checkpoint does not link to the record")
	}
	c, err := ParseCheckpoint(e.Payload)
	if err != nil {
		t.Fatal(err)
	}
	if !ed25519.Verify(c.PublicKey, SignedMessage("node-1", e.Seq, e.Prev, c.Time, c.PublicKey), c.Signature) {
		t.Error("checkpoint signature does not verify")
	}
}

func TestParseRefuses(t *testing.T) {
	hb := Header{Node: "n", Segment: 1, FirstSeq: 1}.Marshal()
	for _, tt := range []struct {
		name string
		b    []byte
	}{
		{"bad magic", append([]byte("KMSDAUDX"), hb[8:]...)},
		{"version 2", append(append(append([]byte{}, hb[:8]...), 2), hb[9:]...)},
		{"empty node", append(append(append([]byte{}, hb[:9]...), 0), hb[10:]...)},
		{"node with slash", Header{Node: "a/b", Segment: 1, FirstSeq: 1}.Marshal()},
		{"segment 0", Header{Node: "n", Segment: 0, FirstSeq: 1}.Marshal()},
	} {
		if _, _, err := ParseHeader(tt.b); err == nil {
			t.Errorf("%s: parsed", tt.name)
		}
	}
	for _, tt := range []struct {
		name string
		e    Entry
	}{
		{"kind 3", Entry{Kind: 3, Seq: 1}},
		{"seq 0", Entry{Kind: KindRecord, Seq: 0}},
		{"short checkpoint", Entry{Kind: KindCheckpoint, Seq: 1, Payload: make([]byte, 10)}},
	} {
		if _, _, err := ParseEntry(tt.e.Append(nil)); err == nil {
			t.Errorf("%s: parsed", tt.name)
		}
	}
	if _, err := ParseRecord([]byte(`{"trace_name":"x","plain_text":"secret"}`)); err == nil {
		t.Error("a record with an unknown member parsed")
	}
}

// FuzzParse parses arbitrary bytes as a segment: the parser never panics,
// and whatever it accepts marshals back to the same bytes.
func FuzzParse(f *testing.F) {
	v := katVector()
	var seed []byte
	for _, s := range []string{v.Header, v.Record, v.Checkpoint} {
		b, _ := hex.DecodeString(s)
		seed = append(seed, b...)
	}
	f.Add(seed)
	f.Add(seed[:len(seed)-3])
	f.Add([]byte("KMSDAUDT\x01"))
	segs, _ := filepath.Glob(filepath.Join("testdata", "*.log"))
	for _, p := range segs {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, n, err := ParseHeader(b)
		if err != nil {
			return
		}
		if got := h.Marshal(); !bytes.Equal(got, b[:n]) {
			t.Fatalf("header round trip: %x, want %x", got, b[:n])
		}
		for off := n; off < len(b); {
			e, m, err := ParseEntry(b[off:])
			if err != nil {
				return
			}
			if got := e.Append(nil); !bytes.Equal(got, b[off:off+m]) {
				t.Fatalf("entry round trip: %x, want %x", got, b[off:off+m])
			}
			if e.Kind == KindCheckpoint {
				c, err := ParseCheckpoint(e.Payload)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(c.Marshal(), e.Payload) {
					t.Fatal("checkpoint round trip")
				}
			} else if r, err := ParseRecord(e.Payload); err == nil {
				if _, err := r.Marshal(); err != nil {
					t.Fatal(err)
				}
			}
			off += m
		}
	})
}
