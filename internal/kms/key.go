package kms

import (
	"fmt"
	"time"

	"github.com/kmsd/kmsd/internal/store"
)

// Key is a customer master key as the service sees it and returns it: the
// store's row with its state named rather than coded. keyOf and row
// convert between the two; no other code of the service reads a row's
// state code.
type Key struct {
	ProjectID           string
	KeyID               string // lower-case UUID
	AccountID           string
	Alias               string
	Description         string
	Spec                string // AES_256, SM4, RSA_2048, …
	Usage               string // ENCRYPT_DECRYPT, SIGN_VERIFY, GENERATE_VERIFY_MAC
	Origin              string // OriginKMS or OriginExternal
	State               KeyState
	Default             bool // a service default key (alias */default)
	EnterpriseProjectID string
	KeystoreID          string
	PrimaryVersion      int // version used for new operations; 0 when no material
	CreatedAt           time.Time
	DeletionDate        time.Time // zero unless State is StatePendingDeletion
	// RotationEnabled turns on automatic rotation.
	RotationEnabled bool
	// RotationInterval is the rotation period in days; 0 means unset,
	// which reads as DefaultRotationInterval.
	RotationInterval int
	// LastRotation is the time of the last rotation; zero until the first.
	LastRotation time.Time
	// RotationCount is the number of rotations so far.
	RotationCount int
	// MaterialExpiresAt is when imported key material expires; zero for
	// no expiry.
	MaterialExpiresAt time.Time
	// Revision is the row's optimistic-concurrency counter as of this
	// view; modifyKey keeps it current.
	Revision int64

	// fingerprint is store.Key.MaterialFingerprint, the keyed hash of the
	// first material imported (import.go).
	fingerprint []byte
}

// KeyState is the lifecycle state of a key (reference kms-api.md §2.1).
// The API layer writes it as Huawei's digit; the store keeps its own code.
type KeyState uint8

// Key states. The zero KeyState is no state: in a filter it matches every
// key.
const (
	// StatePendingCreation is Huawei's state 1. kmsd creates a key in one
	// transaction, so no key is ever in it; a listing filtered by it is
	// empty.
	StatePendingCreation KeyState = iota + 1
	StateEnabled
	StateDisabled
	StatePendingDeletion
	// StatePendingImport is a key of origin external without material.
	StatePendingImport
)

var stateNames = [...]string{
	StatePendingCreation: "pending creation",
	StateEnabled:         "enabled",
	StateDisabled:        "disabled",
	StatePendingDeletion: "pending deletion",
	StatePendingImport:   "pending import",
}

func (s KeyState) String() string {
	if int(s) < len(stateNames) && stateNames[s] != "" {
		return stateNames[s]
	}
	return fmt.Sprintf("KeyState(%d)", uint8(s))
}

// storeStates maps each state to the code the store persists.
var storeStates = [...]string{
	StatePendingCreation: store.StatePendingCreation,
	StateEnabled:         store.StateEnabled,
	StateDisabled:        store.StateDisabled,
	StatePendingDeletion: store.StatePendingDeletion,
	StatePendingImport:   store.StatePendingImport,
}

// storeState returns the store's code of s ("" for the zero state).
func storeState(s KeyState) string {
	if int(s) < len(storeStates) {
		return storeStates[s]
	}
	return ""
}

// stateOf returns the state of a store code.
func stateOf(code string) (KeyState, bool) {
	for s, c := range storeStates {
		if c != "" && c == code {
			return KeyState(s), true
		}
	}
	return 0, false
}

// keyOf returns the service's view of a store row. A state code the store
// should never hold (a damaged row) is an error, which callers answer as
// an internal error.
func keyOf(r store.Key) (Key, error) {
	st, ok := stateOf(r.State)
	if !ok {
		return Key{}, fmt.Errorf("kms: key %s has unknown stored state %q", r.KeyID, r.State)
	}
	return Key{
		ProjectID: r.ProjectID, KeyID: r.KeyID, AccountID: r.AccountID,
		Alias: r.Alias, Description: r.Description,
		Spec: r.Spec, Usage: r.Usage, Origin: r.Origin, State: st, Default: r.Default,
		EnterpriseProjectID: r.EnterpriseProjectID, KeystoreID: r.KeystoreID,
		PrimaryVersion: r.PrimaryVersion, CreatedAt: r.CreatedAt, DeletionDate: r.DeletionDate,
		RotationEnabled: r.RotationEnabled, RotationInterval: r.RotationInterval,
		LastRotation: r.LastRotation, RotationCount: r.RotationCount,
		MaterialExpiresAt: r.MaterialExpiresAt, Revision: r.Revision,
		fingerprint: r.MaterialFingerprint,
	}, nil
}

// keysOf converts rows with keyOf.
func keysOf(rows []store.Key) ([]Key, error) {
	out := make([]Key, len(rows))
	for i, r := range rows {
		var err error
		if out[i], err = keyOf(r); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// row returns the store row of k.
func (k *Key) row() store.Key {
	return store.Key{
		ProjectID: k.ProjectID, KeyID: k.KeyID, AccountID: k.AccountID,
		Alias: k.Alias, Description: k.Description,
		Spec: k.Spec, Usage: k.Usage, Origin: k.Origin, State: storeState(k.State), Default: k.Default,
		EnterpriseProjectID: k.EnterpriseProjectID, KeystoreID: k.KeystoreID,
		PrimaryVersion: k.PrimaryVersion, CreatedAt: k.CreatedAt, DeletionDate: k.DeletionDate,
		RotationEnabled: k.RotationEnabled, RotationInterval: k.RotationInterval,
		LastRotation: k.LastRotation, RotationCount: k.RotationCount,
		MaterialExpiresAt: k.MaterialExpiresAt, Revision: k.Revision,
		MaterialFingerprint: k.fingerprint,
	}
}

// getKey reads a key in tx. A missing key is the store's ErrNotFound
// (callers map it with mapNotFound).
func getKey(tx store.Tx, projectID, keyID string) (Key, error) {
	r, err := tx.GetKey(projectID, keyID)
	if err != nil {
		return Key{}, err
	}
	return keyOf(r)
}

// usable returns nil when k can serve a cryptographic operation, and
// otherwise the documented error of its state: disabled KMS.0209, pending
// deletion KMS.0210, pending import or enabled without material KMS.0310.
// It is the one place that maps a state to the error of a refused use.
func usable(k Key) error {
	switch k.State {
	case StateEnabled:
		if k.PrimaryVersion == 0 {
			return ErrKeyPendingImport
		}
		return nil
	case StateDisabled:
		return ErrKeyDisabled
	case StatePendingDeletion:
		return ErrKeyPendingDeletion
	case StatePendingImport:
		return ErrKeyPendingImport
	}
	// keyOf refuses unknown codes, so only a zero Key gets here.
	return fmt.Errorf("kms: key %s in state %v", k.KeyID, k.State)
}
