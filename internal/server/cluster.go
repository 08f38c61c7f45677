package server

import (
	"context"

	"github.com/kmsd/kmsd/internal/store/postgres"
)

// nodeCaches applies the change notifications of the cluster to this
// node's caches.
type nodeCaches struct{ s *Server }

func (c nodeCaches) KeyChanged(projectID, keyID string) { c.s.KMS.InvalidateKey(projectID, keyID) }
func (c nodeCaches) IdentityChanged()                   { c.s.IAM.Invalidate() }
func (c nodeCaches) Flush() {
	c.s.KMS.InvalidateAll()
	c.s.IAM.Invalidate()
}

// watchChanges keeps this node's caches true to the shared database until
// ctx ends: on PostgreSQL it listens for the changes every node makes (see
// postgres.Store.Watch). A SQLite store has one node and nothing to watch.
func (s *Server) watchChanges(ctx context.Context) {
	if pg, ok := s.store.(*postgres.Store); ok {
		pg.Watch(ctx, nodeCaches{s}, s.log)
	}
}
