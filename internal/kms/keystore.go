package kms

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kmsd/kmsd/internal/store"
)

// Token is a PKCS#11 token that a dedicated keystore keeps its keys in
// (hsm.Token implements it). Keys are addressed by label; the token makes
// them as non-extractable AES-256 objects and does every operation on them.
type Token interface {
	GenerateAESKey(label string) error
	DestroyKey(label string) error
	SealGCM(label string, nonce, plaintext, aad []byte) ([]byte, error)
	OpenGCM(label string, nonce, ciphertext, aad []byte) ([]byte, error)
}

// Keystore types (reference kms-api.md §5.L). kmsd's dedicated keystores
// are DHSM: a PKCS#11 token of the configuration.
const (
	KeystoreDHSM    = "DHSM"
	KeystoreDefault = "DEFAULT"
	KeystoreCDMS    = "CDMS"
)

// KeystoreState is the state of a dedicated keystore.
type KeystoreState uint8

// Keystore states; the API writes them as Huawei's "2" and "3"
// (KeyStoreStateInfo).
const (
	KeystoreEnabled KeystoreState = iota + 1
	KeystoreDisabled
)

// Store codes of the keystore states.
const (
	keystoreEnabledCode  = "enabled"
	keystoreDisabledCode = "disabled"
)

// Errors of the keystore operations (reference errors.md).
var (
	ErrKeystoreNotFound    = fmt.Errorf("%w: no such keystore", ErrUnsupportedKeystore) // KMS.0340
	ErrKeystoreDisabled    = errors.New("keystore disabled")                            // KMS.0340
	ErrKeystoreUnavailable = errors.New("the keystore's HSM is not configured")         // KMSD.0503
	ErrKeystoreHasKeys     = errors.New("keystore still holds keys")                    // KMS.0308
	ErrHSMCluster          = errors.New("invalid hsm_cluster_id")                       // KMS.0308
	ErrKeystoreRotation    = errors.New("custom keystore keys cannot rotate")           // KMS.0338
	ErrKeystoreImport      = errors.New("custom keystore keys cannot import material")  // KMS.0339
	ErrDuplicateKeystore   = errors.New("duplicate keystore alias")                     // KMS.0308
)

// Keystore is a dedicated keystore as the service returns it.
type Keystore struct {
	ID           string
	ProjectID    string
	AccountID    string
	Alias        string
	Type         string
	HSMClusterID string
	ClusterID    string
	State        KeystoreState
	CreatedAt    time.Time
}

func keystoreOf(r store.Keystore) Keystore {
	st := KeystoreEnabled
	if r.State == keystoreDisabledCode {
		st = KeystoreDisabled
	}
	return Keystore{ID: r.ID, ProjectID: r.ProjectID, AccountID: r.AccountID, Alias: r.Alias, Type: r.Type,
		HSMClusterID: r.HSMClusterID, ClusterID: r.ClusterID, State: st, CreatedAt: r.CreatedAt}
}

// dedicated reports whether the key lives in a dedicated keystore rather
// than kmsd's built-in store ("0"; Huawei's shared clusters "1" and "2"
// are not accepted for keys).
func (k *Key) dedicated() bool { return k.KeystoreID != "" && k.KeystoreID != "0" }

// tokenLabel is the token object label of a dedicated key's version.
func tokenLabel(keyID string, version int) string { return fmt.Sprintf("kmsd:%s:v%d", keyID, version) }

// CreateKeystoreInput are the parameters of create-keystore.
type CreateKeystoreInput struct {
	ProjectID, AccountID string
	Alias                string
	// Type is "" (DHSM) or DHSM; DEFAULT and CDMS are not supported.
	Type string
	// HSMClusterID names a token of the configuration (keystores:); a
	// DHSM ClusterID means the same when HSMClusterID is empty.
	HSMClusterID, ClusterID string
}

// CreateKeystore registers a configured token as a dedicated keystore of
// the project. An unconfigured token, or one that backs a keystore
// already, is ErrHSMCluster.
func (s *Service) CreateKeystore(ctx context.Context, in CreateKeystoreInput) (Keystore, error) {
	if !aliasRE.MatchString(in.Alias) {
		return Keystore{}, fmt.Errorf("%w: keystore_alias must match %s", ErrInvalidAlias, aliasRE)
	}
	switch in.Type {
	case "", KeystoreDHSM:
	case KeystoreDefault, KeystoreCDMS:
		return Keystore{}, fmt.Errorf("%w: keystore_type %s (kmsd keeps DHSM keystores only)", ErrUnsupportedKeystore, in.Type)
	default:
		return Keystore{}, fmt.Errorf("%w: keystore_type %q", ErrInvalidParameter, in.Type)
	}
	cluster := in.HSMClusterID
	if cluster == "" {
		cluster = in.ClusterID
	}
	if cluster == "" {
		return Keystore{}, fmt.Errorf("%w: a DHSM keystore needs hsm_cluster_id", ErrHSMCluster)
	}
	if _, ok := s.cfg.Tokens[cluster]; !ok {
		return Keystore{}, fmt.Errorf("%w: %q is not an HSM of this kmsd's configuration", ErrHSMCluster, cluster)
	}
	id, err := newKeyID()
	if err != nil {
		return Keystore{}, err
	}
	r := store.Keystore{
		ID: id, ProjectID: in.ProjectID, AccountID: in.AccountID, Alias: in.Alias, Type: KeystoreDHSM,
		HSMClusterID: cluster, ClusterID: in.ClusterID, State: keystoreEnabledCode,
		CreatedAt: s.Now().UTC().Truncate(time.Millisecond),
	}
	err = s.update(ctx, func(tx store.Tx) error {
		all, _, err := tx.ListKeystores(in.ProjectID, 0, 0)
		if err != nil {
			return err
		}
		for _, k := range all {
			if k.Alias == in.Alias {
				return fmt.Errorf("%w: %q", ErrDuplicateKeystore, in.Alias)
			}
		}
		if err := tx.CreateKeystore(r); errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("%w: %q backs another keystore", ErrHSMCluster, cluster)
		} else if err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return Keystore{}, mapNotFound(err)
	}
	s.log.InfoContext(ctx, "keystore created", "project_id", r.ProjectID, "keystore_id", r.ID, "hsm_cluster_id", cluster)
	return keystoreOf(r), nil
}

