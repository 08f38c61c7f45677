package api

import (
	"context"
	"io"
	"sync"
	"time"
)

// readBody reads the body (the signature covers its exact bytes) within
// the route's own limit, after the header checks (auth Precheck) and
// before the signature is verified: a declared Content-Length over the
// limit is refused unread, and an undeclared (chunked) body is read to
// at most the limit plus one byte, which shows it goes on — the
// signature cannot be checked without the whole body, and reading up to
// the 12 MB gateway limit to answer 401 rather than KMS.0203 is what the
// route's limit is there to prevent (docs/security.md). The bytes are
// charged to the handler's body budget before they are read; c.held is
// what to release once the call is answered.
func (h *Handler) readBody(c *call) error {
	limit := c.route.bodyLimit()
	declared := c.r.ContentLength
	if declared > GatewayMaxBody {
		return errEntityTooLarge
	}
	if declared > limit {
		return errBodyTooLong
	}
	charge := limit + 1
	if declared >= 0 {
		charge = declared + 1
	}
	if declared == 0 {
		charge = 0
	}
	if err := h.bodies.acquire(c.ctx, charge); err != nil {
		return err
	}
	c.held = charge
	b, err := readAll(c.r.Body, declared, limit)
	if err != nil {
		return errMalformedJSON
	}
	if int64(len(b)) > limit {
		return errBodyTooLong
	}
	c.body = b
	return nil
}

// bodyLimit is the route's request body limit.
func (rt *route) bodyLimit() int64 {
	if rt.maxBody <= 0 {
		return defaultMaxBody
	}
	return rt.maxBody
}

// readAll reads at most limit+1 bytes of body. A body that declares a
// length within limit (every request of the data path) is read into one
// buffer of that size plus one byte, which shows whether the body goes
// on; an undeclared one grows to at most limit+1 bytes.
func readAll(body io.Reader, declared, limit int64) ([]byte, error) {
	if declared < 0 || declared > limit {
		return io.ReadAll(io.LimitReader(body, limit+1))
	}
	b := make([]byte, declared+1)
	n := 0
	for {
		m, err := body.Read(b[n:])
		n += m
		if n == len(b) {
			// Longer than declared: net/http never delivers that, but
			// another reader might; still no more than limit+1.
			rest, err := io.ReadAll(io.LimitReader(body, limit+1-int64(n)))
			return append(b, rest...), err
		}
		if err == io.EOF {
			return b[:n], nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// Defaults of the body budget (Config.BodyBudget, Config.BodyWait).
const (
	DefaultBodyBudget = 32 << 20
	DefaultBodyWait   = 2 * time.Second
)

// budget bounds the bytes that request bodies in flight may hold in
// total: each call acquires what its body may take (its Content-Length,
// or its route's limit when undeclared, plus one byte) before reading it
// and releases it once answered. A call that finds the budget spent
// waits, at most wait and never past its request's end, then is refused
// 429 APIGW.0308, so that N slow or large bodies cost the budget, not N
// times the gateway limit (docs/security.md).
type budget struct {
	size int64
	wait time.Duration
	mu   sync.Mutex // guards held, peak, changed, watched
	// held is the bytes acquired now, peak the most ever held at once.
	held, peak int64
	// changed is closed, and replaced, when bytes are released while a
	// call waits on it (watched): a release with nobody waiting, the
	// common case, costs no channel.
	changed chan struct{}
	watched bool
}

func newBudget(size int64, wait time.Duration) *budget {
	if size <= 0 {
		size = DefaultBodyBudget
	}
	if wait <= 0 {
		wait = DefaultBodyWait
	}
	return &budget{size: size, wait: wait, changed: make(chan struct{})}
}

// acquire takes n bytes of the budget, waiting for releases at most
// b.wait; n larger than the whole budget takes the whole budget.
func (b *budget) acquire(ctx context.Context, n int64) error {
	if n <= 0 {
		return nil
	}
	n = min(n, b.size)
	var timer *time.Timer
	for {
		b.mu.Lock()
		if b.held+n <= b.size {
			b.held += n
			b.peak = max(b.peak, b.held)
			b.mu.Unlock()
			if timer != nil {
				timer.Stop()
			}
			return nil
		}
		changed := b.changed
		b.watched = true
		b.mu.Unlock()
		if timer == nil {
			timer = time.NewTimer(b.wait)
		}
		select {
		case <-changed:
		case <-timer.C:
			return errBodiesBusy
		case <-ctx.Done():
			timer.Stop()
			return errBodiesBusy
		}
	}
}

// release returns n bytes taken by acquire.
func (b *budget) release(n int64) {
	if n <= 0 {
		return
	}
	n = min(n, b.size)
	b.mu.Lock()
	b.held -= n
	if b.watched {
		close(b.changed)
		b.changed, b.watched = make(chan struct{}), false
	}
	b.mu.Unlock()
}

// BodyBytes reports the bytes request bodies in flight hold now and the
// most they held at once since the handler started.
func (h *Handler) BodyBytes() (held, peak int64) {
	b := h.bodies
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.held, b.peak
}
