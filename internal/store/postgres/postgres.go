package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kmsd/kmsd/internal/store"
	"github.com/kmsd/kmsd/internal/store/group"
)

// maxAttempts bounds how often Update runs a transaction that PostgreSQL
// aborted with a serialization failure or a deadlock before it gives up.
const maxAttempts = 5

// Options tune a Store. The zero value is usable.
type Options struct {
	// MaxConns is the size of the connection pool; 0 means pgxpool's
	// default (the larger of 4 and the number of CPUs).
	MaxConns int
	// StatementTimeout bounds every statement on the server
	// (statement_timeout); 0 leaves the server's setting.
	StatementTimeout time.Duration
}

// Store is the PostgreSQL implementation of store.Store. It is safe for
// concurrent use by multiple goroutines, and several processes (the nodes
// of a cluster) may use one database at once.
type Store struct {
	pool      *pgxpool.Pool
	committer *group.Committer[store.Tx] // runs Update (commit.go)
	// channel is the NOTIFY channel of the change triggers.
	channel string
}

var _ store.Store = (*Store)(nil)

// Open connects to the database named by dsn (a PostgreSQL connection URI
// or keyword/value string) and applies the migrations it lacks, under an
// advisory lock so that nodes starting at once migrate once. It fails with
// an error wrapping ErrSchemaTooNew when the database was migrated by a
// newer kmsd. Errors never contain the DSN (it may hold a password). ctx
// bounds only the work done by Open.
func Open(ctx context.Context, dsn string, o Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's parse errors may quote the DSN; say only what is wrong.
		return nil, errors.New("postgres: the DSN cannot be parsed (check its syntax)")
	}
	if o.MaxConns > 0 {
		cfg.MaxConns = int32(o.MaxConns)
	}
	if o.StatementTimeout > 0 {
		cfg.ConnConfig.RuntimeParams["statement_timeout"] = fmt.Sprint(o.StatementTimeout.Milliseconds())
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "kmsd"
	// Connecting fails fast when the server is down, so that requests fail
	// with store.ErrUnavailable instead of waiting.
	if cfg.ConnConfig.ConnectTimeout == 0 || cfg.ConnConfig.ConnectTimeout > 5*time.Second {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s := &Store{pool: pool, channel: changeChannel}
	s.committer = group.New(group.Options{}, s.commitGroup)
	return s, nil
}

// View runs fn in a read-only REPEATABLE READ transaction: every read of fn
// sees the same snapshot. Write methods of the Tx fail inside View.
func (s *Store) View(ctx context.Context, fn func(store.Tx) error) error {
	pgTx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return wrap("begin read", err)
	}
	defer pgTx.Rollback(context.WithoutCancel(ctx))
	c := &conn{tx: pgTx}
	if err := fn(&tx{ctx: ctx, tx: c}); err != nil {
		return err
	}
	// A read-only transaction has nothing to commit; ending it with COMMIT
	// rather than ROLLBACK only returns the connection sooner.
	return wrap("commit read", c.Commit(ctx))
}

// KeyCounts reads the project's counters row in one statement outside any
// transaction (see store.KeyCountReader); the statement sees every
// transaction committed before it, by any node.
func (s *Store) KeyCounts(ctx context.Context, projectID string) (store.KeyCounts, error) {
	var c store.KeyCounts
	err := s.pool.QueryRow(ctx, "SELECT custom_keys, default_keys FROM key_counts WHERE project_id = $1", projectID).Scan(&c.Custom, &c.Default)
	if err != nil {
		return store.KeyCounts{}, wrap("key counts", err)
	}
	return c, nil
}

var _ store.KeyCountReader = (*Store)(nil)

// KeyRevision returns the stored revision of the key in one indexed read
// (see store.Revisioner).
func (s *Store) KeyRevision(ctx context.Context, projectID, keyID string) (int64, error) {
	var rev int64
	err := s.pool.QueryRow(ctx, "SELECT revision FROM keys WHERE project_id = $1 AND key_id = $2", projectID, keyID).Scan(&rev)
	return rev, wrap("key revision", err)
}

// IdentityGeneration returns the counter that the triggers of migration
// 0002 bump on every change of an identity (see store.IdentityGenerations).
func (s *Store) IdentityGeneration(ctx context.Context) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, "SELECT generation FROM identity_generation").Scan(&n)
	return n, wrap("identity generation", err)
}

// Ping checks that the database answers; /readyz calls it.
func (s *Store) Ping(ctx context.Context) error {
	return wrap("ping", s.pool.Ping(ctx))
}

// Close stops the committer after the group it is committing and closes
// the pool; Update fails afterwards. It waits for connections in use to be
// returned.
func (s *Store) Close() error {
	s.committer.Close()
	s.pool.Close()
	return nil
}

// retryable reports whether err is PostgreSQL's "run the transaction
// again": a serialization failure or a detected deadlock.
func retryable(err error) bool {
	e, ok := errors.AsType[*pgconn.PgError](err)
	return ok && (e.Code == "40001" || e.Code == "40P01")
}

// unavailable reports whether err means that the database could not be
// reached or the connection broke, rather than that a statement failed.
func unavailable(err error) bool {
	if e, ok := errors.AsType[*pgconn.PgError](err); ok {
		// Class 08 (connection exception), 57P01..57P03 (the server is
		// shutting down or starting up), 53300 (too many connections).
		switch e.Code {
		case "57P01", "57P02", "57P03", "53300":
			return true
		}
		return strings.HasPrefix(e.Code, "08")
	}
	if _, ok := errors.AsType[*pgconn.ConnectError](err); ok {
		return true
	}
	if _, ok := errors.AsType[net.Error](err); ok {
		return true
	}
	return pgconn.SafeToRetry(err) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, net.ErrClosed)
}

// wrap gives err the operation's name and maps it to the store's sentinel
// errors: pgx.ErrNoRows and a missing parent row (a foreign key violation
// on insert) become store.ErrNotFound, a unique violation (the primary
// keys, the unique indexes, alias_names) becomes store.ErrConflict, and a
// database that cannot be reached becomes store.ErrUnavailable. The pgx
// error stays in the chain.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("postgres: %s: %w", op, store.ErrNotFound)
	}
	if e, ok := errors.AsType[*pgconn.PgError](err); ok {
		switch e.Code {
		case "23505": // unique_violation
			return fmt.Errorf("postgres: %s: %w: %w", op, store.ErrConflict, err)
		case "23503": // foreign_key_violation
			return fmt.Errorf("postgres: %s: %w: %w", op, store.ErrNotFound, err)
		}
	}
	if unavailable(err) {
		return fmt.Errorf("postgres: %s: %w: %w", op, store.ErrUnavailable, err)
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// notFound returns the error of op for a row that does not exist.
func notFound(op string) error {
	return fmt.Errorf("postgres: %s: %w", op, store.ErrNotFound)
}

// conflict returns the error of op for a violated rule that PostgreSQL does
// not check itself, such as a project that still holds keys.
func conflict(op, why string) error {
	return fmt.Errorf("postgres: %s: %w: %s", op, store.ErrConflict, why)
}
