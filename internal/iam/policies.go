package iam

import (
	"context"
	"errors"
	"fmt"

	"github.com/kmsd/kmsd/internal/auth"
	"github.com/kmsd/kmsd/internal/store"
)

func checkPolicyName(tx store.Tx, accountID, name string) error {
	if _, ok := auth.SystemRole(name); ok {
		return nil
	}
	if _, err := tx.GetPolicy(accountID, name); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: no system role or policy named %q", ErrNotFound, name)
		}
		return err
	}
	return nil
}

// PutPolicy creates or replaces a custom identity policy of an account.
func (s *Service) PutPolicy(ctx context.Context, accountID, name string, document []byte) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("%w: policy name %q", ErrInvalid, name)
	}
	if _, ok := auth.SystemRole(name); ok {
		return fmt.Errorf("%w: %q is a system role", ErrInvalid, name)
	}
	if _, err := auth.ParsePolicy(document); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	defer s.invalidate()
	return s.store.Update(ctx, func(tx store.Tx) error {
		return tx.PutPolicy(store.Policy{AccountID: accountID, Name: name, Document: document, CreatedAt: s.Now().UTC()})
	})
}

// ListPolicies lists the custom policies of an account.
func (s *Service) ListPolicies(ctx context.Context, accountID string) ([]store.Policy, error) {
	var out []store.Policy
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		out, err = tx.ListPolicies(accountID)
		return err
	})
	return out, err
}
