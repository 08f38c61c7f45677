package audit

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Mode says what a request whose record cannot be written gets.
type Mode string

// Modes.
const (
	// ModeRequired answers a request only once its record is durable; a
	// request whose record cannot be written fails (production default).
	ModeRequired Mode = "required"
	// ModeBestEffort answers at once and counts records that could not be
	// written as lost (dev default).
	ModeBestEffort Mode = "best_effort"
	// ModeOff writes nothing.
	ModeOff Mode = "off"
)

// ParseMode returns the Mode named s.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case ModeRequired, ModeBestEffort, ModeOff:
		return m, nil
	}
	return "", fmt.Errorf("audit mode %q: want required, best_effort or off", s)
}

var (
	// ErrUnavailable means a record could not be made durable; the
	// wrapped error says why (a full disk, an I/O error).
	ErrUnavailable = errors.New("audit: trail not writable")
	// ErrClosed means Append was called after Close.
	ErrClosed = errors.New("audit: trail closed")
)

// File is what the Log needs of an open segment file; *os.File is one.
// Tests substitute a File that fails as a full disk does.
type File interface {
	io.Writer
	Sync() error
	Truncate(size int64) error
	Close() error
}

// Defaults.
const (
	DefaultSegmentSize        = 64 << 20
	DefaultCheckpointInterval = time.Minute
	// maxQueue bounds the records a best_effort Log holds in memory; more
	// are dropped and counted as lost.
	maxQueue = 1 << 16
	// bestEffortInterval is the least time between two commits of a
	// best_effort Log. Its callers never wait for a commit, so nothing
	// gains from one per wake-up, and each is an fsync: back to back
	// (one per ~1 ms under load) they took most of a server's core on a
	// virtual disk (docs/performance.md, issue 13). A crash loses at most
	// this much of a best_effort trail, as of the log (logging.Buffer).
	bestEffortInterval = 50 * time.Millisecond
	// probeInterval is how often an unwritable trail is retried when no
	// record arrives.
	probeInterval = time.Second
)

// Options configure a Log.
type Options struct {
	// Dir is the chain's directory: one per node.
	Dir string
	// Node names the node (ValidNode).
	Node string
	// Mode is required, best_effort or off.
	Mode Mode
	// Key signs checkpoints.
	Key ed25519.PrivateKey
	// SegmentSize is the size after which a segment is closed with a
	// checkpoint and the next one begun (DefaultSegmentSize when 0).
	SegmentSize int64
	// CheckpointInterval is how often the chain head is signed while
	// records arrive (DefaultCheckpointInterval when 0).
	CheckpointInterval time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// OpenFile opens a segment file for appending, creating it (an
	// *os.File with O_APPEND when nil).
	OpenFile func(path string) (File, error)
	// ObserveSync, when set, receives the duration of every fsync.
	ObserveSync func(time.Duration)
}

// Stats are a Log's counters since it was opened.
type Stats struct {
	// Appends counts records made durable.
	Appends uint64
	// Losses counts records that could not be written (best_effort) or
	// whose request was refused (required).
	Losses uint64
	// Syncs counts fsyncs (one per group commit).
	Syncs uint64
	// Checkpoints counts checkpoints written.
	Checkpoints uint64
	// Queued is the number of records waiting for the next group commit.
	Queued int64
}

// batch is one group commit: the records queued since the last one.
type batch struct {
	items [][]byte
	done  chan struct{}
	err   error
}

// Log appends records to a node's chain with group commit: records that
// arrive while one fsync runs share the next one. It is safe for
// concurrent use.
type Log struct {
	opt  Options
	mu   sync.Mutex
	cur  *batch
	shut bool
	wake chan struct{}
	stop chan struct{}
	done chan struct{}

	// Owned by the flusher goroutine (and by Open before it starts).
	f               File
	size            int64
	segment         uint64
	seq             uint64
	head            [HashSize]byte
	sinceCheckpoint int
	lastCommit      time.Time // of the last batch (best_effort pacing)
	lastCheckpoint  time.Time
	buf             []byte

	healthy                             atomic.Bool
	appends, losses, syncs, checkpoints atomic.Uint64
	queued                              atomic.Int64
	failure                             atomic.Pointer[string]
}

