-- 0005_list_counts: list-keys costs O(page) whatever the number of keys
-- (issue 13), as SQLite's 0005 (counts) and 0009 (blocks).
--
-- key_list_counts holds, per project, the number of keys of each
-- combination of the columns ListKeys filters on (spec, state, enterprise
-- project). The total of a filtered list is the sum of the matching rows:
-- a few rows per project, never a scan of keys. The triggers below keep it
-- current in the transaction that changes keys, whichever statement and
-- whichever node does it: the upsert takes the row lock of the count until
-- the commit, so concurrent writers on several nodes queue on it and the
-- count stays exact. A creation already holds the lock of its project's
-- key_counts row (see KeyCounts), so the count row adds no waiting to
-- creations. A row whose count falls to 0 stays (a handful per project):
-- removing it would race with a concurrent insert of the same combination.
--
-- The triggers run once per statement, on its transition tables, and
-- apply the net change of each combination in one upsert: a statement
-- that writes many keys (a bulk insert) touches each count row once, where
-- a row trigger would stack one row version per key on the same row in one
-- transaction. The one upsert locks the rows it changes in the order of
-- their primary key, so two statements moving keys in opposite directions
-- cannot deadlock. n has no CHECK (n >= 0): a check applies to the row an
-- upsert proposes before it finds the conflict, and the net change of a
-- combination may be negative.
CREATE TABLE key_list_counts (
	project_id            TEXT COLLATE "C" NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
	spec                  TEXT COLLATE "C" NOT NULL,
	state                 TEXT COLLATE "C" NOT NULL,
	enterprise_project_id TEXT COLLATE "C" NOT NULL,
	n                     BIGINT NOT NULL,
	PRIMARY KEY (project_id, spec, state, enterprise_project_id)
);

CREATE FUNCTION keys_list_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF current_setting('kmsd.bulk_load', true) = 'on' THEN
		RETURN NULL; -- counted by key_list_rebuild at the end of the load
	END IF;
	IF TG_OP = 'INSERT' THEN
		INSERT INTO key_list_counts AS c (project_id, spec, state, enterprise_project_id, n)
			SELECT project_id, spec, state, enterprise_project_id, COUNT(*) FROM new_keys
			GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
			ON CONFLICT (project_id, spec, state, enterprise_project_id) DO UPDATE SET n = c.n + excluded.n;
	ELSIF TG_OP = 'DELETE' THEN
		INSERT INTO key_list_counts AS c (project_id, spec, state, enterprise_project_id, n)
			SELECT project_id, spec, state, enterprise_project_id, -COUNT(*) FROM old_keys
			GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
			ON CONFLICT (project_id, spec, state, enterprise_project_id) DO UPDATE SET n = c.n + excluded.n;
	ELSE
		INSERT INTO key_list_counts AS c (project_id, spec, state, enterprise_project_id, n)
			SELECT project_id, spec, state, enterprise_project_id, SUM(d) FROM (
				SELECT project_id, spec, state, enterprise_project_id, -1 AS d FROM old_keys
				UNION ALL
				SELECT project_id, spec, state, enterprise_project_id, 1 AS d FROM new_keys
			) m GROUP BY 1, 2, 3, 4 HAVING SUM(d) <> 0 ORDER BY 1, 2, 3, 4
			ON CONFLICT (project_id, spec, state, enterprise_project_id) DO UPDATE SET n = c.n + excluded.n;
	END IF;
	RETURN NULL;
END;
$$;

CREATE TRIGGER keys_list_count_insert AFTER INSERT ON keys
	REFERENCING NEW TABLE AS new_keys
	FOR EACH STATEMENT EXECUTE FUNCTION keys_list_count();
CREATE TRIGGER keys_list_count_delete AFTER DELETE ON keys
	REFERENCING OLD TABLE AS old_keys
	FOR EACH STATEMENT EXECUTE FUNCTION keys_list_count();
-- A trigger with transition tables cannot name columns (UPDATE OF): an
-- update that changes none of the counted columns nets to nothing and
-- writes no row.
CREATE TRIGGER keys_list_count_update AFTER UPDATE ON keys
	REFERENCING OLD TABLE AS old_keys NEW TABLE AS new_keys
	FOR EACH STATEMENT EXECUTE FUNCTION keys_list_count();

