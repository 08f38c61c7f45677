package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/kmsd/kmsd/internal/config"
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
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dev == (*cfgPath != "") {
		return errors.New("serve: give exactly one of --dev and --config FILE")
	}
	if !*dev {
		var devOnly []string
		fs.Visit(func(f *flag.Flag) {
			if f.Name == "data" || f.Name == "cmk-quota" {
				devOnly = append(devOnly, "--"+f.Name)
			}
		})
		if len(devOnly) > 0 {
			return fmt.Errorf("serve: %s only apply to --dev; with --config set data_dir and quotas.cmk in %s", strings.Join(devOnly, " and "), *cfgPath)
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
		if err := cfg.Validate(); err != nil {
			return fmt.Errorf("serve --dev --listen %s --cmk-quota %d: %w (dev mode takes a loopback address and a quota of at least 1; anything else needs kmsd serve --config FILE)", *listen, *cmkQuota, err)
		}
		if _, err := server.Init(ctx, cfg, getenv); err != nil {
			return fmt.Errorf("data directory %s: %w; choose a directory this user can create and write with --data DIR", abs, err)
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
	if *logLevel != "" {
		cfg.Log.Level = *logLevel
		if err := cfg.Validate(); err != nil {
			return fmt.Errorf("--log-level %s: %w", *logLevel, err)
		}
	}
	log := newLogger(stderr, cfg.Log.Level, cfg.Log.Format)
	srv, err := server.New(ctx, cfg, server.Options{Logger: log, Getenv: getenv})
	if err != nil {
		return err
	}
	defer srv.Close()

	var ids server.DevIdentities
	if *dev {
		ids = server.DefaultDevIdentities(getenv)
		if err := srv.EnsureDevIdentities(ctx, ids); err != nil {
			return fmt.Errorf("dev identities: %w; ids cannot change in an existing data directory: unset the KMSD_DEV_* variables that differ from its first start, or start afresh with another --data DIR", err)
		}
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w; stop what uses it, or choose another address with %s", cfg.Listen, err, listenHint)
	}
	scheme := "http"
	if cfg.TLS.CertFile != "" {
		scheme = "https"
	}
	endpoint := scheme + "://" + ln.Addr().String()
	if *dev {
		env := server.DevEnv(ids, endpoint)
		envFile := filepath.Join(cfg.DataDir, "dev.env")
		if err := writePrivateFile(envFile, []byte(env)); err != nil {
			ln.Close()
			return err
		}
		fmt.Fprintf(stdout, "kmsd dev server listening on %s (data in %s)\n", endpoint, cfg.DataDir)
		fmt.Fprintf(stdout, "These dev credentials are public; never keep real keys here. Written to %s:\n\n%s\n", envFile, env)
	} else {
		log.Info("kmsd listening", "endpoint", endpoint, "data_dir", cfg.DataDir)
	}
	return srv.Serve(ctx, ln)
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

// writePrivateFile writes b to path, readable and writable by the owner
// only: a new file is created with mode 0600, and an existing one (which
// os.WriteFile would leave at its mode) is set to 0600 before it is
// written.
func writePrivateFile(path string, b []byte) error {
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