// Open opens the chain in opt.Dir, creating it, and starts its writer.
// An incomplete entry at the end of the last segment (a crash during a
// write, never acknowledged) is cut off; any other damage is an error, as
// a chain cannot continue from a head it cannot trust.
func Open(opt Options) (*Log, error) {
	if opt.Mode == "" {
		opt.Mode = ModeRequired
	}
	if _, err := ParseMode(string(opt.Mode)); err != nil {
		return nil, err
	}
	if !ValidNode(opt.Node) {
		return nil, fmt.Errorf("audit: node id %q: want 1 to 64 of A-Z a-z 0-9 . _ -", opt.Node)
	}
	if len(opt.Key) != ed25519.PrivateKeySize {
		return nil, errors.New("audit: no signing key")
	}
	if opt.SegmentSize <= 0 {
		opt.SegmentSize = DefaultSegmentSize
	}
	if opt.CheckpointInterval <= 0 {
		opt.CheckpointInterval = DefaultCheckpointInterval
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.OpenFile == nil {
		opt.OpenFile = func(path string) (File, error) {
			return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		}
	}
	l := &Log{opt: opt, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	l.cur = &batch{done: make(chan struct{})}
	if opt.Mode != ModeOff {
		if err := l.resume(); err != nil {
			return nil, err
		}
	}
	l.healthy.Store(true)
	l.lastCheckpoint = opt.Now()
	go l.run()
	return l, nil
}

// Segments returns the segment files of the chain in dir, in order.
func Segments(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		n := e.Name()
		if e.Type().IsRegular() && strings.HasPrefix(n, segmentFilePrefix) && strings.HasSuffix(n, segmentFileSuffix) {
			names = append(names, filepath.Join(dir, n))
		}
	}
	slices.Sort(names)
	return names, nil
}

// resume finds the chain's head in its last segment, or begins segment 1.
func (l *Log) resume() error {
	if err := os.MkdirAll(l.opt.Dir, 0o700); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	segs, err := Segments(l.opt.Dir)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	if len(segs) == 0 {
		return l.begin(Header{Node: l.opt.Node, Segment: 1, FirstSeq: 1})
	}
	last := segs[len(segs)-1]
	b, err := os.ReadFile(last)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	h, n, err := ParseHeader(b)
	if err != nil {
		return fmt.Errorf("audit: %s: %w (run kmsd audit verify %s)", last, err, l.opt.Dir)
	}
	if h.Node != l.opt.Node {
		return fmt.Errorf("audit: %s belongs to node %q, not %q: give each node its own audit directory", last, h.Node, l.opt.Node)
	}
	seq, head := h.FirstSeq-1, sha256.Sum256(b[:n])
	off := n
	since := 0
	for off < len(b) {
		e, m, err := ParseEntry(b[off:])
		if errors.Is(err, ErrTruncated) {
			break
		}
		if err != nil {
			return fmt.Errorf("audit: %s at offset %d: %w (run kmsd audit verify %s)", last, off, err, l.opt.Dir)
		}
		if e.Seq != seq+1 || e.Prev != head {
			return fmt.Errorf("audit: %s at offset %d: the chain is broken (run kmsd audit verify %s)", last, off, l.opt.Dir)
		}
		seq, head = e.Seq, sha256.Sum256(b[off:off+m])
		since++
		if e.Kind == KindCheckpoint {
			since = 0
		}
		off += m
	}
	f, err := l.opt.OpenFile(last)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	if off < len(b) {
		// An entry cut off by a crash: it was never acknowledged.
		if err := f.Truncate(int64(off)); err != nil {
			f.Close()
			return fmt.Errorf("audit: cutting the incomplete last entry of %s: %w", last, err)
		}
	}
	l.f, l.size, l.segment, l.seq, l.head, l.sinceCheckpoint = f, int64(off), h.Segment, seq, head, since
	return nil
}

// begin creates the segment h describes and makes it the current one.
func (l *Log) begin(h Header) error {
	path := filepath.Join(l.opt.Dir, segmentName(h.Segment))
	f, err := l.opt.OpenFile(path)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	hb := h.Marshal()
	if _, err := f.Write(hb); err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = syncDir(l.opt.Dir)
	}
	if err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if l.f != nil {
		l.f.Close()
	}
	l.f, l.size, l.segment, l.seq, l.head = f, int64(len(hb)), h.Segment, h.FirstSeq-1, sha256.Sum256(hb)
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Mode returns the Log's mode.
func (l *Log) Mode() Mode { return l.opt.Mode }

// Node returns the node the Log writes for.
func (l *Log) Node() string { return l.opt.Node }

// PublicKey returns the key that verifies the Log's checkpoints.
func (l *Log) PublicKey() ed25519.PublicKey { return l.opt.Key.Public().(ed25519.PublicKey) }

// Writable reports whether the last write succeeded. An unwritable trail
// is retried at least every second, so it becomes writable again, without
// a restart, once the disk has room.
func (l *Log) Writable() bool { return l.opt.Mode == ModeOff || l.healthy.Load() }

// Failure returns why the trail is not writable ("" when it is).
func (l *Log) Failure() string {
	if l.Writable() {
		return ""
	}
	if p := l.failure.Load(); p != nil {
		return *p
	}
	return "unknown"
}

// Stats returns the Log's counters.
func (l *Log) Stats() Stats {
	return Stats{Appends: l.appends.Load(), Losses: l.losses.Load(), Syncs: l.syncs.Load(), Checkpoints: l.checkpoints.Load(), Queued: l.queued.Load()}
}

// Append queues r for the next group commit. In ModeRequired it returns
// once r is durable, or with an error wrapping ErrUnavailable when it
// could not be written; in ModeBestEffort it returns at once; in ModeOff
// it does nothing.
func (l *Log) Append(ctx context.Context, r *Record) error {
	if l.opt.Mode == ModeOff {
		return nil
	}
	p, err := r.Marshal()
	if err != nil {
		return err
	}
	l.mu.Lock()
	if l.shut {
		l.mu.Unlock()
		return ErrClosed
	}
	b := l.cur
	if l.opt.Mode == ModeBestEffort && len(b.items) >= maxQueue {
		l.mu.Unlock()
		l.losses.Add(1)
		return nil
	}
	b.items = append(b.items, p)
	l.mu.Unlock()
	l.queued.Add(1)
	select {
	case l.wake <- struct{}{}:
	default:
	}
	if l.opt.Mode == ModeBestEffort {
		return nil
	}
	select {
	case <-b.done:
		return b.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close writes what is queued and a final checkpoint, and closes the
// segment. Append fails with ErrClosed afterwards.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.shut {
		l.mu.Unlock()
		return nil
	}
	l.shut = true
	l.mu.Unlock()
	close(l.stop)
	<-l.done
	if l.f == nil {
		return nil
	}
	return l.f.Close()
}

// run is the writer: it commits batches, writes checkpoints when due and
// rolls segments.
func (l *Log) run() {
	defer close(l.done)
	tick := time.NewTicker(min(l.opt.CheckpointInterval, probeInterval))
	defer tick.Stop()
	for {
		stopping := false
		select {
		case <-l.wake:
		case <-tick.C:
		case <-l.stop:
			stopping = true
		}
		if l.opt.Mode == ModeBestEffort && !stopping {
			if d := time.Until(l.lastCommit.Add(bestEffortInterval)); d > 0 {
				t := time.NewTimer(d)
				select {
				case <-t.C:
				case <-l.stop:
					stopping = true
				}
				t.Stop()
			}
		}
		// Take the current batch if it holds records; an empty one stays
		// current (Appends may fill it), and is not read after Unlock.
		l.mu.Lock()
		b := l.cur
		n := len(b.items)
		if n > 0 {
			l.cur = &batch{done: make(chan struct{})}
		}
		l.mu.Unlock()
		if l.opt.Mode == ModeOff {
			if stopping {
				return
			}
			continue
		}
		if n > 0 {
			l.commit(b)
			l.lastCommit = time.Now()
		}
		now := l.opt.Now()
		switch {
		case stopping && l.sinceCheckpoint > 0,
			l.sinceCheckpoint > 0 && now.Sub(l.lastCheckpoint) >= l.opt.CheckpointInterval,
			!l.healthy.Load() && n == 0:
			// A checkpoint is due; or the trail is unwritable and nothing
			// else tries it: the checkpoint is the probe.
			l.checkpoint()
		}
		if l.size >= l.opt.SegmentSize && l.healthy.Load() {
			l.roll()
		}
		if stopping {
			return
		}
	}
}

// write appends buf, the entries from seq+1 to seq, to the segment and
// syncs it; on failure it cuts the segment back to where it was, so the
// chain stays as it was before.
func (l *Log) write(buf []byte, seq uint64, head [HashSize]byte) error {
	_, err := l.f.Write(buf)
	if err == nil {
		start := time.Now()
		err = l.f.Sync()
		l.syncs.Add(1)
		if l.opt.ObserveSync != nil {
			l.opt.ObserveSync(time.Since(start))
		}
	}
	if err != nil {
		if terr := l.f.Truncate(l.size); terr != nil {
			err = fmt.Errorf("%w; cutting back the partial write: %v", err, terr)
		}
		msg := err.Error()
		l.failure.Store(&msg)
		l.healthy.Store(false)
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	l.size += int64(len(buf))
	l.seq, l.head = seq, head
	l.healthy.Store(true)
	return nil
}

// commit writes one batch and wakes its waiters.
func (l *Log) commit(b *batch) {
	buf := l.buf[:0]
	seq, head := l.seq, l.head
	for _, p := range b.items {
		start := len(buf)
		seq++
		buf = Entry{Kind: KindRecord, Seq: seq, Prev: head, Payload: p}.Append(buf)
		head = sha256.Sum256(buf[start:])
	}
	n := len(b.items)
	b.err = l.write(buf, seq, head)
	if b.err != nil {
		l.losses.Add(uint64(n))
	} else {
		l.appends.Add(uint64(n))
		l.sinceCheckpoint += n
	}
	l.queued.Add(-int64(n))
	if cap(buf) <= 1<<20 {
		l.buf = buf
	}
	close(b.done)
}

// checkpoint signs the chain head.
func (l *Log) checkpoint() error {
	now := l.opt.Now().UnixNano()
	pub := l.PublicKey()
	seq := l.seq + 1
	sig := ed25519.Sign(l.opt.Key, SignedMessage(l.opt.Node, seq, l.head, now, pub))
	e := Entry{Kind: KindCheckpoint, Seq: seq, Prev: l.head, Payload: Checkpoint{Time: now, PublicKey: pub, Signature: sig}.Marshal()}
	buf := e.Append(nil)
	if err := l.write(buf, seq, sha256.Sum256(buf)); err != nil {
		return err
	}
	l.checkpoints.Add(1)
	l.sinceCheckpoint = 0
	l.lastCheckpoint = l.opt.Now()
	return nil
}

// roll closes the segment with a checkpoint and begins the next. When the
// next cannot be created the current one goes on, and the roll is tried
// again after the next commit.
func (l *Log) roll() {
	if l.sinceCheckpoint > 0 {
		if err := l.checkpoint(); err != nil {
			return
		}
	}
	if err := l.begin(Header{Node: l.opt.Node, Segment: l.segment + 1, FirstSeq: l.seq + 1, Prev: l.head}); err != nil {
		msg := err.Error()
		l.failure.Store(&msg)
	}
}

// String describes the Log for logs.
func (l *Log) String() string {
	return "audit trail " + l.opt.Dir + " (node " + l.opt.Node + ", mode " + string(l.opt.Mode) + ", segment " + strconv.FormatUint(l.segment, 10) + ")"
}
