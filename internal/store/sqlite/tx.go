package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/kmsd/kmsd/internal/store"
)

// tx implements store.Tx on one SQL transaction. Its methods use the
// context given to View or Update. A tx is not safe for concurrent use.
//
// Every method is atomic: when it returns an error it has changed nothing,
// so a caller may handle the error and still commit the transaction.
// Methods that run more than one writing statement use a savepoint for that.
type tx struct {
	ctx   context.Context
	tx    *sql.Tx
	stmts *stmtCache // of the write connection; nil in View
	// counts and cursors serve ListKeys' remembered positions; nil in
	// Update.
	counts  *countCache
	cursors *cursorCache
	started bool // a statement has run in the transaction
	// bulk is a Load (dump.go): methods open no savepoint, and local
	// holds the statements prepared for this transaction.
	bulk  bool
	local map[string]*sql.Stmt
}

var _ store.Tx = (*tx)(nil)

// stmt returns the cached prepared statement of query bound to the
// transaction, or nil.
func (t *tx) stmt(query string) *sql.Stmt {
	t.started = true
	if t.local != nil {
		return t.localStmt(query)
	}
	if t.stmts == nil {
		return nil
	}
	if st := t.stmts.get(query); st != nil {
		return t.tx.StmtContext(t.ctx, st)
	}
	return nil
}

func (t *tx) exec(query string, args ...any) (sql.Result, error) {
	if st := t.stmt(query); st != nil {
		return st.ExecContext(t.ctx, args...)
	}
	return t.tx.ExecContext(t.ctx, query, args...)
}

func (t *tx) queryRow(query string, args ...any) *sql.Row {
	if st := t.stmt(query); st != nil {
		return st.QueryRowContext(t.ctx, args...)
	}
	return t.tx.QueryRowContext(t.ctx, query, args...)
}

func (t *tx) queryRows(query string, args ...any) (*sql.Rows, error) {
	if st := t.stmt(query); st != nil {
		return st.QueryContext(t.ctx, args...)
	}
	return t.tx.QueryContext(t.ctx, query, args...)
}

// execOne runs a statement that must affect exactly one row, and reports
// store.ErrNotFound when it affected none.
func (t *tx) execOne(op, query string, args ...any) error {
	res, err := t.exec(query, args...)
	if err != nil {
		return wrap(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return wrap(op, err)
	}
	if n == 0 {
		return notFound(op)
	}
	return nil
}

// atomic runs fn inside a savepoint and undoes everything fn did when it
// returns an error.
func (t *tx) atomic(fn func() error) error {
	if t.bulk {
		return fn()
	}
	if _, err := t.exec("SAVEPOINT op"); err != nil {
		return fmt.Errorf("sqlite: savepoint: %w", err)
	}
	if err := fn(); err != nil {
		// The undo must run even when the context ended the operation.
		ctx := context.WithoutCancel(t.ctx)
		if _, rerr := t.tx.ExecContext(ctx, "ROLLBACK TO op; RELEASE op"); rerr != nil {
			return errors.Join(err, fmt.Errorf("sqlite: rollback to savepoint: %w", rerr))
		}
		return err
	}
	if _, err := t.exec("RELEASE op"); err != nil {
		return fmt.Errorf("sqlite: release savepoint: %w", err)
	}
	return nil
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// query runs q and scans every row of its result with scan.
func query[T any](t *tx, scan func(scanner) (T, error), q string, args ...any) ([]T, error) {
	rows, err := t.queryRows(q, args...)
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
	if err := t.queryRow(countQuery, args...).Scan(&total); err != nil {
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
func nullMillis(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

func fromNullMillis(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return fromMillis(n.Int64)
}

// sqlLimit turns a limit of the store contract into one for SQLite's LIMIT
// clause: 0 or less means no limit, which SQLite spells -1.
func sqlLimit(limit int) int {
	if limit <= 0 {
		return -1
	}
	return limit
}

// stringsJSON encodes a list of names (a user's policies, a grant's
// operations) as a JSON array, never null.
func stringsJSON(p []string) (string, error) {
	if p == nil {
		p = []string{}
	}
	b, err := json.Marshal(p)
	return string(b), err
}

// blob returns b, or an empty slice for nil, for the NOT NULL blob columns.
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

// GetMeta returns the value stored under name, or store.ErrNotFound.
func (t *tx) GetMeta(name string) ([]byte, error) {
	var v []byte
	err := t.queryRow("SELECT value FROM meta WHERE name = ?", name).Scan(&v)
	if err != nil {
		return nil, wrap("get meta", err)
	}
	return v, nil
}

// PutMeta stores value under name, replacing any previous value.
func (t *tx) PutMeta(name string, value []byte) error {
	_, err := t.exec(`INSERT INTO meta (name, value) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, blob(value))
	return wrap("put meta", err)
}
