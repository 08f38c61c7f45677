package iam_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kmsd/kmsd/internal/auth"
	"github.com/kmsd/kmsd/internal/iam"
)

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
