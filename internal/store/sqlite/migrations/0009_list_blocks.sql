-- 0009_list_blocks: a jump to any offset of list-keys costs O(blocks +
-- page), not O(offset) (issue 13).
--
-- The wire marker of list-keys is a numeric offset, and an index finds the
-- k-th entry only by stepping over the k before it. key_list_blocks cuts
-- the list order (created_at, key_id) of each project into blocks of 1 000
-- to 2 000 keys and holds how many keys of each block match each filter
-- that ListKeys serves from an index (dim): none (0), the spec alone (1,
-- state = ''), the state alone (2, spec = ''), or both (3). A block
-- starts at a position (start_at, start_id) of the list order, inclusive,
-- and ends where the next block of the same filter starts; the first block
-- of each filter starts before every key (the smallest integer and ''),
-- so every key falls in one block. A position need not be a key that
-- still exists. ListKeys sums the counts of the blocks before the offset
-- (about total / 1 500 rows), seeks to the start of the block that holds
-- it and skips fewer than 2 000 index entries.
--
-- The triggers on keys keep the counts in the transaction that changes
-- keys. An insert counts the key in the block of each of its four filters
-- that holds its position; a block that reaches 2 000 keys is split at its
-- 1 000th key by the trigger key_list_blocks_split_*, which reads those
-- 1 000 index entries (once per 1 000 inserts into the block). A delete
-- or a change of spec or state moves the counts; blocks never merge (a
-- block may fall to 0 keys and stays).
CREATE TABLE key_list_blocks (
	project_id TEXT    NOT NULL,
	dim        INTEGER NOT NULL CHECK (dim BETWEEN 0 AND 3),
	spec       TEXT    NOT NULL,
	state      TEXT    NOT NULL,
	start_at   INTEGER NOT NULL,
	start_id   TEXT    NOT NULL,
	n          INTEGER NOT NULL CHECK (n >= 0),
	UNIQUE (project_id, dim, spec, state, start_at, start_id)
) STRICT;

-- The blocks of the keys that exist: the first block of each filter starts
-- before every key, each further one at every 1 000th key in list order.
INSERT INTO key_list_blocks (project_id, dim, spec, state, start_at, start_id, n)
	SELECT project_id, dim, spec, state,
		CASE WHEN b = 0 THEN -9223372036854775808 ELSE MAX(CASE WHEN r % 1000 = 0 THEN created_at END) END,
		CASE WHEN b = 0 THEN '' ELSE MAX(CASE WHEN r % 1000 = 0 THEN key_id END) END,
		COUNT(*)
	FROM (
		SELECT project_id, dim, spec, state, created_at, key_id, r, r / 1000 AS b FROM (
			SELECT project_id, 0 AS dim, '' AS spec, '' AS state, created_at, key_id,
				row_number() OVER (PARTITION BY project_id ORDER BY created_at, key_id) - 1 AS r FROM keys
			UNION ALL
			SELECT project_id, 1, spec, '', created_at, key_id,
				row_number() OVER (PARTITION BY project_id, spec ORDER BY created_at, key_id) - 1 FROM keys
			UNION ALL
			SELECT project_id, 2, '', state, created_at, key_id,
				row_number() OVER (PARTITION BY project_id, state ORDER BY created_at, key_id) - 1 FROM keys
			UNION ALL
			SELECT project_id, 3, spec, state, created_at, key_id,
				row_number() OVER (PARTITION BY project_id, spec, state ORDER BY created_at, key_id) - 1 FROM keys
		)
	)
	GROUP BY project_id, dim, spec, state, b;

