package iam

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/kmsd/kmsd/internal/store"
)

// Bootstrap is a declarative description of identities that production
// mode applies at start (config key "bootstrap"). Applying it is
// idempotent: what exists is kept, what is missing is created. Secrets are
// never inline; they come from environment variables or files.
//
//	accounts:
//	  - name: acme
//	    id: 0f5c…            # optional, 32 hex
//	    projects:
//	      - {name: cn-north-4, id: 3e1a…, cmk_quota: 200}
//	    policies:
//	      - name: crypto-only
//	        document: {"Version": "1.1", "Statement": [{"Effect": "Allow", "Action": ["kms:cmk:crypto"]}]}
//	    users:
//	      - name: admin
//	        password_env: ACME_ADMIN_PASSWORD
//	        policies: ["KMS Administrator"]
//	        access_keys:
//	          - {ak: ACMEADMINAK000000001, sk_file: /run/secrets/acme-admin-sk}
type Bootstrap struct {
	Accounts []BootstrapAccount `yaml:"accounts"`
}

// BootstrapAccount is one account of a bootstrap file.
type BootstrapAccount struct {
	Name     string             `yaml:"name"`
	ID       string             `yaml:"id"`
	Projects []BootstrapProject `yaml:"projects"`
	Policies []BootstrapPolicy  `yaml:"policies"`
	Users    []BootstrapUser    `yaml:"users"`
}

// BootstrapProject is one project of an account.
type BootstrapProject struct {
	Name       string `yaml:"name"`
	ID         string `yaml:"id"`
	CMKQuota   int    `yaml:"cmk_quota"`
	GrantQuota int    `yaml:"grant_quota"`
	// KeySpaces are the project's trusted key spaces, created by name
	// when missing (the server applies them, package kms).
	KeySpaces []BootstrapKeySpace `yaml:"key_spaces"`
}

// BootstrapKeySpace is a trusted key space of a project.
type BootstrapKeySpace struct {
	Name        string `yaml:"name"`
	Type        string `yaml:"type"`
	KeystoreID  string `yaml:"keystore_id"`
	Description string `yaml:"description"`
}

// BootstrapPolicy is a custom identity policy; document is the Huawei
// JSON policy written as YAML or JSON.
type BootstrapPolicy struct {
	Name     string         `yaml:"name"`
	Document map[string]any `yaml:"document"`
}

// BootstrapUser is one user of an account.
type BootstrapUser struct {
	Name         string               `yaml:"name"`
	ID           string               `yaml:"id"`
	PasswordEnv  string               `yaml:"password_env"`
	PasswordFile string               `yaml:"password_file"`
	Policies     []string             `yaml:"policies"`
	AccessKeys   []BootstrapAccessKey `yaml:"access_keys"`
}

// BootstrapAccessKey is an AK whose SK comes from an env var or a file.
type BootstrapAccessKey struct {
	AK     string `yaml:"ak"`
	SKEnv  string `yaml:"sk_env"`
	SKFile string `yaml:"sk_file"`
}

// ParseBootstrap reads a bootstrap file strictly (unknown keys are errors).
func ParseBootstrap(r io.Reader) (Bootstrap, error) {
	var b Bootstrap
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	if err := dec.Decode(&b); err != nil && !errors.Is(err, io.EOF) {
		return Bootstrap{}, fmt.Errorf("bootstrap: %w", err)
	}
	return b, nil
}

// ResolvePaths makes the relative sk_file and password_file names of b
// relative to dir (the configuration file's directory), as every other
// path of the configuration is; absolute names and an empty dir leave
// them as they are.
func (b *Bootstrap) ResolvePaths(dir string) {
	if dir == "" {
		return
	}
	abs := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	for i := range b.Accounts {
		for j := range b.Accounts[i].Users {
			u := &b.Accounts[i].Users[j]
			abs(&u.PasswordFile)
			for k := range u.AccessKeys {
				abs(&u.AccessKeys[k].SKFile)
			}
		}
	}
}

// secret reads a secret from the named environment variable or file.
func secret(env, file string, getenv func(string) string) (string, error) {
	switch {
	case env != "" && file != "":
		return "", fmt.Errorf("%w: set only one of the _env and _file forms", ErrInvalid)
	case env != "":
		v := getenv(env)
		if v == "" {
			return "", fmt.Errorf("%w: environment variable %s is empty", ErrInvalid, env)
		}
		return v, nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", err
		}
		return strings.TrimSpace(string(b)), nil
	}
	return "", nil
}

