package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/kmsd/kmsd/internal/seed"
)

const seedUsage = `Usage: kmsd seed [--config FILE | --data DIR] COMMAND

  export [--project ID]... [--with-material] [--out FILE]
      write the custom keys of the data directory as a seed file (all
      projects unless --project is given). Material only with
      --with-material: the file then holds plaintext key material.

Apply a seed file with kmsd serve --dev --seed FILE, or with seed: FILE in
the configuration. The format is in docs/seed.md.
Without --config or --data the dev data directory ./.kmsd-dev is used.
`

func cmdSeed(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	srv, rest, err := openAdmin(ctx, "seed", args, stderr, getenv, seedUsage)
	if err != nil {
		return err
	}
	defer srv.Close()
	if rest[0] != "export" {
		fmt.Fprint(stderr, seedUsage)
		return fmt.Errorf("unknown seed command %q", rest[0])
	}
	fs := flag.NewFlagSet("seed export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var projects multiFlag
	fs.Var(&projects, "project", "project id (repeatable; default every project)")
	withMaterial := fs.Bool("with-material", false, "include key material (plaintext!)")
	out := fs.String("out", "", "output file (default stdout)")
	if _, err := subFlags(fs, rest[1:], 0); err != nil {
		return err
	}
	if len(projects) == 0 {
		accounts, err := srv.IAM.Accounts(ctx)
		if err != nil {
			return err
		}
		for _, a := range accounts {
			ps, err := srv.IAM.ListProjects(ctx, a.ID)
			if err != nil {
				return err
			}
			for _, p := range ps {
				projects = append(projects, p.ID)
			}
		}
	}
	f, warnings, err := seed.Export(ctx, seed.Services{KMS: srv.KMS, IAM: srv.IAM}, projects, *withMaterial)
	if err != nil {
		return err
	}
	b, err := f.Marshal()
	if err != nil {
		return err
	}
	if *withMaterial {
		fmt.Fprintln(stderr, "kmsd: WARNING: the seed file holds plaintext key material: anyone who reads it can decrypt what these keys protect. Use it for test keys only.")
	}
	for _, w := range warnings {
		fmt.Fprintln(stderr, "kmsd: warning:", w)
	}
	if *out == "" {
		_, err = stdout.Write(b)
		return err
	}
	mode := os.FileMode(0o644)
	if *withMaterial {
		mode = 0o600
	}
	if err := os.WriteFile(*out, b, mode); err != nil {
		return errors.Join(err, os.Remove(*out))
	}
	fmt.Fprintf(stderr, "wrote %s (%d keys)\n", *out, countKeys(f))
	return nil
}

func countKeys(f *seed.File) int {
	n := 0
	for _, p := range f.Projects {
		n += len(p.Keys)
	}
	return n
}
