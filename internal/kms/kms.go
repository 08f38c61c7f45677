// Package kms is the domain service of kmsd: customer master keys, their
// lifecycle, their sealed material and the per-project quotas. It knows
// nothing of HTTP or SQL; callers (the API layer, the CLI) pass already
// authenticated and authorized project ids.
package kms

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/kmsd/kmsd/internal/ciphertext"
	"github.com/kmsd/kmsd/internal/keyring"
	"github.com/kmsd/kmsd/internal/store"
)

// Limits from the reference (kms-api.md §2.4).
const (
	MinPendingDays    = 7
	MaxPendingDays    = 1096
	MaxDescriptionLen = 255
	// DefaultCMKQuota is Huawei's default custom-key quota per project.
	DefaultCMKQuota = 20
	// DefaultGrantQuota is the default number of grants per key.
	DefaultGrantQuota = 100
	// PurposeKeyMaterial is the keyring binding purpose of key versions.
	PurposeKeyMaterial = "key-material"
)

var (
	aliasRE = regexp.MustCompile(`^[a-zA-Z0-9:/_-]{1,255}$`)
)

// Config holds the service's settings.
type Config struct {
	// Region is reported as a key's realm.
	Region string
	// CMKQuota and GrantQuota are the defaults for projects that set none.
	CMKQuota   int
	GrantQuota int
	// Tokens are the HSMs that dedicated keystores may use, by the name
	// that create-keystore's hsm_cluster_id gives.
	Tokens map[string]Token
	// Peers reaches the other regions of multi-region keys; nil when
	// none is configured.
	Peers Peers
	// AliasQuota bounds the aliases of a project (MaxAliasesPerProject
	// when 0).
	AliasQuota int
}

// Service implements the key lifecycle. It is safe for concurrent use.
type Service struct {
	store   store.Store
	keyring *keyring.Keyring
	cfg     Config
	log     *slog.Logger
	cache   *keyCache
	// spaceIDs makes the ids of key spaces, access points and policies.
	spaceIDs spaceIDs
	// attestation verifies ECS and CCE access points; nil for none.
	attestation AttestationVerifier
	// counters feed Stats.
	counters *counters
	// Now is the service's clock; tests replace it.
	Now func() time.Time
}

