package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/kmsd/kmsd/internal/config"
	"github.com/kmsd/kmsd/internal/logging"
	"github.com/kmsd/kmsd/internal/seed"
	"github.com/kmsd/kmsd/internal/server"
)

// Dev-mode defaults.
const (
	devListen   = "127.0.0.1:8080"
	devDataDir  = ".kmsd-dev"
	devCMKQuota = 100000
)

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dev := fs.Bool("dev", false, "run a dev server with documented credentials (never for real keys)")
	cfgPath := fs.String("config", "", "configuration file (production mode)")
	listen := fs.String("listen", "", "listen address (dev default "+devListen+")")
	data := fs.String("data", "", "data directory (dev default ./"+devDataDir+")")
	cmkQuota := fs.Int("cmk-quota", devCMKQuota, "dev mode: custom keys allowed per project")
	logLevel := fs.String("log-level", "", "debug, info, warn or error (dev default debug: every request is logged)")
	consoleOn := fs.Bool("console", true, "dev mode: serve the web console at /console (--console=false: off)")
	seedPath := fs.String("seed", "", "dev mode: apply this seed file at start (keys with fixed ids and material; docs/seed.md)")
	auditMode := fs.String("audit", "", "audit mode: required, best_effort or off (overrides audit.mode; dev default best_effort)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	if *dev == (*cfgPath != "") {
		return errors.New("serve: give exactly one of --dev and --config FILE")
	}
	if !*dev {
		var devOnly []string
		fs.Visit(func(f *flag.Flag) {
			if f.Name == "data" || f.Name == "cmk-quota" || f.Name == "seed" || f.Name == "console" {
				devOnly = append(devOnly, "--"+f.Name)
			}
		})
		if len(devOnly) > 0 {
			return fmt.Errorf("serve: %s only apply to --dev; with --config set data_dir, quotas.cmk, seed and console.enabled in %s", strings.Join(devOnly, ", "), *cfgPath)
		}
	}
	// What to change when the address is unusable.
	listenHint := "--listen ADDR (--listen 127.0.0.1:0 picks a free port)"
	if !*dev {
		listenHint = "listen in " + *cfgPath + " or --listen ADDR"
	}
	var cfg config.Config
	if *dev {
		if *listen == "" {
			*listen = devListen
		}
		if *data == "" {
			*data = devDataDir
		}
		abs, err := filepath.Abs(*data)
		if err != nil {
			return err
		}
		cfg = server.DevConfig(abs, *listen, *cmkQuota)
		cfg.Console.Enabled = *consoleOn
		if err := cfg.Validate(); err != nil {
			return fmt.Errorf("serve --dev --listen %s --cmk-quota %d: %w (dev mode takes a loopback address and a quota of at least 1; anything else needs kmsd serve --config FILE)", *listen, *cmkQuota, err)
		}
		if err := checkDevIDs(getenv); err != nil {
			return err
		}
		if *seedPath != "" {
			if cfg.Seed, err = filepath.Abs(*seedPath); err != nil {
				return err
			}
		}
	} else {
		var err error
		if cfg, err = config.Load(*cfgPath); err != nil {
			return err
		}
		if *listen != "" {
			cfg.Listen = *listen
			if err := cfg.Validate(); err != nil {
				return err
			}
		}
	}
	if *dev {
		cfg.Log.Level = "debug"
	}
	if *auditMode != "" {
		cfg.Audit.Mode = *auditMode
		if err := cfg.Validate(); err != nil {
			return fmt.Errorf("--audit %s: %w", *auditMode, err)
		}
	}
	if *logLevel != "" {
		cfg.Log.Level = *logLevel
		if err := cfg.Validate(); err != nil {
			return fmt.Errorf("--log-level %s: %w", *logLevel, err)
		}
	}
	var sd *seed.File
	if cfg.Seed != "" {
		var err error
		if sd, err = seed.Load(cfg.Seed); err != nil {
			return err
		}
	}
	// Bind the port before anything is created, so that a start that
	// fails on it leaves no files behind.
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w; stop what uses it, or choose another address with %s", cfg.Listen, err, listenHint)
	}
	defer ln.Close()
	// cleanup removes the data directory a failed first start created.
	cleanup := func() {}
	existed := true
	if *dev {
		if _, err := os.Stat(cfg.DataDir); errors.Is(err, os.ErrNotExist) {
			existed = false
			cleanup = func() { os.RemoveAll(cfg.DataDir) }
		}
	}
	lock, err := openDataDir(ctx, cfg, *dev, getenv)
	if err != nil {
		cleanup()
		return err
	}
	defer lock.release()
	ok := false
	defer func() {
		if !ok {
			lock.release()
			cleanup()
		}
	}()
	level := new(slog.LevelVar)
	if l, err := logging.ParseLevel(cfg.Log.Level); err == nil {
		level.Set(l)
	}
	// "auto" is decided on the terminal itself, before the buffer wraps it.
	format := cfg.Log.Format
	if format == "auto" {
		format = "json"
		if logging.IsTerminal(stderr) {
			format = "text"
		}
	}
	// Log lines are written out from memory every few milliseconds, not
	// on the request's path; Close (after the server's) writes the rest.
	logBuf := logging.NewBuffer(stderr)
	defer logBuf.Close()
	log := logging.New(logBuf, level, format)
	srv, err := server.New(ctx, cfg, server.Options{Logger: log, Getenv: getenv})
	if err != nil {
		if diskFull(err) {
			return fmt.Errorf("the disk holding %s is full (%w); free some space and start again", cfg.DataDir, err)
		}
		return err
	}
	defer srv.Close()

	var ids server.DevIdentities
	if *dev {
		ids = server.DefaultDevIdentities(getenv)
		if err := srv.EnsureDevIdentities(ctx, ids); err != nil {
			return devIdentitiesError(err, cfg.DataDir, existed)
		}
	}
	if sd != nil {
		rep, err := seed.Apply(ctx, seed.Services{KMS: srv.KMS, IAM: srv.IAM}, sd, getenv)
		if err != nil {
			return fmt.Errorf("seed %s: %w", cfg.Seed, err)
		}
		log.Info("seed applied", "file", cfg.Seed, "keys", rep.Keys, "changes", len(rep.Changes))
		for _, c := range rep.Changes {
			log.Info("seed change", "change", c)
		}
	}
	// SIGHUP: an admin command changed the store; drop the caches now.
	// Caught from before the server says it listens, so that a SIGHUP
	// sent on that word never meets the default action (exit); handled
	// (below) once the lock file is published.
	// With a configuration file, SIGHUP also re-reads log.level.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer func() {
		signal.Stop(hup) // no delivery after it returns
		close(hup)
	}()
	ok = true
	scheme := "http"
	if cfg.TLS.CertFile != "" {
		scheme = "https"
	}
	endpoint := scheme + "://" + ln.Addr().String()
	lock.info.Endpoint = endpoint
	if err := lock.publish(); err != nil {
		return err
	}
	if *dev {
		env := server.DevEnv(ids, endpoint)
		envFile := filepath.Join(cfg.DataDir, "dev.env")
		if err := writePrivateFile(envFile, []byte(env)); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "kmsd dev server listening on %s (data in %s)\n", endpoint, cfg.DataDir)
		if srv.Console != nil {
			fmt.Fprintf(stdout, "Web console: %s%s (account %s, project %s; user %s or %s, password in the lines below)\n", endpoint, srv.Console.Path(), ids.AccountName, ids.ProjectName, ids.AdminName, ids.ReaderName)
		}
		fmt.Fprintf(stdout, "These dev credentials are public; never keep real keys here. Written to %s:\n\n%s\n", envFile, env)
	} else {
		log.Info("kmsd listening", "endpoint", endpoint, "data_dir", cfg.DataDir)
	}
	go func() {
		for range hup {
			if !*dev {
				reloadLogLevel(*cfgPath, level, log)
			}
			srv.FlushCaches()
			lock.info.Flushes++
			if err := lock.publish(); err != nil {
				log.Warn("cannot record the cache flush in the lock file", "err", err.Error())
			}
		}
	}()
	return srv.Serve(ctx, ln)
}