CREATE TRIGGER keys_list_blocks_insert AFTER INSERT ON keys
BEGIN
	INSERT INTO key_list_blocks (project_id, dim, spec, state, start_at, start_id, n) VALUES
		(NEW.project_id, 0, '', '', -9223372036854775808, '', 0),
		(NEW.project_id, 1, NEW.spec, '', -9223372036854775808, '', 0),
		(NEW.project_id, 2, '', NEW.state, -9223372036854775808, '', 0),
		(NEW.project_id, 3, NEW.spec, NEW.state, -9223372036854775808, '', 0)
		ON CONFLICT DO NOTHING;
	UPDATE key_list_blocks SET n = n + 1 WHERE rowid =
		(SELECT rowid FROM key_list_blocks WHERE project_id = NEW.project_id AND dim = 0 AND spec = '' AND state = ''
			AND (start_at, start_id) <= (NEW.created_at, NEW.key_id) ORDER BY start_at DESC, start_id DESC LIMIT 1);
	UPDATE key_list_blocks SET n = n + 1 WHERE rowid =
		(SELECT rowid FROM key_list_blocks WHERE project_id = NEW.project_id AND dim = 1 AND spec = NEW.spec AND state = ''
			AND (start_at, start_id) <= (NEW.created_at, NEW.key_id) ORDER BY start_at DESC, start_id DESC LIMIT 1);
	UPDATE key_list_blocks SET n = n + 1 WHERE rowid =
		(SELECT rowid FROM key_list_blocks WHERE project_id = NEW.project_id AND dim = 2 AND spec = '' AND state = NEW.state
			AND (start_at, start_id) <= (NEW.created_at, NEW.key_id) ORDER BY start_at DESC, start_id DESC LIMIT 1);
	UPDATE key_list_blocks SET n = n + 1 WHERE rowid =
		(SELECT rowid FROM key_list_blocks WHERE project_id = NEW.project_id AND dim = 3 AND spec = NEW.spec AND state = NEW.state
			AND (start_at, start_id) <= (NEW.created_at, NEW.key_id) ORDER BY start_at DESC, start_id DESC LIMIT 1);
END;

CREATE TRIGGER keys_list_blocks_delete AFTER DELETE ON keys
BEGIN
	UPDATE key_list_blocks SET n = n - 1 WHERE rowid =
		(SELECT rowid FROM key_list_blocks WHERE project_id = OLD.project_id AND dim = 0 AND spec = '' AND state = ''
			AND (start_at, start_id) <= (OLD.created_at, OLD.key_id) ORDER BY start_at DESC, start_id DESC LIMIT 1);
	UPDATE key_list_blocks SET n = n - 1 WHERE rowid =
		(SELECT rowid FROM key_list_blocks WHERE project_id = OLD.project_id AND dim = 1 AND spec = OLD.spec AND state = ''
			AND (start_at, start_id) <= (OLD.created_at, OLD.key_id) ORDER BY start_at DESC, start_id DESC LIMIT 1);
	UPDATE key_list_blocks SET n = n - 1 WHERE rowid =
		(SELECT rowid FROM key_list_blocks WHERE project_id = OLD.project_id AND dim = 2 AND spec = '' AND state = OLD.state
			AND (start_at, start_id) <= (OLD.created_at, OLD.key_id) ORDER BY start_at DESC, start_id DESC LIMIT 1);
	UPDATE key_list_blocks SET n = n - 1 WHERE rowid =
		(SELECT rowid FROM key_list_blocks WHERE project_id = OLD.project_id AND dim = 3 AND spec = OLD.spec AND state = OLD.state
			AND (start_at, start_id) <= (OLD.created_at, OLD.key_id) ORDER BY start_at DESC, start_id DESC LIMIT 1);
END;

-- A change of spec or state moves the key out of the blocks of its old
-- filters and into those of its new ones (the unfiltered block keeps it:
-- the project and the position of a key never change).
CREATE TRIGGER keys_list_blocks_update AFTER UPDATE OF spec, state ON keys
	WHEN OLD.spec IS NOT NEW.spec OR OLD.state IS NOT NEW.state
BEGIN
	UPDATE key_list_blocks SET n = n - 1 WHERE rowid =
		(SELECT rowid FROM key_list_blocks WHERE project_id = OLD.project_id AND dim = 1 AND spec = OLD.spec AND state = ''
			AND (start_at, start_id) <= (OLD.created_at, OLD.key_id) ORDER BY start_at DESC, start_id DESC LIMIT 1);
	UPDATE key_list_blocks SET n = n - 1 WHERE rowid =
		(SELECT rowid FROM key_list_blocks WHERE project_id = OLD.project_id AND dim = 2 AND spec = '' AND state = OLD.state
			AND (start_at, start_id) <= (OLD.created_at, OLD.key_id) ORDER BY start_at DESC, start_id DESC LIMIT 1);
	UPDATE key_list_blocks SET n = n - 1 WHERE rowid =
		(SELECT rowid FROM key_list_blocks WHERE project_id = OLD.project_id AND dim = 3 AND spec = OLD.spec AND state = OLD.state
			AND (start_at, start_id) <= (OLD.created_at, OLD.key_id) ORDER BY start_at DESC, start_id DESC LIMIT 1);
	INSERT INTO key_list_blocks (project_id, dim, spec, state, start_at, start_id, n) VALUES
		(NEW.project_id, 1, NEW.spec, '', -9223372036854775808, '', 0),
		(NEW.project_id, 2, '', NEW.state, -9223372036854775808, '', 0),
		(NEW.project_id, 3, NEW.spec, NEW.state, -9223372036854775808, '', 0)
		ON CONFLICT DO NOTHING;
	UPDATE key_list_blocks SET n = n + 1 WHERE rowid =
		(SELECT rowid FROM key_list_blocks WHERE project_id = NEW.project_id AND dim = 1 AND spec = NEW.spec AND state = ''
			AND (start_at, start_id) <= (NEW.created_at, NEW.key_id) ORDER BY start_at DESC, start_id DESC LIMIT 1);
	UPDATE key_list_blocks SET n = n + 1 WHERE rowid =
		(SELECT rowid FROM key_list_blocks WHERE project_id = NEW.project_id AND dim = 2 AND spec = '' AND state = NEW.state
			AND (start_at, start_id) <= (NEW.created_at, NEW.key_id) ORDER BY start_at DESC, start_id DESC LIMIT 1);
	UPDATE key_list_blocks SET n = n + 1 WHERE rowid =
		(SELECT rowid FROM key_list_blocks WHERE project_id = NEW.project_id AND dim = 3 AND spec = NEW.spec AND state = NEW.state
			AND (start_at, start_id) <= (NEW.created_at, NEW.key_id) ORDER BY start_at DESC, start_id DESC LIMIT 1);