// ApplyBootstrap creates what b describes and does not exist yet, and
// writes nothing when everything already is as b says (a start on a full
// disk then needs no write). Existing
// users get the configured password (if any), existing access keys the
// configured secret, and the policies named in b are attached. An account,
// project or user that exists with another id than the one b declares is
// an ErrExists error.
func (s *Service) ApplyBootstrap(ctx context.Context, b Bootstrap, getenv func(string) string) error {
	for _, ba := range b.Accounts {
		a, err := s.Account(ctx, ba.Name)
		if errors.Is(err, ErrNotFound) {
			a, err = s.CreateAccount(ctx, ba.Name, ba.ID)
		} else if err == nil {
			err = sameID("account", ba.Name, a.ID, ba.ID)
		}
		if err != nil {
			return fmt.Errorf("bootstrap account %s: %w", ba.Name, err)
		}
		for _, bp := range ba.Projects {
			if err := s.ensureProject(ctx, a.ID, bp); err != nil {
				return fmt.Errorf("bootstrap project %s/%s: %w", ba.Name, bp.Name, err)
			}
		}
		existing, err := s.ListPolicies(ctx, a.ID)
		if err != nil {
			return err
		}
		for _, pol := range ba.Policies {
			doc, err := json.Marshal(pol.Document)
			if err != nil {
				return err
			}
			if slices.ContainsFunc(existing, func(p store.Policy) bool { return p.Name == pol.Name && bytes.Equal(p.Document, doc) }) {
				continue // unchanged: a start writes nothing it need not
			}
			if err := s.PutPolicy(ctx, a.ID, pol.Name, doc); err != nil {
				return fmt.Errorf("bootstrap policy %s/%s: %w", ba.Name, pol.Name, err)
			}
		}
		for _, bu := range ba.Users {
			if err := s.ensureUser(ctx, a.ID, bu, getenv); err != nil {
				return fmt.Errorf("bootstrap user %s/%s: %w", ba.Name, bu.Name, err)
			}
		}
	}
	return nil
}

func (s *Service) ensureProject(ctx context.Context, accountID string, bp BootstrapProject) error {
	ps, err := s.ListProjects(ctx, accountID)
	if err != nil {
		return err
	}
	id := ""
	for _, p := range ps {
		if p.Name == bp.Name {
			id = p.ID
			if p.CMKQuota == bp.CMKQuota && p.GrantQuota == bp.GrantQuota && sameID("project", bp.Name, id, bp.ID) == nil {
				return nil // unchanged
			}
		}
	}
	if err := sameID("project", bp.Name, id, bp.ID); err != nil {
		return err
	}
	if id == "" {
		p, err := s.CreateProject(ctx, accountID, bp.Name, bp.ID)
		if err != nil {
			return err
		}
		id = p.ID
	}
	return s.SetProjectQuotas(ctx, id, bp.CMKQuota, bp.GrantQuota)
}

func (s *Service) ensureUser(ctx context.Context, accountID string, bu BootstrapUser, getenv func(string) string) error {
	password, err := secret(bu.PasswordEnv, bu.PasswordFile, getenv)
	if err != nil {
		return err
	}
	u, err := s.UserByName(ctx, accountID, bu.Name)
	if errors.Is(err, ErrNotFound) {
		u, err = s.CreateUser(ctx, accountID, bu.Name, bu.ID, password, bu.Policies)
	} else if err == nil {
		if err := sameID("user", bu.Name, u.ID, bu.ID); err != nil {
			return err
		}
		if password != "" && !VerifyPassword(u.PasswordHash, password) {
			if err := s.SetPassword(ctx, u.ID, password); err != nil {
				return err
			}
		}
		for _, p := range bu.Policies {
			if slices.Contains(u.Policies, p) {
				continue
			}
			if err := s.AttachPolicy(ctx, u.ID, p); err != nil {
				return err
			}
		}
	}
	if err != nil {
		return err
	}
	for _, k := range bu.AccessKeys {
		sk, err := secret(k.SKEnv, k.SKFile, getenv)
		if err != nil {
			return err
		}
		if sk == "" {
			return fmt.Errorf("%w: access key %s needs sk_env or sk_file", ErrInvalid, k.AK)
		}
		if have, id, err := s.AccessKey(ctx, k.AK); err == nil && id.UserID == u.ID && string(have) == sk {
			continue // the key exists, enabled, with this secret
		}
		if err := s.EnsureAccessKey(ctx, u.ID, k.AK, sk); err != nil {
			return err
		}
	}
	return nil
}

// sameID refuses a declared id that differs from existing, the id of the
// account, project or user (kind) that already exists under name: keeping
// the old id silently would leave callers using the declared one with an
// unknown id.
func sameID(kind, name, existing, declared string) error {
	if existing == "" || declared == "" || existing == declared {
		return nil
	}
	return fmt.Errorf("%w: %s %s has id %s, not the declared %s (ids cannot change: declare %s, or delete the %s first)", ErrExists, kind, name, existing, declared, existing, kind)
}
