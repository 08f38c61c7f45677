package kms

import (
	"context"
	"crypto/ecdh"
	"crypto/hpke"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/kmsd/kmsd/internal/store"
)

// Multi-region keys (reference kms-api.md §5.M). A kmsd cluster serves one
// region (Config.Region) and knows the clusters of other regions
// (Config.Peers). replicate-key copies a key's material to a project of a
// peer region, sealed in transit to the peer's transport key; the replica
// shares the key id, and both copies name the primary's project in their
// ciphertexts (KeyRegion.MaterialProjectID), so a ciphertext made in
// either region decrypts in the other.

// Peers reaches the kmsd clusters of the other regions; region.Client
// implements it over mutually authenticated TLS. Its errors wrap
// ErrRegionUnavailable when a peer cannot be reached, or the kms error
// kind the peer answered.
type Peers interface {
	// Regions are the configured peer regions.
	Regions() []string
	// TransportKey returns the peer's HPKE public key (TransportPublicKey).
	TransportKey(ctx context.Context, region string) ([]byte, error)
	// CreateReplica has the peer create a replica (AcceptReplica).
	CreateReplica(ctx context.Context, region string, r Replica) (ReplicaResult, error)
	// SetPrimary has the peer record a key's new primary region
	// (SetPrimaryRegion).
	SetPrimary(ctx context.Context, region string, p PrimaryUpdate) error
	// DeleteReplica has the peer remove a replica it just created
	// (DeleteReplica), to undo a replication that failed at home.
	DeleteReplica(ctx context.Context, region, projectID, keyID string) error
}

// Errors of the multi-region operations.
var (
	ErrReplicaReadOnly     = errors.New("the key is a replica: only its primary region changes it") // KMS.0106
	ErrMultiRegionRotation = errors.New("multi-region keys do not rotate")                          // KMS.0319
	ErrRegion              = errors.New("invalid region")                                           // KMS.0308
	ErrRegionUnavailable   = errors.New("the peer region cannot be reached")                        // KMSD.0504
)

// transportLabel derives the region's transport key from the root key.
const transportLabel = "kmsd region transport v1"

// The HPKE suite of replication (RFC 9180): DHKEM(X25519, HKDF-SHA256),
// HKDF-SHA256, AES-256-GCM.
var (
	transportKEM  = hpke.DHKEM(ecdh.X25519())
	transportKDF  = hpke.HKDFSHA256()
	transportAEAD = hpke.AES256GCM()
)

// Replica is what the source region sends a peer to create a replica.
// Versions hold the key's material sealed to the peer's transport key.
type Replica struct {
	SourceRegion        string           `json:"source_region"`
	PrimaryRegion       string           `json:"primary_region"`
	MaterialProjectID   string           `json:"material_project_id"`
	ProjectID           string           `json:"project_id"`
	KeyID               string           `json:"key_id"`
	Alias               string           `json:"key_alias"`
	Description         string           `json:"key_description"`
	EnterpriseProjectID string           `json:"enterprise_project_id"`
	Spec                string           `json:"key_spec"`
	Usage               string           `json:"key_usage"`
	PrimaryVersion      int              `json:"primary_version"`
	Versions            []ReplicaVersion `json:"versions"`
	Tags                []Tag            `json:"tags"`
}

// ReplicaVersion is one key version's material, HPKE-sealed (transportInfo).
type ReplicaVersion struct {
	Version int    `json:"version"`
	Sealed  []byte `json:"sealed"`
}

// ReplicaResult is the peer's answer to a replica.
type ReplicaResult struct {
	KeyID    string `json:"key_id"`
	DomainID string `json:"domain_id"`
}

// PrimaryUpdate tells a peer that a key's primary region moved. Replicas
// is set when the peer becomes the primary: where the key's replicas are.
type PrimaryUpdate struct {
	ProjectID     string             `json:"project_id"`
	KeyID         string             `json:"key_id"`
	PrimaryRegion string             `json:"primary_region"`
	Replicas      []store.KeyReplica `json:"replicas"`
}

// transportInfo is the HPKE info of one version's material: the label,
// then the target region, the key id and the version, NUL-separated. A
// sealed version opens only in the region, for the key and the version it
// was sealed for.
func transportInfo(region, keyID string, version int) []byte {
	return []byte("kmsd replicate v1\x00" + region + "\x00" + keyID + "\x00" + strconv.Itoa(version))
}

