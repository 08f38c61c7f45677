-- 0003_keyspaces: trusted key spaces and what they own, access points and
-- key policies (reference kms-api-new.md §0, §3), as SQLite's 0004. A key
-- space goes with its project; it cannot be deleted while it owns rows
-- (store.Tx DeleteKeySpace checks), and its rows name it by
-- (project_id, id).
CREATE TABLE keyspaces (
	project_id  TEXT COLLATE "C" NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
	id          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	name        TEXT COLLATE "C" NOT NULL,
	type        TEXT COLLATE "C" NOT NULL,
	keystore_id TEXT COLLATE "C" NOT NULL,
	description TEXT COLLATE "C" NOT NULL,
	created_at  BIGINT NOT NULL,
	UNIQUE (project_id, name),
	UNIQUE (project_id, id)
);

CREATE TABLE access_points (
	project_id         TEXT COLLATE "C" NOT NULL,
	keyspace_id        TEXT COLLATE "C" NOT NULL,
	id                 TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	name               TEXT COLLATE "C" NOT NULL,
	type               INTEGER NOT NULL,
	state              INTEGER NOT NULL,
	identity           TEXT COLLATE "C" NOT NULL,
	cluster_id         TEXT COLLATE "C" NOT NULL,
	description        TEXT COLLATE "C" NOT NULL,
	public_key         BYTEA,
	sealed_private_key BYTEA,
	created_by         TEXT COLLATE "C" NOT NULL,
	created_at         BIGINT NOT NULL,
	updated_at         BIGINT NOT NULL,
	FOREIGN KEY (project_id, keyspace_id) REFERENCES keyspaces (project_id, id) ON DELETE CASCADE
);
CREATE INDEX access_points_keyspace ON access_points (project_id, keyspace_id, id);

CREATE TABLE key_policies (
	project_id     TEXT COLLATE "C" NOT NULL,
	keyspace_id    TEXT COLLATE "C" NOT NULL,
	id             TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	name           TEXT COLLATE "C" NOT NULL,
	document       BYTEA NOT NULL,
	description    TEXT COLLATE "C" NOT NULL,
	created_by     TEXT COLLATE "C" NOT NULL,
	created_at     BIGINT NOT NULL,
	updated_at     BIGINT NOT NULL,
	last_access_at BIGINT,
	UNIQUE (keyspace_id, name),
	FOREIGN KEY (project_id, keyspace_id) REFERENCES keyspaces (project_id, id) ON DELETE CASCADE
);
CREATE INDEX key_policies_keyspace ON key_policies (project_id, keyspace_id, id);
