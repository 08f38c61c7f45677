// Package iam is the slice of Huawei IAM that KMS needs: accounts
// (domains), projects, users, access keys, passwords and identity policies.
// Secret access keys are sealed by the keyring before they reach the store;
// passwords are stored as Argon2id hashes. Service implements
// auth.Directory, so request authentication reads identities through it.
package iam

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/kmsd/kmsd/internal/auth"
	"github.com/kmsd/kmsd/internal/keyring"
	"github.com/kmsd/kmsd/internal/store"
)

// PurposeAccessKey is the keyring binding purpose of sealed secret keys;
// the binding's KeyID holds the AK.
const PurposeAccessKey = "access-key-secret"

// Errors returned by the service.
var (
	ErrNotFound      = errors.New("iam: not found")
	ErrExists        = errors.New("iam: already exists")
	ErrInvalid       = errors.New("iam: invalid value")
	ErrInUse         = errors.New("iam: still in use")
	ErrWrongPassword = errors.New("iam: wrong user name or password")
)

var (
	idRE   = regexp.MustCompile(`^[0-9a-f]{32}$`)
	nameRE = regexp.MustCompile(`^[A-Za-z0-9_.@-]{1,64}$`)
	akRE   = regexp.MustCompile(`^[A-Z0-9]{16,64}$`)
	skRE   = regexp.MustCompile(`^[A-Za-z0-9]{20,128}$`)
)

// Service manages identities. It is safe for concurrent use.
type Service struct {
	store   store.Store
	keyring *keyring.Keyring
	log     *slog.Logger
	// Now is the service's clock.
	Now func() time.Time

	// cache holds recently resolved access keys and users so the hot
	// path does not unseal a secret or read the store on every request.
	mu    sync.Mutex
	cache map[cacheKey]cacheEntry

	// logins holds a token for each password check in progress
	// (checkPassword); its capacity bounds them.
	logins chan struct{}
}

// cacheKey names a cached entry: what it is and the id it is for. A
// struct, not a concatenated string, so that a lookup allocates nothing.
type cacheKey struct {
	kind cacheKind
	id   string
}

type cacheKind uint8

const (
	cacheAccessKey cacheKind = iota
	cacheUser
	cacheProjects
)

type cacheEntry struct {
	sk       []byte
	id       auth.Identity
	projects []auth.Project
	gen      int64 // the identity generation it was read at
	expires  time.Time
}

// cacheTTL bounds how long a change to an identity (a disabled AK, a
// detached policy) may take to be seen by a node.
const cacheTTL = 5 * time.Second

// New returns a Service.
func New(st store.Store, kr *keyring.Keyring, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{
		store: st, keyring: kr, log: log, Now: time.Now, cache: map[cacheKey]cacheEntry{},
		logins: make(chan struct{}, max(2, runtime.GOMAXPROCS(0))),
	}
}

// Invalidate drops every cached identity. Changes made through the
// service call it so this node sees them at once; other nodes call it when
// told of a change.
func (s *Service) Invalidate() { s.invalidate() }

// invalidate drops every cached identity; changes call it so this node
// sees them at once.
func (s *Service) invalidate() {
	s.mu.Lock()
	clear(s.cache)
	s.mu.Unlock()
}

// cached returns the entry of k unless it expired or, on a store shared
// by several nodes (store.IdentityGenerations), the identities changed
// since it was read. It also returns the generation to pass to remember
// with what the caller reads on a miss.
func (s *Service) cached(ctx context.Context, k cacheKey) (cacheEntry, int64, bool) {
	gen := s.generation(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.cache[k]
	if !ok || s.Now().After(e.expires) || e.gen != gen {
		return cacheEntry{}, gen, false
	}
	return e, gen, true
}

// generation returns the store's identity generation: 0 on a store that
// one process owns (it invalidates its cache itself), -1 when it cannot be
// read (so nothing cached is used; the read that follows reports why).
func (s *Service) generation(ctx context.Context) int64 {
	g, ok := s.store.(store.IdentityGenerations)
	if !ok {
		return 0
	}
	n, err := g.IdentityGeneration(ctx)
	if err != nil {
		return -1
	}
	return n
}

// remember caches e, read at identity generation gen.
func (s *Service) remember(k cacheKey, e cacheEntry, gen int64) {
	e.gen = gen
	e.expires = s.Now().Add(cacheTTL)
	s.mu.Lock()
	if len(s.cache) > 10000 {
		clear(s.cache)
	}
	s.cache[k] = e
	s.mu.Unlock()
}

// NewID returns a random 32-hex id, the shape of Huawei account, project
// and user ids.
func NewID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b[:])
}

const akAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
const skAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func randomString(alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		// Rejection sampling keeps the distribution uniform.
		for {
			var c [1]byte
			if _, err := rand.Read(c[:]); err != nil {
				panic(err)
			}
			limit := 256 - 256%len(alphabet)
			if int(c[0]) < limit {
				b[i] = alphabet[int(c[0])%len(alphabet)]
				break
			}
		}
	}
	return string(b)
}

func wrapStore(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("%w: %s", ErrNotFound, what)
	case errors.Is(err, store.ErrConflict):
		return fmt.Errorf("%w: %s", ErrExists, what)
	}
	return err
}

// CreateAccount creates an account. An empty id gets a random one.
func (s *Service) CreateAccount(ctx context.Context, name, id string) (store.Account, error) {
	if id == "" {
		id = NewID()
	}
	if !nameRE.MatchString(name) || !idRE.MatchString(id) {
		return store.Account{}, fmt.Errorf("%w: account name %q or id %q", ErrInvalid, name, id)
	}
	a := store.Account{ID: id, Name: name, CreatedAt: s.Now().UTC()}
	err := s.store.Update(ctx, func(tx store.Tx) error {
		if _, err := tx.GetAccountByName(name); err == nil {
			return store.ErrConflict
		}
		return tx.CreateAccount(a)
	})
	return a, wrapStore(err, "account "+name)
}

// Account returns an account by name or id.
func (s *Service) Account(ctx context.Context, nameOrID string) (store.Account, error) {
	var a store.Account
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		a, err = tx.GetAccountByName(nameOrID)
		if errors.Is(err, store.ErrNotFound) && idRE.MatchString(nameOrID) {
			a, err = tx.GetAccount(nameOrID)
		}
		return err
	})
	return a, wrapStore(err, "account "+nameOrID)
}

// Accounts lists all accounts.
func (s *Service) Accounts(ctx context.Context) ([]store.Account, error) {
	var out []store.Account
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		out, err = tx.ListAccounts()
		return err
	})
	return out, err
}

// DeleteAccount deletes an account with its projects, users and keys of
// users; it refuses while a project holds keys.
func (s *Service) DeleteAccount(ctx context.Context, id string) error {
	defer s.invalidate()
	err := s.store.Update(ctx, func(tx store.Tx) error { return tx.DeleteAccount(id) })
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("%w: account %s still has keys", ErrInUse, id)
	}
	return wrapStore(err, "account "+id)
}

// CreateProject creates a project in an account. An empty id gets a
// random one.
func (s *Service) CreateProject(ctx context.Context, accountID, name, id string) (store.Project, error) {
	if id == "" {
		id = NewID()
	}
	if !nameRE.MatchString(name) || !idRE.MatchString(id) {
		return store.Project{}, fmt.Errorf("%w: project name %q or id %q", ErrInvalid, name, id)
	}
	p := store.Project{ID: id, AccountID: accountID, Name: name, CreatedAt: s.Now().UTC()}
	err := s.store.Update(ctx, func(tx store.Tx) error {
		if _, err := tx.GetAccount(accountID); err != nil {
			return err
		}
		if _, err := tx.GetProjectByName(accountID, name); err == nil {
			return store.ErrConflict
		}
		return tx.CreateProject(p)
	})
	return p, wrapStore(err, "project "+name)
}

// Project returns a project by id.
func (s *Service) Project(ctx context.Context, id string) (store.Project, error) {
	var p store.Project
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		p, err = tx.GetProject(id)
		return err
	})
	return p, wrapStore(err, "project "+id)
}

