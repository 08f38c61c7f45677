package iam

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/kmsd/kmsd/internal/store"
)

// CreateUser creates a user; password may be empty (no password login).
// Each policy must name a system role or a custom policy of the account.
func (s *Service) CreateUser(ctx context.Context, accountID, name, id, password string, policies []string) (store.User, error) {
	if id == "" {
		id = NewID()
	}
	if !nameRE.MatchString(name) || !idRE.MatchString(id) {
		return store.User{}, fmt.Errorf("%w: user name %q or id %q", ErrInvalid, name, id)
	}
	u := store.User{ID: id, AccountID: accountID, Name: name, Policies: policies, CreatedAt: s.Now().UTC()}
	if password != "" {
		h, err := HashPassword(password)
		if err != nil {
			return store.User{}, err
		}
		u.PasswordHash = h
	}
	err := s.store.Update(ctx, func(tx store.Tx) error {
		if _, err := tx.GetAccount(accountID); err != nil {
			return err
		}
		for _, p := range policies {
			if err := checkPolicyName(tx, accountID, p); err != nil {
				return err
			}
		}
		return tx.CreateUser(u)
	})
	return u, wrapStore(err, "user "+name)
}

// User returns a user by account and name, or by id when name is a
// 32-hex id of a user of the account.
func (s *Service) UserByName(ctx context.Context, accountID, name string) (store.User, error) {
	var u store.User
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		u, err = tx.GetUserByName(accountID, name)
		if errors.Is(err, store.ErrNotFound) && idRE.MatchString(name) {
			u, err = tx.GetUser(name)
			if err == nil && u.AccountID != accountID {
				err = store.ErrNotFound
			}
		}
		return err
	})
	return u, wrapStore(err, "user "+name)
}

// ListUsers lists the users of an account.
func (s *Service) ListUsers(ctx context.Context, accountID string) ([]store.User, error) {
	var out []store.User
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		out, err = tx.ListUsers(accountID)
		return err
	})
	return out, err
}

// DeleteUser deletes a user and its access keys.
func (s *Service) DeleteUser(ctx context.Context, userID string) error {
	defer s.invalidate()
	err := s.store.Update(ctx, func(tx store.Tx) error { return tx.DeleteUser(userID) })
	return wrapStore(err, "user "+userID)
}

// SetPassword sets or (with "") removes a user's password.
func (s *Service) SetPassword(ctx context.Context, userID, password string) error {
	hash := ""
	if password != "" {
		var err error
		if hash, err = HashPassword(password); err != nil {
			return err
		}
	}
	return s.updateUser(ctx, userID, func(tx store.Tx, u *store.User) error {
		u.PasswordHash = hash
		return nil
	})
}

// AttachPolicy attaches a system role or custom policy to a user.
func (s *Service) AttachPolicy(ctx context.Context, userID, name string) error {
	return s.updateUser(ctx, userID, func(tx store.Tx, u *store.User) error {
		if err := checkPolicyName(tx, u.AccountID, name); err != nil {
			return err
		}
		if !slices.Contains(u.Policies, name) {
			u.Policies = append(u.Policies, name)
		}
		return nil
	})
}

// DetachPolicy detaches a policy from a user.
func (s *Service) DetachPolicy(ctx context.Context, userID, name string) error {
	return s.updateUser(ctx, userID, func(tx store.Tx, u *store.User) error {
		i := slices.Index(u.Policies, name)
		if i < 0 {
			return fmt.Errorf("%w: policy %q is not attached", ErrNotFound, name)
		}
		u.Policies = slices.Delete(u.Policies, i, i+1)
		return nil
	})
}

// SetUserDisabled disables or enables a user.
func (s *Service) SetUserDisabled(ctx context.Context, userID string, disabled bool) error {
	return s.updateUser(ctx, userID, func(tx store.Tx, u *store.User) error {
		u.Disabled = disabled
		return nil
	})
}

func (s *Service) updateUser(ctx context.Context, userID string, fn func(store.Tx, *store.User) error) error {
	defer s.invalidate()
	err := s.store.Update(ctx, func(tx store.Tx) error {
		u, err := tx.GetUser(userID)
		if err != nil {
			return err
		}
		if err := fn(tx, &u); err != nil {
			return err
		}
		return tx.UpdateUser(u)
	})
	return wrapStore(err, "user "+userID)
}
