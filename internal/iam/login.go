package iam

import (
	"context"
	"errors"

	"github.com/kmsd/kmsd/internal/auth"
	"github.com/kmsd/kmsd/internal/store"
)

// PasswordLogin checks a user's password. accountName names the user's
// account (Huawei's "domain"). Every failure is ErrWrongPassword, so a
// caller cannot tell an unknown user from a wrong password.
func (s *Service) PasswordLogin(ctx context.Context, accountName, userName, password string) (auth.Identity, error) {
	var u store.User
	var id auth.Identity
	err := s.store.View(ctx, func(tx store.Tx) error {
		a, err := tx.GetAccountByName(accountName)
		if err != nil {
			return err
		}
		if u, err = tx.GetUserByName(a.ID, userName); err != nil {
			return err
		}
		id, err = identity(tx, u)
		return err
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return auth.Identity{}, err
	}
	// An unknown user, a disabled one and one without a password spend
	// the same time as a real check, so timing does not reveal which
	// accounts and users exist or can log in.
	hash := u.PasswordHash
	if err != nil || hash == "" {
		hash = dummyHash
	}
	ok, cerr := s.checkPassword(ctx, hash, password)
	if cerr != nil {
		return auth.Identity{}, cerr
	}
	if err != nil || u.Disabled || u.PasswordHash == "" || !ok {
		return auth.Identity{}, ErrWrongPassword
	}
	return id, nil
}

// checkPassword is VerifyPassword in one of the service's login slots.
// Each check holds 19 MiB for tens of milliseconds on an endpoint open to
// anyone, so the number running at once is bounded; a login waits for a
// slot until ctx ends, and then returns ctx's error.
func (s *Service) checkPassword(ctx context.Context, hash, password string) (bool, error) {
	select {
	case s.logins <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-s.logins }()
	return VerifyPassword(hash, password), nil
}
