package iam

import (
	"time"

	"github.com/kmsd/kmsd/internal/auth"
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
// by another process.
func (s *Service) Invalidate() { s.invalidate() }

func (s *Service) cached(k cacheKey) (cacheEntry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.cache[k]
	if !ok || s.Now().After(e.expires) {
		return cacheEntry{}, false
	}
	return e, true
}

func (s *Service) remember(k cacheKey, e cacheEntry) {
	e.expires = s.Now().Add(cacheTTL)
	s.mu.Lock()
	if len(s.cache) > 10000 {
		clear(s.cache)
	}
	s.cache[k] = e
	s.mu.Unlock()
}