// transportPrivateKey is the region's HPKE key, derived from the root key,
// so every node of the cluster has it.
func (s *Service) transportPrivateKey() (hpke.PrivateKey, error) {
	seed := s.keyring.Derive(transportLabel, 32)
	defer clear(seed)
	return transportKEM.DeriveKeyPair(seed)
}

// TransportPublicKey returns the region's HPKE public key, which peers
// seal replicated material to.
func (s *Service) TransportPublicKey() ([]byte, error) {
	k, err := s.transportPrivateKey()
	if err != nil {
		return nil, err
	}
	return k.PublicKey().Bytes(), nil
}

// Regions returns the region of this cluster and its peers' (list-support-regions).
func (s *Service) Regions() []string {
	out := []string{s.cfg.Region}
	if s.cfg.Peers != nil {
		out = append(out, s.cfg.Peers.Regions()...)
	}
	return out
}

// keyRegion returns the multi-region state of a key, or ok false for a
// single-region key.
func keyRegion(tx store.Tx, projectID, keyID string) (store.KeyRegion, bool, error) {
	r, err := tx.GetKeyRegion(projectID, keyID)
	if errors.Is(err, store.ErrNotFound) {
		return store.KeyRegion{}, false, nil
	}
	return r, err == nil, err
}

// regionWritable refuses the writes that only a primary region may make
// on a multi-region key (ErrReplicaReadOnly), and rotation on the primary
// too (ErrMultiRegionRotation): versions are not replicated.
func (s *Service) regionWritable(ctx context.Context, projectID, keyID string, rotation bool) error {
	var r store.KeyRegion
	var ok bool
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		r, ok, err = keyRegion(tx, projectID, keyID)
		return err
	})
	switch {
	case err != nil || !ok:
		return err
	case r.PrimaryRegion != s.cfg.Region:
		return fmt.Errorf("%w (primary region %s)", ErrReplicaReadOnly, r.PrimaryRegion)
	case rotation:
		return ErrMultiRegionRotation
	}
	return nil
}

// ReplicateKeyInput are the parameters of replicate-key.
type ReplicateKeyInput struct {
	ProjectID, KeyID    string
	ReplicaRegion       string
	ReplicaProjectID    string
	Alias, Description  string
	EnterpriseProjectID string
	Tags                []Tag
}

