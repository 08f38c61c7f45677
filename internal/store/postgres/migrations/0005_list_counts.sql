-- 0005_list_counts: list-keys costs O(page) whatever the number of keys
-- (issue 13), as SQLite's 0005.
--
-- key_list_counts holds, per project, the number of keys of each
-- combination of the columns ListKeys filters on (spec, state, enterprise
-- project). The total of a filtered list is the sum of the matching rows:
-- a few rows per project, never a scan of keys. The trigger below keeps it
-- current in the transaction that changes keys, whichever statement and
-- whichever node does it: the upsert takes the row lock of the count until
-- the commit, so concurrent writers on several nodes queue on it and the
-- count stays exact. A creation already holds the lock of its project's
-- key_counts row (see KeyCounts), so the count row adds no waiting to
-- creations. A row whose count falls to 0 stays (a handful per project):
-- removing it would race with a concurrent insert of the same combination.
CREATE TABLE key_list_counts (
	project_id            TEXT COLLATE "C" NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
	spec                  TEXT COLLATE "C" NOT NULL,
	state                 TEXT COLLATE "C" NOT NULL,
	enterprise_project_id TEXT COLLATE "C" NOT NULL,
	n                     BIGINT NOT NULL CHECK (n >= 0),
	PRIMARY KEY (project_id, spec, state, enterprise_project_id)
);

INSERT INTO key_list_counts (project_id, spec, state, enterprise_project_id, n)
	SELECT project_id, spec, state, enterprise_project_id, COUNT(*) FROM keys
	GROUP BY project_id, spec, state, enterprise_project_id;

-- key_list_count_add adds d to the count of the combination of k: an
-- upsert for a key counted in, an update for a key counted out (its row
-- exists, and the proposed row of an upsert would fail the check).
CREATE FUNCTION key_list_count_add(k keys, d BIGINT) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	IF d > 0 THEN
		INSERT INTO key_list_counts (project_id, spec, state, enterprise_project_id, n)
			VALUES (k.project_id, k.spec, k.state, k.enterprise_project_id, d)
			ON CONFLICT (project_id, spec, state, enterprise_project_id)
			DO UPDATE SET n = key_list_counts.n + excluded.n;
	ELSE
		UPDATE key_list_counts SET n = n + d WHERE project_id = k.project_id AND spec = k.spec
			AND state = k.state AND enterprise_project_id = k.enterprise_project_id;
	END IF;
END;
$$;

-- An update that moves a key from one combination to another locks the
-- two count rows in the order of their primary key, so that two updates
-- moving keys in opposite directions cannot deadlock.
CREATE FUNCTION keys_list_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		PERFORM key_list_count_add(NEW, 1);
	ELSIF TG_OP = 'DELETE' THEN
		PERFORM key_list_count_add(OLD, -1);
	ELSIF (OLD.project_id, OLD.spec, OLD.state, OLD.enterprise_project_id)
		< (NEW.project_id, NEW.spec, NEW.state, NEW.enterprise_project_id) THEN
		PERFORM key_list_count_add(OLD, -1);
		PERFORM key_list_count_add(NEW, 1);
	ELSE
		PERFORM key_list_count_add(NEW, 1);
		PERFORM key_list_count_add(OLD, -1);
	END IF;
	RETURN NULL;
END;
$$;

CREATE TRIGGER keys_list_count_insert AFTER INSERT ON keys
	FOR EACH ROW EXECUTE FUNCTION keys_list_count();
CREATE TRIGGER keys_list_count_delete AFTER DELETE ON keys
	FOR EACH ROW EXECUTE FUNCTION keys_list_count();
CREATE TRIGGER keys_list_count_update AFTER UPDATE OF project_id, spec, state, enterprise_project_id ON keys
	FOR EACH ROW
	WHEN ((OLD.project_id, OLD.spec, OLD.state, OLD.enterprise_project_id)
		IS DISTINCT FROM (NEW.project_id, NEW.spec, NEW.state, NEW.enterprise_project_id))
	EXECUTE FUNCTION keys_list_count();

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