// ListProjects lists the projects of an account.
func (s *Service) ListProjects(ctx context.Context, accountID string) ([]store.Project, error) {
	var out []store.Project
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		out, err = tx.ListProjects(accountID)
		return err
	})
	return out, err
}

// SetProjectQuotas sets a project's CMK and grant quotas (0 = default).
func (s *Service) SetProjectQuotas(ctx context.Context, id string, cmk, grant int) error {
	if cmk < 0 || grant < 0 {
		return fmt.Errorf("%w: negative quota", ErrInvalid)
	}
	err := s.store.Update(ctx, func(tx store.Tx) error {
		p, err := tx.GetProject(id)
		if err != nil {
			return err
		}
		p.CMKQuota, p.GrantQuota = cmk, grant
		return tx.UpdateProject(p)
	})
	return wrapStore(err, "project "+id)
}

// DeleteProject deletes a project that holds no keys.
func (s *Service) DeleteProject(ctx context.Context, id string) error {
	err := s.store.Update(ctx, func(tx store.Tx) error { return tx.DeleteProject(id) })
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("%w: project %s still has keys", ErrInUse, id)
	}
	return wrapStore(err, "project "+id)
}

// CreateUser creates a user; password may be empty (no password login).
// Each policy must name a system role or a custom policy of the account.
func (s *Service) CreateUser(ctx context.Context, accountID, name, id, password string, policies []string) (store.User, error) {
	if id == "" {
		id = NewID()
	}
	if !nameRE.MatchString(name) || !idRE.MatchString(id) {
		return store.User{}, fmt.Errorf("%w: user name %q or id %q", ErrInvalid, name, id)
	}
	u := store.User{ID: id, AccountID: accountID, Name: name, Policies: policies, CreatedAt: s.Now().UTC()}
	if password != "" {
		h, err := HashPassword(password)
		if err != nil {
			return store.User{}, err
		}
		u.PasswordHash = h
	}
	err := s.store.Update(ctx, func(tx store.Tx) error {
		if _, err := tx.GetAccount(accountID); err != nil {
			return err
		}
		for _, p := range policies {
			if err := checkPolicyName(tx, accountID, p); err != nil {
				return err
			}
		}
		return tx.CreateUser(u)
	})
	return u, wrapStore(err, "user "+name)
}

func checkPolicyName(tx store.Tx, accountID, name string) error {
	if _, ok := auth.SystemRole(name); ok {
		return nil
	}
	if _, err := tx.GetPolicy(accountID, name); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: no system role or policy named %q", ErrNotFound, name)
		}
		return err
	}
	return nil
}

// User returns a user by account and name, or by id when name is a
// 32-hex id of a user of the account.
func (s *Service) UserByName(ctx context.Context, accountID, name string) (store.User, error) {
	var u store.User
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		u, err = tx.GetUserByName(accountID, name)
		if errors.Is(err, store.ErrNotFound) && idRE.MatchString(name) {
			u, err = tx.GetUser(name)
			if err == nil && u.AccountID != accountID {
				err = store.ErrNotFound
			}
		}
		return err
	})
	return u, wrapStore(err, "user "+name)
}

// ListUsers lists the users of an account.
func (s *Service) ListUsers(ctx context.Context, accountID string) ([]store.User, error) {
	var out []store.User
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		out, err = tx.ListUsers(accountID)
		return err
	})
	return out, err
}

// DeleteUser deletes a user and its access keys.
func (s *Service) DeleteUser(ctx context.Context, userID string) error {
	defer s.invalidate()
	err := s.store.Update(ctx, func(tx store.Tx) error { return tx.DeleteUser(userID) })
	return wrapStore(err, "user "+userID)
}

// SetPassword sets or (with "") removes a user's password.
func (s *Service) SetPassword(ctx context.Context, userID, password string) error {
	hash := ""
	if password != "" {
		var err error
		if hash, err = HashPassword(password); err != nil {
			return err
		}
	}
	return s.updateUser(ctx, userID, func(tx store.Tx, u *store.User) error {
		u.PasswordHash = hash
		return nil
	})
}

