package kms

import (
	"fmt"

	"github.com/kmsd/kmsd/internal/keyring"
	"github.com/kmsd/kmsd/internal/store"
)

// SealedItemBinding is the keyring binding that kms sealed a stored item
// of a kms kind with (key material, an import token's or an access
// point's private key), for the root key rotation to re-seal it.
func SealedItemBinding(it store.SealedItem) (keyring.Binding, error) {
	switch it.Kind {
	case store.SealedKeyMaterial:
		return materialBinding(it.ProjectID, it.KeyID, it.Version), nil
	case store.SealedImportToken:
		return wrappingKeyBinding(it.ProjectID, it.KeyID, it.ID), nil
	case store.SealedAccessPoint:
		return accessPointBinding(AccessPoint{ProjectID: it.ProjectID, ID: it.ID}), nil
	}
	return keyring.Binding{}, fmt.Errorf("kms: no binding for sealed items of kind %q", it.Kind)
}
