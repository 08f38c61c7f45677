package main

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// waitFor polls buf for s for up to 10 seconds.
func waitFor(t *testing.T, buf *lockedBuffer, s string) {
	t.Helper()
	for range 200 {
		if strings.Contains(buf.String(), s) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%q never appeared in:\n%s", s, buf.String())
}

// TestLogLevelSIGHUP changes log.level in the file of a running server
// and sends SIGHUP: successful requests, logged at debug, start to
// appear, each line with its request id.
func TestLogLevelSIGHUP(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfgPath := filepath.Join(dir, "kmsd.yaml")
	write := func(level string) {
		cfg := "listen: " + addr + "\ndata_dir: data\nlog:\n  level: " + level + "\n  format: json\n"
		if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("info")
	mustKmsd(t, nil, "init", "--config", cfgPath)
	ctx, cancel := context.WithCancel(t.Context())
	var out, errOut lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--config", cfgPath}, &out, &errOut, func(string) string { return "" })
	}()
	defer func() {
		cancel()
		<-done
	}()
	waitFor(t, &errOut, "kmsd listening")
	get := func() string {
		resp, err := http.Get("http://" + addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header.Get("X-Request-Id")
	}
	first := get()
	write("debug")
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, &errOut, "log level changed")
	second := get()
	waitFor(t, &errOut, second)
	if strings.Contains(errOut.String(), first) {
		t.Errorf("a request at info level was logged at debug before SIGHUP:\n%s", errOut.String())
	}
}