END;

-- A block of 2 000 keys becomes two of 1 000: the second starts at the
-- 1 000th key of the block, found on the index of the block's filter. The
-- update of the first block does not fire this trigger again (its count
-- is then below 2 000).
CREATE TRIGGER key_list_blocks_split_all AFTER UPDATE OF n ON key_list_blocks
	WHEN NEW.n >= 2000 AND NEW.dim = 0
BEGIN
	INSERT INTO key_list_blocks (project_id, dim, spec, state, start_at, start_id, n)
		SELECT NEW.project_id, 0, '', '', created_at, key_id, NEW.n - 1000 FROM keys
		WHERE project_id = NEW.project_id AND (created_at, key_id) >= (NEW.start_at, NEW.start_id)
		ORDER BY created_at, key_id LIMIT 1 OFFSET 1000;
	UPDATE key_list_blocks SET n = 1000 WHERE rowid = NEW.rowid;
END;

CREATE TRIGGER key_list_blocks_split_spec AFTER UPDATE OF n ON key_list_blocks
	WHEN NEW.n >= 2000 AND NEW.dim = 1
BEGIN
	INSERT INTO key_list_blocks (project_id, dim, spec, state, start_at, start_id, n)
		SELECT NEW.project_id, 1, NEW.spec, '', created_at, key_id, NEW.n - 1000 FROM keys
		WHERE project_id = NEW.project_id AND spec = NEW.spec AND (created_at, key_id) >= (NEW.start_at, NEW.start_id)
		ORDER BY created_at, key_id LIMIT 1 OFFSET 1000;
	UPDATE key_list_blocks SET n = 1000 WHERE rowid = NEW.rowid;
END;

CREATE TRIGGER key_list_blocks_split_state AFTER UPDATE OF n ON key_list_blocks
	WHEN NEW.n >= 2000 AND NEW.dim = 2
BEGIN
	INSERT INTO key_list_blocks (project_id, dim, spec, state, start_at, start_id, n)
		SELECT NEW.project_id, 2, '', NEW.state, created_at, key_id, NEW.n - 1000 FROM keys
		WHERE project_id = NEW.project_id AND state = NEW.state AND (created_at, key_id) >= (NEW.start_at, NEW.start_id)
		ORDER BY created_at, key_id LIMIT 1 OFFSET 1000;
	UPDATE key_list_blocks SET n = 1000 WHERE rowid = NEW.rowid;
END;

CREATE TRIGGER key_list_blocks_split_spec_state AFTER UPDATE OF n ON key_list_blocks
	WHEN NEW.n >= 2000 AND NEW.dim = 3
BEGIN
	INSERT INTO key_list_blocks (project_id, dim, spec, state, start_at, start_id, n)
		SELECT NEW.project_id, 3, NEW.spec, NEW.state, created_at, key_id, NEW.n - 1000 FROM keys
		WHERE project_id = NEW.project_id AND spec = NEW.spec AND state = NEW.state
			AND (created_at, key_id) >= (NEW.start_at, NEW.start_id)
		ORDER BY created_at, key_id LIMIT 1 OFFSET 1000;
	UPDATE key_list_blocks SET n = 1000 WHERE rowid = NEW.rowid;
END;
