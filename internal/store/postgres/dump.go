package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/kmsd/kmsd/internal/store"
)

// The Dumper of kmsd backup (store/dump.go): every row of every table,
// streamed in primary-key order from the transaction's snapshot.

var _ store.Dumper = (*tx)(nil)

var _ store.BulkLoader = (*Store)(nil)

// Load runs load in one READ COMMITTED transaction whose methods open no
// savepoints and do not count keys (see store.BulkLoader): a failing
// statement aborts the whole transaction, which Load then rolls back. It
// locks key_counts for the transaction, so that no other writer counts a
// key meanwhile (the triggers of migration 0005 lock its rows too), and
// recounts every project's keys once before check.
func (s *Store) Load(ctx context.Context, load, check func(store.Tx) error) error {
	pgTx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return wrap("begin load", err)
	}
	defer pgTx.Rollback(context.WithoutCancel(ctx))
	c := &conn{tx: pgTx}
	t := &tx{ctx: ctx, tx: c, write: true, bulk: true}
	if _, err := c.Exec(ctx, "LOCK TABLE key_counts IN EXCLUSIVE MODE"); err != nil {
		return wrap("load", err)
	}
	// The list counts and blocks of migration 0005 are rebuilt once at
	// the end, not counted key by key (key_list_rebuild).
	if _, err := c.Exec(ctx, "SELECT set_config('kmsd.bulk_load', 'on', true)"); err != nil {
		return wrap("load", err)
	}
	if err := load(t); err != nil {
		return err
	}
	if _, err := c.Exec(ctx, "SELECT set_config('kmsd.bulk_load', 'off', true), key_list_rebuild()"); err != nil {
		return wrap("load: list counts", err)
	}
	if _, err := c.Exec(ctx, `UPDATE key_counts c SET custom_keys = n.custom, default_keys = n.dflt
		FROM (SELECT p.id, COUNT(k.key_id) FILTER (WHERE NOT k.is_default) AS custom,
			COUNT(k.key_id) FILTER (WHERE k.is_default) AS dflt
			FROM projects p LEFT JOIN keys k ON k.project_id = p.id GROUP BY p.id) n
		WHERE c.project_id = n.id`); err != nil {
		return wrap("load: count keys", err)
	}
	t.bulk = false
	if err := check(t); err != nil {
		return err
	}
	return wrap("commit load", c.Commit(ctx))
}

// each runs q and calls fn with every row scanned by scan, one at a time.
func each[T any](t *tx, op string, scan func(scanner) (T, error), q string, fn func(T) error) error {
	rows, err := t.tx.Query(t.ctx, q)
	if err != nil {
		return wrap(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return wrap(op, err)
		}
		if err := fn(v); err != nil {
			return err
		}
	}
	return wrap(op, rows.Err())
}

// dumpCountsQuery counts the rows of every table that a Dumper visits.
const dumpCountsQuery = `SELECT
	(SELECT COUNT(*) FROM accounts), (SELECT COUNT(*) FROM projects),
	(SELECT COUNT(*) FROM users), (SELECT COUNT(*) FROM access_keys),
	(SELECT COUNT(*) FROM policies), (SELECT COUNT(*) FROM keystores),
	(SELECT COUNT(*) FROM keyspaces), (SELECT COUNT(*) FROM keys),
	(SELECT COUNT(*) FROM key_versions), (SELECT COUNT(*) FROM key_regions),
	(SELECT COUNT(*) FROM grants), (SELECT COUNT(*) FROM aliases),
	(SELECT COUNT(*) FROM key_tags), (SELECT COUNT(*) FROM import_tokens),
	(SELECT COUNT(*) FROM access_points), (SELECT COUNT(*) FROM key_policies),
	(SELECT COUNT(*) FROM meta)`

func (t *tx) DumpCounts() (store.DumpCounts, error) {
	var c store.DumpCounts
	err := t.row(dumpCountsQuery).Scan(&c.Accounts, &c.Projects, &c.Users,
		&c.AccessKeys, &c.Policies, &c.Keystores, &c.KeySpaces, &c.Keys, &c.KeyVersions,
		&c.KeyRegions, &c.Grants, &c.Aliases, &c.Tags, &c.ImportTokens, &c.AccessPoints,
		&c.KeyPolicies, &c.Meta)
	return c, wrap("dump counts", err)
}

func (t *tx) EachAccount(fn func(store.Account) error) error {
	return each(t, "dump accounts", scanAccount, "SELECT "+accountCols+" FROM accounts ORDER BY id", fn)
}

func (t *tx) EachProject(fn func(store.Project) error) error {
	return each(t, "dump projects", scanProject, "SELECT "+projectCols+" FROM projects ORDER BY id", fn)
}

