package throttle

import (
	"sync"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestLimiter(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	l := NewLimiter(2, 3, c.now) // 2/s, burst 3
	for i := range 3 {
		if ok, _ := l.Allow("u"); !ok {
			t.Fatalf("request %d of the burst refused", i)
		}
	}
	ok, wait := l.Allow("u")
	if ok || wait != 500*time.Millisecond {
		t.Fatalf("past the burst: %v %v, want refused for 500ms", ok, wait)
	}
	if ok, _ := l.Allow("v"); !ok {
		t.Error("another key shares the bucket")
	}
	c.advance(500 * time.Millisecond)
	if ok, _ := l.Allow("u"); !ok {
		t.Error("a token did not come back after 1/rate")
	}
	if ok, _ := l.Allow("u"); ok {
		t.Error("two tokens came back after 1/rate")
	}
	c.advance(time.Hour)
	for i := range 3 {
		if ok, _ := l.Allow("u"); !ok {
			t.Fatalf("after an hour, request %d refused: the bucket holds more than its burst? ", i)
		}
	}
	if ok, _ := l.Allow("u"); ok {
		t.Error("the bucket filled beyond its burst")
	}
}

func TestLimiterPeekSpend(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	l := NewLimiter(1, 2, c.now)
	for range 2 {
		if ok, _ := l.Peek("src"); !ok {
			t.Fatal("peek refused with tokens left")
		}
		l.Spend("src")
	}
	if ok, wait := l.Peek("src"); ok || wait != time.Second {
		t.Fatalf("after two failures: %v %v", ok, wait)
	}
	l.Spend("src") // a failure already under way still counts
	if _, wait := l.Peek("src"); wait != 2*time.Second {
		t.Errorf("wait %v, want 2s", wait)
	}
}

func TestLimiterOff(t *testing.T) {
	l := NewLimiter(0, 1, nil)
	for range 100 {
		if ok, _ := l.Allow("x"); !ok {
			t.Fatal("a rate of 0 limited")
		}
	}
	var nilL *Limiter
	if ok, _ := nilL.Allow("x"); !ok {
		t.Fatal("a nil limiter limited")
	}
}

func TestLimiterBoundedMemory(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	l := NewLimiter(1000, 1, c.now)
	for i := range shards * maxKeysPerShard * 3 {
		l.Allow(string(rune(i)))
		if i%1000 == 0 {
			c.advance(time.Second)
		}
	}
	n := 0
	for i := range l.shard {
		n += len(l.shard[i].buckets)
	}
	if n > shards*maxKeysPerShard+shards {
		t.Errorf("%d buckets kept, want at most %d", n, shards*maxKeysPerShard)
	}
}

func TestInFlight(t *testing.T) {
	f := NewInFlight(2)
	if !f.Acquire("a") || !f.Acquire("a") {
		t.Fatal("refused within the limit")
	}
	if f.Acquire("a") {
		t.Fatal("a third acquired")
	}
	if !f.Acquire("b") {
		t.Fatal("another key refused")
	}
	f.Release("a")
	if !f.Acquire("a") {
		t.Fatal("refused after a release")
	}
	var wg sync.WaitGroup
	g := NewInFlight(3)
	var mu sync.Mutex
	max, cur := 0, 0
	for range 50 {
		wg.Go(func() {
			if !g.Acquire("k") {
				return
			}
			mu.Lock()
			cur++
			if cur > max {
				max = cur
			}
			mu.Unlock()
			mu.Lock()
			cur--
			mu.Unlock()
			g.Release("k")
		})
	}
	wg.Wait()
	if max > 3 {
		t.Errorf("%d in flight, limit 3", max)
	}
}
