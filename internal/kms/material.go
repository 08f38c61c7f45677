package kms

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/kmsd/kmsd/internal/store"
)

// handle is a key with its versions' material opened. Handles are shared
// by concurrent requests through the cache and must not be modified after
// they are built; material slices are read-only.
type handle struct {
	Key
	// material maps a version to its opened material.
	material map[int][]byte

	// parsed holds values derived from material (parsed private keys,
	// cipher.AEADs) built once per version on first use.
	mu     sync.Mutex
	parsed map[parsedKey]any

	// token does the cryptography of a key of a dedicated keystore, whose
	// material is the token object's label; nil for the built-in store.
	// tokenErr is why a dedicated key cannot be used now (its keystore
	// disabled, its HSM not configured).
	token    Token
	tokenErr error

	// blobProject is the project the key's ciphertexts name: its own, or
	// for a multi-region key the project of the key it was first created
	// as (store.KeyRegion.MaterialProjectID).
	blobProject string
}

type parsedKey struct {
	version int
	kind    string
}

// ciphertextProject is the project the key's ciphertexts name
// (blobProject, which defaults to the key's own).
func (h *handle) ciphertextProject() string {
	if h.blobProject != "" {
		return h.blobProject
	}
	return h.ProjectID
}

// Material returns the opened material of version v (the primary version
// when v is 0).
func (h *handle) Material(v int) ([]byte, bool) {
	if v == 0 {
		v = h.PrimaryVersion
	}
	m, ok := h.material[v]
	return m, ok
}

// derived returns the value build makes from version v's material, building
// it once per handle; kind names what is built (e.g. "aead", "signer").
func (h *handle) derived(v int, kind string, build func(material []byte) (any, error)) (any, error) {
	if v == 0 {
		v = h.PrimaryVersion
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	k := parsedKey{v, kind}
	if x, ok := h.parsed[k]; ok {
		return x, nil
	}
	m, ok := h.material[v]
	if !ok {
		return nil, fmt.Errorf("%w: key %s has no version %d", ErrKeyNotFound, h.KeyID, v)
	}
	x, err := build(m)
	if err != nil {
		return nil, err
	}
	if h.parsed == nil {
		h.parsed = map[parsedKey]any{}
	}
	h.parsed[k] = x
	return x, nil
}

// keyCache keeps opened keys in memory so the hot path neither reads the
// store nor unseals material on every request. It is bounded, entries
// expire after ttl (so changes made by another process sharing the store
// are seen), and every change this process makes to a key invalidates its
// entry at once.
type keyCache struct {
	mu      sync.Mutex
	entries map[keyRef]cacheEntry
	max     int
	ttl     time.Duration
	// gen counts invalidations. A loader notes it before reading the
	// store and caches what it read only if no invalidation came in
	// between, so a copy read before a change can never be cached after
	// the change has invalidated the key.
	gen uint64
	// counters, when set, count hits and misses.
	counters *counters
}

type cacheEntry struct {
	h       *handle
	expires time.Time
}

// Cache defaults: enough for every key of a large project; a 30 s lifetime
// bounds how stale a node's view of a change made elsewhere can be.
const (
	defaultCacheSize = 10000
	defaultCacheTTL  = 30 * time.Second
)

func newKeyCache(max int, ttl time.Duration) *keyCache {
	return &keyCache{entries: make(map[keyRef]cacheEntry), max: max, ttl: ttl}
}

// keyRef names a key in the cache; a struct, so that a lookup allocates
// nothing.
type keyRef struct{ projectID, keyID string }

func (c *keyCache) get(projectID, keyID string, now time.Time) (*handle, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[keyRef{projectID, keyID}]
	if !ok || now.After(e.expires) {
		if c.counters != nil {
			c.counters.cacheMisses.Add(1)
		}
		return nil, false
	}
	if c.counters != nil {
		c.counters.cacheHits.Add(1)
	}
	return e.h, true
}

// generation returns the invalidation count to pass to put.
func (c *keyCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// put caches h unless a key was invalidated since gen was read.
func (c *keyCache) put(h *handle, gen uint64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if len(c.entries) >= c.max {
		// Evict an arbitrary tenth; map order is random enough and keeps
		// eviction O(1) amortized without an LRU list.
		n := c.max / 10
		for k := range c.entries {
			if n <= 0 {
				break
			}
			delete(c.entries, k)
			n--
		}
	}
	c.entries[keyRef{h.ProjectID, h.KeyID}] = cacheEntry{h: h, expires: now.Add(c.ttl)}
}

// invalidateAll drops every key.
func (c *keyCache) invalidateAll() {
	c.mu.Lock()
	clear(c.entries)
	c.gen++
	c.mu.Unlock()
}

func (c *keyCache) invalidate(projectID, keyID string) {
	c.mu.Lock()
	delete(c.entries, keyRef{projectID, keyID})
	c.gen++
	c.mu.Unlock()
}

// loadHandle returns the key with all its versions opened, from the cache
// or the store. The key may be in any state.
func (s *Service) loadHandle(ctx context.Context, projectID, keyID string) (*handle, error) {
	if err := ValidateKeyID(keyID); err != nil {
		return nil, err
	}
	now := s.Now()
	if h, ok := s.cache.get(projectID, keyID, now); ok && s.current(ctx, h) {
		return h, nil
	}
	gen := s.cache.generation()
	var k Key
	var versions []store.KeyVersion
	var ks store.Keystore
	blobProject := projectID
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		if k, err = getKey(tx, projectID, keyID); err != nil {
			return err
		}
		if r, ok, err := keyRegion(tx, projectID, keyID); err != nil {
			return err
		} else if ok {
			blobProject = r.MaterialProjectID
		}
		if k.dedicated() {
			if ks, err = getKeystore(tx, projectID, k.KeystoreID); err != nil {
				return err
			}
		}
		versions, err = tx.ListKeyVersions(projectID, keyID)
		return err
	})
	if err != nil {
		return nil, mapNotFound(err)
	}
	h := &handle{Key: k, material: make(map[int][]byte, len(versions)), blobProject: blobProject}
	if k.dedicated() {
		h.token, h.tokenErr = s.keystoreToken(keystoreOf(ks))
	}
	for _, v := range versions {
		m, err := s.keyring.Open(materialBinding(projectID, keyID, v.Version), v.Sealed)
		if err != nil {
			return nil, fmt.Errorf("open material of key %s version %d: %w", keyID, v.Version, err)
		}
		h.material[v.Version] = m
	}
	s.cache.put(h, gen, now)
	return h, nil
}

// current reports whether the cached h is still the stored key. On a store
// shared by several nodes (store.Revisioner) it compares the stored
// revision, so a change another node committed is never missed; a failed
// check reports false and the reload that follows reports the error. On
// other stores this process makes every change and invalidates its cache
// itself.
func (s *Service) current(ctx context.Context, h *handle) bool {
	r, ok := store.As[store.Revisioner](s.store)
	if !ok {
		return true
	}
	rev, err := r.KeyRevision(ctx, h.ProjectID, h.KeyID)
	return err == nil && rev == h.Revision
}

// usableKey returns a key that can serve a cryptographic operation, or
// the error of its state (usable).
func (s *Service) usableKey(ctx context.Context, projectID, keyID string) (*handle, error) {
	h, err := s.loadHandle(ctx, projectID, keyID)
	if err != nil {
		return nil, err
	}
	if err := usable(h.Key); err != nil {
		return nil, err
	}
	if h.tokenErr != nil {
		return nil, h.tokenErr
	}
	return h, nil
}
