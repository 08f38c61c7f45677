package iam

import (
	"context"
	"errors"
	"fmt"

	"github.com/kmsd/kmsd/internal/keyring"
	"github.com/kmsd/kmsd/internal/store"
)

// CreateAccessKey creates an AK/SK pair for a user and returns both. Empty
// ak and sk get random values (20 and 40 characters, Huawei's shape); the
// SK is sealed before it is stored and is never shown again.
func (s *Service) CreateAccessKey(ctx context.Context, userID, ak, sk string) (string, string, error) {
	if ak == "" {
		ak = randomString(akAlphabet, 20)
	}
	if sk == "" {
		sk = randomString(skAlphabet, 40)
	}
	if !akRE.MatchString(ak) {
		return "", "", fmt.Errorf("%w: an AK is 16–64 upper-case letters and digits", ErrInvalid)
	}
	if !skRE.MatchString(sk) {
		return "", "", fmt.Errorf("%w: an SK is 20–128 letters and digits", ErrInvalid)
	}
	sealed, err := s.keyring.Seal(AccessKeyBinding(ak), []byte(sk))
	if err != nil {
		return "", "", err
	}
	err = s.store.Update(ctx, func(tx store.Tx) error {
		if _, err := tx.GetUser(userID); err != nil {
			return err
		}
		return tx.CreateAccessKey(store.AccessKey{AK: ak, UserID: userID, SealedSK: sealed, CreatedAt: s.Now().UTC()})
	})
	if err != nil {
		return "", "", wrapStore(err, "access key")
	}
	return ak, sk, nil
}

// EnsureAccessKey makes ak exist for userID with secret sk, creating or
// resealing it. Dev mode uses it so documented credentials always work.
func (s *Service) EnsureAccessKey(ctx context.Context, userID, ak, sk string) error {
	if !akRE.MatchString(ak) || !skRE.MatchString(sk) {
		return fmt.Errorf("%w: an AK is 16–64 upper-case letters and digits, an SK 20–128 letters and digits", ErrInvalid)
	}
	sealed, err := s.keyring.Seal(AccessKeyBinding(ak), []byte(sk))
	if err != nil {
		return err
	}
	defer s.invalidate()
	err = s.store.Update(ctx, func(tx store.Tx) error {
		k, err := tx.GetAccessKey(ak)
		if errors.Is(err, store.ErrNotFound) {
			return tx.CreateAccessKey(store.AccessKey{AK: ak, UserID: userID, SealedSK: sealed, CreatedAt: s.Now().UTC()})
		}
		if err != nil {
			return err
		}
		if k.UserID != userID {
			return fmt.Errorf("%w: access key %s belongs to another user", ErrExists, ak)
		}
		k.SealedSK, k.Disabled = sealed, false
		return tx.UpdateAccessKey(k)
	})
	return wrapStore(err, "access key "+ak)
}

// ListAccessKeys lists a user's access keys (secrets stay sealed).
func (s *Service) ListAccessKeys(ctx context.Context, userID string) ([]store.AccessKey, error) {
	var out []store.AccessKey
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		out, err = tx.ListAccessKeys(userID)
		return err
	})
	return out, err
}

// SetAccessKeyDisabled disables or enables an access key.
func (s *Service) SetAccessKeyDisabled(ctx context.Context, ak string, disabled bool) error {
	defer s.invalidate()
	err := s.store.Update(ctx, func(tx store.Tx) error {
		k, err := tx.GetAccessKey(ak)
		if err != nil {
			return err
		}
		k.Disabled = disabled
		return tx.UpdateAccessKey(k)
	})
	return wrapStore(err, "access key "+ak)
}

// DeleteAccessKey deletes an access key.
func (s *Service) DeleteAccessKey(ctx context.Context, ak string) error {
	defer s.invalidate()
	return wrapStore(s.store.Update(ctx, func(tx store.Tx) error { return tx.DeleteAccessKey(ak) }), "access key "+ak)
}

// AccessKeyBinding is the keyring binding of the sealed secret of access
// key ak.
func AccessKeyBinding(ak string) keyring.Binding {
	return keyring.Binding{Purpose: PurposeAccessKey, KeyID: ak}
}
