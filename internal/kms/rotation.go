package kms

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kmsd/kmsd/internal/store"
)

// Rotation intervals in days (reference kms-api.md §2.4: 30–365, default
// 365, KMS.3001).
const (
	MinRotationInterval     = 30
	MaxRotationInterval     = 365
	DefaultRotationInterval = store.DefaultRotationInterval
)

// rotationBatch is how many due keys one store query returns.
const rotationBatch = 100

// RotationStatus is what get-key-rotation-status reports.
type RotationStatus struct {
	Enabled bool
	// Interval is the rotation period in days.
	Interval int
	// LastRotation is zero when the key was never rotated.
	LastRotation time.Time
	Count        int
}

// rotatable reports why a key's material cannot rotate (reference
// kms-api.md §5.J): default keys KMS.0211, imported (external) material
// KMS.0312, RSA keys KMS.0324, other asymmetric keys KMS.0325, HMAC keys
// KMS.0341. Only AES_256 and SM4 keys of origin kms rotate.
func rotatable(k *Key) error {
	if k.Default {
		return ErrDefaultKey
	}
	if k.dedicated() {
		return ErrKeystoreRotation
	}
	if k.Origin == OriginExternal {
		return ErrExternalKeyRotation
	}
	switch specs[k.Spec].class {
	case classSymmetric:
		return nil
	case classRSA:
		return ErrRSAKeyRotation
	case classHMAC:
		return ErrHMACKey
	}
	return ErrAsymmetricKey
}

// rotationSettable checks a key whose rotation settings change: it must be
// rotatable and not pending deletion (KMS.0210). Disabled keys keep their
// settings; the job skips them until they are enabled again.
func rotationSettable(k *Key) error {
	if err := rotatable(k); err != nil {
		return err
	}
	if k.State == StatePendingDeletion {
		return ErrKeyPendingDeletion
	}
	return nil
}

// EnableKeyRotation turns on automatic rotation of a key (KMS.2901 when it
// is on already). The interval stays what it was, 365 days unless
// update-key-rotation-interval set another. The schedule counts from the
// last rotation, or from the key's creation when it never rotated: a key
// older than its interval rotates at the job's next run.
func (s *Service) EnableKeyRotation(ctx context.Context, projectID, keyID string) (Key, error) {
	if err := s.regionWritable(ctx, projectID, keyID, true); err != nil {
		return Key{}, err
	}
	k, err := s.modifyKey(ctx, projectID, keyID, func(_ store.Tx, k *Key) error {
		if err := rotationSettable(k); err != nil {
			return err
		}
		if k.RotationEnabled {
			return ErrRotationEnabled
		}
		k.RotationEnabled = true
		if k.RotationInterval == 0 {
			k.RotationInterval = DefaultRotationInterval
		}
		return nil
	})
	return s.logChange(ctx, "key rotation enabled", k, err)
}

// DisableKeyRotation turns off automatic rotation (KMS.0313 when it is
// off). Existing versions stay.
func (s *Service) DisableKeyRotation(ctx context.Context, projectID, keyID string) (Key, error) {
	if err := s.regionWritable(ctx, projectID, keyID, false); err != nil {
		return Key{}, err
	}
	k, err := s.modifyKey(ctx, projectID, keyID, func(_ store.Tx, k *Key) error {
		if err := rotationSettable(k); err != nil {
			return err
		}
		if !k.RotationEnabled {
			return ErrRotationNotEnabled
		}
		k.RotationEnabled = false
		return nil
	})
	return s.logChange(ctx, "key rotation disabled", k, err)
}

// UpdateKeyRotationInterval sets the rotation period of a key whose
// rotation is on (KMS.0313 otherwise) to days, 30–365 (KMS.3001).
func (s *Service) UpdateKeyRotationInterval(ctx context.Context, projectID, keyID string, days int) (Key, error) {
	if err := s.regionWritable(ctx, projectID, keyID, true); err != nil {
		return Key{}, err
	}
	if days < MinRotationInterval || days > MaxRotationInterval {
		return Key{}, fmt.Errorf("%w: %d days, want %d–%d", ErrInvalidRotationInterval, days, MinRotationInterval, MaxRotationInterval)
	}
	k, err := s.modifyKey(ctx, projectID, keyID, func(_ store.Tx, k *Key) error {
		if err := rotationSettable(k); err != nil {
			return err
		}
		if !k.RotationEnabled {
			return ErrRotationNotEnabled
		}
		k.RotationInterval = days
		return nil
	})
	return s.logChange(ctx, "key rotation interval updated", k, err, "rotation_interval", days)
}

// KeyRotationStatus reports a key's rotation settings and history. It
// answers for every key in every state; a key that cannot rotate reports
// rotation off and no rotations.
func (s *Service) KeyRotationStatus(ctx context.Context, projectID, keyID string) (RotationStatus, error) {
	k, err := s.DescribeKey(ctx, projectID, keyID)
	if err != nil {
		return RotationStatus{}, err
	}
	return RotationStatus{
		Enabled: k.RotationEnabled, Interval: rotationInterval(k),
		LastRotation: k.LastRotation, Count: k.RotationCount,
	}, nil
}

func rotationInterval(k Key) int {
	if k.RotationInterval <= 0 {
		return DefaultRotationInterval
	}
	return k.RotationInterval
}

// rotationDue reports whether automatic rotation of k is due at now: it is
// on, the key is enabled, and the interval has passed since the last
// rotation (or the key's creation) — the rule of store.KeysDueForRotation.
func rotationDue(k Key, now time.Time) bool {
	if !k.RotationEnabled || k.State != StateEnabled {
		return false
	}
	from := k.LastRotation
	if from.IsZero() {
		from = k.CreatedAt
	}
	return !from.Add(time.Duration(rotationInterval(k)) * 24 * time.Hour).After(now)
}

