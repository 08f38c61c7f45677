-- 0006_list_insert_trigger: one cheap trigger for the list counts of an
-- inserted key (issue 12 §6, create-key throughput).
--
-- Measured with pg_stat_statements and track_functions during
-- BenchmarkCreateKey (docs/performance.md, "create-key on PostgreSQL: one
-- insert trigger"): the INSERT of one key took ~2.05 ms with the two
-- statement triggers of 0005, ~1.4 ms of it in keys_list_blocks_insert,
-- of which the generic statement of key_list_blocks_apply (unnest of six
-- arrays, a LATERAL search per filter, an upsert) ran ~0.4 ms and the rest
-- was the function around it (array_agg of the transition table, a second
-- PL/pgSQL call, a statement with array parameters re-planned at each
-- call); keys_list_count added ~0.17 ms, a second trigger call and a
-- second scan of the transition table.
--
-- keys_list_insert replaces both insert triggers with one, which does the
-- same work in the same lock order (the project's key_counts row, then the
-- blocks, then the count rows, as 0005 describes). An INSERT of one key,
-- every CreateKey, takes a path of statements with scalar parameters,
-- whose plans PL/pgSQL keeps: one UPDATE adds the key to the block of each
-- of the four filters that holds it (the last block that starts at or
-- before it) and returns the blocks' new counts, which splits a block at
-- 2 000 as before; a filter without a block yet gets its first block
-- (fewer than four blocks updated); then one upsert counts the key in
-- key_list_counts. Measured the same way, the INSERT then takes ~0.7 ms.
-- An INSERT of several rows (none in kmsd today but a bulk load, which
-- skips the triggers) takes 0005's generic path. The delete and update
-- triggers of 0005 stay.
DROP TRIGGER keys_list_count_insert ON keys;
DROP TRIGGER keys_list_blocks_insert ON keys;
DROP FUNCTION keys_list_blocks_insert();

CREATE FUNCTION keys_list_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	k RECORD;
	rows BIGINT;
	b RECORD;
	found_blocks INT := 0;
BEGIN
	IF current_setting('kmsd.bulk_load', true) = 'on' THEN
		RETURN NULL; -- counted by key_list_rebuild at the end of the load
	END IF;
	SELECT COUNT(*) INTO rows FROM new_keys;
	IF rows = 0 THEN
		RETURN NULL;
	END IF;
	IF rows > 1 THEN
		PERFORM key_list_blocks_apply(array_agg(project_id), array_agg(created_at), array_agg(key_id),
			array_agg(spec), array_agg(state), array_agg(1::BIGINT)) FROM new_keys;
		INSERT INTO key_list_counts AS c (project_id, spec, state, enterprise_project_id, n)
			SELECT project_id, spec, state, enterprise_project_id, COUNT(*) FROM new_keys
			GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
			ON CONFLICT (project_id, spec, state, enterprise_project_id) DO UPDATE SET n = c.n + excluded.n;
		RETURN NULL;
	END IF;
	SELECT project_id, created_at, key_id, spec, state, enterprise_project_id INTO k FROM new_keys;
	PERFORM 1 FROM key_counts WHERE project_id = k.project_id FOR NO KEY UPDATE;
	FOR b IN
		WITH f AS (
			SELECT dm.dim::SMALLINT AS dim,
				(CASE WHEN dm.dim & 1 = 1 THEN k.spec ELSE '' END) COLLATE "C" AS spec,
				(CASE WHEN dm.dim & 2 = 2 THEN k.state ELSE '' END) COLLATE "C" AS state
			FROM generate_series(0, 3) AS dm (dim)
		), s AS (
			SELECT f.dim, f.spec, f.state, c.start_at, c.start_id FROM f CROSS JOIN LATERAL (
				SELECT c.start_at, c.start_id FROM key_list_blocks c
				WHERE c.project_id = k.project_id AND c.dim = f.dim AND c.spec = f.spec AND c.state = f.state
					AND (c.start_at, c.start_id) <= (k.created_at, k.key_id)
				ORDER BY c.start_at DESC, c.start_id DESC LIMIT 1
			) c
		)
		UPDATE key_list_blocks t SET n = t.n + 1 FROM s
		WHERE t.project_id = k.project_id AND t.dim = s.dim AND t.spec = s.spec AND t.state = s.state
			AND t.start_at = s.start_at AND t.start_id = s.start_id
		RETURNING t.dim, t.spec, t.state, t.start_at, t.start_id, t.n
	LOOP
		found_blocks := found_blocks + 1;
		IF b.n >= 2000 THEN
			PERFORM key_list_blocks_split(k.project_id, b.dim, b.spec, b.state, b.start_at, b.start_id, b.n);
		END IF;
	END LOOP;
	IF found_blocks < 4 THEN
		-- The first key of a filter: its first block starts before every
		-- key (a filter with blocks has its first block).
		INSERT INTO key_list_blocks (project_id, dim, spec, state, start_at, start_id, n)
			SELECT k.project_id, dm.dim,
				CASE WHEN dm.dim & 1 = 1 THEN k.spec ELSE '' END,
				CASE WHEN dm.dim & 2 = 2 THEN k.state ELSE '' END,
				-9223372036854775808, '', 1
			FROM generate_series(0, 3) AS dm (dim)
			WHERE NOT EXISTS (
				SELECT 1 FROM key_list_blocks c
				WHERE c.project_id = k.project_id AND c.dim = dm.dim
					AND c.spec = CASE WHEN dm.dim & 1 = 1 THEN k.spec ELSE '' END
					AND c.state = CASE WHEN dm.dim & 2 = 2 THEN k.state ELSE '' END
					AND c.start_at = -9223372036854775808 AND c.start_id = ''
			)
			ORDER BY dm.dim;
	END IF;
	INSERT INTO key_list_counts AS c (project_id, spec, state, enterprise_project_id, n)
		VALUES (k.project_id, k.spec, k.state, k.enterprise_project_id, 1)
		ON CONFLICT (project_id, spec, state, enterprise_project_id) DO UPDATE SET n = c.n + 1;
	RETURN NULL;
END;
$$;

CREATE TRIGGER keys_list_insert AFTER INSERT ON keys
	REFERENCING NEW TABLE AS new_keys
	FOR EACH STATEMENT EXECUTE FUNCTION keys_list_insert();