// New returns a service over st and kr.
func New(st store.Store, kr *keyring.Keyring, cfg Config, log *slog.Logger) *Service {
	if cfg.CMKQuota <= 0 {
		cfg.CMKQuota = DefaultCMKQuota
	}
	if cfg.GrantQuota <= 0 {
		cfg.GrantQuota = DefaultGrantQuota
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{store: st, keyring: kr, cfg: cfg, log: log, cache: newKeyCache(defaultCacheSize, defaultCacheTTL), counters: &counters{}, Now: time.Now}
	s.cache.counters = s.counters
	return s
}

// Region returns the configured region name.
func (s *Service) Region() string { return s.cfg.Region }

// CreateKeyInput are the parameters of create-key.
type CreateKeyInput struct {
	ProjectID           string
	AccountID           string
	Alias               string
	Description         string
	Spec                string // "" means AES_256
	Usage               string // "" means the spec's default
	Origin              string // "" means kms
	EnterpriseProjectID string
	KeystoreID          string
	// KeyID, when set, is the new key's id instead of a random one (a
	// seed file's fixed id); it must be a valid key id not in use in the
	// project.
	KeyID string
	// Material, when set, is the key's material instead of generated
	// material (a seed file's fixed material), in the encoding of specs:
	// raw bytes for symmetric and HMAC keys, PKCS#8 DER for RSA, NIST EC
	// and SM2 keys, the 32-byte scalar for SECP256K1. With origin kms it
	// is version 1 of a key that may rotate; with origin external the key
	// is as if the material had been imported without expiry.
	Material []byte
}

// ValidateAlias checks a custom key alias: the reference charset and
// length, and the reserved "/default" suffix.
func ValidateAlias(alias string) error {
	if !aliasRE.MatchString(alias) {
		return fmt.Errorf("%w: must match %s", ErrInvalidAlias, aliasRE)
	}
	if strings.HasSuffix(alias, "/default") {
		return fmt.Errorf("%w: the /default suffix is reserved for default keys", ErrInvalidAlias)
	}
	return nil
}

// ValidateKeyID checks the shape of a key id (reference kms-api.md:
// ^[0-9a-z]{8}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{12}$), the
// check the ciphertext format applies to the key id it carries
// (FuzzValidateKeyID compares it with the regexp).
func ValidateKeyID(id string) error {
	if !ciphertext.ValidKeyID(id) {
		return ErrInvalidKeyID
	}
	return nil
}

func validateDescription(d string) error {
	if len([]rune(d)) > MaxDescriptionLen {
		return fmt.Errorf("%w: longer than %d characters", ErrInvalidDescription, MaxDescriptionLen)
	}
	return nil
}

// CreateKey creates a customer master key. Material is generated from
// crypto/rand and sealed before it reaches the store; an external-origin
// key starts pending import without material.
func (s *Service) CreateKey(ctx context.Context, in CreateKeyInput) (Key, error) {
	if err := ValidateAlias(in.Alias); err != nil {
		return Key{}, err
	}
	return s.createKey(ctx, in, false)
}

// CreateDefaultKey creates the default key of a cloud service in a project
// (alias SERVICE/default). Default keys are AES_256, are not counted
// against the quota, and refuse the changes the reference lists (KMS.0211).
func (s *Service) CreateDefaultKey(ctx context.Context, projectID, accountID, service string) (Key, error) {
	alias := service + "/default"
	if service == "" || strings.Contains(service, "/") || !aliasRE.MatchString(alias) {
		return Key{}, fmt.Errorf("%w: service name %q", ErrInvalidAlias, service)
	}
	return s.createKey(ctx, CreateKeyInput{
		ProjectID: projectID, AccountID: accountID, Alias: alias, Spec: "AES_256",
		Description: "Default key of " + service,
	}, true)
}

func (s *Service) createKey(ctx context.Context, in CreateKeyInput, isDefault bool) (_ Key, ret error) {
	if in.Spec == "" {
		in.Spec = "AES_256"
	}
	if in.Origin == "" {
		in.Origin = OriginKMS
	}
	if in.Origin != OriginKMS && in.Origin != OriginExternal {
		return Key{}, fmt.Errorf("%w: origin %q", ErrInvalidParameter, in.Origin)
	}
	if err := validateDescription(in.Description); err != nil {
		return Key{}, err
	}
	sp, usage, err := resolveUsage(in.Spec, in.Usage)
	if err != nil {
		return Key{}, err
	}
	if in.Origin == OriginExternal {
		// Import of key material is symmetric-only for now (reference §K).
		if in.Spec != "AES_256" && in.Spec != "SM4" {
			return Key{}, fmt.Errorf("%w: external origin needs a symmetric key spec", ErrInvalidParameter)
		}
	}
	if in.EnterpriseProjectID == "" {
		in.EnterpriseProjectID = "0"
	}
	if in.KeystoreID == "" {
		in.KeystoreID = "0"
	}
	var tok Token
	if in.KeystoreID != "0" {
		if isDefault {
			return Key{}, fmt.Errorf("%w: default keys live in the built-in store", ErrUnsupportedKeystore)
		}
		if tok, err = s.keystoreForKey(ctx, in); err != nil {
			return Key{}, err
		}
	}
	id := in.KeyID
	if id == "" {
		if id, err = newKeyID(); err != nil {
			return Key{}, err
		}
	} else if err := ValidateKeyID(id); err != nil {
		return Key{}, err
	}
	if in.Material != nil {
		if err := checkMaterial(in.Spec, in.Material); err != nil {
			return Key{}, err
		}
	}
	now := s.Now().UTC().Truncate(time.Millisecond)
	k := Key{
		ProjectID: in.ProjectID, KeyID: id, AccountID: in.AccountID,
		Alias: in.Alias, Description: in.Description,
		Spec: in.Spec, Usage: usage, Origin: in.Origin,
		State: StateEnabled, Default: isDefault,
		EnterpriseProjectID: in.EnterpriseProjectID, KeystoreID: in.KeystoreID,
		CreatedAt: now,
	}
	var version store.KeyVersion
	if in.Origin == OriginExternal && in.Material == nil {
		k.State = StatePendingImport
	} else {
		// Generate and seal outside the transaction: RSA generation can
		// take seconds and must not hold the write lock. A dedicated
		// keystore's key is generated in its token, and its "material" is
		// the token object's label.
		var material []byte
		if tok != nil {
			label := tokenLabel(k.KeyID, 1)
			if err := tok.GenerateAESKey(label); err != nil {
				return Key{}, fmt.Errorf("%w: generate the key in the keystore's HSM: %v", ErrKeystoreUnavailable, err)
			}
			defer func() {
				if ret != nil {
					tok.DestroyKey(label)
				}
			}()
			material = []byte(label)
		} else if material = bytes.Clone(in.Material); material == nil {
			if material, err = sp.generate(); err != nil {
				return Key{}, fmt.Errorf("generate %s material: %w", in.Spec, err)
			}
		}
		if in.Origin == OriginExternal {
			k.fingerprint = s.materialFingerprint(k.ProjectID, k.KeyID, material)
		}
		sealed, err := s.keyring.Seal(materialBinding(k.ProjectID, k.KeyID, 1), material)
		clear(material)
		if err != nil {
			return Key{}, fmt.Errorf("seal material: %w", err)
		}
		k.PrimaryVersion = 1
		version = store.KeyVersion{ProjectID: k.ProjectID, KeyID: k.KeyID, Version: 1, Sealed: sealed, CreatedAt: now}
	}
	err = s.update(ctx, func(tx store.Tx) error {
		// The project, and for a custom key its counts with their lock,
		// in one step when the store can (see store.ProjectKeyCounter).
		var (
			p      store.Project
			counts store.KeyCounts
			err    error
		)
		pc, joined := tx.(store.ProjectKeyCounter)
		joined = joined && !isDefault
		if joined {
			p, counts, err = pc.ProjectKeyCounts(k.ProjectID)
		} else {
			p, err = tx.GetProject(k.ProjectID)
		}
		if err != nil {
			return err
		}
		if in.KeyID != "" {
			if _, err := tx.GetKey(k.ProjectID, k.KeyID); err == nil {
				return fmt.Errorf("%w: key id %s is in use", ErrInvalidParameter, k.KeyID)
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		if !isDefault {
			if !joined {
				if counts, err = tx.KeyCounts(k.ProjectID); err != nil {
					return err
				}
			}
			if counts.Custom >= s.cmkQuota(p) {
				return ErrTooManyKeys
			}
		}
		if err := tx.CreateKey(k.row()); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return fmt.Errorf("%w: %q", ErrDuplicateAlias, k.Alias)
			}
			return err
		}
		if k.PrimaryVersion > 0 {
			return tx.PutKeyVersion(version)
		}
		return nil
	})
	if err != nil {
		return Key{}, err
	}
	s.log.InfoContext(ctx, "key created", "request_id", RequestID(ctx), "project_id", k.ProjectID, "key_id", k.KeyID, "key_spec", k.Spec, "default", isDefault)
	return k, nil
}

func (s *Service) cmkQuota(p store.Project) int {
	if p.CMKQuota > 0 {
		return p.CMKQuota
	}
	return s.cfg.CMKQuota
}

func (s *Service) grantQuota(p store.Project) int {
	if p.GrantQuota > 0 {
		return p.GrantQuota
	}
	return s.cfg.GrantQuota
}

func materialBinding(projectID, keyID string, version int) keyring.Binding {
	return keyring.Binding{Purpose: PurposeKeyMaterial, ProjectID: projectID, KeyID: keyID, Version: version}
}

// newKeyID returns a random (version 4) lower-case UUID.
func newKeyID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}

