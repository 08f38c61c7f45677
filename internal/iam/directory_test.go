package iam_test

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/kmsd/kmsd/internal/auth"
	"github.com/kmsd/kmsd/internal/iam"
	"github.com/kmsd/kmsd/internal/store"
)

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
