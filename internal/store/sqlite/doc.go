// Package sqlite is the embedded storage backend of kmsd: a [store.Store]
// kept in one SQLite database file, through the pure-Go driver
// modernc.org/sqlite (no cgo). It passes the conformance suite in
// [github.com/kmsd/kmsd/internal/store/storetest].
//
// # Durability
//
// Update returns nil only after its commit is on stable storage. Every
// connection is opened with these settings (see https://sqlite.org/pragma.html),
// and [Open] refuses a database on which they do not take effect:
//
//   - journal_mode=WAL. Commits append to the write-ahead log next to the
//     database file (path-wal, with path-shm), so readers keep reading their
//     snapshot while a writer commits. Copy all three files, or use SQLite's
//     backup API, to take a backup of a running server.
//   - synchronous=FULL. Every commit fsyncs the log before Update returns,
//     so an acknowledged write survives kill -9 of the process and a power
//     cut of the machine. (synchronous=NORMAL, the usual WAL setting, may
//     lose the last commits on power loss, which a KMS cannot afford: a lost
//     key version makes its ciphertexts undecryptable.)
//   - foreign_keys=ON, so that rows cannot outlive their parents and
//     deletions cascade (users with their account, versions with their key).
//   - busy_timeout, so that a connection waits for a lock held by another
//     connection instead of failing at once with SQLITE_BUSY.
//   - secure_delete=ON, so that deleted rows (the sealed versions of a
//     destroyed key, spent import tokens) are overwritten with zeros
//     rather than left in free pages of the file. Page images written
//     before the deletion may stay in the -wal file until the log is
//     checkpointed and reused; Close checkpoints it and removes it.
//
// # Concurrency
//
// Writes use a pool of exactly one connection and start with BEGIN
// IMMEDIATE, which takes the write lock up front, so a transaction never
// fails halfway because it could not upgrade a read lock. Update calls are
// group-committed: one goroutine runs the functions of the Update calls
// waiting at that moment in one transaction, each in a savepoint of its
// own (a failing function undoes only its own writes), commits them with
// one fsync and only then answers each caller. Should another process
// hold the lock beyond the busy timeout, the group is run again a few
// times. Statements of the write connection are prepared once and kept.
// Reads use a separate pool of read-only connections and run concurrently
// with each other and with the writer.
//
// # Schema
//
// The schema is built by the numbered scripts in the migrations directory,
// embedded in the binary. [Open] applies the missing ones in order, in one
// transaction, and records each version in the schema_migrations table. A
// database whose recorded version is newer than the binary knows is refused
// with [ErrSchemaTooNew].
//
// Times are stored as Unix milliseconds and returned in UTC, so they keep
// millisecond precision. A user's policy names are stored as a JSON array.
// Each project has a row in key_counts that CreateKey and DeleteKey update
// in the same transaction as the key, so that KeyCounts costs one row read
// however many keys a project holds.
//
// The rows a key owns (versions, grants, aliases, tags and import tokens)
// reference it with ON DELETE CASCADE, so that DeleteKey removes them with
// the key. The key aliases (keys.alias) and the aliases of the multi-alias
// API (the aliases table) share one namespace per project: triggers refuse
// a name taken in the other table, and their RAISE(ABORT) becomes
// [store.ErrConflict]. When a key is next due for rotation is the generated
// column keys.rotation_due_at, which the partial index keys_rotation_due
// keeps in order. Grants are counted on an index (a key holds at most the
// grant quota of them); tags likewise. The totals of ListKeys come from
// key_list_counts, one row per project and (spec, state, enterprise
// project) kept by triggers, and each filter of ListKeys has an index in
// list order (migration 0005). KeyCounts of the Store, outside any
// transaction, serves the counters from memory while PRAGMA data_version
// shows that nothing was committed by any connection since they were read;
// ListKeys remembers where each page ended, under the same rule, so that
// the page of a next_marker is one index seek (cursor.go). A jump to any
// other offset sums the counts of key_list_blocks, blocks of 1 000 to
// 2 000 keys of the list order per filter kept by triggers (migration
// 0009), and skips fewer than 2 000 index entries (blocks.go).
package sqlite