// ReplicateKey copies an enabled key of origin kms to a project of a peer
// region. Nothing is stored here until the peer has created the replica;
// if the home write then fails, the replica is removed again.
func (s *Service) ReplicateKey(ctx context.Context, in ReplicateKeyInput) (ReplicaResult, error) {
	if s.cfg.Peers == nil || !slices.Contains(s.cfg.Peers.Regions(), in.ReplicaRegion) {
		return ReplicaResult{}, fmt.Errorf("%w: %q is not a peer region of %s", ErrRegion, in.ReplicaRegion, s.cfg.Region)
	}
	if err := ValidateAlias(in.Alias); err != nil {
		return ReplicaResult{}, err
	}
	if err := validateDescription(in.Description); err != nil {
		return ReplicaResult{}, err
	}
	if !validProjectID(in.ReplicaProjectID) {
		return ReplicaResult{}, fmt.Errorf("%w: replica_project_id %q", ErrInvalidParameter, in.ReplicaProjectID)
	}
	if len(in.Tags) > 0 {
		if err := checkTagList(len(in.Tags), func(i int) string { return in.Tags[i].Key }); err != nil {
			return ReplicaResult{}, err
		}
	}
	for _, t := range in.Tags {
		if err := ValidateTagKey(t.Key); err != nil {
			return ReplicaResult{}, err
		}
		if err := ValidateTagValue(t.Value); err != nil {
			return ReplicaResult{}, err
		}
	}
	h, err := s.usableKey(ctx, in.ProjectID, in.KeyID)
	if err != nil {
		return ReplicaResult{}, err
	}
	switch {
	case h.Default:
		return ReplicaResult{}, ErrDefaultKey
	case h.dedicated():
		return ReplicaResult{}, fmt.Errorf("%w: a dedicated keystore's key stays in its HSM", ErrUnsupportedKeystore)
	case h.Origin != OriginKMS:
		return ReplicaResult{}, fmt.Errorf("%w: only keys of origin kms replicate", ErrInvalidParameter)
	case h.RotationEnabled:
		return ReplicaResult{}, fmt.Errorf("%w: disable rotation before replicating: multi-region keys do not rotate", ErrInvalidParameter)
	}
	var region store.KeyRegion
	var multi bool
	if err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		region, multi, err = keyRegion(tx, in.ProjectID, in.KeyID)
		return err
	}); err != nil {
		return ReplicaResult{}, err
	}
	if !multi {
		region = store.KeyRegion{ProjectID: in.ProjectID, KeyID: in.KeyID, PrimaryRegion: s.cfg.Region, MaterialProjectID: in.ProjectID}
	}
	if region.PrimaryRegion != s.cfg.Region {
		return ReplicaResult{}, fmt.Errorf("%w (primary region %s)", ErrReplicaReadOnly, region.PrimaryRegion)
	}
	if slices.ContainsFunc(region.Replicas, func(r store.KeyReplica) bool { return r.Region == in.ReplicaRegion }) {
		return ReplicaResult{}, fmt.Errorf("%w: the key has a replica in %s", ErrRegion, in.ReplicaRegion)
	}
	pub, err := s.cfg.Peers.TransportKey(ctx, in.ReplicaRegion)
	if err != nil {
		return ReplicaResult{}, err
	}
	pk, err := transportKEM.NewPublicKey(pub)
	if err != nil {
		return ReplicaResult{}, fmt.Errorf("%w: transport key of %s: %v", ErrRegionUnavailable, in.ReplicaRegion, err)
	}
	rep := Replica{
		SourceRegion: s.cfg.Region, PrimaryRegion: s.cfg.Region, MaterialProjectID: region.MaterialProjectID,
		ProjectID: in.ReplicaProjectID, KeyID: h.KeyID, Alias: in.Alias, Description: in.Description,
		EnterpriseProjectID: in.EnterpriseProjectID, Spec: h.Spec, Usage: h.Usage,
		PrimaryVersion: h.PrimaryVersion, Tags: in.Tags,
	}
	if rep.EnterpriseProjectID == "" {
		rep.EnterpriseProjectID = "0"
	}
	versions := make([]int, 0, len(h.material))
	for v := range h.material {
		versions = append(versions, v)
	}
	slices.Sort(versions)
	for _, v := range versions {
		sealed, err := hpke.Seal(pk, transportKDF, transportAEAD, transportInfo(in.ReplicaRegion, h.KeyID, v), h.material[v])
		if err != nil {
			return ReplicaResult{}, fmt.Errorf("seal version %d for %s: %w", v, in.ReplicaRegion, err)
		}
		rep.Versions = append(rep.Versions, ReplicaVersion{Version: v, Sealed: sealed})
	}
	res, err := s.cfg.Peers.CreateReplica(ctx, in.ReplicaRegion, rep)
	if err != nil {
		return ReplicaResult{}, err
	}
	region.Replicas = append(region.Replicas, store.KeyReplica{Region: in.ReplicaRegion, ProjectID: in.ReplicaProjectID})
	err = s.update(ctx, func(tx store.Tx) error { return tx.PutKeyRegion(region) })
	s.cache.invalidate(in.ProjectID, in.KeyID)
	if err != nil {
		if derr := s.cfg.Peers.DeleteReplica(ctx, in.ReplicaRegion, in.ReplicaProjectID, h.KeyID); derr != nil {
			s.log.ErrorContext(ctx, "replica left in the peer region after a failed replication; delete it there", "region", in.ReplicaRegion, "project_id", in.ReplicaProjectID, "key_id", h.KeyID, "err", derr)
		}
		return ReplicaResult{}, mapNotFound(err)
	}
	s.log.InfoContext(ctx, "key replicated", "project_id", in.ProjectID, "key_id", h.KeyID, "region", in.ReplicaRegion, "replica_project_id", in.ReplicaProjectID)
	return res, nil
}

