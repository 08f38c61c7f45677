package kms

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kmsd/kmsd/internal/store"
)

// The multi-alias API (reference kms-api.md §5.H) gives a key extra names
// besides its key_alias. Both kinds of name share one namespace per
// project, which the store enforces: an alias can name no other key's
// key_alias or alias. Alias names follow the key_alias rules (ValidateAlias:
// the reference charset, 1–255 characters, the "/default" suffix reserved
// for default keys). A key's key_alias is not an alias of this API: it is
// neither listed, moved nor deleted by it, and describe-key keeps showing
// it alone.

// Alias limits.
const (
	// MaxAliasesPerKey bounds the aliases of one key, so that one page of
	// list-aliases can hold them all. The reference sets no number.
	MaxAliasesPerKey = 100
	// MaxAliasPage is the largest page of list-aliases (reference
	// kms-api.md §2.4: limit 1–100); it is also the default page.
	MaxAliasPage = 100
	// MaxAliasesPerDelete bounds the aliases of one delete-alias request.
	MaxAliasesPerDelete = MaxAliasesPerKey
	// MaxAliasesPerProject bounds the aliases (create-alias names, not
	// key_alias) of one project, whatever its key quota, so that one
	// caller cannot grow the alias table without end. The reference sets
	// no number.
	MaxAliasesPerProject = 5000
)

// Alias is one extra name of a key.
type Alias struct {
	ProjectID string
	Name      string
	KeyID     string
	// AccountID is the account (domain) that owns the key.
	AccountID string
	CreatedAt time.Time
	UpdatedAt time.Time
}

func aliasOf(a store.Alias, accountID string) Alias {
	return Alias{ProjectID: a.ProjectID, Name: a.Alias, KeyID: a.KeyID, AccountID: accountID, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
}

// URN returns the alias resource name kms:{region}:{domain_id}:alias:{alias}
// (reference kms-api.md §4 AliasEntity).
func (s *Service) URN(a Alias) string {
	return "kms:" + s.cfg.Region + ":" + a.AccountID + ":alias:" + a.Name
}

// aliasTarget checks that k, read in tx, may take another alias: it must
// not be a default key (KMS.0211, reference kms-api.md §2.3), not be
// pending deletion, and hold fewer than MaxAliasesPerKey aliases.
func aliasTarget(tx store.Tx, k *Key) error {
	if err := updatable(k); err != nil {
		return err
	}
	as, err := tx.ListAliases(k.ProjectID, k.KeyID, "", MaxAliasesPerKey)
	if err != nil {
		return err
	}
	if len(as) >= MaxAliasesPerKey {
		return fmt.Errorf("%w: key %s has %d aliases", ErrTooManyAliases, k.KeyID, len(as))
	}
	return nil
}

// CreateAlias gives the key of the project an extra name. Errors: a bad
// name (ErrInvalidAlias), a malformed key id (ErrInvalidKeyID), a name
// taken in the project as an alias or a key_alias (ErrDuplicateAlias),
// MaxAliasesPerProject reached (ErrTooManyAliases), and those of
// aliasTarget.
func (s *Service) CreateAlias(ctx context.Context, projectID, keyID, alias string) (Alias, error) {
	if err := ValidateKeyID(keyID); err != nil {
		return Alias{}, err
	}
	if err := ValidateAlias(alias); err != nil {
		return Alias{}, err
	}
	now := s.Now().UTC().Truncate(time.Millisecond)
	row := store.Alias{ProjectID: projectID, Alias: alias, KeyID: keyID, CreatedAt: now, UpdatedAt: now}
	var a Alias
	err := s.update(ctx, func(tx store.Tx) error {
		k, err := getKey(tx, projectID, keyID)
		if err != nil {
			return mapNotFound(err)
		}
		if err := aliasTarget(tx, &k); err != nil {
			return err
		}
		quota := s.cfg.AliasQuota
		if quota <= 0 {
			quota = MaxAliasesPerProject
		}
		all, err := tx.ListAliases(projectID, "", "", quota)
		if err != nil {
			return err
		}
		if len(all) >= quota {
			return fmt.Errorf("%w: project %s has %d aliases", ErrTooManyAliases, projectID, len(all))
		}
		a = aliasOf(row, k.AccountID)
		if err := tx.CreateAlias(row); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return fmt.Errorf("%w: %q", ErrDuplicateAlias, alias)
			}
			return mapNotFound(err)
		}
		return nil
	})
	if err != nil {
		return Alias{}, err
	}
	s.log.InfoContext(ctx, "alias created", "request_id", RequestID(ctx), "project_id", projectID, "key_id", keyID, "alias", alias)
	return a, nil
}

