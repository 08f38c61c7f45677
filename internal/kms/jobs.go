package kms

import (
	"context"

	"github.com/kmsd/kmsd/internal/store"
)

// exclusive runs one pass of the background job named job. On a store that
// several nodes share (store.Exclusive) the pass runs on one node at a
// time, and a node that finds another running it skips its turn; on any
// other store it simply runs. Every job also re-checks each key in its own
// transaction, so a pass that overlaps a change stays correct.
func (s *Service) exclusive(ctx context.Context, job string, fn func(context.Context) error) error {
	if x, ok := store.As[store.Exclusive](s.store); ok {
		_, err := x.Exclusive(ctx, job, fn)
		return err
	}
	return fn(ctx)
}
