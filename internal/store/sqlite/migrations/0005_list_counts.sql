-- 0005_list_counts: list-keys costs O(page) whatever the number of keys
-- (issue 13).
--
-- key_list_counts holds, per project, the number of keys of each
-- combination of the columns ListKeys filters on (spec, state, enterprise
-- project). The total of a filtered list is the sum of the matching rows:
-- a few rows per project, never a scan of keys. The triggers below keep it
-- current in the transaction that changes keys, whichever statement does.
-- A row whose count falls to 0 is removed.
CREATE TABLE key_list_counts (
	project_id            TEXT    NOT NULL,
	spec                  TEXT    NOT NULL,
	state                 TEXT    NOT NULL,
	enterprise_project_id TEXT    NOT NULL,
	n                     INTEGER NOT NULL CHECK (n > 0),
	PRIMARY KEY (project_id, spec, state, enterprise_project_id)
) STRICT;

INSERT INTO key_list_counts (project_id, spec, state, enterprise_project_id, n)
	SELECT project_id, spec, state, enterprise_project_id, COUNT(*) FROM keys
	GROUP BY project_id, spec, state, enterprise_project_id;

CREATE TRIGGER keys_list_count_insert AFTER INSERT ON keys
BEGIN
	INSERT INTO key_list_counts (project_id, spec, state, enterprise_project_id, n)
		VALUES (NEW.project_id, NEW.spec, NEW.state, NEW.enterprise_project_id, 1)
		ON CONFLICT (project_id, spec, state, enterprise_project_id) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER keys_list_count_delete AFTER DELETE ON keys
BEGIN
	DELETE FROM key_list_counts WHERE project_id = OLD.project_id AND spec = OLD.spec
		AND state = OLD.state AND enterprise_project_id = OLD.enterprise_project_id AND n = 1;
	UPDATE key_list_counts SET n = n - 1 WHERE project_id = OLD.project_id AND spec = OLD.spec
		AND state = OLD.state AND enterprise_project_id = OLD.enterprise_project_id;
END;

CREATE TRIGGER keys_list_count_update AFTER UPDATE OF project_id, spec, state, enterprise_project_id ON keys
	WHEN OLD.project_id IS NOT NEW.project_id OR OLD.spec IS NOT NEW.spec
	OR OLD.state IS NOT NEW.state OR OLD.enterprise_project_id IS NOT NEW.enterprise_project_id
BEGIN
	DELETE FROM key_list_counts WHERE project_id = OLD.project_id AND spec = OLD.spec
		AND state = OLD.state AND enterprise_project_id = OLD.enterprise_project_id AND n = 1;
	UPDATE key_list_counts SET n = n - 1 WHERE project_id = OLD.project_id AND spec = OLD.spec
		AND state = OLD.state AND enterprise_project_id = OLD.enterprise_project_id;
	INSERT INTO key_list_counts (project_id, spec, state, enterprise_project_id, n)
		VALUES (NEW.project_id, NEW.spec, NEW.state, NEW.enterprise_project_id, 1)
		ON CONFLICT (project_id, spec, state, enterprise_project_id) DO UPDATE SET n = n + 1;
END;

-- The pages of a filtered list walk an index that starts with the filter
-- and goes on in list order, so that skipping to the marker reads index
-- entries only and a page reads only its own rows. Without a filter the
-- walk uses keys_list; the enterprise project, rarely given, is checked on
-- the index entries.
CREATE INDEX keys_list_spec ON keys (project_id, spec, created_at, key_id, state, enterprise_project_id);
CREATE INDEX keys_list_state ON keys (project_id, state, created_at, key_id, enterprise_project_id);
CREATE INDEX keys_list_spec_state ON keys (project_id, spec, state, created_at, key_id, enterprise_project_id);

-- FindKeysByTags with tags starts from the keys that carry the first tag
-- of the query (with one of its values), not from every key of the project.
-- The project comes third so that the lists of one key's tags keep to the
-- primary key.
CREATE INDEX key_tags_lookup ON key_tags (tag_key, tag_value, project_id, key_id);
