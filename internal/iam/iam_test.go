package iam_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kmsd/kmsd/internal/auth"
	"github.com/kmsd/kmsd/internal/iam"
	"github.com/kmsd/kmsd/internal/keyring"
	"github.com/kmsd/kmsd/internal/store"
	"github.com/kmsd/kmsd/internal/store/sqlite"
)

func newService(t *testing.T) (*iam.Service, store.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kmsd.db")
	st, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	kr, err := keyring.New(bytes.Repeat([]byte{3}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return iam.New(st, kr, nil), st, path
}

func TestPasswordHash(t *testing.T) {
	h, err := iam.HashPassword("pw-1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q is not PHC Argon2id", h)
	}
	if !iam.VerifyPassword(h, "pw-1") || iam.VerifyPassword(h, "pw-2") {
		t.Error("verification is wrong")
	}
	h2, _ := iam.HashPassword("pw-1")
	if h == h2 {
		t.Error("two hashes of one password are equal: no salt")
	}
	for _, bad := range []string{"", "$argon2id$", "$argon2i$v=19$m=1,t=1,p=1$AA$AA", strings.Replace(h, "t=2", "t=0", 1), h[:len(h)-3] + "!!!"} {
		if iam.VerifyPassword(bad, "pw-1") {
			t.Errorf("malformed hash %q verified", bad)
		}
	}
}

func TestAccessKeysAndDirectory(t *testing.T) {
	s, st, path := newService(t)
	ctx := t.Context()
	a, err := s.CreateAccount(ctx, "acme", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateAccount(ctx, "acme", ""); !errors.Is(err, iam.ErrExists) {
		t.Errorf("duplicate account: %v", err)
	}
	p, err := s.CreateProject(ctx, a.ID, "cn-north-4", "")
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.CreateUser(ctx, a.ID, "alice", "", "alice-pw", []string{"KMS CMKReadOnlyAccess"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateUser(ctx, a.ID, "bob", "", "", []string{"No Such Role"}); !errors.Is(err, iam.ErrNotFound) {
		t.Errorf("unknown policy: %v", err)
	}
	ak, sk, err := s.CreateAccessKey(ctx, u.ID, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(ak) != 20 || len(sk) != 40 {
		t.Errorf("AK %d and SK %d characters, want 20 and 40", len(ak), len(sk))
	}
	gotSK, id, err := s.AccessKey(ctx, ak)
	if err != nil || string(gotSK) != sk || id.UserID != u.ID || id.AccountID != a.ID || len(id.Policies) != 1 {
		t.Fatalf("AccessKey: %v %+v", err, id)
	}
	if !auth.Allowed(id.Policies, "kms:cmk:list") || auth.Allowed(id.Policies, "kms:cmk:create") {
		t.Error("read-only role grants the wrong actions")
	}
	ps, err := s.Projects(ctx, a.ID)
	if err != nil || len(ps) != 1 || ps[0].ID != p.ID {
		t.Errorf("Projects: %v %+v", err, ps)
	}
	// Disabling takes effect at once on this node, despite the cache.
	if err := s.SetAccessKeyDisabled(ctx, ak, true); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.AccessKey(ctx, ak); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("disabled AK: %v", err)
	}
	if err := s.SetAccessKeyDisabled(ctx, ak, false); err != nil {
		t.Fatal(err)
	}
	if err := s.SetUserDisabled(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.AccessKey(ctx, ak); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("disabled user's AK: %v", err)
	}
	if _, err := s.User(ctx, u.ID); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("disabled user: %v", err)
	}
	if _, _, err := s.AccessKey(ctx, "NOSUCHAKNOSUCHAK0000"); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("unknown AK: %v", err)
	}
	// The SK is stored sealed: neither the row nor the database file holds it.
	var row store.AccessKey
	if err := st.View(ctx, func(tx store.Tx) error { row, err = tx.GetAccessKey(ak); return err }); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(row.SealedSK, []byte(sk)) {
		t.Error("sealed SK contains the SK")
	}
	st.Close()
	for _, suffix := range []string{"", "-wal"} {
		b, _ := os.ReadFile(path + suffix)
		if bytes.Contains(b, []byte(sk)) || bytes.Contains(b, []byte("alice-pw")) {
			t.Errorf("database file%s holds a secret in the clear", suffix)
		}
	}
}

func TestPasswordLoginAndPolicies(t *testing.T) {
	s, _, _ := newService(t)
	ctx := t.Context()
	a, _ := s.CreateAccount(ctx, "acme", "")
	doc := []byte(`{"Version":"1.1","Statement":[{"Effect":"Allow","Action":["kms:cmk:*"]},{"Effect":"Deny","Action":["kms:cmk:create"]}]}`)
	if err := s.PutPolicy(ctx, a.ID, "no-create", doc); err != nil {
		t.Fatal(err)
	}
	if err := s.PutPolicy(ctx, a.ID, "KMS Administrator", doc); !errors.Is(err, iam.ErrInvalid) {
		t.Errorf("policy named like a system role: %v", err)
	}
	if err := s.PutPolicy(ctx, a.ID, "bad", []byte(`{"Version":"1.1","Statement":[{"Effect":"Maybe","Action":["kms:*:*"]}]}`)); !errors.Is(err, iam.ErrInvalid) {
		t.Errorf("invalid policy: %v", err)
	}
	u, err := s.CreateUser(ctx, a.ID, "carol", "", "carol-pw", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AttachPolicy(ctx, u.ID, "no-create"); err != nil {
		t.Fatal(err)
	}
	id, err := s.PasswordLogin(ctx, "acme", "carol", "carol-pw")
	if err != nil {
		t.Fatal(err)
	}
	if !auth.Allowed(id.Policies, "kms:cmk:list") || auth.Allowed(id.Policies, "kms:cmk:create") {
		t.Error("custom policy with Deny evaluated wrongly")
	}
	for _, c := range [][3]string{{"acme", "carol", "wrong"}, {"acme", "nobody", "carol-pw"}, {"other", "carol", "carol-pw"}} {
		if _, err := s.PasswordLogin(ctx, c[0], c[1], c[2]); !errors.Is(err, iam.ErrWrongPassword) {
			t.Errorf("login %v: %v", c, err)
		}
	}
	if err := s.DetachPolicy(ctx, u.ID, "no-create"); err != nil {
		t.Fatal(err)
	}
	id, _ = s.User(ctx, u.ID)
	if len(id.Policies) != 0 {
		t.Errorf("detached policy still applies: %d", len(id.Policies))
	}
}

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

// TestPasswordLoginBounded checks that password checks, which cost an
// Argon2id hash of 19 MiB each on an endpoint open to anyone, run a
// bounded number at a time: with every slot taken, a login waits and
// gives up when its request ends, whether or not the user exists.
func TestPasswordLoginBounded(t *testing.T) {
	s, _, _ := newService(t)
	ctx := t.Context()
	a, _ := s.CreateAccount(ctx, "acme", "")
	if _, err := s.CreateUser(ctx, a.ID, "carol", "", "carol-pw", nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ account, user, password string }{
		{"acme", "carol", "carol-pw"},
		{"acme", "carol", "wrong"},
		{"acme", "nobody", "carol-pw"},
		{"other", "carol", "carol-pw"},
	}
	release := iam.HoldLoginSlots(s)
	for _, tt := range tests {
		// The request ends after the user lookup, while the login waits
		// for a slot: ended before the lookup, it would fail there and
		// test nothing of the slots.
		cctx, cancel := context.WithCancel(ctx)
		time.AfterFunc(50*time.Millisecond, cancel)
		if _, err := s.PasswordLogin(cctx, tt.account, tt.user, tt.password); !errors.Is(err, context.Canceled) {
			t.Errorf("login %v with every slot taken and the request ended: %v, want context.Canceled", tt, err)
		}
	}
	release()
	if _, err := s.PasswordLogin(ctx, "acme", "carol", "carol-pw"); err != nil {
		t.Errorf("login after the slots were freed: %v", err)
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