func (t *tx) EachUser(fn func(store.User) error) error {
	return each(t, "dump users", scanUser, "SELECT "+userCols+" FROM users ORDER BY id", fn)
}

func (t *tx) EachAccessKey(fn func(store.AccessKey) error) error {
	return each(t, "dump access keys", scanAccessKey, "SELECT "+accessKeyCols+" FROM access_keys ORDER BY ak", fn)
}

func (t *tx) EachPolicy(fn func(store.Policy) error) error {
	return each(t, "dump policies", scanPolicy, "SELECT "+policyCols+" FROM policies ORDER BY account_id, name", fn)
}

func (t *tx) EachKeystore(fn func(store.Keystore) error) error {
	return each(t, "dump keystores", scanKeystore, "SELECT "+keystoreCols+" FROM keystores ORDER BY id", fn)
}

func (t *tx) EachKeySpace(fn func(store.KeySpace) error) error {
	return each(t, "dump key spaces", scanKeySpace, "SELECT "+keySpaceCols+" FROM keyspaces ORDER BY id", fn)
}

func (t *tx) EachKey(fn func(store.Key) error) error {
	return each(t, "dump keys", scanKey, "SELECT "+keyCols+" FROM keys ORDER BY project_id, key_id", fn)
}

func (t *tx) EachKeyVersion(fn func(store.KeyVersion) error) error {
	return each(t, "dump key versions", scanKeyVersion,
		"SELECT "+keyVersionCols+" FROM key_versions ORDER BY project_id, key_id, version", fn)
}

// EachKeyRegion reads the regions joined with their replicas in one
// statement and hands over a region once its last replica is read.
func (t *tx) EachKeyRegion(fn func(store.KeyRegion) error) error {
	type row struct {
		r       store.KeyRegion
		replica *string
		project *string
	}
	var cur *store.KeyRegion
	err := each(t, "dump key regions", func(s scanner) (row, error) {
		var w row
		err := s.Scan(&w.r.ProjectID, &w.r.KeyID, &w.r.PrimaryRegion, &w.r.MaterialProjectID, &w.replica, &w.project)
		return w, err
	}, `SELECT r.project_id, r.key_id, r.primary_region, r.material_project_id, p.region, p.replica_project_id
		FROM key_regions r LEFT JOIN key_replicas p ON p.project_id = r.project_id AND p.key_id = r.key_id
		ORDER BY r.project_id, r.key_id, p.region`, func(w row) error {
		if cur != nil && (cur.ProjectID != w.r.ProjectID || cur.KeyID != w.r.KeyID) {
			if err := fn(*cur); err != nil {
				return err
			}
			cur = nil
		}
		if cur == nil {
			cur = &w.r
		}
		if w.replica != nil && w.project != nil {
			cur.Replicas = append(cur.Replicas, store.KeyReplica{Region: *w.replica, ProjectID: *w.project})
		}
		return nil
	})
	if err != nil || cur == nil {
		return err
	}
	return fn(*cur)
}

func (t *tx) EachGrant(fn func(store.Grant) error) error {
	return each(t, "dump grants", scanGrant, "SELECT "+grantCols+" FROM grants ORDER BY grant_id", fn)
}

func (t *tx) EachAlias(fn func(store.Alias) error) error {
	return each(t, "dump aliases", scanAlias, "SELECT "+aliasCols+" FROM aliases ORDER BY project_id, alias", fn)
}

func (t *tx) EachTag(fn func(store.KeyTag) error) error {
	return each(t, "dump tags", func(s scanner) (store.KeyTag, error) {
		var k store.KeyTag
		return k, s.Scan(&k.ProjectID, &k.KeyID, &k.Key, &k.Value)
	}, "SELECT project_id, key_id, tag_key, tag_value FROM key_tags ORDER BY project_id, key_id, tag_key", fn)
}

func (t *tx) EachImportToken(fn func(store.ImportToken) error) error {
	return each(t, "dump import tokens", scanImportToken,
		"SELECT "+importTokenCols+" FROM import_tokens ORDER BY token_id", fn)
}

func (t *tx) EachAccessPoint(fn func(store.AccessPoint) error) error {
	return each(t, "dump access points", scanAccessPoint,
		"SELECT "+accessPointCols+" FROM access_points ORDER BY id", fn)
}

func (t *tx) EachKeyPolicy(fn func(store.KeyPolicy) error) error {
	return each(t, "dump key policies", scanKeyPolicy,
		"SELECT "+keyPolicyCols+" FROM key_policies ORDER BY id", fn)
}

func (t *tx) EachMeta(fn func(store.Meta) error) error {
	return each(t, "dump meta", func(s scanner) (store.Meta, error) {
		var m store.Meta
		return m, s.Scan(&m.Name, &m.Value)
	}, "SELECT name, value FROM meta ORDER BY name", fn)
}