// RotateKey rotates an enabled AES_256 or SM4 key now, whether automatic
// rotation is on or not (the `kmsd key rotate` command): see rotate. A
// disabled key is KMS.0209, a key pending deletion KMS.0210.
func (s *Service) RotateKey(ctx context.Context, projectID, keyID string) (Key, error) {
	if err := s.regionWritable(ctx, projectID, keyID, true); err != nil {
		return Key{}, err
	}
	out, err := s.modifyKey(ctx, projectID, keyID, func(tx store.Tx, k *Key) error {
		if err := rotatable(k); err != nil {
			return err
		}
		if err := usable(*k); err != nil {
			return err
		}
		return s.rotate(tx, k, s.Now())
	})
	if err != nil {
		return Key{}, err
	}
	s.log.InfoContext(ctx, "key rotated", "request_id", RequestID(ctx), "project_id", projectID, "key_id", keyID, "version", out.PrimaryVersion, "manual", true)
	return out, nil
}

// rotate adds a version of fresh material to k, sealed under its own
// binding, makes it primary and records the rotation on k, inside tx (a
// modifyKey callback, which writes k). Earlier versions stay, so
// ciphertexts naming them still decrypt.
func (s *Service) rotate(tx store.Tx, k *Key, now time.Time) error {
	versions, err := tx.ListKeyVersions(k.ProjectID, k.KeyID)
	if err != nil {
		return mapNotFound(err)
	}
	next := k.PrimaryVersion + 1
	for _, v := range versions {
		next = max(next, v.Version+1)
	}
	material, err := specs[k.Spec].generate()
	if err != nil {
		return fmt.Errorf("generate %s material: %w", k.Spec, err)
	}
	sealed, err := s.keyring.Seal(materialBinding(k.ProjectID, k.KeyID, next), material)
	clear(material)
	if err != nil {
		return fmt.Errorf("seal material: %w", err)
	}
	now = now.UTC().Truncate(time.Millisecond)
	if err := tx.PutKeyVersion(store.KeyVersion{ProjectID: k.ProjectID, KeyID: k.KeyID, Version: next, Sealed: sealed, CreatedAt: now}); err != nil {
		return err
	}
	k.PrimaryVersion = next
	k.LastRotation = now
	k.RotationCount++
	return nil
}

// RotateDueKeys rotates every key whose automatic rotation is due at the
// service clock's now and returns how many it rotated. Each key rotates in
// its own transaction that re-reads it and re-checks that it is due, so
// several nodes may run the job at once and a key rotates once per
// interval; a rotation that loses a race to another node (a stale
// revision or an existing version) is skipped, not an error. A key that
// fails is logged and the others still rotate; the errors are returned
// joined.
func (s *Service) RotateDueKeys(ctx context.Context) (int, error) {
	n := 0
	var failed []string
	var errs []error
	for {
		now := s.Now()
		var due []store.Key
		err := s.store.View(ctx, func(tx store.Tx) error {
			var err error
			due, err = tx.KeysDueForRotation(now, rotationBatch)
			return err
		})
		if err != nil {
			return n, errors.Join(append(errs, err)...)
		}
		progress := false
		for _, d := range due {
			id := d.ProjectID + "/" + d.KeyID
			if slices.Contains(failed, id) {
				continue
			}
			rotated, version, err := s.rotateIfDue(ctx, d.ProjectID, d.KeyID, now)
			if err != nil {
				if ctx.Err() != nil {
					return n, ctx.Err()
				}
				s.log.ErrorContext(ctx, "key rotation failed", "project_id", d.ProjectID, "key_id", d.KeyID, "err", err)
				failed = append(failed, id)
				errs = append(errs, fmt.Errorf("rotate key %s: %w", d.KeyID, err))
				continue
			}
			progress = true
			if rotated {
				n++
				s.log.InfoContext(ctx, "key rotated", "request_id", RequestID(ctx), "project_id", d.ProjectID, "key_id", d.KeyID, "version", version)
			}
		}
		// A short batch was the last one; a full batch without progress
		// holds only failed keys, which the next run retries.
		if len(due) < rotationBatch || !progress {
			return n, errors.Join(errs...)
		}
	}
}

// rotateIfDue rotates one key if it is still due at now when re-read in
// the transaction, and reports whether it did and the new version.
func (s *Service) rotateIfDue(ctx context.Context, projectID, keyID string, now time.Time) (bool, int, error) {
	rotated := false
	k, err := s.modifyKey(ctx, projectID, keyID, func(tx store.Tx, k *Key) error {
		rotated = false
		if !rotationDue(*k, now) {
			return errUnchanged
		}
		if err := rotatable(k); err != nil {
			return err
		}
		rotated = true
		return s.rotate(tx, k, now)
	})
	switch {
	case errors.Is(err, ErrKeyNotFound), errors.Is(err, store.ErrConflict):
		// Destroyed meanwhile, or rotated by another node first.
		return false, 0, nil
	case err != nil:
		return false, 0, err
	}
	if !rotated {
		return false, 0, nil
	}
	return true, k.PrimaryVersion, nil
}

// RunRotationJob rotates due keys at once and then every interval until
// ctx ends. Schedules live in the store, so a restart resumes them.
func (s *Service) RunRotationJob(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		err := s.exclusive(ctx, "rotation", func(ctx context.Context) error {
			_, err := s.RotateDueKeys(ctx)
			return err
		})
		if ctx.Err() != nil {
			return
		}
		s.jobRan(jobRotation, err)
		if err != nil {
			s.log.ErrorContext(ctx, "rotation job failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
