// Package store is the persistence contract of kmsd. Every backend (the
// embedded SQLite backend in store/sqlite, PostgreSQL later) implements
// Store and passes the conformance suite in store/storetest.
//
// The contract is deliberately small and transactional: all reads and writes
// happen inside View (read-only) or Update (read-write) callbacks. A callback
// that returns an error rolls the transaction back. Update callbacks may be
// retried by a backend on serialization failures, so they must be free of
// side effects other than calls on the Tx.
//
// Nothing secret reaches the store in the clear: key material and secret
// access keys arrive sealed by the keyring, passwords as Argon2id hashes.
package store

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors. Backends wrap their own errors so that errors.Is works
// with these.
var (
	// ErrNotFound means the addressed row does not exist (in that project).
	ErrNotFound = errors.New("store: not found")
	// ErrConflict means a uniqueness rule was violated (an id, an access
	// key, a name or a key alias already taken) or an optimistic revision
	// check failed.
	ErrConflict = errors.New("store: conflict")
)

// Store is a transactional backend.
type Store interface {
	// View runs fn in a read-only transaction.
	View(ctx context.Context, fn func(Tx) error) error
	// Update runs fn in a read-write transaction and commits it when fn
	// returns nil. A commit that returns nil is durable.
	Update(ctx context.Context, fn func(Tx) error) error
	// Close releases the backend.
	Close() error
}

// Tx is the set of operations available inside a transaction. Methods take
// the transaction's context implicitly.
type Tx interface {
	// Accounts (Huawei IAM domains).
	CreateAccount(a Account) error
	GetAccount(id string) (Account, error)
	GetAccountByName(name string) (Account, error)
	ListAccounts() ([]Account, error)
	// DeleteAccount removes the account with its projects, users, access
	// keys and policies. It fails with ErrConflict while any project of the
	// account still holds keys.
	DeleteAccount(id string) error

	// Projects.
	CreateProject(p Project) error
	GetProject(id string) (Project, error)
	GetProjectByName(accountID, name string) (Project, error)
	ListProjects(accountID string) ([]Project, error)
	UpdateProject(p Project) error
	// DeleteProject fails with ErrConflict while the project holds keys.
	DeleteProject(id string) error

	// Users. Names are unique within an account.
	CreateUser(u User) error
	GetUser(id string) (User, error)
	GetUserByName(accountID, name string) (User, error)
	ListUsers(accountID string) ([]User, error)
	UpdateUser(u User) error
	// DeleteUser removes the user and its access keys.
	DeleteUser(id string) error

	// Access keys (AK/SK). The AK is globally unique.
	CreateAccessKey(k AccessKey) error
	GetAccessKey(ak string) (AccessKey, error)
	ListAccessKeys(userID string) ([]AccessKey, error)
	UpdateAccessKey(k AccessKey) error
	DeleteAccessKey(ak string) error

	// Custom identity policies; names are unique within an account.
	PutPolicy(p Policy) error
	GetPolicy(accountID, name string) (Policy, error)
	ListPolicies(accountID string) ([]Policy, error)
	DeletePolicy(accountID, name string) error

	// Keys. A key belongs to exactly one project; every lookup is scoped
	// by project, so another project's key is ErrNotFound.
	//
	// CreateKey fails with ErrConflict on a duplicate key id or a
	// duplicate non-empty alias in the project. It maintains the
	// project's key counts in the same transaction.
	CreateKey(k Key) error
	GetKey(projectID, keyID string) (Key, error)
	GetKeyByAlias(projectID, alias string) (Key, error)
	// UpdateKey replaces the key row when k.Revision equals the stored
	// revision, and increments the stored revision; otherwise it fails
	// with ErrConflict (also on a duplicate alias). Count-relevant fields
	// (Default) cannot change.
	UpdateKey(k Key) error
	// DeleteKey destroys the key row and all of its versions, and updates
	// the project's counts.
	DeleteKey(projectID, keyID string) error
	// ListKeys returns keys of the project matching f ordered by creation
	// time then key id, starting at offset, at most limit of them, and the
	// total number of matches.
	ListKeys(projectID string, f KeyFilter, offset, limit int) ([]Key, int, error)
	// KeyCounts returns the project's maintained counters. It never scans
	// keys: it reads one row kept current by CreateKey and DeleteKey.
	KeyCounts(projectID string) (KeyCounts, error)
	// KeysDueForDeletion returns up to limit keys in any project whose
	// state is pending deletion and whose deletion date is not after now.
	KeysDueForDeletion(now time.Time, limit int) ([]Key, error)

	// Key versions hold the sealed material of a key.
	PutKeyVersion(v KeyVersion) error
	GetKeyVersion(projectID, keyID string, version int) (KeyVersion, error)
	ListKeyVersions(projectID, keyID string) ([]KeyVersion, error)

	// Meta holds small named values (format markers, bootstrap state).
	GetMeta(name string) ([]byte, error)
	PutMeta(name string, value []byte) error
}