// AssociateAlias moves an alias of the project to the key targetKeyID.
// Errors: a bad name (ErrInvalidAlias), a malformed key id
// (ErrInvalidKeyID), a target key that is not in the project
// (ErrKeyNotFound, checked before the alias), a name that is no alias of
// the project — a key_alias included (ErrAliasNotFound) — and those of
// aliasTarget. Moving an alias
// to the key it names only refreshes its update time.
func (s *Service) AssociateAlias(ctx context.Context, projectID, alias, targetKeyID string) (Alias, error) {
	if err := ValidateKeyID(targetKeyID); err != nil {
		return Alias{}, err
	}
	if err := ValidateAlias(alias); err != nil {
		return Alias{}, err
	}
	var a Alias
	err := s.update(ctx, func(tx store.Tx) error {
		// The target key first: another project's key is a missing key
		// (KMS.0207), whatever the alias names in the caller's project.
		k, err := getKey(tx, projectID, targetKeyID)
		if err != nil {
			return mapNotFound(err)
		}
		cur, err := tx.GetAlias(projectID, alias)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: %q", ErrAliasNotFound, alias)
		}
		if err != nil {
			return err
		}
		if cur.KeyID == targetKeyID {
			// No new alias for the key: only its state.
			err = updatable(&k)
		} else {
			err = aliasTarget(tx, &k)
		}
		if err != nil {
			return err
		}
		cur.KeyID = targetKeyID
		cur.UpdatedAt = s.Now().UTC().Truncate(time.Millisecond)
		if err := tx.UpdateAlias(cur); err != nil {
			return mapNotFound(err)
		}
		a = aliasOf(cur, k.AccountID)
		return nil
	})
	if err != nil {
		return Alias{}, err
	}
	s.log.InfoContext(ctx, "alias associated", "request_id", RequestID(ctx), "project_id", projectID, "key_id", targetKeyID, "alias", alias)
	return a, nil
}

// DeleteAliases removes aliases of the key, all or none. Every name must
// be an alias of that key: a name that is not (another key's alias, a
// key_alias, nothing) is ErrAliasNotFound and removes nothing. Repeated
// names count once. An empty list, or one longer than MaxAliasesPerDelete,
// is ErrInvalidParameter; a missing key ErrKeyNotFound.
func (s *Service) DeleteAliases(ctx context.Context, projectID, keyID string, aliases []string) error {
	if err := ValidateKeyID(keyID); err != nil {
		return err
	}
	if len(aliases) == 0 || len(aliases) > MaxAliasesPerDelete {
		return fmt.Errorf("%w: %d aliases, want 1–%d", ErrInvalidParameter, len(aliases), MaxAliasesPerDelete)
	}
	names := slices.Clone(aliases)
	slices.Sort(names)
	names = slices.Compact(names)
	err := s.update(ctx, func(tx store.Tx) error {
		if _, err := tx.GetKey(projectID, keyID); err != nil {
			return mapNotFound(err)
		}
		for _, name := range names {
			a, err := tx.GetAlias(projectID, name)
			if errors.Is(err, store.ErrNotFound) || err == nil && a.KeyID != keyID {
				return fmt.Errorf("%w: %q is no alias of key %s", ErrAliasNotFound, name, keyID)
			}
			if err != nil {
				return err
			}
			if err := tx.DeleteAlias(projectID, name); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		s.log.InfoContext(ctx, "aliases deleted", "request_id", RequestID(ctx), "project_id", projectID, "key_id", keyID, "count", len(names))
	}
	return err
}

// ListAliasesInput are the parameters of list-aliases.
type ListAliasesInput struct {
	ProjectID string
	// KeyID, when not empty, lists the aliases of that key only; the key
	// must exist in the project (ErrKeyNotFound).
	KeyID string
	// Marker is the last alias of the previous page; "" starts at the
	// beginning. A marker that names no alias starts after where it would
	// sort.
	Marker string
	// Limit is the page size, 1–MaxAliasPage (ErrInvalidLimit); 0 means
	// MaxAliasPage.
	Limit int
}

// ListAliases returns one page of the project's aliases in name order and
// the marker of the next page ("" on the last one).
func (s *Service) ListAliases(ctx context.Context, in ListAliasesInput) ([]Alias, string, error) {
	if in.Limit == 0 {
		in.Limit = MaxAliasPage
	}
	if in.Limit < 1 || in.Limit > MaxAliasPage {
		return nil, "", fmt.Errorf("%w: limit %d, want 1–%d", ErrInvalidLimit, in.Limit, MaxAliasPage)
	}
	if in.KeyID != "" {
		if err := ValidateKeyID(in.KeyID); err != nil {
			return nil, "", err
		}
	}
	var rows []store.Alias
	var accountID string
	err := s.store.View(ctx, func(tx store.Tx) error {
		p, err := tx.GetProject(in.ProjectID)
		if err != nil {
			return err
		}
		accountID = p.AccountID
		if in.KeyID != "" {
			if _, err := tx.GetKey(in.ProjectID, in.KeyID); err != nil {
				return mapNotFound(err)
			}
		}
		rows, err = tx.ListAliases(in.ProjectID, in.KeyID, in.Marker, in.Limit+1)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(rows) > in.Limit {
		rows = rows[:in.Limit]
		next = rows[len(rows)-1].Alias
	}
	out := make([]Alias, len(rows))
	for i, r := range rows {
		out[i] = aliasOf(r, accountID)
	}
	return out, next, nil
}
