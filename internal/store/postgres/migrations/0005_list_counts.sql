-- 0005_list_counts: list-keys costs O(page) whatever the number of keys
-- (issue 13), as SQLite's 0005.
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

INSERT INTO key_list_counts (project_id, spec, state, enterprise_project_id, n)
	SELECT project_id, spec, state, enterprise_project_id, COUNT(*) FROM keys
	GROUP BY project_id, spec, state, enterprise_project_id;

CREATE FUNCTION keys_list_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
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
