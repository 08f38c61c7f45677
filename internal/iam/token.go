package iam

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kmsd/kmsd/internal/auth"
)

// TokenRequest is a Keystone password login (reference auth.md §5): who,
// with which password, and the scope of the token.
type TokenRequest struct {
	// AccountName names the user's account (Keystone's domain); when it is
	// empty, AccountID does.
	AccountName, AccountID string
	// UserName names the user; kmsd also takes its id there.
	UserName string
	Password string
	// Project, when not nil, scopes the token to one of the account's
	// projects: by ID, or by Name when ID is "". A nil Project scopes it
	// to the account.
	Project *ProjectScope
}

// ErrUnknownScope is a token request scoped to a project that is not in
// the user's account.
var ErrUnknownScope = errors.New("iam: token scope names no project of the account")

// ProjectScope names a project of a token's scope.
type ProjectScope struct {
	ID, Name string
}

// TokenIssuer issues IAM tokens for password logins. Signer signs them;
// they expire TTL after Now.
type TokenIssuer struct {
	IAM    *Service
	Signer *auth.TokenSigner
	TTL    time.Duration
	Now    func() time.Time
}

// Issue checks the login and returns the signed token and its claims. A
// wrong password and an unknown user or account (by name or id) are
// ErrWrongPassword, a project the account does not have ErrUnknownScope;
// other errors are failures of the store or the signer.
func (t *TokenIssuer) Issue(ctx context.Context, in TokenRequest) (string, auth.TokenClaims, error) {
	accountName := in.AccountName
	if accountName == "" && in.AccountID != "" {
		a, err := t.IAM.Account(ctx, in.AccountID)
		if err != nil {
			return "", auth.TokenClaims{}, fmt.Errorf("%w: account %s: %v", ErrWrongPassword, in.AccountID, err)
		}
		accountName = a.Name
	}
	ident, err := t.IAM.PasswordLogin(ctx, accountName, in.UserName, in.Password)
	if err != nil {
		return "", auth.TokenClaims{}, err
	}
	claims := auth.TokenClaims{
		UserID: ident.UserID, UserName: ident.UserName, AccountID: ident.AccountID, AccountName: ident.AccountName,
		Methods: []string{"password"},
	}
	if sp := in.Project; sp != nil {
		projects, err := t.IAM.Projects(ctx, ident.AccountID)
		if err != nil {
			return "", auth.TokenClaims{}, err
		}
		for _, p := range projects {
			if (sp.ID != "" && p.ID == sp.ID) || (sp.ID == "" && p.Name == sp.Name) {
				claims.ProjectID, claims.ProjectName = p.ID, p.Name
			}
		}
		if claims.ProjectID == "" {
			return "", auth.TokenClaims{}, fmt.Errorf("%w: project %q (id %q) is not in account %s", ErrUnknownScope, sp.Name, sp.ID, ident.AccountName)
		}
	}
	now := t.Now().UTC()
	claims.IssuedAt, claims.ExpiresAt = now, now.Add(t.TTL)
	tok, err := t.Signer.Issue(claims)
	if err != nil {
		return "", auth.TokenClaims{}, err
	}
	return tok, claims, nil
}