// AcceptReplica creates the replica a peer region sent: it opens each
// version with this region's transport key, seals it under this region's
// root key, and stores the key, counted in the project's quota, with its
// multi-region state and tags in one transaction.
//
// from is the region that sent it, as its TLS identity names it: it must
// be the source and the primary region of the replica.
func (s *Service) AcceptReplica(ctx context.Context, from string, r Replica) (ReplicaResult, error) {
	if r.SourceRegion != from || r.PrimaryRegion != from {
		return ReplicaResult{}, fmt.Errorf("%w: region %s sent a replica of region %s", ErrRegion, from, r.PrimaryRegion)
	}
	if err := ValidateKeyID(r.KeyID); err != nil {
		return ReplicaResult{}, err
	}
	if err := ValidateAlias(r.Alias); err != nil {
		return ReplicaResult{}, err
	}
	if _, ok := specs[r.Spec]; !ok || len(r.Versions) == 0 || r.PrimaryRegion == "" || r.MaterialProjectID == "" {
		return ReplicaResult{}, fmt.Errorf("%w: incomplete replica", ErrInvalidParameter)
	}
	priv, err := s.transportPrivateKey()
	if err != nil {
		return ReplicaResult{}, err
	}
	now := s.Now().UTC().Truncate(time.Millisecond)
	var versions []store.KeyVersion
	for _, v := range r.Versions {
		m, err := hpke.Open(priv, transportKDF, transportAEAD, transportInfo(s.cfg.Region, r.KeyID, v.Version), v.Sealed)
		if err != nil {
			return ReplicaResult{}, fmt.Errorf("%w: version %d does not open with this region's transport key", ErrInvalidParameter, v.Version)
		}
		sealed, err := s.keyring.Seal(materialBinding(r.ProjectID, r.KeyID, v.Version), m)
		clear(m)
		if err != nil {
			return ReplicaResult{}, err
		}
		versions = append(versions, store.KeyVersion{ProjectID: r.ProjectID, KeyID: r.KeyID, Version: v.Version, Sealed: sealed, CreatedAt: now})
	}
	var account string
	err = s.update(ctx, func(tx store.Tx) error {
		p, err := tx.GetProject(r.ProjectID)
		if err != nil {
			return fmt.Errorf("%w: replica_project_id %q is not a project of region %s", ErrInvalidParameter, r.ProjectID, s.cfg.Region)
		}
		account = p.AccountID
		counts, err := tx.KeyCounts(r.ProjectID)
		if err != nil {
			return err
		}
		if counts.Custom >= s.cmkQuota(p) {
			return ErrTooManyKeys
		}
		if _, err := tx.FindKeyByID(r.KeyID); err == nil {
			return fmt.Errorf("%w: key %s exists in region %s", ErrRegion, r.KeyID, s.cfg.Region)
		}
		k := Key{
			ProjectID: r.ProjectID, KeyID: r.KeyID, AccountID: p.AccountID, Alias: r.Alias,
			Description: r.Description, Spec: r.Spec, Usage: r.Usage, Origin: OriginKMS,
			State: StateEnabled, EnterpriseProjectID: r.EnterpriseProjectID, KeystoreID: "0",
			PrimaryVersion: r.PrimaryVersion, CreatedAt: now,
		}
		if err := tx.CreateKey(k.row()); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return fmt.Errorf("%w: %q", ErrDuplicateAlias, k.Alias)
			}
			return err
		}
		for _, v := range versions {
			if err := tx.PutKeyVersion(v); err != nil {
				return err
			}
		}
		for _, t := range r.Tags {
			if err := tx.PutTag(r.ProjectID, r.KeyID, t.Key, t.Value); err != nil {
				return err
			}
		}
		return tx.PutKeyRegion(store.KeyRegion{ProjectID: r.ProjectID, KeyID: r.KeyID, PrimaryRegion: r.PrimaryRegion, MaterialProjectID: r.MaterialProjectID})
	})
	if err != nil {
		return ReplicaResult{}, err
	}
	s.log.InfoContext(ctx, "replica created", "project_id", r.ProjectID, "key_id", r.KeyID, "source_region", r.SourceRegion)
	return ReplicaResult{KeyID: r.KeyID, DomainID: account}, nil
}

// DeleteReplica removes a replica (and only a replica of from's key) at
// once: the source region undoes a replication whose home write failed.
func (s *Service) DeleteReplica(ctx context.Context, from, projectID, keyID string) error {
	err := s.update(ctx, func(tx store.Tx) error {
		r, ok, err := keyRegion(tx, projectID, keyID)
		if err != nil {
			return err
		}
		if !ok || r.PrimaryRegion == s.cfg.Region || r.PrimaryRegion != from {
			return fmt.Errorf("%w: key %s is not a replica of %s here", ErrKeyNotFound, keyID, from)
		}
		return tx.DeleteKey(projectID, keyID)
	})
	s.cache.invalidate(projectID, keyID)
	return err
}

