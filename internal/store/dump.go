package store

import "context"

// Dumper is an optional interface of a Tx: a backend whose transactions
// can visit every row of the store implements it, so that kmsd backup can
// write a whole store from one read transaction (one snapshot). Callers
// find it with a type assertion on the Tx given to View.
//
// Each method calls fn once per row, streaming: the rows are never all in
// memory. fn must not call the Tx (a PostgreSQL connection is busy while
// the rows are read); an error of fn stops the visit and is returned. The
// order of the rows is the order of the primary key of each table, so two
// dumps of one snapshot are identical. Every method of a Dumper reads the
// transaction's snapshot: in View, rows committed after it began are not
// seen.
type Dumper interface {
	// DumpCounts returns how many rows each Each method would visit.
	DumpCounts() (DumpCounts, error)

	EachAccount(fn func(Account) error) error
	EachProject(fn func(Project) error) error
	EachUser(fn func(User) error) error
	EachAccessKey(fn func(AccessKey) error) error
	EachPolicy(fn func(Policy) error) error
	EachKeystore(fn func(Keystore) error) error
	EachKeySpace(fn func(KeySpace) error) error
	EachKey(fn func(Key) error) error
	EachKeyVersion(fn func(KeyVersion) error) error
	// EachKeyRegion visits the multi-region state of every multi-region
	// key, with its replicas in region order.
	EachKeyRegion(fn func(KeyRegion) error) error
	EachGrant(fn func(Grant) error) error
	EachAlias(fn func(Alias) error) error
	EachTag(fn func(KeyTag) error) error
	EachImportToken(fn func(ImportToken) error) error
	EachAccessPoint(fn func(AccessPoint) error) error
	EachKeyPolicy(fn func(KeyPolicy) error) error
	// EachMeta visits every meta value (see Tx.GetMeta).
	EachMeta(fn func(Meta) error) error
}

// DumpCounts are the numbers of rows of a store, one per Each method of
// Dumper.
type DumpCounts struct {
	Accounts, Projects, Users, AccessKeys, Policies, Keystores, KeySpaces,
	Keys, KeyVersions, KeyRegions, Grants, Aliases, Tags, ImportTokens,
	AccessPoints, KeyPolicies, Meta int64
}

// KeyTag is one tag of one key, as Dumper.EachTag visits it.
type KeyTag struct {
	ProjectID, KeyID string
	Tag
}

// Meta is one named meta value (see Tx.GetMeta).
type Meta struct {
	Name  string
	Value []byte
}

// BulkLoader is an optional interface of a Store, for kmsd restore. Load
// runs load and then check in one write transaction and commits it when
// both return nil; any error rolls everything back. Inside load, a Tx
// method that fails may leave the transaction unusable (load must return
// the first error it gets), and the per-project key counters (KeyCounts)
// may lag behind the keys created: Load brings them up to date before it
// runs check. A backend whose methods would otherwise pay for being atomic
// and counted one by one (PostgreSQL: a savepoint per method, and one row
// version of the counters per key, which each later update walks; SQLite:
// a savepoint per method, and statements parsed again until a transaction
// ends) loads many rows much faster this way. Like Update, Load may run
// load and check again after a transient failure, so each must start from
// scratch every time it is called.
type BulkLoader interface {
	Load(ctx context.Context, load, check func(Tx) error) error
}
