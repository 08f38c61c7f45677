package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// lockedBuffer is a strings.Builder safe for concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestServeLogsEveryRequestOnShutdown sends requests to `kmsd serve --dev`
// (debug level: one line per request), stops it right after the last
// answer and checks that the buffered log holds a line for each.
func TestServeLogsEveryRequestOnShutdown(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stdoutR, stdoutW := io.Pipe()
	var stderr lockedBuffer
	errc := make(chan error, 1)
	go func() {
		errc <- cmdServe(ctx, []string{"--dev", "--data", t.TempDir(), "--listen", "127.0.0.1:0"},
			stdoutW, &stderr, func(string) string { return "" })
		stdoutW.Close()
	}()
	var endpoint string
	sc := bufio.NewScanner(stdoutR)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "kmsd dev server listening on "); ok {
			endpoint, _, _ = strings.Cut(rest, " ")
			break
		}
	}
	if endpoint == "" {
		t.Fatalf("no endpoint line; stderr: %s", stderr.String())
	}
	go io.Copy(io.Discard, stdoutR)
	const n = 50
	for range n {
		resp, err := http.Get(endpoint + "/v1.0/log-flush-test/kms/user-instances")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(stderr.String(), "log-flush-test"); got != n {
		t.Errorf("got %d request lines, want %d", got, n)
	}
}
