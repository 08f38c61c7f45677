package iam_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/kmsd/kmsd/internal/auth"
	"github.com/kmsd/kmsd/internal/iam"
)

// TestTokenIssuer checks the orchestration of a password login into a
// signed token: account by name or id, project scope by id or name, and
// the two refusals.
func TestTokenIssuer(t *testing.T) {
	s, _, _ := newService(t)
	ctx := t.Context()
	a, err := s.CreateAccount(ctx, "acme", "")
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.CreateProject(ctx, a.ID, "cn-north-4", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateUser(ctx, a.ID, "carol", "", "carol-pw", nil); err != nil {
		t.Fatal(err)
	}
	signer, err := auth.NewTokenSigner(bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ti := &iam.TokenIssuer{IAM: s, Signer: signer, TTL: time.Hour, Now: func() time.Time { return now }}
	for _, tc := range []struct {
		name    string
		in      iam.TokenRequest
		project string
		err     error
	}{
		{"account scope", iam.TokenRequest{AccountName: "acme", UserName: "carol", Password: "carol-pw"}, "", nil},
		{"account by id, project by id", iam.TokenRequest{AccountID: a.ID, UserName: "carol", Password: "carol-pw", Project: &iam.ProjectScope{ID: p.ID}}, p.ID, nil},
		{"project by name", iam.TokenRequest{AccountName: "acme", UserName: "carol", Password: "carol-pw", Project: &iam.ProjectScope{Name: "cn-north-4"}}, p.ID, nil},
		{"wrong password", iam.TokenRequest{AccountName: "acme", UserName: "carol", Password: "nope"}, "", iam.ErrWrongPassword},
		{"unknown account id", iam.TokenRequest{AccountID: "d0000000000000000000000000009999", UserName: "carol", Password: "carol-pw"}, "", iam.ErrWrongPassword},
		{"project of no account", iam.TokenRequest{AccountName: "acme", UserName: "carol", Password: "carol-pw", Project: &iam.ProjectScope{Name: "elsewhere"}}, "", iam.ErrUnknownScope},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok, claims, err := ti.Issue(ctx, tc.in)
			if !errors.Is(err, tc.err) {
				t.Fatalf("got %v, want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			if claims.ProjectID != tc.project || claims.AccountID != a.ID || claims.UserName != "carol" || !claims.ExpiresAt.Equal(now.Add(time.Hour)) {
				t.Errorf("claims %+v", claims)
			}
			got, err := signer.Verify(tok, now)
			if err != nil || got.UserID != claims.UserID || got.ProjectID != tc.project {
				t.Errorf("token verifies as %+v, %v", got, err)
			}
		})
	}
}
