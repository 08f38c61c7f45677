package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/kmsd/kmsd/internal/backup"
	"github.com/kmsd/kmsd/internal/config"
	"github.com/kmsd/kmsd/internal/keyring"
	"github.com/kmsd/kmsd/internal/server"
	"github.com/kmsd/kmsd/internal/store"
)

const backupUsage = `Usage: kmsd backup --config FILE --out FILE [--quiet]

Writes a consistent snapshot of the whole store that FILE configures
(SQLite or PostgreSQL) to the archive --out, while servers keep serving:
accounts, projects, users, access keys, policies, keys with every version
(still sealed under the root key), grants, aliases, tags, rotation state,
import tokens, keystores, key spaces and meta values. The archive is
integrity-protected under the root key; keep the root key's own backup
beside it, the archive is useless without it. --out must not exist.
A progress bar is drawn on a terminal unless --quiet.
`

const restoreUsage = `Usage: kmsd restore --config FILE --in FILE [--quiet]

Loads the archive --in (written by kmsd backup) into the store that FILE
configures, which must be empty (new, or only initialised by kmsd init),
of either backend: this is also how to move from SQLite to PostgreSQL.
The configured root key must be the one the archive was made under. The
whole archive is verified before anything is written, and written in one
transaction: a wrong root key, a damaged archive or a store that is not
empty leaves the store as it was. Stop every server of the target first.
`

// backupFlags parses the flags of backup and restore: the configuration
// and one file.
func backupFlags(name, fileFlag, usageText string, args []string, stderr io.Writer) (config.Config, string, bool, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usageText) }
	cfgPath := fs.String("config", "", "configuration file")
	file := fs.String(fileFlag, "", "archive file")
	quiet := fs.Bool("quiet", false, "no progress bar")
	if err := fs.Parse(args); err != nil {
		return config.Config{}, "", false, err
	}
	if fs.NArg() > 0 && fs.Arg(0) == "help" {
		fmt.Fprint(stderr, usageText)
		return config.Config{}, "", false, flag.ErrHelp
	}
	if *cfgPath == "" || *file == "" || fs.NArg() > 0 {
		fmt.Fprint(stderr, usageText)
		return config.Config{}, "", false, fmt.Errorf("kmsd %s needs --config FILE and --%s FILE", name, fileFlag)
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return config.Config{}, "", false, err
	}
	return cfg, *file, *quiet, nil
}

// openKeyring loads the configured root key.
func openKeyring(cfg config.Config, getenv func(string) string) (*keyring.Keyring, error) {
	root, err := server.LoadRootKey(cfg, getenv)
	if err != nil {
		return nil, err
	}
	defer clear(root)
	return keyring.New(root)
}

func cmdBackup(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	cfg, out, quiet, err := backupFlags("backup", "out", backupUsage, args, stderr)
	if err != nil {
		return err
	}
	kr, err := openKeyring(cfg, getenv)
	if err != nil {
		return err
	}
	st, err := server.OpenStore(ctx, cfg, getenv)
	if err != nil {
		return err
	}
	defer st.Close()
	// The archive is written beside its final name and renamed when
	// complete, so that a failed backup never leaves a file that looks
	// like one.
	if _, err := os.Lstat(out); err == nil {
		return fmt.Errorf("%s exists: kmsd backup does not overwrite an archive; choose another --out", out)
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*.partial")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	o := backup.Options{Version: moduleVersion(), Backend: backendName(cfg)}
	if !quiet && isTerminal(stderr) {
		o.Progress = progressCount(stderr, "backup")
	}
	h, err := backup.Write(ctx, st, kr, tmp, o)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if errors.Is(err, backup.ErrWrongRootKey) {
			return fmt.Errorf("%w: the configured root key is not the one the store %s was initialised with", err, server.DescribeStore(cfg))
		}
		return fmt.Errorf("backup: %w", err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return err
	}
	fi, err := os.Stat(out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backed up %s to %s (%s): %s\n", server.DescribeStore(cfg), out, bytesText(fi.Size()), describeCounts(h.Counts))
	return nil
}

func cmdRestore(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	cfg, in, quiet, err := backupFlags("restore", "in", restoreUsage, args, stderr)
	if err != nil {
		return err
	}
	fi, err := os.Stat(in)
	if err != nil {
		return err
	}
	kr, err := openKeyring(cfg, getenv)
	if err != nil {
		return err
	}
	if cfg.Database.Driver != config.DriverPostgres {
		// The SQLite file may be new; a server serving it must not run.
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return err
		}
		lock, err := lockDataDir(cfg.DataDir)
		if err != nil {
			return err
		}
		defer lock.release()
	}
	st, err := server.OpenStore(ctx, cfg, getenv)
	if err != nil {
		return err
	}
	defer st.Close()
	tty := !quiet && isTerminal(stderr)
	pass := 0
	open := func() (io.ReadCloser, error) {
		f, err := os.Open(in)
		if err != nil {
			return nil, err
		}
		pass++
		label := "verify"
		if pass > 1 {
			label = "restore"
		}
		if !tty {
			return f, nil
		}
		return struct {
			io.Reader
			io.Closer
		}{&progressReader{r: f, w: stderr, label: label, size: fi.Size()}, f}, nil
	}
	h, err := backup.Restore(ctx, st, kr, open, backup.RestoreOptions{})
	switch {
	case errors.Is(err, backup.ErrWrongRootKey):
		return fmt.Errorf("%w: the configured root key (root_key in the configuration) is not the root key of the store it was taken from; configure that root key and run kmsd restore again; nothing was written", err)
	case errors.Is(err, backup.ErrNotEmpty):
		return fmt.Errorf("%w; nothing was written", err)
	case err != nil:
		return fmt.Errorf("restore %s: %w; nothing was written", in, err)
	}
	fmt.Fprintf(stdout, "restored %s into %s: %s (archive of %s, taken %s by kmsd %s)\n", in, server.DescribeStore(cfg),
		describeCounts(h.Counts), h.Backend, h.Created.Format("2006-01-02 15:04:05 UTC"), h.Version)
	return nil
}

// backendName names the configured store in the archive header.
func backendName(cfg config.Config) string {
	if cfg.Database.Driver == config.DriverPostgres {
		return config.DriverPostgres
	}
	return config.DriverSQLite
}

func describeCounts(c store.DumpCounts) string {
	return fmt.Sprintf("%d accounts, %d projects, %d users, %d access keys, %d keys, %d key versions, %d grants, %d aliases, %d tags",
		c.Accounts, c.Projects, c.Users, c.AccessKeys, c.Keys, c.KeyVersions, c.Grants, c.Aliases, c.Tags)
}
