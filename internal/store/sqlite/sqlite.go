package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/kmsd/kmsd/internal/store"
	"github.com/kmsd/kmsd/internal/store/group"
)

// busyTimeout is how long a connection waits for a lock held by another
// connection (normally another process) before SQLite reports SQLITE_BUSY.
const busyTimeout = 10 * time.Second

// maxBusyAttempts bounds how often Update runs a transaction that failed
// with SQLITE_BUSY or SQLITE_LOCKED before it gives up.
const maxBusyAttempts = 5

// Store is the SQLite implementation of store.Store. It is safe for
// concurrent use by multiple goroutines.
//
// Writes go through a pool of exactly one connection, so concurrent Update
// calls in one process queue up in database/sql instead of racing for the
// SQLite write lock. Reads go through a separate pool of read-only
// connections, which in WAL mode run concurrently with the writer, each on
// its own snapshot.
type Store struct {
	w       *sql.DB // the single write connection; BEGIN IMMEDIATE
	r       *sql.DB // read-only connections for View
	counts  *countCache
	wstmts  *stmtCache   // prepared statements of w
	cursors *cursorCache // positions of ListKeys pages (cursor.go)

	committer *group.Committer[store.Tx] // runs Update (commit.go)
}

var _ store.Store = (*Store)(nil)

// Open opens the database at path, creating it if it does not exist, and
// applies the migrations it lacks. A new database file is created with
// mode 0600, and SQLite gives its -wal and -shm files the same mode. It
// fails with an error wrapping ErrSchemaTooNew when the database was
// migrated by a newer kmsd, and when the file system cannot give the
// durability settings described in the package documentation. ctx bounds
// only the work done by Open.
func Open(ctx context.Context, path string) (*Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// SQLite would create the file with mode 0644 less the umask, and its
	// -wal and -shm files with the database's mode; create it for the
	// owner alone first. An existing file keeps its mode.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	f.Close()
	w, err := sql.Open("sqlite", dsn(abs, true))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := checkPragmas(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}

	r, err := sql.Open("sqlite", dsn(abs, false))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	if err := r.PingContext(ctx); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	counts, err := newCountCache(ctx, abs)
	if err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	s := &Store{w: w, r: r, counts: counts, wstmts: newStmtCache(w), cursors: newCursorCache()}
	// The committer outlives Open: it keeps ctx's values, not its end.
	cctx := context.WithoutCancel(ctx)
	s.committer = group.New(groupOptions, func(g []*group.Write[store.Tx]) []error { return s.commit(cctx, g) })
	return s, nil
}

// dsn returns the modernc.org/sqlite data source name for the database
// file at the absolute path abs. Every connection of the write pool gets
// the durability settings; read connections get query_only so that a write
// method called inside View fails instead of taking the write lock.
func dsn(abs string, write bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(FULL)")
	// Overwrite deleted content with zeros, so the free pages of the
	// file keep no sealed material of a destroyed key.
	q.Add("_pragma", "secure_delete(1)")
	if write {
		q.Add("_pragma", "journal_mode(WAL)")
		// Keep the savepoints' sub-journals in memory: each write of a
		// group commit runs in a savepoint (commit.go), and a group's
		// sub-journal outgrows SQLite's in-memory spill limit (64 KiB)
		// and went to a temporary file, one pwrite per page copied: a
		// sixth of create-key's CPU.
		q.Add("_pragma", "temp_store(MEMORY)")
		q.Set("_txlock", "immediate")
	} else {
		q.Add("_pragma", "query_only(1)")
	}
	u := url.URL{Scheme: "file", Path: abs, RawQuery: q.Encode()}
	// url.URL renders "file:///abs"; SQLite accepts that form of URI.
	return u.String()
}

// checkPragmas verifies that the connection really runs with the settings
// the durability promise of Update depends on. journal_mode=WAL silently
// stays in another mode on file systems without shared memory support.
func checkPragmas(ctx context.Context, db *sql.DB) error {
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("read journal_mode: %w", err)
	}
	if mode != "wal" {
		return fmt.Errorf("journal_mode is %q, want \"wal\" (does the file system support WAL?)", mode)
	}
	var sync, fk int
	if err := db.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil {
		return fmt.Errorf("read synchronous: %w", err)
	}
	if sync != 2 { // FULL, https://sqlite.org/pragma.html#pragma_synchronous
		return fmt.Errorf("synchronous is %d, want 2 (FULL)", sync)
	}
	if err := db.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
		return fmt.Errorf("read foreign_keys: %w", err)
	}
	if fk != 1 {
		return errors.New("foreign_keys is off")
	}
	return nil
}

// View runs fn in a read-only transaction on a snapshot of the database.
// Write methods of the Tx fail inside View.
func (s *Store) View(ctx context.Context, fn func(store.Tx) error) error {
	sqlTx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("sqlite: begin read: %w", err)
	}
	defer sqlTx.Rollback()
	return fn(&tx{ctx: ctx, tx: sqlTx, counts: s.counts, cursors: s.cursors})
}

// Ping checks that the database file answers; /readyz calls it.
func (s *Store) Ping(ctx context.Context) error {
	return s.r.PingContext(ctx)
}

// Close stops the committer after the group it is committing and closes
// the connection pools; Update fails afterwards. Read transactions still
// running fail.
func (s *Store) Close() error {
	s.committer.Close()
	s.wstmts.close()
	return errors.Join(s.counts.close(), s.r.Close(), s.w.Close())
}

// isBusy reports whether err is SQLite's "try again later": the database
// or a table was locked by another connection.
func isBusy(err error) bool {
	e, ok := errors.AsType[*sqlite.Error](err)
	if !ok {
		return false
	}
	switch e.Code() & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return true
	}
	return false
}

// wrap gives err the operation's name and maps it to the store's sentinel
// errors: sql.ErrNoRows and a missing parent row (a foreign key violation
// on insert) become store.ErrNotFound, a unique or primary key violation
// and the RAISE(ABORT) of a trigger (the triggers of the schema enforce
// uniqueness across tables, such as the alias namespace) become
// store.ErrConflict. The SQLite error stays in the chain.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlite: %s: %w", op, store.ErrNotFound)
	}
	if e, ok := errors.AsType[*sqlite.Error](err); ok {
		switch e.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY,
			sqlite3.SQLITE_CONSTRAINT_TRIGGER:
			return fmt.Errorf("sqlite: %s: %w: %w", op, store.ErrConflict, err)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return fmt.Errorf("sqlite: %s: %w: %w", op, store.ErrNotFound, err)
		}
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

// notFound returns the error of op for a row that does not exist.
func notFound(op string) error {
	return fmt.Errorf("sqlite: %s: %w", op, store.ErrNotFound)
}

// conflict returns the error of op for a violated rule that SQLite does not
// check itself, such as a stale revision or a project that still holds keys.
func conflict(op, why string) error {
	return fmt.Errorf("sqlite: %s: %w: %s", op, store.ErrConflict, why)
}
