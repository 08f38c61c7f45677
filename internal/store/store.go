// Package store is the persistence contract of kmsd. Every backend (the
// embedded SQLite backend in store/sqlite, the PostgreSQL backend of a
// cluster in store/postgres) implements
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
	// key, a name, a key alias or an alias name already taken) or an
	// optimistic revision check failed.
	ErrConflict = errors.New("store: conflict")
	// ErrStale means an optimistic revision check failed: the row changed
	// since it was read. Errors that match ErrStale also match
	// ErrConflict; callers that can redo their read-modify-write retry on
	// ErrStale and report other conflicts (a name taken) to their caller.
	ErrStale = errors.New("store: stale revision")
	// ErrUnavailable means the backend could not be reached (a database
	// server that is down or unreachable): nothing was changed, and the
	// same call may succeed later. The API answers it with 503.
	ErrUnavailable = errors.New("store: unavailable")
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

// Wrapper is a Store that decorates another (the server's store-error
// counter, say). Callers look for the optional interfaces below with As,
// which sees through wrappers, never with a bare type assertion.
type Wrapper interface {
	Unwrap() Store
}

// As reports whether s, or a Store that s wraps (Wrapper), implements the
// optional interface T, and returns that implementation.
func As[T any](s Store) (T, bool) {
	for s != nil {
		if t, ok := any(s).(T); ok {
			return t, true
		}
		w, ok := s.(Wrapper)
		if !ok {
			break
		}
		s = w.Unwrap()
	}
	var zero T
	return zero, false
}

// ProjectKeyCounter is an optional interface of a Tx: a backend that can
// read a project and its counters in one step (PostgreSQL: one statement,
// one round trip) implements it, and CreateKey uses it when the Tx has it.
type ProjectKeyCounter interface {
	// ProjectKeyCounts returns what GetProject and then KeyCounts would
	// return in the same transaction, with the same lock of the counters
	// inside an Update. It fails with ErrNotFound when the project does
	// not exist.
	ProjectKeyCounts(projectID string) (Project, KeyCounts, error)
}

// KeyCountReader is an optional interface of a Store: a backend that can
// read a project's counters without starting a transaction (most of the
// time) implements it, and callers on a hot path (user-instances) use it
// when the Store has it.
type KeyCountReader interface {
	// KeyCounts returns what Tx.KeyCounts would return in a View started
	// now: it reflects every transaction committed before the call, by any
	// process or node sharing the backend. It fails with ErrNotFound when
	// the project does not exist.
	KeyCounts(ctx context.Context, projectID string) (KeyCounts, error)
}

// Exclusive is implemented by a backend that several kmsd processes share
// (the nodes of a cluster on PostgreSQL). Exclusive runs fn while no other
// process runs the job of that name, and reports whether it ran: when
// another process is running it, Exclusive returns false without running
// fn. The background jobs use it so that each runs on one node at a time.
// A backend used by one process needs no such thing and does not
// implement it.
type Exclusive interface {
	Exclusive(ctx context.Context, job string, fn func(context.Context) error) (ran bool, err error)
}

// Revisioner is implemented by a backend that several kmsd processes share.
// KeyRevision returns the stored Revision of the key (ErrNotFound when it
// does not exist) in one indexed read outside any transaction, so that a
// process can check a cached copy of a key before it uses it: a change
// committed by another process is then seen by the next request on every
// process, not only once a notification arrives.
type Revisioner interface {
	KeyRevision(ctx context.Context, projectID, keyID string) (int64, error)
}

// IdentityGenerations is implemented by a backend that several kmsd
// processes share. IdentityGeneration returns a number that changes with
// every committed change of a user, access key, policy or project, in one
// read outside any transaction, so that a process can tell whether its
// cached identities are still true before it uses them.
type IdentityGenerations interface {
	IdentityGeneration(ctx context.Context) (int64, error)
}

// GroupCommitter is implemented by a backend that commits concurrent
// Update calls in groups, several in one transaction. CommitGroups
// returns how many groups it committed and how many Update calls they
// held, since it was opened: the load generator's measure of group sizes.
type GroupCommitter interface {
	CommitGroups() (groups, writes int64)
}

