-- 0005_keystores: dedicated keystores (store.Keystore), each backed by one
-- configured PKCS#11 token (hsm_cluster_id), which backs no other
-- keystore. Keys name their keystore in keys.keystore_id ("0" is the
-- built-in store); keys_keystore serves the count of a keystore's keys.
CREATE TABLE keystores (
	id             TEXT    NOT NULL PRIMARY KEY,
	project_id     TEXT    NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
	account_id     TEXT    NOT NULL,
	alias          TEXT    NOT NULL CHECK (alias <> ''),
	type           TEXT    NOT NULL,
	hsm_cluster_id TEXT    NOT NULL UNIQUE,
	cluster_id     TEXT    NOT NULL,
	state          TEXT    NOT NULL,
	created_at     INTEGER NOT NULL,
	UNIQUE (project_id, alias)
) STRICT;

CREATE INDEX keys_keystore ON keys (keystore_id);