// AttachPolicy attaches a system role or custom policy to a user.
func (s *Service) AttachPolicy(ctx context.Context, userID, name string) error {
	return s.updateUser(ctx, userID, func(tx store.Tx, u *store.User) error {
		if err := checkPolicyName(tx, u.AccountID, name); err != nil {
			return err
		}
		if !slices.Contains(u.Policies, name) {
			u.Policies = append(u.Policies, name)
		}
		return nil
	})
}

// DetachPolicy detaches a policy from a user.
func (s *Service) DetachPolicy(ctx context.Context, userID, name string) error {
	return s.updateUser(ctx, userID, func(tx store.Tx, u *store.User) error {
		i := slices.Index(u.Policies, name)
		if i < 0 {
			return fmt.Errorf("%w: policy %q is not attached", ErrNotFound, name)
		}
		u.Policies = slices.Delete(u.Policies, i, i+1)
		return nil
	})
}

// SetUserDisabled disables or enables a user.
func (s *Service) SetUserDisabled(ctx context.Context, userID string, disabled bool) error {
	return s.updateUser(ctx, userID, func(tx store.Tx, u *store.User) error {
		u.Disabled = disabled
		return nil
	})
}

func (s *Service) updateUser(ctx context.Context, userID string, fn func(store.Tx, *store.User) error) error {
	defer s.invalidate()
	err := s.store.Update(ctx, func(tx store.Tx) error {
		u, err := tx.GetUser(userID)
		if err != nil {
			return err
		}
		if err := fn(tx, &u); err != nil {
			return err
		}
		return tx.UpdateUser(u)
	})
	return wrapStore(err, "user "+userID)
}

// PutPolicy creates or replaces a custom identity policy of an account.
func (s *Service) PutPolicy(ctx context.Context, accountID, name string, document []byte) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("%w: policy name %q", ErrInvalid, name)
	}
	if _, ok := auth.SystemRole(name); ok {
		return fmt.Errorf("%w: %q is a system role", ErrInvalid, name)
	}
	if _, err := auth.ParsePolicy(document); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	defer s.invalidate()
	return s.store.Update(ctx, func(tx store.Tx) error {
		return tx.PutPolicy(store.Policy{AccountID: accountID, Name: name, Document: document, CreatedAt: s.Now().UTC()})
	})
}

// ListPolicies lists the custom policies of an account.
func (s *Service) ListPolicies(ctx context.Context, accountID string) ([]store.Policy, error) {
	var out []store.Policy
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		out, err = tx.ListPolicies(accountID)
		return err
	})
	return out, err
}

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
	sealed, err := s.keyring.Seal(keyring.Binding{Purpose: PurposeAccessKey, KeyID: ak}, []byte(sk))
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
	sealed, err := s.keyring.Seal(keyring.Binding{Purpose: PurposeAccessKey, KeyID: ak}, []byte(sk))
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

// identity builds the auth view of a user: the account and the parsed
// policies attached to the user.
func identity(tx store.Tx, u store.User) (auth.Identity, error) {
	a, err := tx.GetAccount(u.AccountID)
	if err != nil {
		return auth.Identity{}, err
	}
	id := auth.Identity{AccountID: a.ID, AccountName: a.Name, UserID: u.ID, UserName: u.Name}
	for _, name := range u.Policies {
		if p, ok := auth.SystemRole(name); ok {
			id.Policies = append(id.Policies, p)
			continue
		}
		doc, err := tx.GetPolicy(u.AccountID, name)
		if errors.Is(err, store.ErrNotFound) {
			continue // a deleted policy grants nothing
		}
		if err != nil {
			return auth.Identity{}, err
		}
		p, err := auth.ParsePolicy(doc.Document)
		if err != nil {
			return auth.Identity{}, fmt.Errorf("stored policy %q: %w", name, err)
		}
		id.Policies = append(id.Policies, p)
	}
	return id, nil
}

// unauthenticated returns an error that authentication answers with 401.
func unauthenticated(reason string) error {
	return &auth.AuthError{Reason: reason}
}