// DescribeKey returns a key of the project in any state.
func (s *Service) DescribeKey(ctx context.Context, projectID, keyID string) (Key, error) {
	if err := ValidateKeyID(keyID); err != nil {
		return Key{}, err
	}
	var k Key
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		k, err = getKey(tx, projectID, keyID)
		return err
	})
	return k, mapNotFound(err)
}

func mapNotFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w (%v)", ErrKeyNotFound, err)
	}
	return err
}

// ListKeysInput are the parameters of list-keys.
type ListKeysInput struct {
	ProjectID string
	// Spec filters by key spec; "" means AES_256 (the reference's default)
	// and "ALL" means every spec.
	Spec string
	// State filters by state; the zero KeyState means every state.
	State KeyState
	// EnterpriseProjectID filters by enterprise project; "" and "all"
	// (the reference's default) mean every one.
	EnterpriseProjectID string
	Offset              int
	Limit               int
}

// ListKeys returns one page of keys and the total number of matches.
func (s *Service) ListKeys(ctx context.Context, in ListKeysInput) ([]Key, int, error) {
	f := store.KeyFilter{State: storeState(in.State), Spec: in.Spec, EnterpriseProjectID: in.EnterpriseProjectID}
	switch in.Spec {
	case "":
		f.Spec = "AES_256"
	case "ALL":
		f.Spec = ""
	}
	if f.EnterpriseProjectID == "all" {
		f.EnterpriseProjectID = ""
	}
	if in.Offset < 0 {
		return nil, 0, ErrInvalidMarker
	}
	if in.Limit <= 0 {
		return nil, 0, ErrInvalidLimit
	}
	var keys []Key
	var total int
	err := s.store.View(ctx, func(tx store.Tx) error {
		rows, n, err := tx.ListKeys(in.ProjectID, f, in.Offset, in.Limit)
		if err != nil {
			return err
		}
		total = n
		keys, err = keysOf(rows)
		return err
	})
	return keys, total, err
}