// ListKeystores returns a page of the project's keystores and their total.
func (s *Service) ListKeystores(ctx context.Context, projectID string, offset, limit int) ([]Keystore, int, error) {
	var rows []store.Keystore
	var total int
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		rows, total, err = tx.ListKeystores(projectID, offset, limit)
		return err
	})
	out := make([]Keystore, len(rows))
	for i, r := range rows {
		out[i] = keystoreOf(r)
	}
	return out, total, err
}

// ShowKeystore returns a keystore of the project (ErrKeystoreNotFound).
func (s *Service) ShowKeystore(ctx context.Context, projectID, id string) (Keystore, error) {
	var r store.Keystore
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		r, err = getKeystore(tx, projectID, id)
		return err
	})
	return keystoreOf(r), err
}

func getKeystore(tx store.Tx, projectID, id string) (store.Keystore, error) {
	r, err := tx.GetKeystore(projectID, id)
	if errors.Is(err, store.ErrNotFound) {
		return r, fmt.Errorf("%w: %q", ErrKeystoreNotFound, id)
	}
	return r, err
}

// SetKeystoreState enables or disables a keystore; setting the state it
// has is not an error. The keys of a disabled keystore cannot be used.
func (s *Service) SetKeystoreState(ctx context.Context, projectID, id string, st KeystoreState) (Keystore, error) {
	code := keystoreEnabledCode
	if st == KeystoreDisabled {
		code = keystoreDisabledCode
	}
	var r store.Keystore
	err := s.update(ctx, func(tx store.Tx) error {
		var err error
		if r, err = getKeystore(tx, projectID, id); err != nil {
			return err
		}
		r.State = code
		return tx.UpdateKeystoreState(projectID, id, code)
	})
	// Opened keys carry their keystore's state: drop them all.
	s.cache.invalidateAll()
	return keystoreOf(r), err
}

// DeleteKeystore removes a keystore that holds no keys (ErrKeystoreHasKeys
// while any key of it is not destroyed yet, pending deletion included).
func (s *Service) DeleteKeystore(ctx context.Context, projectID, id string) error {
	return s.update(ctx, func(tx store.Tx) error {
		if _, err := getKeystore(tx, projectID, id); err != nil {
			return err
		}
		n, err := tx.CountKeystoreKeys(id)
		if err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("%w: %d keys are not destroyed yet", ErrKeystoreHasKeys, n)
		}
		return tx.DeleteKeystore(projectID, id)
	})
}

// keystoreForKey checks that a key may be created in keystore id of the
// project and returns its token: the keystore exists and is enabled, its
// token is configured, and the key is an AES_256 key of origin kms (what
// kmsd runs in a token).
func (s *Service) keystoreForKey(ctx context.Context, in CreateKeyInput) (Token, error) {
	if in.Origin == OriginExternal || in.Material != nil {
		return nil, ErrKeystoreImport
	}
	if in.Spec != "AES_256" {
		return nil, fmt.Errorf("%w: kmsd's dedicated keystores keep AES_256 keys only, not %s", ErrUnsupportedKeystore, in.Spec)
	}
	if builtinKeystore(in.KeystoreID) {
		return nil, fmt.Errorf("%w: keystore_id %q is a shared cluster kmsd does not have", ErrUnsupportedKeystore, in.KeystoreID)
	}
	r, err := s.ShowKeystore(ctx, in.ProjectID, in.KeystoreID)
	if err != nil {
		return nil, err
	}
	return s.keystoreToken(r)
}

// keystoreToken returns the token of an enabled keystore.
func (s *Service) keystoreToken(k Keystore) (Token, error) {
	if k.State != KeystoreEnabled {
		return nil, fmt.Errorf("%w: %s", ErrKeystoreDisabled, k.ID)
	}
	tok, ok := s.cfg.Tokens[k.HSMClusterID]
	if !ok {
		return nil, fmt.Errorf("%w: keystore %s names the HSM %q, which is not in this kmsd's configuration", ErrKeystoreUnavailable, k.ID, k.HSMClusterID)
	}
	return tok, nil
}
