package audit

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// span is where one entry (or a header, Seq being the segment's first
// entry) lies in a trail.
type span struct {
	file       string
	start, end int
	seq        uint64
	header     bool
}

// testTrail writes a small closed trail of several segments and returns
// its directory and the spans of its headers and entries.
func testTrail(t *testing.T) (string, []span) {
	t.Helper()
	dir := t.TempDir()
	l := openLog(t, Options{Dir: dir, SegmentSize: 1200})
	for i := range 6 {
		if err := l.Append(t.Context(), rec(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	segs, _ := Segments(dir)
	if len(segs) < 2 {
		t.Fatalf("%d segments, want at least 2", len(segs))
	}
	var spans []span
	for _, p := range segs {
		b, _ := os.ReadFile(p)
		h, n, err := ParseHeader(b)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(p)
		spans = append(spans, span{name, 0, n, h.FirstSeq, true})
		for off := n; off < len(b); {
			e, m, err := ParseEntry(b[off:])
			if err != nil {
				t.Fatal(err)
			}
			spans = append(spans, span{name, off, off + m, e.Seq, false})
			off += m
		}
	}
	return dir, spans
}

func copyTrail(t *testing.T, dir string) string {
	t.Helper()
	out := t.TempDir()
	segs, _ := Segments(dir)
	for _, p := range segs {
		b, _ := os.ReadFile(p)
		os.WriteFile(filepath.Join(out, filepath.Base(p)), b, 0o600)
	}
	return out
}

func TestVerifyIntact(t *testing.T) {
	dir, spans := testTrail(t)
	rep := mustVerify(t, dir)
	last := spans[len(spans)-1].seq
	if rep.Records != 6 || rep.LastSeq != last || rep.SignedSeq != last || rep.Unsigned != 0 || rep.Node != "node-1" {
		t.Errorf("report %+v", rep)
	}
}

// TestVerifyFlipEveryByte flips each byte of the trail in turn: Verify
// must report every flip, at the entry that holds the byte or at the one
// after it (whose link the flip breaks).
func TestVerifyFlipEveryByte(t *testing.T) {
	dir, spans := testTrail(t)
	work := copyTrail(t, dir)
	for _, s := range spans {
		path := filepath.Join(work, s.file)
		orig, _ := os.ReadFile(path)
		for pos := s.start; pos < s.end; pos++ {
			b := bytes.Clone(orig)
			b[pos] ^= 0x01
			os.WriteFile(path, b, 0o600)
			rep, err := Verify(work, nil)
			if err != nil {
				t.Fatalf("%s byte %d: %v", s.file, pos, err)
			}
			p := rep.Problem
			if p == nil {
				p = rep.Truncated
			}
			if p == nil {
				t.Fatalf("%s byte %d (entry %d) flipped: not detected", s.file, pos, s.seq)
			}
			if p.Seq != s.seq && p.Seq != s.seq+1 {
				t.Fatalf("%s byte %d (entry %d) flipped: reported at entry %d (%s)", s.file, pos, s.seq, p.Seq, p.Reason)
			}
		}
		os.WriteFile(path, orig, 0o600)
	}
}

// edit rewrites the segment file holding spans[i] with f applied to it.
func edit(t *testing.T, dir string, s span, f func(b []byte) []byte) {
	t.Helper()
	path := filepath.Join(dir, s.file)
	b, _ := os.ReadFile(path)
	os.WriteFile(path, f(b), 0o600)
}

// records returns the spans of records that have a record after them in
// the same file.
func recordPairs(spans []span) [][2]span {
	var out [][2]span
	for i := 0; i+1 < len(spans); i++ {
		a, b := spans[i], spans[i+1]
		if !a.header && !b.header && a.file == b.file {
			out = append(out, [2]span{a, b})
		}
	}
	return out
}

func TestVerifyTamper(t *testing.T) {
	dir, spans := testTrail(t)
	pairs := recordPairs(spans)
	if len(pairs) == 0 {
		t.Fatal("no two adjacent entries in one segment")
	}
	a, b := pairs[0][0], pairs[0][1]
	lastSeg := spans[len(spans)-1].file
	var lastRec span
	for _, s := range spans {
		if s.file == lastSeg && !s.header {
			lastRec = s
			break
		}
	}
	tests := []struct {
		name      string
		tamper    func(dir string)
		wantSeq   uint64
		truncated bool
		reason    string
	}{
		{"drop", func(d string) {
			edit(t, d, a, func(x []byte) []byte { return append(x[:a.start:a.start], x[a.end:]...) })
		}, a.seq, false, "removed, reordered or inserted"},
		{"swap", func(d string) {
			edit(t, d, a, func(x []byte) []byte {
				out := append([]byte{}, x[:a.start]...)
				out = append(out, x[b.start:b.end]...)
				out = append(out, x[a.start:a.end]...)
				return append(out, x[b.end:]...)
			})
		}, a.seq, false, "removed, reordered or inserted"},
		{"insert", func(d string) {
			// A forged entry that takes a's place, linked correctly to
			// what precedes a.
			edit(t, d, a, func(x []byte) []byte {
				e, _, _ := ParseEntry(x[a.start:])
				forged := Entry{Kind: KindRecord, Seq: e.Seq, Prev: e.Prev, Payload: []byte(`{"trace_name":"Forged","trace_rating":"","trace_type":"","service_type":"","code":"","time":0,"time_ns":0,"latency_us":0,"request_id":"","node":"","source_ip":"","http_method":"","path":""}`)}.Append(nil)
				out := append([]byte{}, x[:a.start]...)
				out = append(out, forged...)
				return append(out, x[a.start:]...)
			})
		}, a.seq + 1, false, "removed, reordered or inserted"},
		{"edit record keeping JSON valid", func(d string) {
			edit(t, d, a, func(x []byte) []byte {
				i := bytes.Index(x[a.start:a.end], []byte(`"code":"200"`))
				copy(x[a.start+i:], `"code":"403"`)
				return x
			})
		}, a.seq + 1, false, "was edited"},
		{"truncate mid-record", func(d string) {
			edit(t, d, lastRec, func(x []byte) []byte { return x[:lastRec.start+(lastRec.end-lastRec.start)/2] })
		}, lastRec.seq, true, "incomplete entry"},
		{"remove a segment file", func(d string) {
			os.Remove(filepath.Join(d, spans[0].file))
		}, 1, false, "segment number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := copyTrail(t, dir)
			tt.tamper(d)
			rep, err := Verify(d, nil)
			if err != nil {
				t.Fatal(err)
			}
			p := rep.Problem
			if tt.truncated {
				if rep.Problem != nil {
					t.Fatalf("problem %v, want only a truncated tail", rep.Problem)
				}
				p = rep.Truncated
			}
			if p == nil {
				t.Fatal("not detected")
			}
			if p.Seq != tt.wantSeq || !strings.Contains(p.Reason, tt.reason) {
				t.Errorf("reported entry %d %q, want entry %d %q", p.Seq, p.Reason, tt.wantSeq, tt.reason)
			}
		})
	}
}

// TestVerifyRewrittenChain rewrites the chain after an edit, links and
// all, as an attacker without the signing key would: the checkpoint
// signature fails.
func TestVerifyRewrittenChain(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, Options{Dir: dir})
	for i := range 3 {
		l.Append(t.Context(), rec(i))
	}
	l.Close()
	segs, _ := Segments(dir)
	b, _ := os.ReadFile(segs[0])
	_, n, _ := ParseHeader(b)
	head := sha256.Sum256(b[:n])
	out := append([]byte{}, b[:n]...)
	for off := n; off < len(b); {
		e, m, _ := ParseEntry(b[off:])
		off += m
		e.Prev = head
		if e.Kind == KindRecord {
			e.Payload = bytes.ReplaceAll(e.Payload, []byte("req-1"), []byte("req-X"))
		}
		enc := e.Append(nil)
		head = sha256.Sum256(enc)
		out = append(out, enc...)
	}
	os.WriteFile(segs[0], out, 0o600)
	rep, _ := Verify(dir, nil)
	if rep.Problem == nil || !strings.Contains(rep.Problem.Reason, "signature") {
		t.Fatalf("rewritten chain: %+v", rep.Problem)
	}
	// A pinned key refuses a trail re-signed with another key.
	l = openLog(t, Options{Dir: t.TempDir()})
	l.Append(t.Context(), rec(0))
	l.Close()
	rep, _ = Verify(l.opt.Dir, testKey(t).Public().(ed25519.PublicKey))
	if rep.Problem == nil || !strings.Contains(rep.Problem.Reason, "another key") {
		t.Fatalf("pinned key: %+v", rep.Problem)
	}
}