// AccessKey implements auth.Directory.
func (s *Service) AccessKey(ctx context.Context, ak string) ([]byte, auth.Identity, error) {
	e, gen, ok := s.cached(ctx, cacheKey{cacheAccessKey, ak})
	if ok {
		return e.sk, e.id, nil
	}
	var sk []byte
	var id auth.Identity
	err := s.store.View(ctx, func(tx store.Tx) error {
		k, err := tx.GetAccessKey(ak)
		if errors.Is(err, store.ErrNotFound) {
			return unauthenticated("unknown access key")
		}
		if err != nil {
			return err
		}
		if k.Disabled {
			return unauthenticated("access key disabled")
		}
		u, err := tx.GetUser(k.UserID)
		if err != nil {
			return err
		}
		if u.Disabled {
			return unauthenticated("user disabled")
		}
		if sk, err = s.keyring.Open(keyring.Binding{Purpose: PurposeAccessKey, KeyID: ak}, k.SealedSK); err != nil {
			return fmt.Errorf("open secret of access key %s: %w", ak, err)
		}
		id, err = identity(tx, u)
		return err
	})
	if err != nil {
		return nil, auth.Identity{}, err
	}
	s.remember(cacheKey{cacheAccessKey, ak}, cacheEntry{sk: sk, id: id}, gen)
	return sk, id, nil
}

// User implements auth.Directory.
func (s *Service) User(ctx context.Context, userID string) (auth.Identity, error) {
	e, gen, ok := s.cached(ctx, cacheKey{cacheUser, userID})
	if ok {
		return e.id, nil
	}
	var id auth.Identity
	err := s.store.View(ctx, func(tx store.Tx) error {
		u, err := tx.GetUser(userID)
		if errors.Is(err, store.ErrNotFound) {
			return unauthenticated("unknown user")
		}
		if err != nil {
			return err
		}
		if u.Disabled {
			return unauthenticated("user disabled")
		}
		id, err = identity(tx, u)
		return err
	})
	if err != nil {
		return auth.Identity{}, err
	}
	s.remember(cacheKey{cacheUser, userID}, cacheEntry{id: id}, gen)
	return id, nil
}

// Projects implements auth.Directory.
func (s *Service) Projects(ctx context.Context, accountID string) ([]auth.Project, error) {
	e, gen, ok := s.cached(ctx, cacheKey{cacheProjects, accountID})
	if ok {
		return e.projects, nil
	}
	ps, err := s.ListProjects(ctx, accountID)
	if err != nil {
		return nil, err
	}
	out := make([]auth.Project, len(ps))
	for i, p := range ps {
		out[i] = auth.Project{ID: p.ID, Name: p.Name}
	}
	s.remember(cacheKey{cacheProjects, accountID}, cacheEntry{projects: out}, gen)
	return out, nil
}

// PasswordLogin checks a user's password. accountName names the user's
// account (Huawei's "domain"). Every failure is ErrWrongPassword, so a
// caller cannot tell an unknown user from a wrong password.
func (s *Service) PasswordLogin(ctx context.Context, accountName, userName, password string) (auth.Identity, error) {
	var u store.User
	var id auth.Identity
	err := s.store.View(ctx, func(tx store.Tx) error {
		a, err := tx.GetAccountByName(accountName)
		if err != nil {
			return err
		}
		if u, err = tx.GetUserByName(a.ID, userName); err != nil {
			return err
		}
		id, err = identity(tx, u)
		return err
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return auth.Identity{}, err
	}
	// An unknown user, a disabled one and one without a password spend
	// the same time as a real check, so timing does not reveal which
	// accounts and users exist or can log in.
	hash := u.PasswordHash
	if err != nil || hash == "" {
		hash = dummyHash
	}
	ok, cerr := s.checkPassword(ctx, hash, password)
	if cerr != nil {
		return auth.Identity{}, cerr
	}
	if err != nil || u.Disabled || u.PasswordHash == "" || !ok {
		return auth.Identity{}, ErrWrongPassword
	}
	return id, nil
}

// checkPassword is VerifyPassword in one of the service's login slots.
// Each check holds 19 MiB for tens of milliseconds on an endpoint open to
// anyone, so the number running at once is bounded; a login waits for a
// slot until ctx ends, and then returns ctx's error.
func (s *Service) checkPassword(ctx context.Context, hash, password string) (bool, error) {
	select {
	case s.logins <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-s.logins }()
	return VerifyPassword(hash, password), nil
}
