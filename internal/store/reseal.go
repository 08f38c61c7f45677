package store

import "context"

// Kinds of sealed items, in the order a [Resealer] walks them.
const (
	SealedKeyMaterial = "key-material"      // KeyVersion.Sealed: ProjectID, KeyID, Version
	SealedAccessKey   = "access-key-secret" // AccessKey.SealedSK: ID is the AK
	SealedImportToken = "import-token"      // ImportToken.SealedPrivateKey: ProjectID, KeyID, ID is the token id
	SealedAccessPoint = "access-point"      // AccessPoint.SealedPrivateKey: ProjectID, ID is the access point id
)

// SealedKinds lists every kind of sealed item, in walking order.
var SealedKinds = []string{SealedKeyMaterial, SealedAccessKey, SealedImportToken, SealedAccessPoint}

// SealedItem is one blob sealed by the keyring that the store holds, with
// what names its row. Which fields are set depends on Kind (see the
// Sealed constants); the others are empty.
type SealedItem struct {
	Kind      string
	ProjectID string
	KeyID     string
	Version   int
	ID        string
	Sealed    []byte
}

// Resealer is implemented by stores that can walk every sealed item across
// projects and replace blobs one by one, for the root key rotation (kmsd
// rootkey rotate). It is optional: a store without it cannot be rotated.
type Resealer interface {
	// ListSealed returns up to limit items of kind, across all projects,
	// in the order of their row's primary key, starting after the item
	// after (the zero SealedItem starts at the beginning). An access
	// point without a private key (after its download) is not listed.
	// Each call is one consistent read; items written between calls
	// appear when they sort after the cursor.
	ListSealed(ctx context.Context, kind string, after SealedItem, limit int) ([]SealedItem, error)
	// ReplaceSealed stores each replacement's New blob in place of the
	// blob its Item holds, in one transaction, but only where the row
	// still holds exactly Item.Sealed (compare-and-swap), so a concurrent
	// writer is never overwritten. It returns how many it replaced; a row
	// that changed or disappeared is skipped, not an error.
	ReplaceSealed(ctx context.Context, r []SealedReplacement) (int, error)
	// CountSealed returns the number of items ListSealed would list, of
	// every kind.
	CountSealed(ctx context.Context) (int, error)
}

// SealedReplacement is one compare-and-swap of [Resealer.ReplaceSealed].
type SealedReplacement struct {
	Item SealedItem
	New  []byte
}
