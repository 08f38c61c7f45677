// Package seed applies a seed file: a declarative YAML description of
// identities and keys, with fixed key ids and optionally fixed key
// material, so that test environments started from the same file hold the
// same keys and a ciphertext made by one decrypts on another. Applying a
// file is idempotent; a changed file applies its difference, or is
// refused as a whole, before any change, where the difference cannot be
// applied (a key's spec, usage, origin or material). docs/seed.md
// describes the format.
package seed

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/emmansun/gmsm/smx509"
	"go.yaml.in/yaml/v3"

	"github.com/kmsd/kmsd/internal/iam"
)

// Version is the seed file version this package reads and writes.
const Version = 1

// File is a seed file.
type File struct {
	Version int `yaml:"version"`
	// Identities are accounts, projects and users beyond the defaults, as
	// a bootstrap file declares them (secrets from the environment or
	// files, never inline).
	Identities iam.Bootstrap `yaml:"identities,omitempty"`
	Projects   []Project     `yaml:"projects"`
}

// Project holds the seeded keys of one project.
type Project struct {
	ID   string `yaml:"id"`
	Keys []Key  `yaml:"keys"`
}

// Key is one seeded key. Aliases, Tags and Grants are complete: what a
// seeded key has beyond them is removed. Rotation absent leaves the key's
// rotation as it is.
type Key struct {
	ID          string `yaml:"id"`
	Alias       string `yaml:"alias"`
	Spec        string `yaml:"spec,omitempty"`
	Usage       string `yaml:"usage,omitempty"`
	Description string `yaml:"description,omitempty"`
	// State is "enabled" (the default) or "disabled".
	State string `yaml:"state,omitempty"`
	// Origin is "kms" (the default) or "external".
	Origin string `yaml:"origin,omitempty"`
	// Material is "hex:…", "base64:…" or a PEM private key; see
	// DecodeMaterial.
	Material string            `yaml:"material,omitempty"`
	Aliases  []string          `yaml:"aliases,omitempty"`
	Tags     map[string]string `yaml:"tags,omitempty"`
	Grants   []Grant           `yaml:"grants,omitempty"`
	Rotation *Rotation         `yaml:"rotation,omitempty"`
}

// Grant is a grant of a seeded key, identified by its grantee, operations
// and name (grant ids are made by the server).
type Grant struct {
	Name string `yaml:"name,omitempty"`
	// Grantee is a user id, or an account id with GranteeType "domain".
	Grantee     string   `yaml:"grantee"`
	GranteeType string   `yaml:"grantee_type,omitempty"`
	Operations  []string `yaml:"operations"`
}

// Rotation is the rotation setting of a seeded key.
type Rotation struct {
	Enabled bool `yaml:"enabled"`
	// Interval is in days; 0 keeps the key's interval.
	Interval int `yaml:"interval,omitempty"`
}

// Load reads and checks the seed file at path.
func Load(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	defer f.Close()
	sf, err := Parse(f)
	if err != nil {
		return nil, fmt.Errorf("seed %s: %w", path, err)
	}
	return sf, nil
}

// Parse reads a seed file strictly (unknown keys are errors) and checks
// it.
func Parse(r io.Reader) (*File, error) {
	var f File
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty seed file")
		}
		return nil, err
	}
	return &f, f.check()
}

func (f *File) check() error {
	if f.Version != Version {
		return fmt.Errorf("version %d: this kmsd reads seed files of version %d (version: 1)", f.Version, Version)
	}
	projects := map[string]bool{}
	for _, p := range f.Projects {
		if p.ID == "" {
			return errors.New("a project without id")
		}
		if projects[p.ID] {
			return fmt.Errorf("project %s appears twice", p.ID)
		}
		projects[p.ID] = true
		keys := map[string]bool{}
		for _, k := range p.Keys {
			if err := k.check(); err != nil {
				return fmt.Errorf("project %s key %s: %w", p.ID, k.ID, err)
			}
			if keys[k.ID] {
				return fmt.Errorf("project %s: key %s appears twice", p.ID, k.ID)
			}
			keys[k.ID] = true
		}
	}
	return nil
}

func (k *Key) check() error {
	if k.ID == "" {
		return errors.New("id is required (a fixed key id, such as 0d0466b0-e727-4d9c-b35d-f84bb474a37f)")
	}
	if k.Alias == "" {
		return errors.New("alias is required")
	}
	switch k.State {
	case "", "enabled", "disabled":
	default:
		return fmt.Errorf("state %q: want enabled or disabled", k.State)
	}
	switch k.Origin {
	case "", "kms", "external":
	default:
		return fmt.Errorf("origin %q: want kms or external", k.Origin)
	}
	if k.Origin == "external" && k.Material == "" && k.State != "" {
		return errors.New("an external key without material waits for its import: leave state out")
	}
	if k.Material != "" {
		if _, err := DecodeMaterial(k.Material); err != nil {
			return err
		}
	}
	for _, g := range k.Grants {
		if g.Grantee == "" || len(g.Operations) == 0 {
			return errors.New("a grant needs grantee and operations")
		}
	}
	if slices.Contains(k.Aliases, "") {
		return errors.New("an empty alias")
	}
	return nil
}

// DecodeMaterial decodes a key's material: "hex:" or "base64:" followed by
// the bytes of a symmetric or HMAC key (or the 32-byte scalar of a
// SECP256K1 key), or a PEM private key: PKCS#8 ("PRIVATE KEY"), PKCS#1
// ("RSA PRIVATE KEY") or SEC 1 ("EC PRIVATE KEY"), which it returns as
// PKCS#8 DER. Errors never contain the material.
func DecodeMaterial(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, "hex:"):
		b, err := hex.DecodeString(strings.TrimSpace(s[4:]))
		if err != nil {
			return nil, errors.New("material: bad hex")
		}
		return b, nil
	case strings.HasPrefix(s, "base64:"):
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s[7:]))
		if err != nil {
			return nil, errors.New("material: bad base64")
		}
		return b, nil
	case strings.HasPrefix(s, "-----BEGIN"):
		block, rest := pem.Decode([]byte(s))
		if block == nil || len(bytes.TrimSpace(rest)) > 0 {
			return nil, errors.New("material: want exactly one PEM block")
		}
		switch block.Type {
		case "PRIVATE KEY":
			return block.Bytes, nil
		case "RSA PRIVATE KEY":
			k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
			if err != nil {
				return nil, errors.New("material: bad RSA PRIVATE KEY")
			}
			return x509.MarshalPKCS8PrivateKey(k)
		case "EC PRIVATE KEY":
			k, err := smx509.ParseECPrivateKey(block.Bytes)
			if err != nil {
				return nil, errors.New("material: bad EC PRIVATE KEY")
			}
			return smx509.MarshalPKCS8PrivateKey(k)
		}
		return nil, fmt.Errorf("material: PEM type %q; want PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY", block.Type)
	}
	return nil, errors.New(`material: want "hex:…", "base64:…" or a PEM private key`)
}

// Marshal encodes f as YAML.
func (f *File) Marshal() ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(f); err != nil {
		return nil, err
	}
	return b.Bytes(), enc.Close()
}
