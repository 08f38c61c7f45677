package server

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"

	"github.com/kmsd/kmsd/internal/config"
	"github.com/kmsd/kmsd/internal/keyring"
)

// InitResult says what Init found and what it made.
type InitResult struct {
	// RootKeyPath is the root key file, or the passphrase parameters file
	// when the root key comes from a passphrase (Passphrase).
	RootKeyPath string
	Passphrase  bool
	// Created is true when Init wrote RootKeyPath, false when it existed.
	Created bool
	// Database is the path of the database Init made ready; empty until
	// it is.
	Database string
}

// Init prepares the data directory of cfg for a first start, and changes
// nothing that exists: it creates DataDir (mode 0700) and the root key — a
// random root key file (mode 0600), or, when the root key comes from a
// passphrase, new Argon2id parameters for it — then checks that the root
// key opens (a wrong passphrase is an error) and creates the database with
// its schema. getenv reads the passphrase (os.Getenv when nil). kmsd init
// and kmsd serve --dev call it; a later call finds everything and writes
// nothing. On error the result says what was done before it.
func Init(ctx context.Context, cfg config.Config, getenv func(string) string) (InitResult, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	var res InitResult
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return res, err
	}
	path, passphrase := cfg.RootKey.File, cfg.RootKey.File == ""
	var created bool
	var err error
	if passphrase {
		path = cfg.PassphraseParamsPath()
		created, err = initPassphraseParams(cfg, getenv)
	} else {
		created, err = initRootKeyFile(path)
	}
	if err != nil {
		return res, err
	}
	res = InitResult{RootKeyPath: path, Passphrase: passphrase, Created: created}
	root, err := LoadRootKey(cfg, getenv)
	if err != nil {
		return res, err
	}
	clear(root)
	st, err := OpenStore(ctx, cfg, getenv)
	if err != nil {
		return res, err
	}
	if err := st.Close(); err != nil {
		return res, err
	}
	res.Database = DescribeStore(cfg)
	return res, nil
}

// initRootKeyFile creates a root key file at path unless one exists.
func initRootKeyFile(path string) (created bool, err error) {
	if _, err := os.Stat(path); err == nil {
		return false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	if err := keyring.CreateRootKeyFile(path); err != nil {
		return false, err
	}
	return true, nil
}

// initPassphraseParams writes new Argon2id parameters for the root key
// passphrase unless the file exists.
func initPassphraseParams(cfg config.Config, getenv func(string) string) (created bool, err error) {
	path := cfg.PassphraseParamsPath()
	if _, err := os.Stat(path); err == nil {
		return false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	pass, err := LoadPassphrase(cfg, getenv)
	if err != nil {
		return false, err
	}
	params, root, err := keyring.NewPassphraseParams(pass)
	clear(pass)
	if err != nil {
		return false, err
	}
	clear(root)
	b, err := json.MarshalIndent(params, "", "  ")
	if err != nil {
		return false, err
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return false, err
	}
	return true, nil
}
