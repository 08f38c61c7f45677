package kms

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	"github.com/kmsd/kmsd/internal/keyring"
	"github.com/kmsd/kmsd/internal/store"
)

// Access point types and states (reference kms-api-new.md §3, §5: JSON
// integers).
const (
	AccessPointECS    = 1
	AccessPointCCE    = 2
	AccessPointCustom = 3

	AccessPointDisabled = 0
	AccessPointEnabled  = 1
)

// PurposeAccessPointKey is the keyring binding purpose of a Custom access
// point's private key (binding: project, access point id, version 0).
const PurposeAccessPointKey = "access-point-key"

// Errors of the access point operations.
var (
	// ErrNoPrivateKey is get-privatekey of an ECS or CCE access point,
	// whose key pair is not kmsd's.
	ErrNoPrivateKey = errors.New("access point has no private key held by kmsd")
	// ErrPrivateKeyDownloaded is the second get-privatekey of a Custom
	// access point: the private key is handed out once.
	ErrPrivateKeyDownloaded = errors.New("access point private key already downloaded")
)

// AccessPoint is a registered workload identity of a key space.
type AccessPoint = store.AccessPoint

// CreateAccessPointInput are the parameters of CreateAccessPoint.
type CreateAccessPointInput struct {
	ProjectID   string
	KeySpaceID  string
	Name        string
	Type        int
	Identity    string
	ClusterID   string
	Description string
	CreatedBy   string
}

// CreateAccessPoint registers an access point, enabled. A Custom (type 3)
// access point gets an EC P-256 key pair generated here: the public key
// (DER SubjectPublicKeyInfo) verifies its signatures, the private key
// (PKCS#8) is sealed by the keyring until its one download. ECS and CCE
// access points need their identity (and a CCE one its cluster id); kmsd
// cannot check that the resource exists.
func (s *Service) CreateAccessPoint(ctx context.Context, in CreateAccessPointInput) (AccessPoint, error) {
	ksID, err := spaceID("keyspace_id", in.KeySpaceID)
	if err != nil {
		return AccessPoint{}, err
	}
	if err := spaceName("access_point_name", in.Name); err != nil {
		return AccessPoint{}, err
	}
	if err := spaceDescription(in.Description); err != nil {
		return AccessPoint{}, err
	}
	switch in.Type {
	case AccessPointECS:
		if in.Identity == "" {
			return AccessPoint{}, fmt.Errorf("%w: identity (the ECS id) is required for type 1", ErrInvalidParameter)
		}
	case AccessPointCCE:
		if in.Identity == "" || in.ClusterID == "" {
			return AccessPoint{}, fmt.Errorf("%w: identity and cluster_id are required for type 2", ErrInvalidParameter)
		}
	case AccessPointCustom:
		if in.Identity != "" || in.ClusterID != "" {
			return AccessPoint{}, fmt.Errorf("%w: a type 3 access point takes no identity or cluster_id: kmsd generates its key pair", ErrInvalidParameter)
		}
	default:
		return AccessPoint{}, fmt.Errorf("%w: type %d, want 1, 2 or 3", ErrInvalidParameter, in.Type)
	}
	now := s.Now().UTC().Truncate(time.Millisecond)
	ap := AccessPoint{
		ProjectID: in.ProjectID, KeySpaceID: ksID, ID: s.spaceIDs.next(now), Name: in.Name, Type: in.Type,
		State: AccessPointEnabled, Identity: in.Identity, ClusterID: in.ClusterID, Description: in.Description,
		CreatedBy: in.CreatedBy, CreatedAt: now, UpdatedAt: now,
	}
	if in.Type == AccessPointCustom {
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return AccessPoint{}, err
		}
		der, err := x509.MarshalPKCS8PrivateKey(priv)
		if err != nil {
			return AccessPoint{}, err
		}
		ap.SealedPrivateKey, err = s.keyring.Seal(accessPointBinding(ap), der)
		clear(der)
		if err != nil {
			return AccessPoint{}, fmt.Errorf("seal access point key: %w", err)
		}
		if ap.PublicKey, err = x509.MarshalPKIXPublicKey(&priv.PublicKey); err != nil {
			return AccessPoint{}, err
		}
	}
	err = s.update(ctx, func(tx store.Tx) error {
		if _, err := keySpaceOf(tx, in.ProjectID, ksID); err != nil {
			return err
		}
		return tx.CreateAccessPoint(ap)
	})
	if err != nil {
		return AccessPoint{}, err
	}
	s.log.InfoContext(ctx, "access point created", "project_id", in.ProjectID, "keyspace_id", ksID, "access_point_id", ap.ID, "type", ap.Type)
	return ap, nil
}

