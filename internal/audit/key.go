package audit

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/kmsd/kmsd/internal/keyring"
)

// Sealer seals and opens secrets under the root key; *keyring.Keyring is
// one.
type Sealer interface {
	Seal(b keyring.Binding, plaintext []byte) ([]byte, error)
	Open(b keyring.Binding, sealed []byte) ([]byte, error)
}

// signingKeyPurpose binds the sealed signing key to its use and node.
const signingKeyPurpose = "audit-signing-key"

// LoadSigningKey returns the node's checkpoint signing key, kept in dir
// sealed under the root key; the first call for a directory creates it
// from crypto/rand. The public half is published in every checkpoint, so
// a verifier needs no secret.
func LoadSigningKey(dir, node string, s Sealer) (ed25519.PrivateKey, error) {
	path := filepath.Join(dir, signingKeyFileName)
	b := keyring.Binding{Purpose: signingKeyPurpose, KeyID: node}
	sealed, err := os.ReadFile(path)
	if err == nil {
		seed, err := s.Open(b, sealed)
		if err != nil {
			return nil, fmt.Errorf("audit: signing key %s does not open with this root key (or belongs to another node): %w", path, err)
		}
		defer clear(seed)
		if len(seed) != ed25519.SeedSize {
			return nil, fmt.Errorf("audit: signing key %s: %d bytes", path, len(seed))
		}
		if err := resealSigningKey(dir, path, b, sealed, s); err != nil {
			return nil, err
		}
		return ed25519.NewKeyFromSeed(seed), nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("audit: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	seed := make([]byte, ed25519.SeedSize)
	defer clear(seed)
	_, _ = rand.Read(seed) // Never fails; see crypto/rand.Read.
	sealed, err = s.Seal(b, seed)
	if err != nil {
		return nil, err
	}
	if err := replaceFile(dir, path, sealed); err != nil {
		return nil, err
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// nodeSealer is implemented by a Sealer that names the root key
// generation a node's own files belong under (the server's adapter of
// *keyring.Keyring).
type nodeSealer interface {
	NodeGeneration() uint32
	Reseal(n uint32, b keyring.Binding, sealed []byte) ([]byte, error)
}

// resealSigningKey re-seals the signing key file under the generation s
// names for the node's files when another one sealed it. The file belongs
// to this node alone, so it may move to the new root key as soon as the
// node has it — before kmsd rootkey rotate — and it opens once the
// previous root key is removed from the configuration.
func resealSigningKey(dir, path string, b keyring.Binding, sealed []byte, s Sealer) error {
	g, ok := s.(nodeSealer)
	if !ok {
		return nil
	}
	want := g.NodeGeneration()
	if n, err := keyring.GenerationOf(sealed); err != nil || n == want {
		return nil
	}
	re, err := g.Reseal(want, b, sealed)
	if err != nil {
		return fmt.Errorf("audit: re-seal signing key %s: %w", path, err)
	}
	return replaceFile(dir, path, re)
}

// replaceFile writes b to path atomically: a synced temporary file
// renamed over it, and the directory synced.
func replaceFile(dir, path string, b []byte) error {
	tmp := path + ".tmp"
	if err := writeSynced(tmp, b); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

func writeSynced(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
