// Package throttle holds kmsd's rate limits: token buckets by key (a
// user, a project, a source address) and bounded counts of work in
// flight by key. It knows nothing of HTTP; the API layer decides what a
// key is and what an exceeded limit answers.
package throttle

import (
	"hash/maphash"
	"math"
	"sync"
	"time"
)

// shards spreads keys over independent locks, so that concurrent
// requests of different callers do not contend.
const shards = 32

// maxKeysPerShard bounds the memory of a Limiter: past it, buckets that
// have refilled completely (which behave exactly like absent ones) are
// dropped.
const maxKeysPerShard = 4096

// Limiter is a token bucket per key: each key may spend Burst tokens at
// once and regains Rate tokens per second. The zero Rate means no limit.
// It is safe for concurrent use.
type Limiter struct {
	rate, burst float64
	now         func() time.Time
	seed        maphash.Seed
	shard       [shards]struct {
		mu      sync.Mutex
		buckets map[string]*bucket
	}
}

type bucket struct {
	tokens float64
	last   time.Time
}

// NewLimiter returns a Limiter of rate tokens per second and burst
// tokens. A rate of 0 (or less) allows everything. now is the clock
// (time.Now when nil).
func NewLimiter(rate float64, burst int, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	l := &Limiter{rate: rate, burst: float64(max(burst, 1)), now: now, seed: maphash.MakeSeed()}
	for i := range l.shard {
		l.shard[i].buckets = map[string]*bucket{}
	}
	return l
}

// Allow takes one token of key's bucket. When there is none it takes
// nothing and returns false with how long until there is one.
func (l *Limiter) Allow(key string) (bool, time.Duration) {
	return l.take(key, true)
}

// Peek reports whether key's bucket holds a token, taking none, and
// otherwise how long until it does.
func (l *Limiter) Peek(key string) (bool, time.Duration) {
	return l.take(key, false)
}

// Spend takes one token of key's bucket even when that leaves it below
// zero (a failure that happened must be counted), so that the key waits
// longer.
func (l *Limiter) Spend(key string) {
	if l == nil || l.rate <= 0 {
		return
	}
	s := &l.shard[maphash.String(l.seed, key)%shards]
	s.mu.Lock()
	b := l.refill(s.buckets, key)
	b.tokens = max(b.tokens-1, -l.burst)
	s.mu.Unlock()
}

func (l *Limiter) take(key string, spend bool) (bool, time.Duration) {
	if l == nil || l.rate <= 0 {
		return true, 0
	}
	s := &l.shard[maphash.String(l.seed, key)%shards]
	s.mu.Lock()
	defer s.mu.Unlock()
	b := l.refill(s.buckets, key)
	if b.tokens >= 1 {
		if spend {
			b.tokens--
		}
		return true, 0
	}
	wait := time.Duration(math.Ceil((1 - b.tokens) / l.rate * float64(time.Second)))
	return false, wait
}

// refill returns key's bucket, created full or brought up to date.
func (l *Limiter) refill(m map[string]*bucket, key string) *bucket {
	now := l.now()
	b, ok := m[key]
	if !ok {
		if len(m) >= maxKeysPerShard {
			l.sweep(m, now)
		}
		b = &bucket{tokens: l.burst, last: now}
		m[key] = b
		return b
	}
	if d := now.Sub(b.last).Seconds(); d > 0 {
		b.tokens = min(l.burst, b.tokens+d*l.rate)
		b.last = now
	}
	return b
}

// sweep drops the buckets that are full again.
func (l *Limiter) sweep(m map[string]*bucket, now time.Time) {
	for k, b := range m {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(m, k)
		}
	}
}

// InFlight bounds how many operations each key may have running at once.
// It is safe for concurrent use.
type InFlight struct {
	limit int
	mu    sync.Mutex
	n     map[string]int
}

// NewInFlight returns an InFlight allowing limit operations per key.
func NewInFlight(limit int) *InFlight {
	return &InFlight{limit: max(limit, 1), n: map[string]int{}}
}

// Acquire starts an operation of key, or reports false when key has
// limit running already. Each successful Acquire needs one Release.
func (f *InFlight) Acquire(key string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n[key] >= f.limit {
		return false
	}
	f.n[key]++
	return true
}

// Release ends an operation of key.
func (f *InFlight) Release(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n[key]--; f.n[key] <= 0 {
		delete(f.n, key)
	}
}
