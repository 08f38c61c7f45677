package main

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdWaitServe waits until a kmsd serves DIR (it holds the data
// directory's lock and has published its endpoint), then sets the
// variables of its dev.env — or, for a production server, KMSD_ENDPOINT
// alone — so that kmsd kms commands reach it.
func cmdWaitServe(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitserve DIR")
	}
	dir := ts.MkAbs(args[0])
	deadline := time.Now().Add(60 * time.Second)
	for {
		if info, ok := servingProcess(dir); ok && info.Endpoint != "" {
			b, err := os.ReadFile(filepath.Join(dir, "dev.env"))
			if errors.Is(err, os.ErrNotExist) {
				ts.Setenv("KMSD_ENDPOINT", info.Endpoint)
				return
			}
			if err == nil && len(b) > 0 {
				sc := bufio.NewScanner(strings.NewReader(string(b)))
				for sc.Scan() {
					if k, v, ok := strings.Cut(strings.TrimPrefix(sc.Text(), "export "), "="); ok {
						ts.Setenv(k, v)
					}
				}
				return
			}
		}
		if time.Now().After(deadline) {
			ts.Fatalf("no kmsd served %s within 60s", dir)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func cmdFlipByte(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: flipbyte FILE OFFSET")
	}
	path := ts.MkAbs(args[0])
	b, err := os.ReadFile(path)
	ts.Check(err)
	i, err := strconv.Atoi(args[1])
	ts.Check(err)
	if i < 0 {
		i += len(b)
	}
	if i < 0 || i >= len(b) {
		ts.Fatalf("flipbyte: offset %s outside %d bytes", args[1], len(b))
	}
	b[i] ^= 0xff
	ts.Check(os.WriteFile(path, b, 0o600))
}
