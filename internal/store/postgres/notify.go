package postgres

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// changeChannel is the NOTIFY channel of the change triggers of migration
// 0001.
const changeChannel = "kmsd_changes"

// listenerName is the application_name of Watch's connection.
const listenerName = "kmsd-listen"

// Changes receives what the change triggers of other nodes (and this one)
// report. Its methods must be safe for concurrent use and quick.
type Changes interface {
	// KeyChanged: the key, its versions or its grants changed.
	KeyChanged(projectID, keyID string)
	// IdentityChanged: a user, access key, policy or project changed.
	IdentityChanged()
	// Flush: changes may have been missed; drop everything cached.
	Flush()
}

// staleBound is how often Watch flushes the caches while it cannot listen,
// which bounds how long a node may serve a change made elsewhere.
const staleBound = time.Second

// Watch listens on the change channel on a connection of its own and
// reports every notification to c until ctx ends. When the connection
// drops it flushes the caches at once and then every staleBound until it
// listens again, and once more as soon as it does (notifications sent
// while it was away are lost), so a node never serves a stale key for
// longer than about a second, connected or not.
func (s *Store) Watch(ctx context.Context, c Changes, log *slog.Logger) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg := s.pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["application_name"] = listenerName
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := s.listen(ctx, cfg, c)
		if ctx.Err() != nil {
			return
		}
		c.Flush()
		log.WarnContext(ctx, "change notifications lost; flushing caches until they return", "err", err)
		t := time.NewTimer(min(backoff, staleBound))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, staleBound)
	}
}

// listen connects, LISTENs, flushes c (anything cached may predate the
// connection) and reports notifications until the connection fails.
func (s *Store) listen(ctx context.Context, cfg *pgx.ConnConfig, c Changes) error {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	conn, err := pgx.ConnectConfig(cctx, cfg)
	cancel()
	if err != nil {
		return wrap("listen: connect", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+changeChannel); err != nil {
		return wrap("listen", err)
	}
	c.Flush()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return wrap("listen: wait", err)
		}
		dispatch(n.Payload, c)
	}
}

// dispatch reports one payload of the change triggers.
func dispatch(payload string, c Changes) {
	switch {
	case payload == "i":
		c.IdentityChanged()
	case strings.HasPrefix(payload, "k:"):
		projectID, keyID, ok := strings.Cut(payload[2:], ":")
		if !ok {
			c.Flush()
			return
		}
		c.KeyChanged(projectID, keyID)
	default:
		// A payload of a newer kmsd: be safe.
		c.Flush()
	}
}

// Exclusive runs fn while holding the session advisory lock named by job,
// on a connection held for the purpose, and reports whether it ran: when
// another node holds the lock (it is running the job), Exclusive returns
// false at once. A node that dies loses its connection and so the lock, and
// the next run on another node takes over.
func (s *Store) Exclusive(ctx context.Context, job string, fn func(context.Context) error) (bool, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return false, wrap("exclusive", err)
	}
	defer conn.Release()
	key := jobLockKey(job)
	var got bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&got); err != nil {
		return false, wrap("exclusive", err)
	}
	if !got {
		return false, nil
	}
	defer func() {
		if _, err := conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", key); err != nil {
			// The lock dies with the connection.
			conn.Conn().Close(context.WithoutCancel(ctx))
		}
	}()
	return true, fn(ctx)
}

// jobLockKey maps a job name to an advisory lock key: "kmsd" in ASCII, then
// the FNV-1a hash of the name, distinct from migrationLock.
func jobLockKey(job string) int64 {
	h := uint32(2166136261)
	for i := 0; i < len(job); i++ {
		h ^= uint32(job[i])
		h *= 16777619
	}
	return 0x6b6d7364<<32 | int64(h|1<<31)
}
