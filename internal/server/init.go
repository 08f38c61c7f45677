package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
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
	switch {
	case cfg.RootKey.Source == config.SourcePKCS11:
		// The token makes it: InitPKCS11RootKey (kmsd init).
		path, passphrase = cfg.WrappedRootKeyPath(), false
	case passphrase:
		path = cfg.PassphraseParamsPath()
		created, err = initPassphraseParams(cfg, getenv)
	default:
		created, err = initRootKeyFile(cfg)
	}
	if err != nil {
		return res, err
	}
	res = InitResult{RootKeyPath: path, Passphrase: passphrase, Created: created}
	st, err := OpenStore(ctx, cfg, getenv)
	if err != nil {
		return res, err
	}
	// Store the root key check value of a new database, refuse a root
	// key that is not the database's, and register a new root key of a
	// rotation (previous_root_keys set) as the next generation.
	if _, _, err := openKeyring(ctx, st, cfg, getenv, slog.New(slog.DiscardHandler)); err != nil {
		st.Close()
		return res, err
	}
	if err := st.Close(); err != nil {
		return res, err
	}
	res.Database = DescribeStore(cfg)
	return res, nil
}

// initRootKeyFile creates the root key file of cfg unless one exists. It
// refuses to create one beside an existing database: that database's keys
// would never open again, and new ones would be sealed under the wrong
// root.
func initRootKeyFile(cfg config.Config) (created bool, err error) {
	path := cfg.RootKey.File
	if _, err := os.Stat(path); err == nil {
		return false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	if _, err := os.Stat(cfg.Database.Path); err == nil && len(cfg.PreviousRootKeys) == 0 {
		return false, fmt.Errorf("%w: the root key file %s is missing but the database %s exists; restore the root key file from its backup (a new one could not open the existing keys), or, to rotate the root key, name the current one in previous_root_keys", ErrWrongRootKey, path, cfg.Database.Path)
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
