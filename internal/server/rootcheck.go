package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/kmsd/kmsd/internal/config"
	"github.com/kmsd/kmsd/internal/keyring"
	"github.com/kmsd/kmsd/internal/store"
)

// rootCheckMeta is the meta entry that holds the root key check value.
const rootCheckMeta = "root_key_check"

// ErrWrongRootKey means the configured root key is not the one the
// database was initialised with.
var ErrWrongRootKey = errors.New("wrong root key")

// checkRootKey compares the database's root key check value with kr's and
// refuses a mismatch, so that a replaced root key file, another
// passphrase or another HSM key never starts a server that would fail to
// open the old keys and seal new ones under the wrong root. A database
// without a check value (initialised before kmsd stored one) gets kr's,
// once, and the log says so.
func checkRootKey(ctx context.Context, st store.Store, kr *keyring.Keyring, cfg config.Config, log *slog.Logger) error {
	wrote := false
	err := st.Update(ctx, func(tx store.Tx) error {
		wrote = false
		stored, err := tx.GetMeta(rootCheckMeta)
		if errors.Is(err, store.ErrNotFound) {
			wrote = true
			return tx.PutMeta(rootCheckMeta, kr.CheckValue())
		}
		if err != nil {
			return err
		}
		return kr.VerifyCheckValue(stored)
	})
	switch {
	case errors.Is(err, keyring.ErrCheckMismatch):
		return fmt.Errorf("%w: %s is not the root key that the database %s was initialised with; kmsd refuses to start so that no key is sealed under the wrong root key and the existing keys stay openable: configure the original root key (or restore it from its backup)", ErrWrongRootKey, describeRootKey(cfg), cfg.Database.Path)
	case errors.Is(err, keyring.ErrCheckMalformed):
		return fmt.Errorf("database %s: its root key check value (meta %q) is damaged: %w", cfg.Database.Path, rootCheckMeta, err)
	case err != nil:
		return fmt.Errorf("root key check: %w", err)
	}
	if wrote {
		log.Info("root key check value written: the database had none; from now on a start with another root key is refused", "database", cfg.Database.Path)
	}
	return nil
}

// describeRootKey names the root key source of cfg for messages.
func describeRootKey(cfg config.Config) string {
	switch rk := cfg.RootKey; {
	case rk.File != "":
		return "the root key file " + rk.File
	case rk.PassphraseEnv != "":
		return "the root key derived from the passphrase in $" + rk.PassphraseEnv
	case rk.PassphraseFile != "":
		return "the root key derived from the passphrase in " + rk.PassphraseFile
	case rk.Source == config.SourcePKCS11:
		return fmt.Sprintf("the root key in %s, decrypted by the key %q of token %q", cfg.WrappedRootKeyPath(), rk.KeyLabel, rk.TokenLabel)
	}
	return "the configured root key"
}
