package iam_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kmsd/kmsd/internal/auth"
	"github.com/kmsd/kmsd/internal/iam"
)

func TestBootstrap(t *testing.T) {
	s, _, _ := newService(t)
	ctx := t.Context()
	skFile := filepath.Join(t.TempDir(), "sk")
	if err := os.WriteFile(skFile, []byte("FileSecretKey000000000000000000000000001\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	yaml := `accounts:
  - name: acme
    id: 0f5c2d1e3b4a59687766554433221100
    projects: [{name: cn-north-4, id: 3e1a0000000000000000000000000001, cmk_quota: 7}]
    policies:
      - name: crypto
        document: {"Version": "1.1", "Statement": [{"Effect": "Allow", "Action": ["kms:cmk:crypto"]}]}
    users:
      - name: app
        password_env: APP_PW
        policies: [crypto]
        access_keys:
          - {ak: ACMEAPPAK00000000001, sk_env: APP_SK}
          - {ak: ACMEAPPAK00000000002, sk_file: ` + skFile + `}
`
	b, err := iam.ParseBootstrap(strings.NewReader(yaml))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"APP_PW": "app-pw", "APP_SK": "EnvSecretKey0000000000000000000000000001"}
	for range 2 { // idempotent
		if err := s.ApplyBootstrap(ctx, b, func(k string) string { return env[k] }); err != nil {
			t.Fatal(err)
		}
	}
	sk, id, err := s.AccessKey(ctx, "ACMEAPPAK00000000002")
	if err != nil || string(sk) != "FileSecretKey000000000000000000000000001" || id.AccountID != "0f5c2d1e3b4a59687766554433221100" {
		t.Fatalf("file SK: %v %q", err, sk)
	}
	if !auth.Allowed(id.Policies, "kms:cmk:crypto") || auth.Allowed(id.Policies, "kms:cmk:create") {
		t.Error("bootstrap policy not applied")
	}
	p, err := s.Project(ctx, "3e1a0000000000000000000000000001")
	if err != nil || p.CMKQuota != 7 {
		t.Errorf("project quota: %v %+v", err, p)
	}
	if _, err := s.PasswordLogin(ctx, "acme", "app", "app-pw"); err != nil {
		t.Error(err)
	}
	for _, bad := range []string{"accounts: [{name: x, unknown: 1}]", "accounts: {name: x}"} {
		if _, err := iam.ParseBootstrap(strings.NewReader(bad)); err == nil {
			t.Errorf("bootstrap %q parsed", bad)
		}
	}
	b.Accounts[0].Users[0].AccessKeys[0].SKEnv = "MISSING"
	if err := s.ApplyBootstrap(ctx, b, func(k string) string { return env[k] }); err == nil {
		t.Error("bootstrap with an empty secret variable succeeded")
	}
}

// TestBootstrapDeclaredIDs checks that a bootstrap whose declared id
// differs from the id of the existing account, project or user of that
// name is refused and names both ids, instead of keeping the old id while
// the operator (or dev.env) relies on the declared one.
func TestBootstrapDeclaredIDs(t *testing.T) {
	const first = `accounts:
  - name: acme
    id: 0f5c2d1e3b4a59687766554433221100
    projects: [{name: cn-north-4, id: 3e1a0000000000000000000000000001}]
    users: [{name: app, id: 5a000000000000000000000000000001}]
`
	tests := []struct {
		name, yaml, oldID, newID string
	}{
		{"account", strings.Replace(first, "0f5c2d1e3b4a59687766554433221100", "0f5c2d1e3b4a59687766554433221199", 1),
			"0f5c2d1e3b4a59687766554433221100", "0f5c2d1e3b4a59687766554433221199"},
		{"project", strings.Replace(first, "3e1a0000000000000000000000000001", "3e1a0000000000000000000000000099", 1),
			"3e1a0000000000000000000000000001", "3e1a0000000000000000000000000099"},
		{"user", strings.Replace(first, "5a000000000000000000000000000001", "5a000000000000000000000000000099", 1),
			"5a000000000000000000000000000001", "5a000000000000000000000000000099"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, _ := newService(t)
			for i, y := range []string{first, first, tt.yaml} {
				b, err := iam.ParseBootstrap(strings.NewReader(y))
				if err != nil {
					t.Fatal(err)
				}
				err = s.ApplyBootstrap(t.Context(), b, func(string) string { return "" })
				if i < 2 {
					if err != nil {
						t.Fatalf("apply %d: %v", i, err)
					}
					continue
				}
				if !errors.Is(err, iam.ErrExists) || !strings.Contains(fmt.Sprint(err), tt.oldID) || !strings.Contains(fmt.Sprint(err), tt.newID) {
					t.Errorf("got %v, want ErrExists naming %s and %s", err, tt.oldID, tt.newID)
				}
			}
		})
	}
}

// TestBootstrapDocExample applies the bootstrap example of
// docs/configuration.md as written, but for the SK file's directory.
func TestBootstrapDocExample(t *testing.T) {
	b, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(b), -1)
	if len(blocks) < 2 {
		t.Fatalf("docs/configuration.md has %d yaml blocks, want the configuration and the bootstrap file", len(blocks))
	}
	skFile := filepath.Join(t.TempDir(), "acme-admin-sk")
	if err := os.WriteFile(skFile, []byte("AcmeAdminSecret000000000000000000000001\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	doc := strings.ReplaceAll(blocks[1][1], "/run/secrets/acme-admin-sk", skFile)
	bs, err := iam.ParseBootstrap(strings.NewReader(doc))
	if err != nil {
		t.Fatalf("the documented bootstrap does not parse: %v", err)
	}
	s, _, _ := newService(t)
	env := map[string]string{"ACME_ADMIN_PASSWORD": "acme-admin-password", "ACME_APP_SK": "AcmeAppSecret00000000000000000000000001"}
	if err := s.ApplyBootstrap(t.Context(), bs, func(k string) string { return env[k] }); err != nil {
		t.Fatalf("the documented bootstrap does not apply: %v", err)
	}
	_, id, err := s.AccessKey(t.Context(), "ACMEAPPAK00000000001")
	if err != nil {
		t.Fatal(err)
	}
	if !auth.Allowed(id.Policies, "kms:cmk:crypto") || auth.Allowed(id.Policies, "kms:cmk:create") {
		t.Errorf("app's policies %v: want crypto-only", id.Policies)
	}
	if _, err := s.PasswordLogin(t.Context(), "acme", "admin", "acme-admin-password"); err != nil {
		t.Errorf("admin login: %v", err)
	}
}
