package iam

import (
	"context"
	"errors"
	"fmt"

	"github.com/kmsd/kmsd/internal/store"
)

// CreateAccount creates an account. An empty id gets a random one.
func (s *Service) CreateAccount(ctx context.Context, name, id string) (store.Account, error) {
	if id == "" {
		id = NewID()
	}
	if !nameRE.MatchString(name) || !idRE.MatchString(id) {
		return store.Account{}, fmt.Errorf("%w: account name %q or id %q", ErrInvalid, name, id)
	}
	a := store.Account{ID: id, Name: name, CreatedAt: s.Now().UTC()}
	err := s.store.Update(ctx, func(tx store.Tx) error {
		if _, err := tx.GetAccountByName(name); err == nil {
			return store.ErrConflict
		}
		return tx.CreateAccount(a)
	})
	return a, wrapStore(err, "account "+name)
}

// Account returns an account by name or id.
func (s *Service) Account(ctx context.Context, nameOrID string) (store.Account, error) {
	var a store.Account
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		a, err = tx.GetAccountByName(nameOrID)
		if errors.Is(err, store.ErrNotFound) && idRE.MatchString(nameOrID) {
			a, err = tx.GetAccount(nameOrID)
		}
		return err
	})
	return a, wrapStore(err, "account "+nameOrID)
}

// Accounts lists all accounts.
func (s *Service) Accounts(ctx context.Context) ([]store.Account, error) {
	var out []store.Account
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		out, err = tx.ListAccounts()
		return err
	})
	return out, err
}

// DeleteAccount deletes an account with its projects, users and keys of
// users; it refuses while a project holds keys.
func (s *Service) DeleteAccount(ctx context.Context, id string) error {
	defer s.invalidate()
	err := s.store.Update(ctx, func(tx store.Tx) error { return tx.DeleteAccount(id) })
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("%w: account %s still has keys", ErrInUse, id)
	}
	return wrapStore(err, "account "+id)
}