// Tx is the set of operations available inside a transaction. Methods take
// the transaction's context implicitly.
//
// Methods that page take an offset and a limit: a negative offset counts as
// 0, and a limit of 0 or less means no limit.
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
	// Key ids are unique across projects. CreateKey fails with
	// ErrConflict on a key id used in any project or when its non-empty
	// alias is taken in the project, as a key alias or as an Alias name
	// (see Aliases). It maintains the project's key counts in the same
	// transaction.
	CreateKey(k Key) error
	GetKey(projectID, keyID string) (Key, error)
	// FindKeyByID returns the key of that id in whichever project holds
	// it. It serves the authorization of grantees, who address a key of
	// another project (see GrantsFor), so it reads an index.
	FindKeyByID(keyID string) (Key, error)
	// GetKeyByAlias finds a key by its Key.Alias; Alias rows are not
	// consulted (use GetAlias).
	GetKeyByAlias(projectID, alias string) (Key, error)
	// UpdateKey replaces the key row, including the rotation fields,
	// MaterialExpiresAt and MaterialFingerprint, when k.Revision equals
	// the stored revision, and increments the stored revision; otherwise
	// it fails with ErrStale (which also matches ErrConflict).
	// It also fails with ErrConflict when a changed non-empty alias is
	// taken in the project, as a key alias or as an Alias name.
	// Count-relevant fields (Default) cannot change.
	UpdateKey(k Key) error
	// DeleteKey destroys the key row and all of its versions, grants,
	// aliases, tags and import tokens, and updates the project's counts.
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

	// KeysDueForRotation returns up to limit keys in any project that are
	// due for automatic rotation at now: RotationEnabled, state enabled,
	// and LastRotation (CreatedAt when never rotated) plus the rotation
	// interval in days not after now. A RotationInterval of 0 or less
	// counts as DefaultRotationInterval. The order is left open.
	KeysDueForRotation(now time.Time, limit int) ([]Key, error)
	// KeysWithExpiredMaterial returns up to limit keys in any project of
	// origin OriginExternal whose MaterialExpiresAt is set (non-zero) and
	// not after now, in any state. The caller clears MaterialExpiresAt
	// when it deletes the material, which takes the key off this list.
	// The order is left open.
	KeysWithExpiredMaterial(now time.Time, limit int) ([]Key, error)

	// Key versions hold the sealed material of a key.
	//
	// PutKeyVersion never overwrites: putting a version that exists fails
	// with ErrConflict. It fails with ErrNotFound when the key does not
	// exist in the project.
	PutKeyVersion(v KeyVersion) error
	GetKeyVersion(projectID, keyID string, version int) (KeyVersion, error)
	ListKeyVersions(projectID, keyID string) ([]KeyVersion, error)
	// DeleteKeyVersions removes every version of the key (the deletion of
	// imported key material); the key row stays as it is, so the caller
	// updates its state and PrimaryVersion. Versions may be put again
	// afterwards. It fails with ErrNotFound when the key does not exist in
	// the project; a key without versions is not an error.
	DeleteKeyVersions(projectID, keyID string) error

	// Grants (reference kms-api.md §5.G) let a grantee use one key. Grant
	// ids are unique across projects. The store does not enforce the grant
	// quota: the caller compares CountGrants in the same transaction.
	//
	// CreateGrant fails with ErrConflict on a duplicate grant id and with
	// ErrNotFound when the key does not exist in the project.
	CreateGrant(g Grant) error
	// GetGrant returns the grant with that id on that key; a grant on
	// another key is ErrNotFound.
	GetGrant(projectID, keyID, grantID string) (Grant, error)
	// GetGrantByID returns the grant of that id on whichever key of
	// whichever project holds it.
	GetGrantByID(grantID string) (Grant, error)
	// ListGrants returns the key's grants ordered by creation time then
	// grant id, starting at offset, at most limit of them, and the number
	// of the key's grants. It fails with ErrNotFound when the key does not
	// exist in the project.
	ListGrants(projectID, keyID string, offset, limit int) ([]Grant, int, error)
	// ListGrantsByRetiringPrincipal returns the grants in any project
	// whose RetiringPrincipal is retiringPrincipal, ordered by creation
	// time then grant id, paged like ListGrants, and their total number.
	// The empty principal matches no grant.
	ListGrantsByRetiringPrincipal(retiringPrincipal string, offset, limit int) ([]Grant, int, error)
	// DeleteGrant removes the grant; it fails with ErrNotFound when the key
	// has no grant of that id.
	DeleteGrant(projectID, keyID, grantID string) error
	// CountGrants returns the number of grants on the key. It fails with
	// ErrNotFound when the key does not exist in the project.
	CountGrants(projectID, keyID string) (int, error)
	// MaxGrantsPerKey returns the largest number of grants held by any
	// one key of the project (the grant_per_CMK usage of user-quotas); 0
	// when no key of the project holds a grant.
	MaxGrantsPerKey(projectID string) (int, error)
	// GrantsFor returns the key's grants whose grantee is the user
	// granteePrincipal (GranteeUser grants) or the account
	// granteeAccountID (GranteeDomain grants), in no particular order. It
	// serves the authorization of every request, so it reads an index and
	// does not check that the key exists: a missing key has no grants. An
	// empty id matches no grant.
	GrantsFor(granteePrincipal, granteeAccountID, projectID, keyID string) ([]Grant, error)

	// Aliases (reference kms-api.md §5.H) are extra names of keys, besides
	// Key.Alias (the key_alias of create-key and update-key-alias). Both
	// share one namespace per project: a non-empty name belongs to at most
	// one key, either as its Key.Alias or as one Alias row. CreateAlias,
	// CreateKey and UpdateKey fail with ErrConflict when the name is taken
	// in either place; the backend checks it in the same transaction.
	// Names compare byte for byte.
	//
	// CreateAlias fails with ErrConflict when the name is taken in the
	// project and with ErrNotFound when the key does not exist there.
	CreateAlias(a Alias) error
	// GetAlias returns the Alias row of that name; a Key.Alias is not an
	// Alias row (use GetKeyByAlias).
	GetAlias(projectID, alias string) (Alias, error)
	// ListAliases returns the project's aliases, only those of keyID when
	// it is non-empty, whose names sort after afterAlias (the marker: the
	// last name of the previous page; "" starts at the beginning), ordered
	// by name, at most limit of them. To learn whether another page
	// follows, ask for one more than the page size. A missing key has no
	// aliases: the result is empty, not an error.
	ListAliases(projectID, keyID, afterAlias string, limit int) ([]Alias, error)
	// UpdateAlias moves the alias a.Alias of project a.ProjectID to the key
	// a.KeyID and sets its UpdatedAt; CreatedAt stays. It fails with
	// ErrNotFound when the alias or the target key does not exist in the
	// project.
	UpdateAlias(a Alias) error
	// DeleteAlias removes the Alias row; it fails with ErrNotFound when
	// there is none of that name (a Key.Alias is not removed).
	DeleteAlias(projectID, alias string) error

	// Tags (reference kms-api.md §5.I) are key/value pairs on a key; a key
	// has at most one value per tag key. The store does not enforce the
	// tag limits: the caller compares ListKeyTags in the same transaction.
	// Tag keys and values compare byte for byte.
	//
	// PutTag sets the tag key of the key to value, inserting or
	// overwriting. It fails with ErrNotFound when the key does not exist
	// in the project.
	PutTag(projectID, keyID, key, value string) error
	// DeleteTag removes the tag key from the key; it fails with
	// ErrNotFound when the key does not carry it.
	DeleteTag(projectID, keyID, key string) error
	// ListKeyTags returns the key's tags ordered by tag key. It fails with
	// ErrNotFound when the key does not exist in the project.
	ListKeyTags(projectID, keyID string) ([]Tag, error)
	// ListProjectTags returns every tag key used on a key of the project,
	// ordered by tag key, each with its distinct values in ascending order.
	ListProjectTags(projectID string) ([]TagValues, error)
	// FindKeysByTags returns the project's keys matching q ordered by
	// creation time then key id, starting at offset, at most limit of them,
	// and the total number of matches (see TagQuery). It fails with an
	// error that is neither sentinel when q has a Matches entry whose key
	// is not MatchResourceName.
	FindKeysByTags(projectID string, q TagQuery, offset, limit int) ([]Key, int, error)

	// Import tokens (reference kms-api.md §5.K) hold the wrapping key pair
	// handed out by get-parameters-for-import. Token ids are unique across
	// projects.
	//
	// PutImportToken fails with ErrConflict on a duplicate token id and
	// with ErrNotFound when the key does not exist in the project.
	PutImportToken(tok ImportToken) error
	// GetImportToken returns the key's token of that id, expired or not
	// (the caller checks ExpiresAt); a token of another key is
	// ErrNotFound.
	GetImportToken(projectID, keyID, tokenID string) (ImportToken, error)
	// DeleteImportTokens removes every token of the key. It fails with
	// ErrNotFound when the key does not exist in the project; a key
	// without tokens is not an error.
	DeleteImportTokens(projectID, keyID string) error
	// DeleteExpiredImportTokens removes the tokens in any project whose
	// ExpiresAt is not after now, and returns how many it removed.
	DeleteExpiredImportTokens(now time.Time) (int, error)

	// Dedicated keystores. A keystore belongs to one project; its alias is
	// unique in the project and its HSMClusterID across all projects.
	// CreateKeystore fails with ErrConflict on a taken id, alias or HSM
	// cluster and with ErrNotFound when the project does not exist.
	CreateKeystore(k Keystore) error
	GetKeystore(projectID, id string) (Keystore, error)
	// ListKeystores returns the project's keystores ordered by creation
	// time then id, starting at offset, at most limit, and their total.
	ListKeystores(projectID string, offset, limit int) ([]Keystore, int, error)
	// UpdateKeystoreState sets the state code of a keystore.
	UpdateKeystoreState(projectID, id, state string) error
	DeleteKeystore(projectID, id string) error
	// CountKeystoreKeys counts the keys of any project whose KeystoreID
	// is id.
	CountKeystoreKeys(id string) (int, error)

	// Multi-region keys. GetKeyRegion is ErrNotFound for a single-region
	// key; PutKeyRegion stores the state with its replicas replacing the
	// stored ones (ErrNotFound when the key does not exist). Both go with
	// the key when it is deleted.
	GetKeyRegion(projectID, keyID string) (KeyRegion, error)
	PutKeyRegion(r KeyRegion) error
	// Key spaces (reference kms-api-new.md §0, §3) own access points and
	// key policies. Ids (lower-case UUIDs) are unique across projects;
	// every lookup is scoped by project, so another project's key space,
	// access point or key policy is ErrNotFound. Lists return the rows
	// whose id sorts after the marker afterID ("" starts at the
	// beginning), ordered by id, at most limit of them (0 or less: no
	// limit); ask for one more than the page size to learn whether
	// another page follows.
	//
	// CreateKeySpace fails with ErrConflict on a duplicate id or a name
	// taken in the project, and with ErrNotFound when the project does not
	// exist.
	CreateKeySpace(ks KeySpace) error
	GetKeySpace(projectID, id string) (KeySpace, error)
	ListKeySpaces(projectID, afterID string, limit int) ([]KeySpace, error)
	// DeleteKeySpace fails with ErrConflict while the key space holds
	// access points or key policies.
	DeleteKeySpace(projectID, id string) error

	// CreateAccessPoint fails with ErrConflict on a duplicate id and with
	// ErrNotFound when its key space does not exist in the project.
	CreateAccessPoint(ap AccessPoint) error
	GetAccessPoint(projectID, id string) (AccessPoint, error)
	// ListAccessPoints lists the key space's access points (see above).
	ListAccessPoints(projectID, keySpaceID, afterID string, limit int) ([]AccessPoint, error)
	// UpdateAccessPoint replaces State, SealedPrivateKey and UpdatedAt;
	// the other fields cannot change.
	UpdateAccessPoint(ap AccessPoint) error
	DeleteAccessPoint(projectID, id string) error

	// CreateKeyPolicy fails with ErrConflict on a duplicate id or a name
	// taken in the key space, and with ErrNotFound when its key space does
	// not exist in the project.
	CreateKeyPolicy(p KeyPolicy) error
	GetKeyPolicy(projectID, id string) (KeyPolicy, error)
	// ListKeyPolicies lists the key space's key policies (see above).
	ListKeyPolicies(projectID, keySpaceID, afterID string, limit int) ([]KeyPolicy, error)
	// UpdateKeyPolicy replaces Document, Description, UpdatedAt and
	// LastAccessAt; the other fields cannot change.
	UpdateKeyPolicy(p KeyPolicy) error
	DeleteKeyPolicy(projectID, id string) error

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

