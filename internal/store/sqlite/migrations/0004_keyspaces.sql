-- 0004_keyspaces: trusted key spaces and what they own, access points and
-- key policies (reference kms-api-new.md §0, §3). A key space goes with
-- its project; it cannot be deleted while it owns rows (store.Tx
-- DeleteKeySpace checks), and its rows name it by (project_id, id).
CREATE TABLE keyspaces (
	project_id  TEXT    NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
	id          TEXT    NOT NULL PRIMARY KEY,
	name        TEXT    NOT NULL,
	type        TEXT    NOT NULL,
	keystore_id TEXT    NOT NULL,
	description TEXT    NOT NULL,
	created_at  INTEGER NOT NULL,
	UNIQUE (project_id, name),
	UNIQUE (project_id, id)
) STRICT;

CREATE TABLE access_points (
	project_id         TEXT    NOT NULL,
	keyspace_id        TEXT    NOT NULL,
	id                 TEXT    NOT NULL PRIMARY KEY,
	name               TEXT    NOT NULL,
	type               INTEGER NOT NULL,
	state              INTEGER NOT NULL,
	identity           TEXT    NOT NULL,
	cluster_id         TEXT    NOT NULL,
	description        TEXT    NOT NULL,
	public_key         BLOB,
	sealed_private_key BLOB,
	created_by         TEXT    NOT NULL,
	created_at         INTEGER NOT NULL,
	updated_at         INTEGER NOT NULL,
	FOREIGN KEY (project_id, keyspace_id) REFERENCES keyspaces (project_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX access_points_keyspace ON access_points (project_id, keyspace_id, id);

CREATE TABLE key_policies (
	project_id       TEXT    NOT NULL,
	keyspace_id      TEXT    NOT NULL,
	id               TEXT    NOT NULL PRIMARY KEY,
	name             TEXT    NOT NULL,
	document         BLOB    NOT NULL,
	description      TEXT    NOT NULL,
	created_by       TEXT    NOT NULL,
	created_at       INTEGER NOT NULL,
	updated_at       INTEGER NOT NULL,
	last_access_at   INTEGER,
	UNIQUE (keyspace_id, name),
	FOREIGN KEY (project_id, keyspace_id) REFERENCES keyspaces (project_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX key_policies_keyspace ON key_policies (project_id, keyspace_id, id);
