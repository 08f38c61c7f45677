package api_test

import (
	"bytes"
	"fmt"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kmsd/kmsd/internal/config"
)

// gatedBody is a counted request body whose first Read waits for gate.
type gatedBody struct {
	countingBody
	gate <-chan struct{}
	once *sync.Once
}

func (b gatedBody) Read(p []byte) (int, error) {
	b.once.Do(func() { <-b.gate })
	return b.countingBody.Read(p)
}

// TestKnownKeyBodiesBounded checks that bodies from a caller who passes
// the header checks (the dev admin's real access key and secret, a fresh
// date) cost the operation's limit, not the 12 MB gateway limit, and that
// together they hold at most the body budget (issue 10 item 1): 50
// concurrent 11.5 MB bodies sent chunked, against a 1 MiB budget, are
// each read to at most the limit plus one byte; exactly as many as the
// budget holds are read at once (400 KMS.0203), the others wait
// bodies.wait and are refused 429 APIGW.0308 unread. The counters are the
// bytes read from the bodies and the handler's bytes held.
func TestKnownKeyBodiesBounded(t *testing.T) {
	const budget = 1 << 20
	s := newTestServer(t, func(c *config.Config) {
		c.Bodies.Budget = budget
		c.Bodies.Wait = config.Duration{Duration: 10 * time.Millisecond}
	})
	h := s.srv.Handler
	body := bytes.Repeat([]byte("a"), 11<<20+512<<10)
	const n = 50
	charge := int64(64<<10) + 1 // encrypt-data's limit, plus one byte
	fit := int(budget / charge)
	gate := make(chan struct{})
	var read atomic.Int64
	codes := make(chan string, n)
	var wg sync.WaitGroup
	for range n {
		req := &httptestRequest{httptest.NewRequest("POST", s.kms("encrypt-data"), nil), body}
		req.Header.Set("Content-Type", "application/json;charset=UTF-8")
		req.Header.Set("X-Project-Id", s.ids.ProjectID)
		req.sign(s.ids.AdminAK, s.ids.AdminSK, time.Now())
		req.Body = gatedBody{countingBody{bytes.NewReader(body), &read}, gate, new(sync.Once)}
		req.ContentLength = -1 // chunked: nothing declared
		wg.Go(func() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req.Request)
			codes <- answer(w)
		})
	}
	// Until the gate opens, the bodies that hold budget cannot be read,
	// so exactly the ones that do not fit time out.
	got := map[string]int{}
	for range n - fit {
		got[<-codes]++
	}
	if held, _ := h.BodyBytes(); held != int64(fit)*charge || read.Load() != 0 {
		t.Errorf("with the gate shut: %d bytes held, %d read; want %d held, none read", held, read.Load(), int64(fit)*charge)
	}
	close(gate)
	wg.Wait()
	close(codes)
	for c := range codes {
		got[c]++
	}
	if got["400 KMS.0203"] != fit || got["429 APIGW.0308"] != n-fit {
		t.Errorf("answers %v, want %d × 400 KMS.0203 and %d × 429 APIGW.0308", got, fit, n-fit)
	}
	held, peak := h.BodyBytes()
	if held != 0 || peak > budget {
		t.Errorf("%d bytes held after the answers (want 0), peak %d (want at most %d)", held, peak, budget)
	}
	if r := read.Load(); r > int64(fit)*charge {
		t.Errorf("read %d bytes of %d × %d-byte bodies, want at most %d", r, n, len(body), int64(fit)*charge)
	}
	t.Logf("%d × %d-byte bodies: %d bytes read, peak %d bytes held", n, len(body), read.Load(), peak)

	// Declared over the limit: refused unread, nothing held.
	req := &httptestRequest{httptest.NewRequest("POST", s.kms("encrypt-data"), nil), body}
	req.Header.Set("X-Project-Id", s.ids.ProjectID)
	req.sign(s.ids.AdminAK, s.ids.AdminSK, time.Now())
	before := read.Load()
	req.Body = countingBody{bytes.NewReader(body), &read}
	req.ContentLength = int64(len(body))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req.Request)
	if a := answer(w); a != "400 KMS.0203" || read.Load() != before {
		t.Errorf("declared %d bytes: %s after reading %d bytes, want 400 KMS.0203 unread", len(body), a, read.Load()-before)
	}
}

// answer is a recorded response's status and Huawei error code.
func answer(w *httptest.ResponseRecorder) string {
	return fmt.Sprintf("%d %s", w.Code, response{status: w.Code, body: w.Body.Bytes()}.errorCode())
}
