package iam_test

import (
	"bytes"
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kmsd/kmsd/internal/iam"
	"github.com/kmsd/kmsd/internal/keyring"
	"github.com/kmsd/kmsd/internal/store"
)

// countingStore counts read-write transactions.
type countingStore struct {
	store.Store
	updates atomic.Int64
}

func (c *countingStore) Update(ctx context.Context, fn func(store.Tx) error) error {
	c.updates.Add(1)
	return c.Store.Update(ctx, fn)
}

// TestBootstrapUnchangedWritesNothing applies a bootstrap twice and checks
// that the second time, when everything already is as declared, runs no
// read-write transaction: a start on a full disk must not fail for a
// write it did not need (issue 10). A change is still written.
func TestBootstrapUnchangedWritesNothing(t *testing.T) {
	_, st, _ := newService(t)
	cs := &countingStore{Store: st}
	kr, err := keyring.New(bytes.Repeat([]byte{3}, 32))
	if err != nil {
		t.Fatal(err)
	}
	s := iam.New(cs, kr, nil)
	yaml := `accounts:
  - name: acme
    projects: [{name: cn-north-4, cmk_quota: 7}]
    policies:
      - name: crypto
        document: {"Version": "1.1", "Statement": [{"Effect": "Allow", "Action": ["kms:cmk:crypto"]}]}
    users:
      - name: app
        password_env: APP_PW
        policies: [crypto, "KMS CMKReadOnlyAccess"]
        access_keys:
          - {ak: ACMEAPPAK00000000001, sk_env: APP_SK}
`
	b, err := iam.ParseBootstrap(strings.NewReader(yaml))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"APP_PW": "app-pw", "APP_SK": "EnvSecretKey0000000000000000000000000001"}
	getenv := func(k string) string { return env[k] }
	if err := s.ApplyBootstrap(t.Context(), b, getenv); err != nil {
		t.Fatal(err)
	}
	if cs.updates.Load() == 0 {
		t.Fatal("the first bootstrap wrote nothing")
	}
	cs.updates.Store(0)
	if err := s.ApplyBootstrap(t.Context(), b, getenv); err != nil {
		t.Fatal(err)
	}
	if n := cs.updates.Load(); n != 0 {
		t.Errorf("an unchanged bootstrap ran %d read-write transactions, want 0", n)
	}
	// A changed secret is written.
	env["APP_SK"] = "EnvSecretKey0000000000000000000000000002"
	if err := s.ApplyBootstrap(t.Context(), b, getenv); err != nil {
		t.Fatal(err)
	}
	if n := cs.updates.Load(); n != 1 {
		t.Errorf("a changed SK ran %d read-write transactions, want 1", n)
	}
}
