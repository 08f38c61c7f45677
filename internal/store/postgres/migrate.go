package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrSchemaTooNew means the database was migrated by a newer version of
// kmsd than the running one. Open refuses such a database rather than risk
// misreading it: upgrade this node to the version the others run.
var ErrSchemaTooNew = errors.New("postgres: database schema is newer than this kmsd")

// migrationLock is the key of the transaction-level advisory lock that
// migrate holds, so that nodes starting at once apply each migration once.
// It is an arbitrary constant ("kmsd" in ASCII, then 1).
const migrationLock int64 = 0x6b6d7364_00000001

//go:embed migrations/*.sql
var migrationFiles embed.FS

// A migration is one numbered SQL script of the migrations directory.
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations returns the embedded migrations in version order. The
// files are named NNNN_description.sql and numbered 1, 2, 3, … without
// gaps.
func loadMigrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, name := range names { // fs.Glob returns names in lexical order
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		if !ok {
			return nil, fmt.Errorf("migration %s: name is not NNNN_description.sql", base)
		}
		v, err := strconv.Atoi(num)
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", base, err)
		}
		if v != len(ms)+1 {
			return nil, fmt.Errorf("migration %s: version %d, want %d", base, v, len(ms)+1)
		}
		b, err := migrationFiles.ReadFile(name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: base, sql: string(b)})
	}
	if len(ms) == 0 {
		return nil, errors.New("no migrations embedded")
	}
	return ms, nil
}

// migrate brings the schema up to the newest embedded migration. It runs
// in one transaction that first takes the advisory lock migrationLock:
// a second node starting at the same time waits for the first to commit
// and then finds nothing left to do. A failure leaves the database as it
// was. Each applied version is recorded in schema_migrations.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	ms, err := loadMigrations()
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return applyMigrations(ctx, pool, ms)
}

func applyMigrations(ctx context.Context, pool *pgxpool.Pool, ms []migration) error {
	latest := ms[len(ms)-1].version
	return pgx.BeginTxFunc(ctx, pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLock); err != nil {
			return wrap("migrate: lock", err)
		}
		const ddl = `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER NOT NULL PRIMARY KEY,
			applied_at BIGINT  NOT NULL
		)`
		if _, err := tx.Exec(ctx, ddl); err != nil {
			return wrap("migrate", err)
		}
		var current int
		if err := tx.QueryRow(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&current); err != nil {
			return wrap("migrate: read version", err)
		}
		if current > latest {
			return fmt.Errorf("%w: database is at version %d, this kmsd knows up to %d; run the kmsd version that migrated it", ErrSchemaTooNew, current, latest)
		}
		for _, m := range ms[current:] {
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return wrap("migrate: apply "+m.name, err)
			}
			if _, err := tx.Exec(ctx,
				"INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
				m.version, time.Now().UnixMilli()); err != nil {
				return wrap("migrate: record "+m.name, err)
			}
		}
		return nil
	})
}
