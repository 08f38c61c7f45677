-- key_state_counts holds the number of keys in each state, across all
-- projects, kept by triggers in the transaction of every change, so the
-- keys-by-state metric reads a few rows instead of scanning keys.
CREATE TABLE key_state_counts (
	state TEXT    NOT NULL PRIMARY KEY,
	n     INTEGER NOT NULL
) STRICT;

INSERT INTO key_state_counts (state, n) SELECT state, count(*) FROM keys GROUP BY state;

CREATE TRIGGER key_state_counts_insert AFTER INSERT ON keys
BEGIN
	INSERT INTO key_state_counts (state, n) VALUES (NEW.state, 1)
		ON CONFLICT (state) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER key_state_counts_update AFTER UPDATE OF state ON keys
	WHEN NEW.state IS NOT OLD.state
BEGIN
	UPDATE key_state_counts SET n = n - 1 WHERE state = OLD.state;
	INSERT INTO key_state_counts (state, n) VALUES (NEW.state, 1)
		ON CONFLICT (state) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER key_state_counts_delete AFTER DELETE ON keys
BEGIN
	UPDATE key_state_counts SET n = n - 1 WHERE state = OLD.state;
END;
