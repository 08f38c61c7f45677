package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/kmsd/kmsd/internal/store"
)

// tx implements store.Tx on one PostgreSQL transaction. Its methods use the
// context given to View or Update. A tx is not safe for concurrent use.
//
// Every method is atomic: when it returns an error it has changed nothing,
// so a caller may handle the error and still commit the transaction. A
// failed statement aborts a whole PostgreSQL transaction, so every writing
// method runs inside a savepoint (atomic) and rolls back to it on error.
type tx struct {
	ctx   context.Context
	tx    *conn
	write bool // an Update: reads that guard a write lock their rows
	// bulk is a Load (dump.go): an error ends the transaction, so
	// methods need no savepoint.
	bulk bool
}

var _ store.Tx = (*tx)(nil)

// scanner is a pgx.Row or pgx.Rows.
type scanner interface {
	Scan(dest ...any) error
}

func (t *tx) row(q string, args ...any) pgx.Row {
	return t.tx.QueryRow(t.ctx, q, args...)
}

// atomic runs fn inside a savepoint and undoes everything fn did when it
// returns an error, leaving the transaction usable. The savepoint and its
// release are held (see conn) and travel with fn's first statement and
// with the next statement after fn, so that they cost no round trip of
// their own; an undo is sent at once.
func (t *tx) atomic(fn func() error) error {
	if t.bulk {
		return fn()
	}
	t.tx.hold("SAVEPOINT op")
	if err := fn(); err != nil {
		// The undo must run even when the context ended the operation.
		if rerr := t.tx.rollbackTo(context.WithoutCancel(t.ctx), "op"); rerr != nil {
			return errors.Join(err, wrap("rollback to savepoint", rerr))
		}
		return err
	}
	t.tx.hold("RELEASE SAVEPOINT op")
	return nil
}

// exec runs one writing statement atomically.
func (t *tx) exec(op, q string, args ...any) (pgconn.CommandTag, error) {
	var tag pgconn.CommandTag
	err := t.atomic(func() error {
		var err error
		tag, err = t.tx.Exec(t.ctx, q, args...)
		return wrap(op, err)
	})
	return tag, err
}

// execOne runs a statement that must affect exactly one row, and reports
// store.ErrNotFound when it affected none.
func (t *tx) execOne(op, q string, args ...any) error {
	tag, err := t.exec(op, q, args...)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return notFound(op)
	}
	return nil
}

// execIn runs a statement inside a savepoint that the caller opened with
// atomic.
func (t *tx) execIn(op, q string, args ...any) (pgconn.CommandTag, error) {
	tag, err := t.tx.Exec(t.ctx, q, args...)
	return tag, wrap(op, err)
}

// query runs q and scans every row of its result with scan.
func query[T any](t *tx, scan func(scanner) (T, error), q string, args ...any) ([]T, error) {
	rows, err := t.tx.Query(t.ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// countedPage runs countQuery with args and then pageQuery, which takes
// args followed by limit and offset, and returns the page and the count.
// A negative offset counts as 0; a limit of 0 or less means no limit.
// Errors are named after op.
func countedPage[T any](t *tx, op string, scan func(scanner) (T, error), countQuery, pageQuery string, args []any, offset, limit int) ([]T, int, error) {
	var total int
	if err := t.row(countQuery, args...).Scan(&total); err != nil {
		return nil, 0, wrap(op, err)
	}
	out, err := query(t, scan, pageQuery, append(args, sqlLimit(limit), max(offset, 0))...)
	if err != nil {
		return nil, 0, wrap(op, err)
	}
	return out, total, nil
}

// Times are stored as Unix milliseconds and read back in UTC.

func millis(t time.Time) int64 { return t.UnixMilli() }

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// nullMillis stores the zero time as NULL.
func nullMillis(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	ms := t.UnixMilli()
	return &ms
}

func fromNullMillis(n *int64) time.Time {
	if n == nil {
		return time.Time{}
	}
	return fromMillis(*n)
}

// sqlLimit turns a limit of the store contract into a LIMIT argument: 0 or
// less means no limit, which PostgreSQL spells LIMIT NULL.
func sqlLimit(limit int) any {
	if limit <= 0 {
		return nil
	}
	return limit
}

// names returns p, or an empty list for nil, for the NOT NULL TEXT[]
// columns (pgx sends a nil slice as NULL).
func names(p []string) []string {
	if p == nil {
		return []string{}
	}
	return p
}

// fromNames returns nil for an empty list, as SQLite's backend does.
func fromNames(p []string) []string {
	if len(p) == 0 {
		return nil
	}
	return p
}

// blob returns b, or an empty slice for nil, for the NOT NULL BYTEA
// columns.
func blob(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// nullBlob stores an empty or nil slice as NULL, which reads back as nil.
func nullBlob(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// nonEmpty returns s, or NULL for the empty string, so that an empty id in
// a query matches no row.
func nonEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// lockClause returns " FOR UPDATE" inside an Update and "" inside a View,
// where PostgreSQL refuses row locks.
func (t *tx) lockClause() string {
	if t.write {
		return " FOR UPDATE"
	}
	return ""
}

// GetMeta returns the value stored under name, or store.ErrNotFound.
func (t *tx) GetMeta(name string) ([]byte, error) {
	var v []byte
	if err := t.row("SELECT value FROM meta WHERE name = $1", name).Scan(&v); err != nil {
		return nil, wrap("get meta", err)
	}
	return v, nil
}

// PutMeta stores value under name, replacing any previous value.
func (t *tx) PutMeta(name string, value []byte) error {
	_, err := t.exec("put meta", `INSERT INTO meta (name, value) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, blob(value))
	return err
}

// errf formats an error of op that is none of the sentinels.
func errf(op string, err error) error {
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// isForeignKeyViolation reports whether err is PostgreSQL's
// foreign_key_violation.
func isForeignKeyViolation(err error) bool {
	e, ok := errors.AsType[*pgconn.PgError](err)
	return ok && e.Code == "23503"
}
