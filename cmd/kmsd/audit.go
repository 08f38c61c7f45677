package main

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/kmsd/kmsd/internal/audit"
)

const auditUsage = `kmsd audit — read and check audit trails offline (docs/audit.md)

Usage:
  kmsd audit verify [--key HEX] DIR     check a node's chain (or every chain under DIR)
  kmsd audit tail [-n N] DIR            print the last N records (default 10), one JSON object a line
  kmsd audit export [--since T] [--until T] [--format json|jsonl] DIR
                                        print records from T (RFC 3339, or a duration such as 24h: that long ago)

DIR is a node's chain, AUDIT_DIR/NODE_ID (dev mode: DATA_DIR/audit/dev).
`

func cmdAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, auditUsage)
		if len(args) == 0 {
			return flag.ErrHelp
		}
		return nil
	}
	switch args[0] {
	case "verify":
		return auditVerify(args[1:], stdout, stderr)
	case "tail":
		return auditTail(args[1:], stdout, stderr)
	case "export":
		return auditExport(args[1:], stdout, stderr)
	}
	fmt.Fprint(stderr, auditUsage)
	return fmt.Errorf("audit: unknown command %q", args[0])
}

// oneDir parses fs and returns its one DIR argument.
func oneDir(fs *flag.FlagSet, args []string) (string, error) {
	if err := fs.Parse(args); err != nil {
		return "", err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return "", fmt.Errorf("audit %s: give one DIR", fs.Name())
	}
	return fs.Arg(0), nil
}

func auditVerify(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keyHex := fs.String("key", "", "the node's public key in hex (as verify printed it before): checkpoints signed by another key fail")
	dir, err := oneDir(fs, args)
	if err != nil {
		return err
	}
	var pin ed25519.PublicKey
	if *keyHex != "" {
		b, err := hex.DecodeString(*keyHex)
		if err != nil || len(b) != ed25519.PublicKeySize {
			return fmt.Errorf("audit verify: --key wants %d bytes in hex", ed25519.PublicKeySize)
		}
		pin = b
	}
	dirs := []string{dir}
	if segs, err := audit.Segments(dir); err == nil && len(segs) == 0 {
		// A directory of chains: verify each.
		ents, _ := os.ReadDir(dir)
		dirs = dirs[:0]
		for _, e := range ents {
			if e.IsDir() {
				dirs = append(dirs, filepath.Join(dir, e.Name()))
			}
		}
		if len(dirs) == 0 {
			return fmt.Errorf("audit verify: no audit segments in %s", dir)
		}
	}
	bad := 0
	for _, d := range dirs {
		rep, err := audit.Verify(d, pin)
		if err != nil {
			return fmt.Errorf("audit verify: %w", err)
		}
		fmt.Fprintf(stdout, "%s: node %s, %d segments, %d records, %d checkpoints, entries 1-%d\n", d, rep.Node, rep.Segments, rep.Records, rep.Checkpoints, rep.LastSeq)
		if rep.PublicKey != nil {
			fmt.Fprintf(stdout, "  signing key %s\n", hex.EncodeToString(rep.PublicKey))
		}
		if p := rep.Problem; p != nil {
			bad++
			fmt.Fprintf(stdout, "  TAMPERED: %s offset %d, entry %d: %s\n", p.File, p.Offset, p.Seq, p.Reason)
			continue
		}
		if p := rep.Truncated; p != nil {
			bad++
			fmt.Fprintf(stdout, "  TRUNCATED: %s offset %d, entry %d: %s\n", p.File, p.Offset, p.Seq, p.Reason)
		}
		switch {
		case rep.Checkpoints == 0:
			fmt.Fprintf(stdout, "  no checkpoint yet: the chain is intact but nothing is signed\n")
		case rep.Unsigned > 0:
			fmt.Fprintf(stdout, "  signed through entry %d; %d records after it are chained but not yet signed (a running node, or a stop without its final checkpoint)\n", rep.SignedSeq, rep.Unsigned)
		default:
			fmt.Fprintf(stdout, "  signed through entry %d, the last\n", rep.SignedSeq)
		}
		if rep.Truncated == nil {
			fmt.Fprintln(stdout, "  OK")
		}
	}
	if bad > 0 {
		return fmt.Errorf("audit verify: %d of %d chains failed", bad, len(dirs))
	}
	return nil
}

// writeRecord prints r with its sequence number as one JSON object.
func writeRecord(w io.Writer, seq uint64, r audit.Record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "{\"seq\":%d,%s\n", seq, b[1:])
	return err
}

func auditTail(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tail", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 10, "how many records")
	dir, err := oneDir(fs, args)
	if err != nil {
		return err
	}
	if *n < 1 {
		return errors.New("audit tail: -n must be at least 1")
	}
	type item struct {
		seq uint64
		r   audit.Record
	}
	ring := make([]item, 0, *n)
	next := 0
	err = audit.Read(dir, func(seq uint64, r audit.Record) error {
		if len(ring) < *n {
			ring = append(ring, item{seq, r})
		} else {
			ring[next] = item{seq, r}
			next = (next + 1) % *n
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("audit tail: %w", err)
	}
	w := bufio.NewWriter(stdout)
	for i := range ring {
		it := ring[(next+i)%len(ring)]
		if err := writeRecord(w, it.seq, it.r); err != nil {
			return err
		}
	}
	return w.Flush()
}

// parseSince reads an RFC 3339 time or a duration before now.
func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%q: want an RFC 3339 time (2026-01-02T15:04:05Z) or a duration (24h)", s)
}

func auditExport(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sinceFlag := fs.String("since", "", "first time to export (RFC 3339, or a duration before now)")
	untilFlag := fs.String("until", "", "time to export up to, excluded")
	format := fs.String("format", "json", "json (one array) or jsonl (one object a line)")
	dir, err := oneDir(fs, args)
	if err != nil {
		return err
	}
	now := time.Now()
	since, err := parseSince(*sinceFlag, now)
	if err != nil {
		return fmt.Errorf("audit export --since %w", err)
	}
	until, err := parseSince(*untilFlag, now)
	if err != nil {
		return fmt.Errorf("audit export --until %w", err)
	}
	if *format != "json" && *format != "jsonl" {
		return fmt.Errorf("audit export --format %q: want json or jsonl", *format)
	}
	w := bufio.NewWriter(stdout)
	n := 0
	if *format == "json" {
		w.WriteString("[\n")
	}
	err = audit.Read(dir, func(seq uint64, r audit.Record) error {
		t := time.Unix(0, r.TimeNanos)
		if t.Before(since) || !until.IsZero() && !t.Before(until) {
			return nil
		}
		if *format == "json" && n > 0 {
			w.WriteString(",\n")
		}
		n++
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		w.WriteString("{\"seq\":" + strconv.FormatUint(seq, 10) + "," + string(b[1:]))
		if *format == "jsonl" {
			w.WriteString("\n")
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("audit export: %w", err)
	}
	if *format == "json" {
		if n > 0 {
			w.WriteString("\n")
		}
		w.WriteString("]\n")
	}
	return w.Flush()
}