-- The pages of a filtered list walk an index that starts with the filter
-- and goes on in list order, and holds every column the filter and the
-- page's key ids need, so that skipping to the offset is an index-only
-- scan (index entries, no table rows, once autovacuum has marked the
-- pages all-visible); the page then reads its own rows by primary key.
-- keys_list_all replaces keys_list, which lacked the enterprise project.
CREATE INDEX keys_list_all ON keys (project_id, created_at, key_id) INCLUDE (enterprise_project_id);
DROP INDEX keys_list;
CREATE INDEX keys_list_spec ON keys (project_id, spec, created_at, key_id) INCLUDE (state, enterprise_project_id);
CREATE INDEX keys_list_state ON keys (project_id, state, created_at, key_id) INCLUDE (enterprise_project_id);
CREATE INDEX keys_list_spec_state ON keys (project_id, spec, state, created_at, key_id) INCLUDE (enterprise_project_id);

-- FindKeysByTags with tags starts from the keys that carry the first tag
-- of the query (with one of its values), not from every key of the project;
-- the key ids are in the index, so the lookup reads no table rows.
-- key_tags_lookup replaces key_tags_project, its prefix.
CREATE INDEX key_tags_lookup ON key_tags (project_id, tag_key, tag_value, key_id);
DROP INDEX key_tags_project;

-- Blocks: a jump to any offset of list-keys costs O(blocks +
-- page), not O(offset) (issue 13), as SQLite's 0009.
--
-- key_list_blocks cuts the list order (created_at, key_id) of each project
-- into blocks of 1 000 to 2 000 keys and holds how many keys of each block
-- match each filter that ListKeys serves from an index (dim): none (0),
-- the spec alone (1, state = ''), the state alone (2, spec = ''), or both
-- (3). A block starts at a position (start_at, start_id), inclusive, and
-- ends where the next block of the same filter starts; the first block of
-- each filter starts before every key (the smallest BIGINT and ''). A
-- jump sums the counts of the blocks before the offset, seeks to the start
-- of the block that holds it and skips fewer than 2 000 index entries.
--
-- The statement trigger below keeps the counts in the transaction that
-- changes keys: it adds the net change of each block in one upsert (a bulk
-- insert touches each block once) and splits every block that reached
-- 2 000 keys at its 1 000th key. Which block holds a key depends on the
-- splits committed by other nodes, so the trigger first locks the
-- key_counts rows of the projects it changes (in order; creations hold
-- that lock already, see KeyCounts): block changes of one project are
-- serialized, and each statement of the trigger, under READ COMMITTED,
-- sees the blocks the previous holder committed. Triggers fire in name
-- order, so this one (keys_list_blocks_*) takes the project lock before
-- keys_list_count_* locks count rows: one lock order everywhere. An update
-- that changes no spec or state takes no lock.
CREATE TABLE key_list_blocks (
	project_id TEXT COLLATE "C" NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
	dim        SMALLINT NOT NULL CHECK (dim BETWEEN 0 AND 3),
	spec       TEXT COLLATE "C" NOT NULL,
	state      TEXT COLLATE "C" NOT NULL,
	start_at   BIGINT NOT NULL,
	start_id   TEXT COLLATE "C" NOT NULL,
	n          BIGINT NOT NULL,
	PRIMARY KEY (project_id, dim, spec, state, start_at, start_id)
);

-- key_list_blocks_split splits the block at (p, dm, sp, st, at, id) while
-- it holds 2 000 keys or more: a new block starts at its 1 000th key.
CREATE FUNCTION key_list_blocks_split(p TEXT, dm SMALLINT, sp TEXT, st TEXT, at BIGINT, id TEXT, cnt BIGINT)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	next_at BIGINT;
	next_id TEXT;
