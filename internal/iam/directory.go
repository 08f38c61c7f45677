package iam

import (
	"context"
	"errors"
	"fmt"

	"github.com/kmsd/kmsd/internal/auth"
	"github.com/kmsd/kmsd/internal/store"
)

// identity builds the auth view of a user: the account and the parsed
// policies attached to the user.
func identity(tx store.Tx, u store.User) (auth.Identity, error) {
	a, err := tx.GetAccount(u.AccountID)
	if err != nil {
		return auth.Identity{}, err
	}
	id := auth.Identity{AccountID: a.ID, AccountName: a.Name, UserID: u.ID, UserName: u.Name}
	for _, name := range u.Policies {
		if p, ok := auth.SystemRole(name); ok {
			id.Policies = append(id.Policies, p)
			continue
		}
		doc, err := tx.GetPolicy(u.AccountID, name)
		if errors.Is(err, store.ErrNotFound) {
			continue // a deleted policy grants nothing
		}
		if err != nil {
			return auth.Identity{}, err
		}
		p, err := auth.ParsePolicy(doc.Document)
		if err != nil {
			return auth.Identity{}, fmt.Errorf("stored policy %q: %w", name, err)
		}
		id.Policies = append(id.Policies, p)
	}
	return id, nil
}

// unauthenticated returns an error that authentication answers with 401.
func unauthenticated(reason string) error {
	return &auth.AuthError{Reason: reason}
}

// AccessKey implements auth.Directory.
func (s *Service) AccessKey(ctx context.Context, ak string) ([]byte, auth.Identity, error) {
	e, gen, ok := s.cached(ctx, cacheKey{cacheAccessKey, ak})
	if ok {
		return e.sk, e.id, nil
	}
	var sk []byte
	var id auth.Identity
	err := s.store.View(ctx, func(tx store.Tx) error {
		k, err := tx.GetAccessKey(ak)
		if errors.Is(err, store.ErrNotFound) {
			return unauthenticated("unknown access key")
		}
		if err != nil {
			return err
		}
		if k.Disabled {
			return unauthenticated("access key disabled")
		}
		u, err := tx.GetUser(k.UserID)
		if err != nil {
			return err
		}
		if u.Disabled {
			return unauthenticated("user disabled")
		}
		if sk, err = s.keyring.Open(AccessKeyBinding(ak), k.SealedSK); err != nil {
			return fmt.Errorf("open secret of access key %s: %w", ak, err)
		}
		id, err = identity(tx, u)
		return err
	})
	if err != nil {
		return nil, auth.Identity{}, err
	}
	s.remember(cacheKey{cacheAccessKey, ak}, cacheEntry{sk: sk, id: id}, gen)
	return sk, id, nil
}

// User implements auth.Directory.
func (s *Service) User(ctx context.Context, userID string) (auth.Identity, error) {
	e, gen, ok := s.cached(ctx, cacheKey{cacheUser, userID})
	if ok {
		return e.id, nil
	}
	var id auth.Identity
	err := s.store.View(ctx, func(tx store.Tx) error {
		u, err := tx.GetUser(userID)
		if errors.Is(err, store.ErrNotFound) {
			return unauthenticated("unknown user")
		}
		if err != nil {
			return err
		}
		if u.Disabled {
			return unauthenticated("user disabled")
		}
		id, err = identity(tx, u)
		return err
	})
	if err != nil {
		return auth.Identity{}, err
	}
	s.remember(cacheKey{cacheUser, userID}, cacheEntry{id: id}, gen)
	return id, nil
}

// Projects implements auth.Directory.
func (s *Service) Projects(ctx context.Context, accountID string) ([]auth.Project, error) {
	e, gen, ok := s.cached(ctx, cacheKey{cacheProjects, accountID})
	if ok {
		return e.projects, nil
	}
	ps, err := s.ListProjects(ctx, accountID)
	if err != nil {
		return nil, err
	}
	out := make([]auth.Project, len(ps))
	for i, p := range ps {
		out[i] = auth.Project{ID: p.ID, Name: p.Name}
	}
	s.remember(cacheKey{cacheProjects, accountID}, cacheEntry{projects: out}, gen)
	return out, nil
}