// openDataDir creates the data directory in dev mode and takes its lock.
func openDataDir(ctx context.Context, cfg config.Config, dev bool, getenv func(string) string) (*dataLock, error) {
	if dev {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("data directory %s: %w; choose a directory this user can create and write with --data DIR", cfg.DataDir, err)
		}
	}
	lock, err := lockDataDir(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if dev {
		if _, err := server.Init(ctx, cfg, getenv); err != nil {
			lock.release()
			return nil, fmt.Errorf("data directory %s: %w; choose a directory this user can create and write with --data DIR", cfg.DataDir, err)
		}
	}
	return lock, nil
}

// devIDVars are the dev identity variables that hold ids.
var devIDVars = []string{"KMSD_DEV_ACCOUNT_ID", "KMSD_DEV_PROJECT_ID", "KMSD_DEV2_ACCOUNT_ID", "KMSD_DEV2_PROJECT_ID"}

// checkDevIDs checks the id overrides before anything is created.
func checkDevIDs(getenv func(string) string) error {
	for _, k := range devIDVars {
		if v := getenv(k); v != "" && !isHexID(v) {
			return fmt.Errorf("%s=%q: an id must be 32 hex digits (0-9, a-f), such as 0123456789abcdef0123456789abcdef", k, v)
		}
	}
	return nil
}