BEGIN
	WHILE cnt >= 2000 LOOP
		IF dm = 0 THEN
			SELECT created_at, key_id INTO next_at, next_id FROM keys
				WHERE project_id = p AND (created_at, key_id) >= (at, id)
				ORDER BY created_at, key_id LIMIT 1 OFFSET 1000;
		ELSIF dm = 1 THEN
			SELECT created_at, key_id INTO next_at, next_id FROM keys
				WHERE project_id = p AND spec = sp AND (created_at, key_id) >= (at, id)
				ORDER BY created_at, key_id LIMIT 1 OFFSET 1000;
		ELSIF dm = 2 THEN
			SELECT created_at, key_id INTO next_at, next_id FROM keys
				WHERE project_id = p AND state = st AND (created_at, key_id) >= (at, id)
				ORDER BY created_at, key_id LIMIT 1 OFFSET 1000;
		ELSE
			SELECT created_at, key_id INTO next_at, next_id FROM keys
				WHERE project_id = p AND spec = sp AND state = st AND (created_at, key_id) >= (at, id)
				ORDER BY created_at, key_id LIMIT 1 OFFSET 1000;
		END IF;
		INSERT INTO key_list_blocks (project_id, dim, spec, state, start_at, start_id, n)
			VALUES (p, dm, sp, st, next_at, next_id, cnt - 1000);
		UPDATE key_list_blocks SET n = 1000
			WHERE project_id = p AND dim = dm AND spec = sp AND state = st AND start_at = at AND start_id = id;
		at := next_at;
		id := next_id;
		cnt := cnt - 1000;
	END LOOP;
END;
$$;

-- key_list_blocks_apply adds d[i] to the blocks of the key at (at[i],
-- id[i]) of project p[i] with spec sp[i] and state st[i], for every i,
-- creating the first block of a filter on its first key, and splits the
-- blocks that reached 2 000 keys. It first locks the key_counts rows of
-- the projects (see above).
CREATE FUNCTION key_list_blocks_apply(p TEXT[], at BIGINT[], id TEXT[], sp TEXT[], st TEXT[], d BIGINT[])
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	b RECORD;
BEGIN
	PERFORM 1 FROM key_counts WHERE project_id = ANY (p) ORDER BY project_id FOR NO KEY UPDATE;
	FOR b IN
		WITH x AS (
			SELECT * FROM unnest(p, at, id, sp, st, d) AS x (project_id, created_at, key_id, spec, state, d)
		), e AS (
			SELECT x.project_id COLLATE "C" AS project_id, dm.dim::SMALLINT AS dim,
				(CASE WHEN dm.dim & 1 = 1 THEN x.spec ELSE '' END) COLLATE "C" AS spec,
				(CASE WHEN dm.dim & 2 = 2 THEN x.state ELSE '' END) COLLATE "C" AS state,
				x.created_at, x.key_id COLLATE "C" AS key_id, x.d
			FROM x CROSS JOIN generate_series(0, 3) AS dm (dim)
		), up AS (
			INSERT INTO key_list_blocks AS t (project_id, dim, spec, state, start_at, start_id, n)
				SELECT e.project_id, e.dim, e.spec, e.state,
					COALESCE(s.start_at, -9223372036854775808), COALESCE(s.start_id, ''), SUM(e.d)
				FROM e LEFT JOIN LATERAL (
					SELECT c.start_at, c.start_id FROM key_list_blocks c
					WHERE c.project_id = e.project_id AND c.dim = e.dim AND c.spec = e.spec AND c.state = e.state
						AND (c.start_at, c.start_id) <= (e.created_at, e.key_id)
					ORDER BY c.start_at DESC, c.start_id DESC LIMIT 1
				) s ON true
				GROUP BY 1, 2, 3, 4, 5, 6 HAVING SUM(e.d) <> 0 ORDER BY 1, 2, 3, 4, 5, 6
				ON CONFLICT (project_id, dim, spec, state, start_at, start_id) DO UPDATE SET n = t.n + excluded.n
				RETURNING t.*
		)
		SELECT * FROM up WHERE up.n >= 2000
	LOOP
		PERFORM key_list_blocks_split(b.project_id, b.dim, b.spec, b.state, b.start_at, b.start_id, b.n);
	END LOOP;
END;
$$;

CREATE FUNCTION keys_list_blocks_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF current_setting('kmsd.bulk_load', true) = 'on' THEN
		RETURN NULL;
	END IF;
	PERFORM key_list_blocks_apply(array_agg(project_id), array_agg(created_at), array_agg(key_id),
		array_agg(spec), array_agg(state), array_agg(1::BIGINT)) FROM new_keys HAVING COUNT(*) > 0;
	RETURN NULL;
END;
$$;