func accessPointBinding(ap AccessPoint) keyring.Binding {
	return keyring.Binding{Purpose: PurposeAccessPointKey, ProjectID: ap.ProjectID, KeyID: ap.ID}
}

// ListAccessPoints returns a page of a key space's access points in
// creation order and the next page's marker. An unknown key space is
// ErrKeySpaceNotFound.
func (s *Service) ListAccessPoints(ctx context.Context, projectID, keySpaceID string, p Page) ([]AccessPoint, string, error) {
	ksID, err := spaceID("keyspace_id", keySpaceID)
	if err != nil {
		return nil, "", err
	}
	marker, limit, err := p.check()
	if err != nil {
		return nil, "", err
	}
	var rows []AccessPoint
	err = s.store.View(ctx, func(tx store.Tx) error {
		if _, err := keySpaceOf(tx, projectID, ksID); err != nil {
			return err
		}
		var err error
		rows, err = tx.ListAccessPoints(projectID, ksID, marker, limit+1)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	rows, next := pageOf(rows, limit, func(a AccessPoint) string { return a.ID })
	return rows, next, nil
}

// modifyAccessPoint is the read-modify-write of an access point.
func (s *Service) modifyAccessPoint(ctx context.Context, projectID, id string, fn func(ap *AccessPoint) error) (AccessPoint, error) {
	id, err := spaceID("access_point_id", id)
	if err != nil {
		return AccessPoint{}, err
	}
	var out AccessPoint
	err = s.update(ctx, func(tx store.Tx) error {
		ap, err := accessPointOf(tx, projectID, id)
		if err != nil {
			return err
		}
		if err := fn(&ap); err != nil {
			return err
		}
		ap.UpdatedAt = s.Now().UTC().Truncate(time.Millisecond)
		out = ap
		return tx.UpdateAccessPoint(ap)
	})
	return out, err
}

func accessPointOf(tx store.Tx, projectID, id string) (AccessPoint, error) {
	ap, err := tx.GetAccessPoint(projectID, id)
	if errors.Is(err, store.ErrNotFound) {
		return AccessPoint{}, fmt.Errorf("%w: %s", ErrAccessPointNotFound, id)
	}
	return ap, err
}

// SetAccessPointState enables or disables an access point; setting the
// state it has is not an error (idempotent, inferred).
func (s *Service) SetAccessPointState(ctx context.Context, projectID, id string, enabled bool) error {
	state := AccessPointDisabled
	if enabled {
		state = AccessPointEnabled
	}
	ap, err := s.modifyAccessPoint(ctx, projectID, id, func(ap *AccessPoint) error {
		ap.State = state
		return nil
	})
	if err == nil {
		s.log.InfoContext(ctx, "access point state changed", "project_id", projectID, "access_point_id", ap.ID, "state", state)
	}
	return err
}

// DeleteAccessPoint deletes an access point in any state; policies that
// list it keep its id, which then matches nothing.
func (s *Service) DeleteAccessPoint(ctx context.Context, projectID, id string) error {
	id, err := spaceID("access_point_id", id)
	if err != nil {
		return err
	}
	err = s.update(ctx, func(tx store.Tx) error { return tx.DeleteAccessPoint(projectID, id) })
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %s", ErrAccessPointNotFound, id)
	}
	if err == nil {
		s.log.InfoContext(ctx, "access point deleted", "project_id", projectID, "access_point_id", id)
	}
	return err
}

// DownloadAccessPointPrivateKey returns the PEM ("PRIVATE KEY", PKCS#8)
// private key of a Custom access point once: the sealed key is erased in
// the same transaction, so a second call is ErrPrivateKeyDownloaded. An
// ECS or CCE access point is ErrNoPrivateKey. The PEM is the caller's to
// clear.
func (s *Service) DownloadAccessPointPrivateKey(ctx context.Context, projectID, id string) (string, []byte, error) {
	var der []byte
	ap, err := s.modifyAccessPoint(ctx, projectID, id, func(ap *AccessPoint) error {
		switch {
		case ap.Type != AccessPointCustom:
			return fmt.Errorf("%w: type %d", ErrNoPrivateKey, ap.Type)
		case ap.SealedPrivateKey == nil:
			return ErrPrivateKeyDownloaded
		}
		// Open before erasing, so that a key that cannot be opened is
		// not lost.
		var err error
		if der, err = s.keyring.Open(accessPointBinding(*ap), ap.SealedPrivateKey); err != nil {
			return fmt.Errorf("open access point key: %w", err)
		}
		ap.SealedPrivateKey = nil
		return nil
	})
	if err != nil {
		clear(der)
		return "", nil, err
	}
	out := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	clear(der)
	s.log.InfoContext(ctx, "access point private key downloaded", "project_id", projectID, "access_point_id", ap.ID)
	return ap.ID, out, nil
}
