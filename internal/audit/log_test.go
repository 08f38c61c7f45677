package audit

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/kmsd/kmsd/internal/keyring"
)

func testKey(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func openLog(t testing.TB, opt Options) *Log {
	t.Helper()
	if opt.Node == "" {
		opt.Node = "node-1"
	}
	if opt.Key == nil {
		opt.Key = testKey(t)
	}
	l, err := Open(opt)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func rec(i int) *Record {
	r := &Record{TraceName: "EncryptData", TraceType: "ApiCall", ServiceType: "KMS", ResourceType: "cmk", RequestID: fmt.Sprintf("req-%d", i), Node: "node-1", SourceIP: "127.0.0.1", Method: "POST", Path: "/v1.0/p/kms/encrypt-data"}
	r.SetStatus(200)
	return r
}

func readAll(t *testing.T, dir string) []Record {
	t.Helper()
	var rs []Record
	if err := Read(dir, func(_ uint64, r Record) error { rs = append(rs, r); return nil }); err != nil {
		t.Fatal(err)
	}
	return rs
}

func mustVerify(t *testing.T, dir string) *Report {
	t.Helper()
	rep, err := Verify(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("verify: problem %v, truncated %v", rep.Problem, rep.Truncated)
	}
	return rep
}

func TestGroupCommit(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, Options{Dir: dir, Mode: ModeRequired})
	const n = 400
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if err := l.Append(t.Context(), rec(i)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	st := l.Stats()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if st.Appends != n {
		t.Errorf("appends %d, want %d", st.Appends, n)
	}
	// 400 concurrent appends must share fsyncs; one per record would be
	// 400.
	if st.Syncs >= n/2 {
		t.Errorf("%d fsyncs for %d records: no group commit", st.Syncs, n)
	}
	if got := len(readAll(t, dir)); got != n {
		t.Errorf("read %d records, want %d", got, n)
	}
	rep := mustVerify(t, dir)
	if rep.Records != n || rep.Checkpoints != 1 || rep.Unsigned != 0 {
		t.Errorf("report %+v", rep)
	}
	t.Logf("%d records, %d fsyncs", n, st.Syncs)
}

func TestResumeAndRoll(t *testing.T) {
	dir := t.TempDir()
	key := testKey(t)
	l := openLog(t, Options{Dir: dir, Key: key, SegmentSize: 2000})
	for i := range 30 {
		if err := l.Append(t.Context(), rec(i)); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	segs, _ := Segments(dir)
	if len(segs) < 3 {
		t.Fatalf("%d segments, want several (segment size 2000)", len(segs))
	}
	// Reopen: the chain goes on from its head.
	l = openLog(t, Options{Dir: dir, Key: key, SegmentSize: 2000})
	for i := range 5 {
		if err := l.Append(t.Context(), rec(100+i)); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	rep := mustVerify(t, dir)
	if rep.Records != 35 {
		t.Errorf("records %d, want 35", rep.Records)
	}
	if !equalKey(rep.PublicKey, key.Public().(ed25519.PublicKey)) {
		t.Error("report names another public key")
	}
	// Another node's directory is refused.
	if _, err := Open(Options{Dir: dir, Node: "node-2", Key: key}); err == nil {
		t.Error("node-2 opened node-1's chain")
	}
}

func equalKey(a, b ed25519.PublicKey) bool { return a.Equal(b) }

func TestResumeCutsIncompleteEntry(t *testing.T) {
	dir := t.TempDir()
	key := testKey(t)
	l := openLog(t, Options{Dir: dir, Key: key})
	for i := range 3 {
		if err := l.Append(t.Context(), rec(i)); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	segs, _ := Segments(dir)
	// A crash during the write of a fourth entry.
	f, _ := os.OpenFile(segs[0], os.O_WRONLY|os.O_APPEND, 0)
	f.Write(Entry{Kind: KindRecord, Seq: 99, Payload: []byte(`{}`)}.Append(nil)[:20])
	f.Close()
	rep, _ := Verify(dir, nil)
	if rep.Truncated == nil || rep.Problem != nil {
		t.Fatalf("verify of a cut tail: %+v", rep)
	}
	l = openLog(t, Options{Dir: dir, Key: key})
	if err := l.Append(t.Context(), rec(3)); err != nil {
		t.Fatal(err)
	}
	l.Close()
	if rep := mustVerify(t, dir); rep.Records != 4 {
		t.Errorf("records %d, want 4", rep.Records)
	}
}

// fullDisk is a segment file on a disk with room for limit more bytes
// (while room is true); it fails writes beyond that with ENOSPC, after
// writing what fits, as a full file system does.
type fullDisk struct {
	f     *os.File
	mu    *sync.Mutex
	used  *int64
	limit *atomic.Int64
}

func (d *fullDisk) Write(b []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	room := d.limit.Load() - *d.used
	if int64(len(b)) > room {
		n, _ := d.f.Write(b[:max(room, 0)])
		*d.used += int64(n)
		return n, &os.PathError{Op: "write", Path: d.f.Name(), Err: syscall.ENOSPC}
	}
	n, err := d.f.Write(b)
	*d.used += int64(n)
	return n, err
}
func (d *fullDisk) Sync() error { return d.f.Sync() }
func (d *fullDisk) Truncate(n int64) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	st, err := d.f.Stat()
	if err != nil {
		return err
	}
	*d.used -= st.Size() - n
	return d.f.Truncate(n)
}
func (d *fullDisk) Close() error { return d.f.Close() }

func TestDiskFull(t *testing.T) {
	dir := t.TempDir()
	var mu sync.Mutex
	var used int64
	var limit atomic.Int64
	limit.Store(1 << 40)
	open := func(path string) (File, error) {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return nil, err
		}
		st, _ := f.Stat()
		mu.Lock()
		used += st.Size()
		mu.Unlock()
		return &fullDisk{f: f, mu: &mu, used: &used, limit: &limit}, nil
	}
	l := openLog(t, Options{Dir: dir, OpenFile: open})
	var acked []string
	for i := range 10 {
		r := rec(i)
		if err := l.Append(t.Context(), r); err != nil {
			t.Fatal(err)
		}
		acked = append(acked, r.RequestID)
	}
	// The disk fills: a few hundred bytes are left, less than a record.
	mu.Lock()
	limit.Store(used + 100)
	mu.Unlock()
	for i := 10; i < 20; i++ {
		err := l.Append(t.Context(), rec(i))
		if !errors.Is(err, ErrUnavailable) || !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("append on a full disk: %v, want ErrUnavailable wrapping ENOSPC", err)
		}
	}
	if l.Writable() || l.Failure() == "" {
		t.Error("a full trail reports itself writable")
	}
	if st := l.Stats(); st.Losses != 10 {
		t.Errorf("losses %d, want 10", st.Losses)
	}
	// Space returns: the probe (a checkpoint) or the next append succeeds
	// without a restart.
	limit.Store(1 << 40)
	deadline := time.Now().Add(10 * time.Second)
	for !l.Writable() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !l.Writable() {
		t.Fatal("trail still unwritable 10s after space returned")
	}
	for i := 20; i < 25; i++ {
		r := rec(i)
		if err := l.Append(t.Context(), r); err != nil {
			t.Fatal(err)
		}
		acked = append(acked, r.RequestID)
	}
	l.Close()
	rep := mustVerify(t, dir)
	got := readAll(t, dir)
	if len(got) != len(acked) {
		t.Fatalf("trail holds %d records, want the %d acknowledged (report %+v)", len(got), len(acked), rep)
	}
	for i, r := range got {
		if r.RequestID != acked[i] {
			t.Errorf("record %d is %s, want %s", i, r.RequestID, acked[i])
		}
	}
}

func TestBestEffortAndOff(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, Options{Dir: dir, Mode: ModeBestEffort})
	for i := range 5 {
		if err := l.Append(t.Context(), rec(i)); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	if n := len(readAll(t, dir)); n != 5 {
		t.Errorf("best_effort wrote %d records, want 5", n)
	}
	off := t.TempDir()
	l = openLog(t, Options{Dir: filepath.Join(off, "chain"), Mode: ModeOff})
	if err := l.Append(t.Context(), rec(0)); err != nil {
		t.Fatal(err)
	}
	l.Close()
	if _, err := os.Stat(filepath.Join(off, "chain")); !os.IsNotExist(err) {
		t.Errorf("mode off created the trail: %v", err)
	}
}

func TestAppendAfterClose(t *testing.T) {
	l := openLog(t, Options{Dir: t.TempDir()})
	l.Close()
	if err := l.Append(context.Background(), rec(0)); !errors.Is(err, ErrClosed) {
		t.Errorf("got %v, want ErrClosed", err)
	}
}

func TestSigningKey(t *testing.T) {
	dir := t.TempDir()
	root := make([]byte, 32)
	rand.Read(root)
	kr, err := keyring.New(root)
	if err != nil {
		t.Fatal(err)
	}
	k1, err := LoadSigningKey(dir, "node-1", kr)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := LoadSigningKey(dir, "node-1", kr)
	if err != nil {
		t.Fatal(err)
	}
	if !k1.Equal(k2) {
		t.Error("the sealed key did not load back")
	}
	b, _ := os.ReadFile(filepath.Join(dir, signingKeyFileName))
	if containsBytes(b, k1.Seed()) {
		t.Error("the signing key file holds the seed in the clear")
	}
	if _, err := LoadSigningKey(dir, "node-2", kr); err == nil {
		t.Error("node-2 opened node-1's signing key")
	}
	other := make([]byte, 32)
	rand.Read(other)
	kr2, _ := keyring.New(other)
	if _, err := LoadSigningKey(dir, "node-1", kr2); err == nil {
		t.Error("another root key opened the signing key")
	}
}

func containsBytes(b, sub []byte) bool {
	for i := 0; i+len(sub) <= len(b); i++ {
		if string(b[i:i+len(sub)]) == string(sub) {
			return true
		}
	}
	return false
}