// Key origins (reference kms-api.md §2.2).
const (
	OriginKMS      = "kms"
	OriginExternal = "external" // imported key material (BYOK)
)

// DefaultRotationInterval is the rotation interval in days of a key whose
// RotationInterval is unset (reference kms-api.md §2.4, §5.J).
const DefaultRotationInterval = 365

// Key states as the store keeps them in Key.State. The codes are Huawei's
// wire digits (reference kms-api.md §2.1), but they are the persisted
// format: they are in databases and never change. The kms package reads
// them as its named states; the API writes the wire's own table.
const (
	StatePendingCreation = "1" // no key is ever stored in it
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
	// RotationEnabled turns on automatic rotation (see KeysDueForRotation).
	RotationEnabled bool
	// RotationInterval is the rotation period in days; 0 means unset,
	// which KeysDueForRotation reads as DefaultRotationInterval.
	RotationInterval int
	// LastRotation is the time of the last rotation; zero until the first.
	LastRotation time.Time
	// RotationCount is the number of rotations so far.
	RotationCount int
	// MaterialExpiresAt is when imported key material expires; zero for
	// no expiry (see KeysWithExpiredMaterial).
	MaterialExpiresAt time.Time
	// MaterialFingerprint identifies the key material first imported into
	// a key of origin OriginExternal without revealing it (the kms package
	// stores a keyed hash); nil until the first import. It stays when the
	// material is deleted (DeleteKeyVersions), so that a later import can
	// be checked against it, and goes with the key row (DeleteKey).
	MaterialFingerprint []byte
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
	// EnterpriseProjectID matches Key.EnterpriseProjectID exactly.
	EnterpriseProjectID string
}

