package iam

import (
	"context"
	"errors"
	"fmt"

	"github.com/kmsd/kmsd/internal/store"
)

// CreateProject creates a project in an account. An empty id gets a
// random one.
func (s *Service) CreateProject(ctx context.Context, accountID, name, id string) (store.Project, error) {
	if id == "" {
		id = NewID()
	}
	if !nameRE.MatchString(name) || !idRE.MatchString(id) {
		return store.Project{}, fmt.Errorf("%w: project name %q or id %q", ErrInvalid, name, id)
	}
	p := store.Project{ID: id, AccountID: accountID, Name: name, CreatedAt: s.Now().UTC()}
	err := s.store.Update(ctx, func(tx store.Tx) error {
		if _, err := tx.GetAccount(accountID); err != nil {
			return err
		}
		if _, err := tx.GetProjectByName(accountID, name); err == nil {
			return store.ErrConflict
		}
		return tx.CreateProject(p)
	})
	return p, wrapStore(err, "project "+name)
}

// Project returns a project by id.
func (s *Service) Project(ctx context.Context, id string) (store.Project, error) {
	var p store.Project
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		p, err = tx.GetProject(id)
		return err
	})
	return p, wrapStore(err, "project "+id)
}

// ListProjects lists the projects of an account.
func (s *Service) ListProjects(ctx context.Context, accountID string) ([]store.Project, error) {
	var out []store.Project
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		out, err = tx.ListProjects(accountID)
		return err
	})
	return out, err
}

// SetProjectQuotas sets a project's CMK and grant quotas (0 = default).
func (s *Service) SetProjectQuotas(ctx context.Context, id string, cmk, grant int) error {
	if cmk < 0 || grant < 0 {
		return fmt.Errorf("%w: negative quota", ErrInvalid)
	}
	err := s.store.Update(ctx, func(tx store.Tx) error {
		p, err := tx.GetProject(id)
		if err != nil {
			return err
		}
		p.CMKQuota, p.GrantQuota = cmk, grant
		return tx.UpdateProject(p)
	})
	return wrapStore(err, "project "+id)
}

// DeleteProject deletes a project that holds no keys.
func (s *Service) DeleteProject(ctx context.Context, id string) error {
	err := s.store.Update(ctx, func(tx store.Tx) error { return tx.DeleteProject(id) })
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("%w: project %s still has keys", ErrInUse, id)
	}
	return wrapStore(err, "project "+id)
}
