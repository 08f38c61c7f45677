package server

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/kmsd/kmsd/internal/config"
	"github.com/kmsd/kmsd/internal/hsm"
	"github.com/kmsd/kmsd/internal/kms"
)

// openRootToken opens the token of a PKCS#11 root key.
func openRootToken(cfg config.Config) (*hsm.Token, error) {
	rk := cfg.RootKey
	if !hsm.Supported {
		return nil, fmt.Errorf("root_key source pkcs11: %w", hsm.ErrUnsupported)
	}
	pin, err := readSecretFile(rk.PinFile)
	if err != nil {
		return nil, fmt.Errorf("root_key.pin_file: %w", err)
	}
	defer clear(pin)
	tok, err := hsm.Open(rk.Module, rk.TokenLabel, pin)
	if err != nil {
		return nil, fmt.Errorf("root_key: %w", err)
	}
	return tok, nil
}

// loadPKCS11RootKey has the token decrypt the wrapped root key of the data
// directory. The token is closed again: requests never call it.
func loadPKCS11RootKey(cfg config.Config) ([]byte, error) {
	wrapped, err := os.ReadFile(cfg.WrappedRootKeyPath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("root key: %s does not exist: run kmsd init --config FILE (with --create-hsm-key to create the token key %q)", cfg.WrappedRootKeyPath(), cfg.RootKey.KeyLabel)
	}
	if err != nil {
		return nil, fmt.Errorf("root key: %w", err)
	}
	tok, err := openRootToken(cfg)
	if err != nil {
		return nil, err
	}
	defer tok.Close()
	root, err := hsm.OpenRootKey(tok, cfg.RootKey.KeyLabel, wrapped)
	if errors.Is(err, hsm.ErrDecrypt) {
		return nil, fmt.Errorf("%w: the token key %q on token %q cannot decrypt %s: it is not the key that encrypted it; configure that key (or restore the file that belongs to this key)", ErrWrongRootKey, cfg.RootKey.KeyLabel, cfg.RootKey.TokenLabel, cfg.WrappedRootKeyPath())
	}
	if err != nil {
		return nil, fmt.Errorf("root key %s: %w", cfg.WrappedRootKeyPath(), err)
	}
	return root, nil
}

// InitPKCS11RootKey creates the wrapped root key of a PKCS#11 root key
// source, once: with createKey it first creates the token's AES key
// (which must not exist), without it the key must exist. An existing
// wrapped root key is kept, and created reports false.
func InitPKCS11RootKey(cfg config.Config, createKey bool) (created bool, err error) {
	path := cfg.WrappedRootKeyPath()
	if _, err := os.Stat(path); err == nil {
		if createKey {
			return false, fmt.Errorf("%s exists: the root key is made; drop --create-hsm-key", path)
		}
		return false, nil
	}
	if _, err := os.Stat(cfg.Database.Path); err == nil && len(cfg.PreviousRootKeys) == 0 {
		return false, fmt.Errorf("%w: %s is missing but the database %s exists; restore the file from its backup (a new root key could not open the existing keys)", ErrWrongRootKey, path, cfg.Database.Path)
	}
	tok, err := openRootToken(cfg)
	if err != nil {
		return false, err
	}
	defer tok.Close()
	rk := cfg.RootKey
	if createKey {
		if err := tok.GenerateAESKey(rk.KeyLabel); err != nil {
			return false, err
		}
	} else if ok, err := tok.HasKey(rk.KeyLabel); err != nil {
		return false, err
	} else if !ok {
		return false, fmt.Errorf("token %q has no AES key labelled %q: run kmsd init --create-hsm-key to create it", rk.TokenLabel, rk.KeyLabel)
	}
	root, wrapped, err := hsm.NewRootKey(tok, rk.KeyLabel)
	if err != nil {
		return false, err
	}
	clear(root)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return false, err
	}
	if _, err := f.Write(wrapped); err != nil {
		f.Close()
		os.Remove(path)
		return false, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return false, err
	}
	return true, f.Close()
}

// openHSMClusters opens the tokens of the dedicated keystores. A token
// that does not open stops the start: a keystore would otherwise fail at
// its first request.
func (s *Server) openHSMClusters() (map[string]kms.Token, error) {
	tokens := map[string]kms.Token{}
	for _, c := range s.cfg.HSMClusters {
		if !hsm.Supported {
			return nil, fmt.Errorf("hsm_clusters %s: %w", c.ID, hsm.ErrUnsupported)
		}
		pin, err := readSecretFile(c.PinFile)
		if err != nil {
			return nil, fmt.Errorf("hsm_clusters %s: pin_file: %w", c.ID, err)
		}
		tok, err := hsm.Open(c.Module, c.TokenLabel, pin)
		clear(pin)
		if err != nil {
			return nil, fmt.Errorf("hsm_clusters %s: %w", c.ID, err)
		}
		s.tokens = append(s.tokens, tok)
		tokens[c.ID] = tok
	}
	return tokens, nil
}

// readSecretFile reads a PIN or passphrase file without its final line
// break.
func readSecretFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s := trimNewline(string(b))
	clear(b)
	if s == "" {
		return nil, fmt.Errorf("%s is empty", path)
	}
	return []byte(s), nil
}