// maxStaleRetries bounds how often update redoes a transaction that lost
// an optimistic-revision race with another writer.
const maxStaleRetries = 5

// update runs fn in a write transaction, and runs it again, on a fresh
// transaction, when the store reports a stale revision: another writer
// changed a row between fn's read and its write (possible on a backend
// that does not serialize transactions). Every write of the service goes
// through it, so fn must set what it returns from what it reads, as a
// rolled-back attempt leaves nothing behind.
func (s *Service) update(ctx context.Context, fn func(store.Tx) error) error {
	var err error
	for range maxStaleRetries {
		if err = s.store.Update(ctx, fn); !errors.Is(err, store.ErrStale) {
			return err
		}
	}
	return err
}

// errUnchanged is what a modifyKey callback returns to leave the key as it
// read it: modifyKey then writes nothing and succeeds.
var errUnchanged = errors.New("kms: key unchanged")

// modifyKey is the one read-modify-write of a key row: in one transaction
// (update) it reads the key, lets fn change it — fn gets the transaction
// for the other rows the change touches — and writes it back, keeping its
// revision current. fn returns an error to refuse the change, or
// errUnchanged to change nothing; fn may run more than once, each time on
// a freshly read key. A missing key is ErrKeyNotFound. The key's cache
// entry is dropped after the commit.
func (s *Service) modifyKey(ctx context.Context, projectID, keyID string, fn func(tx store.Tx, k *Key) error) (Key, error) {
	if err := ValidateKeyID(keyID); err != nil {
		return Key{}, err
	}
	var out Key
	update := func(tx store.Tx) error {
		k, err := getKey(tx, projectID, keyID)
		if err != nil {
			return mapNotFound(err)
		}
		switch err := fn(tx, &k); {
		case errors.Is(err, errUnchanged):
			out = k
			return nil
		case err != nil:
			return err
		}
		if err := tx.UpdateKey(k.row()); err != nil {
			if errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrStale) {
				return fmt.Errorf("%w: %q", ErrDuplicateAlias, k.Alias)
			}
			return err
		}
		k.Revision++
		out = k
		return nil
	}
	err := s.update(ctx, update)
	// Invalidate after the commit (and on failure, harmlessly), so no
	// request can use the key's old state once the change is visible.
	s.cache.invalidate(projectID, keyID)
	return out, err
}

