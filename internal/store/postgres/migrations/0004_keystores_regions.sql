-- 0004_keystores_regions: dedicated keystores (store.Keystore) and
-- multi-region keys (store.KeyRegion), as SQLite's 0007 and 0008. A
-- keystore is backed by one configured PKCS#11 token (hsm_cluster_id),
-- which backs no other keystore; keys name their keystore in
-- keys.keystore_id ("0" is the built-in store) and keys_keystore serves the
-- count of a keystore's keys. A key with a key_regions row is
-- multi-region; its rows go with the key.
CREATE TABLE keystores (
	id             TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	project_id     TEXT COLLATE "C" NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
	account_id     TEXT COLLATE "C" NOT NULL,
	alias          TEXT COLLATE "C" NOT NULL CHECK (alias <> ''),
	type           TEXT COLLATE "C" NOT NULL,
	hsm_cluster_id TEXT COLLATE "C" NOT NULL UNIQUE,
	cluster_id     TEXT COLLATE "C" NOT NULL,
	state          TEXT COLLATE "C" NOT NULL,
	created_at     BIGINT NOT NULL,
	UNIQUE (project_id, alias)
);

CREATE INDEX keys_keystore ON keys (keystore_id);

CREATE TABLE key_regions (
	project_id          TEXT COLLATE "C" NOT NULL,
	key_id              TEXT COLLATE "C" NOT NULL,
	primary_region      TEXT COLLATE "C" NOT NULL CHECK (primary_region <> ''),
	material_project_id TEXT COLLATE "C" NOT NULL CHECK (material_project_id <> ''),
	PRIMARY KEY (project_id, key_id),
	FOREIGN KEY (project_id, key_id) REFERENCES keys (project_id, key_id) ON DELETE CASCADE
);

CREATE TABLE key_replicas (
	project_id         TEXT COLLATE "C" NOT NULL,
	key_id             TEXT COLLATE "C" NOT NULL,
	region             TEXT COLLATE "C" NOT NULL,
	replica_project_id TEXT COLLATE "C" NOT NULL,
	PRIMARY KEY (project_id, key_id, region),
	FOREIGN KEY (project_id, key_id) REFERENCES key_regions (project_id, key_id) ON DELETE CASCADE
);
