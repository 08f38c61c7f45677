package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/kmsd/kmsd/internal/keyring"
	"github.com/kmsd/kmsd/internal/server"
)

const rootkeyUsage = `Usage: kmsd rootkey [--config FILE | --data DIR] COMMAND

  rotate [--batch N] [--pause D]   re-seal every sealed item under root_key (the new
                                   root key), while servers keep serving; resumable
  status                           the root key generations and what each seals

Before rotate: configure the new root key as root_key and the current one in
previous_root_keys on every node, run kmsd init --config FILE once to create
the new root key, and restart every node. When rotate reports done, remove
previous_root_keys and restart every node again (docs/operations.md, "Rotate
the root key").
`

func cmdRootkey(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	srv, rest, err := openAdmin(ctx, "rootkey", args, stderr, getenv, rootkeyUsage)
	if err != nil {
		return err
	}
	defer srv.Close()
	fs := flag.NewFlagSet("rootkey", flag.ContinueOnError)
	fs.SetOutput(stderr)
	batch := fs.Int("batch", 100, "items re-sealed per transaction")
	pause := fs.Duration("pause", 0, "wait between batches, to spare a busy database")
	if _, err := subFlags(fs, rest[1:], 0); err != nil {
		return err
	}
	switch rest[0] {
	case "rotate":
		var bar func(walked, total int)
		if isTerminal(stderr) {
			last := time.Time{}
			bar = func(walked, total int) {
				if now := time.Now(); now.Sub(last) > 100*time.Millisecond || walked == total {
					last = now
					io.WriteString(stderr, barLine("re-sealing", float64(walked)/float64(max(total, 1)), fmt.Sprintf("%d / %d items", walked, total)))
				}
			}
		}
		dir := adminDataDir(args)
		res, err := srv.RotateRootKey(ctx, server.RotateOptions{Batch: *batch, Pause: *pause, Progress: bar, Switched: func() { notifyServer(ctx, dir, io.Discard) }})
		if bar != nil {
			io.WriteString(stderr, "\n")
		}
		if err != nil {
			return err
		}
		if res.Total == 0 {
			fmt.Fprintf(stdout, "nothing to rotate: everything is sealed by root key generation %d, the only one in use; to rotate, configure a new root_key with the current one in previous_root_keys and run kmsd init\n", res.Generation)
			return nil
		}
		if res.Resumed {
			fmt.Fprintln(stdout, "resumed a rotation that had stopped")
		}
		fmt.Fprintf(stdout, "re-sealed %d of %d items under root key generation %d\n", res.Resealed, res.Total, res.Generation)
		retired := make([]string, len(res.Retired))
		for i, n := range res.Retired {
			retired[i] = fmt.Sprint(n)
		}
		if len(retired) > 0 {
			fmt.Fprintf(stdout, "retired root key generation %s\n", strings.Join(retired, ", "))
		}
		fmt.Fprintln(stdout, "done: remove previous_root_keys from the configuration of every node and restart them")
	case "status":
		gens, current, progress, err := srv.RootKeyGenerations(ctx)
		if err != nil {
			return err
		}
		counts, err := srv.CountSealedByGeneration(ctx)
		if err != nil {
			return err
		}
		for _, g := range gens {
			state := "active"
			if g.Retired {
				state = "retired"
			}
			mark := ""
			if g.Number == current {
				mark = " (sealing)"
			}
			fmt.Fprintf(stdout, "generation %d %s%s: %d items\n", g.Number, state, mark, counts[g.Number])
		}
		if progress != "" {
			fmt.Fprintln(stdout, progress)
		}
		if n := slices.IndexFunc(gens, func(g keyring.GenerationRecord) bool {
			return !g.Retired && g.Number != current && counts[g.Number] > 0
		}); n >= 0 {
			fmt.Fprintln(stdout, "items of another generation remain: run kmsd rootkey rotate")
		}
	default:
		fmt.Fprint(stderr, rootkeyUsage)
		return fmt.Errorf("unknown rootkey command %q", rest[0])
	}
	return nil
}
