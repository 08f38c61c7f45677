package auth

import (
	"crypto/sha256"
	"sync"
	"time"
)

// DefaultReplayCacheEntries is the capacity of a replay cache when the
// configuration names none: 2^18 signatures, about 20 MiB.
const DefaultReplayCacheEntries = 1 << 18

// ReplayCache remembers the signatures of signed requests until their
// X-Sdk-Date leaves the accepted window (MaxClockSkew after it), so that a
// second request with the same signature is refused. Huawei's gateway
// documents no such check; it is an option (security.replay_cache).
//
// The cache is per process and bounded: when it is full, the signature
// seen longest ago is forgotten first, so a replay of a request older
// than the last capacity requests is not recognised (docs/security.md).
// A ReplayCache is safe for concurrent use.
type ReplayCache struct {
	mu sync.Mutex
	// seen maps a signature to when it may be forgotten, in Unix
	// nanoseconds: a map without pointers, which the garbage collector
	// does not scan (a time.Time holds a *Location, and scanning a full
	// cache of 2^18 entries on every cycle would tax every request).
	seen    map[[sha256.Size]byte]int64
	order   [][sha256.Size]byte // ring of keys, oldest first from head
	head, n int
}

// NewReplayCache returns a cache of at most entries signatures
// (DefaultReplayCacheEntries if entries < 1).
func NewReplayCache(entries int) *ReplayCache {
	if entries < 1 {
		entries = DefaultReplayCacheEntries
	}
	return &ReplayCache{seen: make(map[[sha256.Size]byte]int64), order: make([][sha256.Size]byte, entries)}
}

// replayKey identifies a signed request by its access key and signature.
func replayKey(ak string, signature []byte) [sha256.Size]byte {
	h := sha256.New()
	h.Write([]byte(ak))
	h.Write([]byte{0})
	h.Write(signature)
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

// first records the signature of a request dated date and reports
// whether it was not seen before (within its window). now is the clock.
func (c *ReplayCache) first(ak string, signature []byte, date, now time.Time) bool {
	k := replayKey(ak, signature)
	forget, at := date.Add(MaxClockSkew).UnixNano(), now.UnixNano()
	c.mu.Lock()
	defer c.mu.Unlock()
	if until, ok := c.seen[k]; ok && at < until {
		return false
	}
	// Drop expired entries from the oldest end, and the oldest one when
	// full.
	for c.n > 0 {
		old := c.order[c.head]
		until, ok := c.seen[old]
		if ok && at < until && c.n < len(c.order) {
			break
		}
		if ok {
			delete(c.seen, old)
		}
		c.head = (c.head + 1) % len(c.order)
		c.n--
	}
	c.seen[k] = forget
	c.order[(c.head+c.n)%len(c.order)] = k
	c.n++
	return true
}

// Len returns the number of signatures the cache holds.
func (c *ReplayCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}