CREATE FUNCTION keys_list_blocks_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF current_setting('kmsd.bulk_load', true) = 'on' THEN
		RETURN NULL;
	END IF;
	PERFORM key_list_blocks_apply(array_agg(project_id), array_agg(created_at), array_agg(key_id),
		array_agg(spec), array_agg(state), array_agg(-1::BIGINT)) FROM old_keys HAVING COUNT(*) > 0;
	RETURN NULL;
END;
$$;

-- An update moves the keys whose spec or state changed; the others (most
-- updates) take no lock.
CREATE FUNCTION keys_list_blocks_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF current_setting('kmsd.bulk_load', true) = 'on' THEN
		RETURN NULL;
	END IF;
	PERFORM key_list_blocks_apply(array_agg(m.project_id), array_agg(m.created_at), array_agg(m.key_id),
		array_agg(m.spec), array_agg(m.state), array_agg(m.d))
	FROM (
		SELECT o.project_id, o.created_at, o.key_id, o.spec, o.state, -1::BIGINT AS d
		FROM old_keys o JOIN new_keys k USING (project_id, key_id) WHERE o.spec <> k.spec OR o.state <> k.state
		UNION ALL
		SELECT k.project_id, k.created_at, k.key_id, k.spec, k.state, 1
		FROM old_keys o JOIN new_keys k USING (project_id, key_id) WHERE o.spec <> k.spec OR o.state <> k.state
	) m HAVING COUNT(*) > 0;
	RETURN NULL;
END;
$$;

CREATE TRIGGER keys_list_blocks_insert AFTER INSERT ON keys
	REFERENCING NEW TABLE AS new_keys
	FOR EACH STATEMENT EXECUTE FUNCTION keys_list_blocks_insert();
CREATE TRIGGER keys_list_blocks_delete AFTER DELETE ON keys
	REFERENCING OLD TABLE AS old_keys
	FOR EACH STATEMENT EXECUTE FUNCTION keys_list_blocks_delete();
CREATE TRIGGER keys_list_blocks_update AFTER UPDATE ON keys
	REFERENCING OLD TABLE AS old_keys NEW TABLE AS new_keys
	FOR EACH STATEMENT EXECUTE FUNCTION keys_list_blocks_update();

-- key_list_rebuild counts every key again, into key_list_counts and into
-- key_list_blocks (the first block of each filter starts before every key,
-- each further one at every 1 000th key in list order). The migration
-- runs it once; a bulk load (Load in dump.go) runs it at its end instead
-- of the triggers, which a transaction that sets kmsd.bulk_load to 'on'
-- turns off: one count per key in one transaction would stack row
-- versions on the same count rows. Its caller keeps other writers out.
CREATE FUNCTION key_list_rebuild() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM key_list_counts;
	INSERT INTO key_list_counts (project_id, spec, state, enterprise_project_id, n)
		SELECT project_id, spec, state, enterprise_project_id, COUNT(*) FROM keys
		GROUP BY project_id, spec, state, enterprise_project_id;
	DELETE FROM key_list_blocks;
	INSERT INTO key_list_blocks (project_id, dim, spec, state, start_at, start_id, n)
		SELECT project_id, dim, spec, state,
			CASE WHEN b = 0 THEN -9223372036854775808 ELSE MAX(created_at) FILTER (WHERE r % 1000 = 0) END,
			CASE WHEN b = 0 THEN '' ELSE MAX(key_id) FILTER (WHERE r % 1000 = 0) END,
			COUNT(*)
		FROM (
			SELECT project_id, dim, spec, state, created_at, key_id, r, r / 1000 AS b FROM (
				SELECT k.project_id, d.dim,
					CASE WHEN d.dim & 1 = 1 THEN k.spec ELSE '' END AS spec,
					CASE WHEN d.dim & 2 = 2 THEN k.state ELSE '' END AS state,
					k.created_at, k.key_id,
					row_number() OVER (PARTITION BY k.project_id, d.dim,
						CASE WHEN d.dim & 1 = 1 THEN k.spec ELSE '' END,
						CASE WHEN d.dim & 2 = 2 THEN k.state ELSE '' END
						ORDER BY k.created_at, k.key_id) - 1 AS r
				FROM keys k CROSS JOIN generate_series(0, 3) AS d (dim)
			) numbered
		) blocked
		GROUP BY project_id, dim, spec, state, b;
END;
$$;

SELECT key_list_rebuild();