// InvalidateKey drops a key from this node's cache of opened keys. Changes
// made through the service do it themselves; other nodes call it when
// told of a change.
func (s *Service) InvalidateKey(projectID, keyID string) { s.cache.invalidate(projectID, keyID) }

// InvalidateAll drops every key from this node's cache of opened keys, for
// changes made to the store by another process.
func (s *Service) InvalidateAll() { s.cache.invalidateAll() }

// EnableKey moves a disabled key to enabled (KMS.1201 otherwise).
func (s *Service) EnableKey(ctx context.Context, projectID, keyID string) (Key, error) {
	k, err := s.modifyKey(ctx, projectID, keyID, func(_ store.Tx, k *Key) error {
		switch k.State {
		case StateDisabled:
			k.State = StateEnabled
			return nil
		case StatePendingDeletion:
			return ErrKeyPendingDeletion
		}
		return ErrKeyNotDisabled
	})
	return s.logChange(ctx, "key enabled", k, err)
}

// DisableKey moves an enabled key to disabled (KMS.1301 otherwise).
func (s *Service) DisableKey(ctx context.Context, projectID, keyID string) (Key, error) {
	k, err := s.modifyKey(ctx, projectID, keyID, func(_ store.Tx, k *Key) error {
		if k.Default {
			return ErrDefaultKey
		}
		// Only from enabled; every other state, pending deletion included,
		// is KMS.1301 (reference kms-api.md §5.B DisableKey).
		if k.State != StateEnabled {
			return ErrKeyNotEnabled
		}
		k.State = StateDisabled
		return nil
	})
	return s.logChange(ctx, "key disabled", k, err)
}

// ScheduleKeyDeletion puts a key in pending deletion for days days.
func (s *Service) ScheduleKeyDeletion(ctx context.Context, projectID, keyID string, days int) (Key, error) {
	if days < MinPendingDays || days > MaxPendingDays {
		return Key{}, ErrInvalidPendingDays
	}
	k, err := s.modifyKey(ctx, projectID, keyID, func(_ store.Tx, k *Key) error {
		if k.Default {
			return ErrDefaultKey
		}
		if k.State == StatePendingDeletion {
			return ErrAlreadyPendingDeletion
		}
		k.State = StatePendingDeletion
		k.DeletionDate = s.Now().UTC().Truncate(time.Millisecond).Add(time.Duration(days) * 24 * time.Hour)
		return nil
	})
	return s.logChange(ctx, "key deletion scheduled", k, err, "pending_days", days)
}

// CancelKeyDeletion returns a key pending deletion to disabled, as the
// reference's example shows; a key that never had material returns to
// pending import.
func (s *Service) CancelKeyDeletion(ctx context.Context, projectID, keyID string) (Key, error) {
	k, err := s.modifyKey(ctx, projectID, keyID, func(_ store.Tx, k *Key) error {
		if k.State != StatePendingDeletion {
			return ErrNotPendingDeletion
		}
		k.State = StateDisabled
		if k.PrimaryVersion == 0 {
			k.State = StatePendingImport
		}
		k.DeletionDate = time.Time{}
		return nil
	})
	return s.logChange(ctx, "key deletion cancelled", k, err)
}

// UpdateKeyAlias changes a custom key's alias.
func (s *Service) UpdateKeyAlias(ctx context.Context, projectID, keyID, alias string) (Key, error) {
	if err := ValidateAlias(alias); err != nil {
		return Key{}, err
	}
	k, err := s.modifyKey(ctx, projectID, keyID, func(_ store.Tx, k *Key) error {
		if err := updatable(k); err != nil {
			return err
		}
		k.Alias = alias
		return nil
	})
	return s.logChange(ctx, "key alias updated", k, err)
}

// UpdateKeyDescription changes a custom key's description.
func (s *Service) UpdateKeyDescription(ctx context.Context, projectID, keyID, desc string) (Key, error) {
	if err := validateDescription(desc); err != nil {
		return Key{}, err
	}
	k, err := s.modifyKey(ctx, projectID, keyID, func(_ store.Tx, k *Key) error {
		if err := updatable(k); err != nil {
			return err
		}
		k.Description = desc
		return nil
	})
	return s.logChange(ctx, "key description updated", k, err)
}