// Account is a Huawei IAM domain.
type Account struct {
	ID        string // 32 lower-case hex
	Name      string
	CreatedAt time.Time
}

// Project is an IAM project inside an account. Keys live in projects.
type Project struct {
	ID        string // 32 lower-case hex
	AccountID string
	Name      string // e.g. a region name such as "cn-north-4"
	// CMKQuota and GrantQuota override the server defaults when non-zero.
	CMKQuota   int
	GrantQuota int
	CreatedAt  time.Time
}

// User is an IAM user of an account.
type User struct {
	ID           string // 32 lower-case hex
	AccountID    string
	Name         string
	PasswordHash string // PHC-format Argon2id hash; "" when the user has no password
	// Policies names the system roles ("KMS Administrator", …) and custom
	// policies of the account attached to the user.
	Policies  []string
	Disabled  bool
	CreatedAt time.Time
}

// AccessKey is an AK/SK pair of a user. The secret is sealed by the keyring.
type AccessKey struct {
	AK        string
	UserID    string
	SealedSK  []byte
	Disabled  bool
	CreatedAt time.Time
}

// Policy is a custom identity policy document (Huawei JSON shape).
type Policy struct {
	AccountID string
	Name      string
	Document  []byte
	CreatedAt time.Time
}

// Key states as they travel on the wire (reference kms-api.md §2.1).
const (
	StateEnabled         = "2"
	StateDisabled        = "3"
	StatePendingDeletion = "4"
	StatePendingImport   = "5"
)

// Key is a customer master key.
type Key struct {
	ProjectID           string
	KeyID               string // lower-case UUID
	AccountID           string
	Alias               string
	Description         string
	Spec                string // AES_256, SM4, RSA_2048, …
	Usage               string // ENCRYPT_DECRYPT, SIGN_VERIFY, GENERATE_VERIFY_MAC
	Origin              string // kms | external
	State               string // one of the State constants
	Default             bool   // a service default key (alias */default)
	EnterpriseProjectID string
	KeystoreID          string
	PrimaryVersion      int // version used for new operations; 0 when no material
	CreatedAt           time.Time
	DeletionDate        time.Time // zero unless State is pending deletion
	// Revision is the optimistic-concurrency counter; UpdateKey checks it.
	Revision int64
}

// KeyVersion is one version of a key's material, sealed by the keyring with
// the binding (project, key id, version, purpose).
type KeyVersion struct {
	ProjectID string
	KeyID     string
	Version   int
	Sealed    []byte
	CreatedAt time.Time
}

// KeyFilter selects keys in ListKeys. Empty fields match everything.
type KeyFilter struct {
	State string
	Spec  string
}

// KeyCounts are the per-project counters maintained by the store.
type KeyCounts struct {
	// Custom counts the project's non-default keys that exist (every state
	// until the key is destroyed).
	Custom int
	// Default counts the project's default keys.
	Default int
}