// KeyCounts are the per-project counters maintained by the store.
type KeyCounts struct {
	// Custom counts the project's non-default keys that exist (every state
	// until the key is destroyed).
	Custom int
	// Default counts the project's default keys.
	Default int
}

// Grantee principal types of a grant (reference kms-api.md §4 Grants).
const (
	GranteeUser   = "user"   // GranteePrincipal is a user id
	GranteeDomain = "domain" // GranteePrincipal is an account (domain) id
)

// Grant allows a grantee to perform operations with one key.
type Grant struct {
	ProjectID string
	KeyID     string
	GrantID   string // 64 hex digits, unique across projects
	Name      string
	// GranteePrincipal is a user id or, for GranteeDomain, an account id.
	GranteePrincipal     string
	GranteePrincipalType string // GranteeUser or GranteeDomain
	// Operations are the granted operation names (create-datakey,
	// encrypt-data, …, reference kms-api.md §5.G).
	Operations []string
	// IssuingPrincipal is the user id that created the grant.
	IssuingPrincipal string
	// RetiringPrincipal is the user id allowed to retire the grant; ""
	// for none.
	RetiringPrincipal string
	CreatedAt         time.Time
}

// Alias is an extra name of a key (the multi-alias API). Names share one
// namespace per project with Key.Alias; see the Aliases methods of Tx.
type Alias struct {
	ProjectID string
	Alias     string
	KeyID     string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Keystore is a dedicated keystore (reference kms-api.md §5.L): a
// configured HSM token that keeps the keys created in it.
type Keystore struct {
	ID           string // UUID
	ProjectID    string
	AccountID    string
	Alias        string
	Type         string // DHSM
	HSMClusterID string // the configured token's name
	ClusterID    string
	State        string // the service's state code
	CreatedAt    time.Time
}

// KeyRegion is the multi-region state of a key (reference kms-api.md
// §5.M).
type KeyRegion struct {
	ProjectID, KeyID string
	// PrimaryRegion names the region whose copy of the key is the primary.
	PrimaryRegion string
	// MaterialProjectID is the project that the key's ciphertexts name:
	// the project of the key it was first created as, in every region.
	MaterialProjectID string
	// Replicas are, on the primary, the regions and projects of its
	// replicas, in region order.
	Replicas []KeyReplica
}

// KeyReplica is where one replica of a multi-region key lives.
type KeyReplica struct {
	Region    string
	ProjectID string
}

// Tag is one tag of a key (reference kms-api.md §4 TagItem).
type Tag struct {
	Key   string
	Value string
}

// TagValues is a tag key with a set of values (reference kms-api.md §4
// Tag).
type TagValues struct {
	Key    string
	Values []string
}

// MatchResourceName is the only TagQuery.Matches key: its value is looked
// for in the key alias (reference kms-api.md §5.I, ListKmsByTags).
const MatchResourceName = "resource_name"

// TagQuery selects keys in FindKeysByTags, with the semantics of Huawei's
// resource_instances filter. A key matches when it matches every entry of
// Tags and of Matches; the empty query matches every key of the project.
type TagQuery struct {
	// Tags: a key must carry every listed tag key (different keys are
	// AND-ed), with one of the listed Values when Values is non-empty
	// (values of one key are OR-ed) and with any value otherwise.
	Tags []TagValues
	// Matches: for the key MatchResourceName, the key's Key.Alias must
	// contain Value, ignoring ASCII case. An empty Value matches every
	// key.
	Matches []Tag
}

// ImportToken is the wrapping key pair of one get-parameters-for-import
// call for a key of origin OriginExternal.
type ImportToken struct {
	ProjectID         string
	KeyID             string
	TokenID           string // unique across projects
	WrappingAlgorithm string // RSAES_OAEP_SHA_256 | SM2_ENCRYPT
	WrappingKeySpec   string // e.g. RSA_2048, SM2
	// SealedPrivateKey is the private half of the wrapping key, sealed by
	// the keyring.
	SealedPrivateKey []byte
	ExpiresAt        time.Time
	CreatedAt        time.Time
}

// KeySpace is a trusted key space (reference kms-api-new.md §0).
type KeySpace struct {
	ProjectID string
	ID        string // lower-case UUID
	Name      string
	// Type is the documented key space type: "1" default, "2"
	// dedicated-HSM cluster, "3" external key store.
	Type        string
	KeystoreID  string
	Description string
	CreatedAt   time.Time
}

// AccessPoint is a registered workload identity of a key space (reference
// kms-api-new.md §3). The private key of a Custom access point is sealed
// by the keyring until it is downloaded once, then nil.
type AccessPoint struct {
	ProjectID  string
	KeySpaceID string
	ID         string // lower-case UUID
	Name       string
	Type       int // 1 ECS, 2 CCE, 3 Custom
	State      int // 1 enabled, 0 disabled
	Identity   string
	ClusterID  string
	// Description is free text.
	Description string
	// PublicKey is the DER SubjectPublicKeyInfo of a Custom access point.
	PublicKey []byte
	// SealedPrivateKey is the sealed PKCS#8 private key of a Custom
	// access point until its one download; nil afterwards.
	SealedPrivateKey []byte
	CreatedBy        string
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// KeyPolicy is a key policy of a key space (reference kms-api-new.md §3):
// Document is its canonical JSON, as the kms package wrote it.
type KeyPolicy struct {
	ProjectID   string
	KeySpaceID  string
	ID          string // lower-case UUID
	Name        string
	Document    []byte
	Description string
	CreatedBy   string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	// LastAccessAt is the last decryption that evaluated the policy; zero
	// until the first.
	LastAccessAt time.Time
}