func updatable(k *Key) error {
	if k.Default {
		return ErrDefaultKey
	}
	if k.State == StatePendingDeletion {
		return ErrKeyPendingDeletion
	}
	return nil
}

// InstanceCount returns the number of the project's non-default keys in
// every state until they are destroyed. It reads a maintained counter and
// costs the same whatever the number of keys; a store that can read it
// without a transaction (store.KeyCountReader) is asked that way.
func (s *Service) InstanceCount(ctx context.Context, projectID string) (int, error) {
	if r, ok := store.As[store.KeyCountReader](s.store); ok {
		c, err := r.KeyCounts(ctx, projectID)
		return c.Custom, err
	}
	var n int
	err := s.store.View(ctx, func(tx store.Tx) error {
		c, err := tx.KeyCounts(projectID)
		n = c.Custom
		return err
	})
	return n, err
}

// Quota is one line of user-quotas.
type Quota struct {
	Type  string
	Used  int
	Quota int
}

// Quotas returns the project's CMK and grant_per_CMK usage and quota. The
// grant_per_CMK quota applies to each key on its own, so its usage is the
// largest number of grants any one key of the project holds: how close the
// project is to KMS.2404.
func (s *Service) Quotas(ctx context.Context, projectID string) ([]Quota, error) {
	var out []Quota
	err := s.store.View(ctx, func(tx store.Tx) error {
		p, err := tx.GetProject(projectID)
		if err != nil {
			return err
		}
		c, err := tx.KeyCounts(projectID)
		if err != nil {
			return err
		}
		grants, err := tx.MaxGrantsPerKey(projectID)
		if err != nil {
			return err
		}
		out = []Quota{
			{Type: "CMK", Used: c.Custom, Quota: s.cmkQuota(p)},
			{Type: "grant_per_CMK", Used: grants, Quota: s.grantQuota(p)},
		}
		return nil
	})
	return out, err
}

// DestroyDueKeys destroys the material and rows of every key whose
// deletion date has passed, and returns how many it destroyed. Each key is
// destroyed in its own transaction that re-checks the state, so several
// nodes may run it at once.
func (s *Service) DestroyDueKeys(ctx context.Context) (int, error) {
	n := 0
	for {
		now := s.Now()
		var due []store.Key
		err := s.store.View(ctx, func(tx store.Tx) error {
			var err error
			due, err = tx.KeysDueForDeletion(now, 100)
			return err
		})
		if err != nil || len(due) == 0 {
			return n, err
		}
		for _, k := range due {
			destroyed := false
			err := s.update(ctx, func(tx store.Tx) error {
				destroyed = false
				cur, err := getKey(tx, k.ProjectID, k.KeyID)
				if err != nil {
					return err
				}
				if cur.State != StatePendingDeletion || cur.DeletionDate.After(now) {
					return nil // cancelled, or destroyed by another node
				}
				destroyed = true
				return tx.DeleteKey(k.ProjectID, k.KeyID)
			})
			s.cache.invalidate(k.ProjectID, k.KeyID)
			if destroyed && err == nil && k.KeystoreID != "" && k.KeystoreID != "0" {
				s.destroyTokenKey(ctx, k)
			}
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return n, err
			}
			if destroyed && err == nil {
				s.log.InfoContext(ctx, "key destroyed", "request_id", RequestID(ctx), "project_id", k.ProjectID, "key_id", k.KeyID)
				n++
			}
		}
		if len(due) < 100 {
			return n, nil
		}
	}
}

// RunDeletionJob destroys due keys every interval until ctx ends. State
// lives in the store, so a restart resumes where it left off.
func (s *Service) RunDeletionJob(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		err := s.exclusive(ctx, "deletion", func(ctx context.Context) error {
			_, err := s.DestroyDueKeys(ctx)
			return err
		})
		if ctx.Err() != nil {
			return
		}
		s.jobRan(jobDeletion, err)
		if err != nil {
			s.log.ErrorContext(ctx, "deletion job failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
