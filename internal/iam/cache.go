package iam

import (
	"context"
	"time"

	"github.com/kmsd/kmsd/internal/auth"
	"github.com/kmsd/kmsd/internal/store"
)

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

// invalidate drops every cached identity; changes call it so this node
// sees them at once.
func (s *Service) invalidate() {
	s.mu.Lock()
	clear(s.cache)
	s.mu.Unlock()
}

// Invalidate drops every cached identity, for changes made to the store
// by another process (another node, or an admin command).
func (s *Service) Invalidate() { s.invalidate() }

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
	g, ok := store.As[store.IdentityGenerations](s.store)
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
