package postgres

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// A conn is the PostgreSQL transaction of a tx, which holds back the
// statements that take no arguments and whose answer nobody reads (the
// savepoints of tx.atomic and of the group commit, and their release on
// success) and sends them in one pipeline with the next statement that has
// an answer, or alone before the commit: one round trip where there were
// several. An undo (rollbackTo) is sent at once. A held statement that
// fails makes the next statement fail, and leaves the transaction aborted
// so that its commit fails too; nothing is committed that was not meant
// to be. A conn is not safe for concurrent use.
type conn struct {
	tx   pgx.Tx
	held []string
}

// hold queues q (no arguments, no answer) to be sent with the next
// statement.
func (c *conn) hold(q string) { c.held = append(c.held, q) }

// flush sends the held statements, if any, in one simple-protocol query.
func (c *conn) flush(ctx context.Context) error {
	if len(c.held) == 0 {
		return nil
	}
	q := strings.Join(c.held, "; ")
	c.held = c.held[:0]
	_, err := c.tx.Exec(ctx, q)
	return err
}

// batch returns a batch of the held statements followed by q, and the
// number of held statements in it.
func (c *conn) batch(q string, args []any) (*pgx.Batch, int) {
	b := &pgx.Batch{}
	for _, h := range c.held {
		b.Queue(h)
	}
	n := len(c.held)
	c.held = c.held[:0]
	b.Queue(q, args...)
	return b, n
}

// rollbackTo undoes everything since the savepoint sp, and releases it, at
// once (with the held statements before it): after a failed statement the
// transaction accepts nothing else, and pgx would have to prepare the next
// statement first, which PostgreSQL refuses in that state.
func (c *conn) rollbackTo(ctx context.Context, sp string) error {
	c.hold("ROLLBACK TO SAVEPOINT " + sp)
	c.hold("RELEASE SAVEPOINT " + sp)
	return c.flush(ctx)
}

// Exec runs q after the held statements, in one round trip.
func (c *conn) Exec(ctx context.Context, q string, args ...any) (pgconn.CommandTag, error) {
	if len(c.held) == 0 {
		return c.tx.Exec(ctx, q, args...)
	}
	b, n := c.batch(q, args)
	br := c.tx.SendBatch(ctx, b)
	defer br.Close()
	for range n {
		if _, err := br.Exec(); err != nil {
			return pgconn.CommandTag{}, err
		}
	}
	tag, err := br.Exec()
	if err != nil {
		return tag, err
	}
	return tag, br.Close()
}

// QueryRow runs q after the held statements, in one round trip. The row
// must be scanned (every caller does), which ends the pipeline.
func (c *conn) QueryRow(ctx context.Context, q string, args ...any) pgx.Row {
	if len(c.held) == 0 {
		return c.tx.QueryRow(ctx, q, args...)
	}
	b, n := c.batch(q, args)
	return &batchRow{br: c.tx.SendBatch(ctx, b), held: n}
}

// Query runs q after the held statements (sent first, in a round trip of
// their own: queries of many rows are rare in writes).
func (c *conn) Query(ctx context.Context, q string, args ...any) (pgx.Rows, error) {
	if err := c.flush(ctx); err != nil {
		return nil, err
	}
	return c.tx.Query(ctx, q, args...)
}

// Commit sends the held statements and commits.
func (c *conn) Commit(ctx context.Context) error {
	if err := c.flush(ctx); err != nil {
		return err
	}
	return c.tx.Commit(ctx)
}

// batchRow is the row of a statement sent after held ones.
type batchRow struct {
	br   pgx.BatchResults
	held int
}

func (r *batchRow) Scan(dest ...any) error {
	defer r.br.Close()
	for range r.held {
		if _, err := r.br.Exec(); err != nil {
			return err
		}
	}
	if err := r.br.QueryRow().Scan(dest...); err != nil {
		return err
	}
	return r.br.Close()
}