func isHexID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for _, c := range []byte(s) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// reloadLogLevel sets level from the configuration file's log.level (the
// other settings need a restart); serve calls it at every SIGHUP.
func reloadLogLevel(path string, level *slog.LevelVar, log *slog.Logger) {
	cfg, err := config.Load(path)
	if err != nil {
		log.Error("SIGHUP: configuration not reloaded; the log level is unchanged", "err", err.Error())
		return
	}
	l, _ := logging.ParseLevel(cfg.Log.Level)
	if l != level.Level() {
		log.Info("SIGHUP: log level changed", "from", level.Level().String(), "to", l.String())
		level.Set(l)
	}
}

func cmdInit(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("init", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "configuration file")
	createHSMKey := fs.Bool("create-hsm-key", false, "root_key source pkcs11: create the token's AES key key_label first")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cfgPath == "" {
		return errors.New("init: --config FILE is required")
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	if *createHSMKey && cfg.RootKey.Source != config.SourcePKCS11 {
		return errors.New("init: --create-hsm-key needs root_key source pkcs11")
	}
	if cfg.RootKey.Source == config.SourcePKCS11 {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return err
		}
		created, err := server.InitPKCS11RootKey(cfg, *createHSMKey)
		if err != nil {
			return err
		}
		if created {
			fmt.Fprintf(stdout, "created the root key, encrypted by the key %q of token %q, in %s; back the file up: without it and the token no key can be opened\n", cfg.RootKey.KeyLabel, cfg.RootKey.TokenLabel, cfg.WrappedRootKeyPath())
		} else {
			fmt.Fprintf(stdout, "root key %s exists; kept\n", cfg.WrappedRootKeyPath())
		}
	}
	res, err := server.Init(ctx, cfg, getenv)
	switch {
	case res.RootKeyPath == "", cfg.RootKey.Source == config.SourcePKCS11:
	case res.Passphrase && res.Created:
		fmt.Fprintf(stdout, "wrote passphrase parameters %s (Argon2id); keep the passphrase safe\n", res.RootKeyPath)
	case res.Passphrase:
		fmt.Fprintf(stdout, "passphrase parameters %s exist; kept\n", res.RootKeyPath)
	case res.Created:
		fmt.Fprintf(stdout, "created root key file %s (mode 0600); back it up: without it no key can be opened\n", res.RootKeyPath)
	default:
		fmt.Fprintf(stdout, "root key file %s exists; kept\n", res.RootKeyPath)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "database %s ready (root key check value stored)\n", res.Database)
	return nil
}

// devIdentitiesError explains why the dev identities could not be
// applied: a full disk (nothing was changed; the data is intact), ids
// that differ from an existing directory's first start, or the error
// itself.
func devIdentitiesError(err error, dataDir string, existed bool) error {
	switch {
	case diskFull(err):
		return fmt.Errorf("dev identities: the disk holding %s is full (%w); free some space and start again — the data directory is unchanged", dataDir, err)
	case existed:
		return fmt.Errorf("dev identities: %w; ids cannot change in an existing data directory: unset the KMSD_DEV_* variables that differ from its first start, or start afresh with another --data DIR", err)
	}
	return fmt.Errorf("dev identities: %w", err)
}

// diskFull reports whether err says the disk is full: ENOSPC or EDQUOT
// from the system, or SQLite's SQLITE_FULL, whose message modernc's
// driver passes on ("database or disk is full").
func diskFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) ||
		strings.Contains(err.Error(), "database or disk is full")
}

// writePrivateFile writes b to path, readable and writable by the owner
// only: a new file is created with mode 0600, and an existing one (which
// os.WriteFile would leave at its mode) is set to 0600 before it is
// written. A file that already holds exactly b with mode 0600 is left
// alone, so that a restart writes nothing it need not (a start on a full
// disk).
func writePrivateFile(path string, b []byte) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, b) {
		if fi, err := os.Stat(path); err == nil && fi.Mode().Perm() == 0o600 {
			return nil
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