// SetPrimaryRegion records a key's new primary region, as its primary
// region from tells it (or, undoing a move that failed at home, the
// region it had just been moved to).
func (s *Service) SetPrimaryRegion(ctx context.Context, from string, p PrimaryUpdate) error {
	err := s.update(ctx, func(tx store.Tx) error {
		r, ok, err := keyRegion(tx, p.ProjectID, p.KeyID)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: key %s is not multi-region here", ErrKeyNotFound, p.KeyID)
		}
		if r.PrimaryRegion != from && !(p.PrimaryRegion == from && r.PrimaryRegion == s.cfg.Region) {
			return fmt.Errorf("%w: %s is not the primary region of key %s", ErrReplicaReadOnly, from, p.KeyID)
		}
		r.PrimaryRegion, r.Replicas = p.PrimaryRegion, p.Replicas
		return tx.PutKeyRegion(r)
	})
	s.cache.invalidate(p.ProjectID, p.KeyID)
	return err
}

// UpdatePrimaryRegion makes a replica region the key's primary; this
// region's copy becomes a replica. It is called in the primary region
// (ErrReplicaReadOnly elsewhere). The new primary is told first, the
// other replicas next, and this region's record last; if that fails, the
// new primary is told back.
func (s *Service) UpdatePrimaryRegion(ctx context.Context, projectID, keyID, primary string) (string, error) {
	if err := ValidateKeyID(keyID); err != nil {
		return "", err
	}
	var r store.KeyRegion
	var ok bool
	err := s.store.View(ctx, func(tx store.Tx) error {
		if _, err := getKey(tx, projectID, keyID); err != nil {
			return mapNotFound(err)
		}
		var err error
		r, ok, err = keyRegion(tx, projectID, keyID)
		return err
	})
	switch {
	case err != nil:
		return "", err
	case !ok:
		return "", fmt.Errorf("%w: the key is not multi-region", ErrRegion)
	case r.PrimaryRegion != s.cfg.Region:
		return "", fmt.Errorf("%w (primary region %s)", ErrReplicaReadOnly, r.PrimaryRegion)
	case primary == s.cfg.Region:
		return primary, nil
	}
	i := slices.IndexFunc(r.Replicas, func(x store.KeyReplica) bool { return x.Region == primary })
	if i < 0 {
		return "", fmt.Errorf("%w: the key has no replica in %q", ErrRegion, primary)
	}
	target := r.Replicas[i]
	others := slices.Delete(slices.Clone(r.Replicas), i, i+1)
	newReplicas := append(slices.Clone(others), store.KeyReplica{Region: s.cfg.Region, ProjectID: projectID})
	slices.SortFunc(newReplicas, func(a, b store.KeyReplica) int { return compareStrings(a.Region, b.Region) })
	if err := s.cfg.Peers.SetPrimary(ctx, primary, PrimaryUpdate{ProjectID: target.ProjectID, KeyID: keyID, PrimaryRegion: primary, Replicas: newReplicas}); err != nil {
		return "", err
	}
	for _, o := range others {
		if err := s.cfg.Peers.SetPrimary(ctx, o.Region, PrimaryUpdate{ProjectID: o.ProjectID, KeyID: keyID, PrimaryRegion: primary}); err != nil {
			s.log.WarnContext(ctx, "replica not told of the new primary region; it refuses nothing it should not, but names the old primary", "region", o.Region, "key_id", keyID, "err", err)
		}
	}
	moved := store.KeyRegion{ProjectID: projectID, KeyID: keyID, PrimaryRegion: primary, MaterialProjectID: r.MaterialProjectID}
	err = s.update(ctx, func(tx store.Tx) error { return tx.PutKeyRegion(moved) })
	s.cache.invalidate(projectID, keyID)
	if err != nil {
		if berr := s.cfg.Peers.SetPrimary(ctx, primary, PrimaryUpdate{ProjectID: target.ProjectID, KeyID: keyID, PrimaryRegion: s.cfg.Region}); berr != nil {
			s.log.ErrorContext(ctx, "primary region of a key is set in two regions; set it back with update-primary-region there", "region", primary, "key_id", keyID, "err", berr)
		}
		return "", err
	}
	s.log.InfoContext(ctx, "primary region moved", "project_id", projectID, "key_id", keyID, "primary_region", primary)
	return primary, nil
}

// validProjectID reports whether s is a project id: 32 lower-case hex
// digits.
func validProjectID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
