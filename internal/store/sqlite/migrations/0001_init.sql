-- 0001_init: the first schema of kmsd.
--
-- Times are Unix milliseconds (UTC); a NULL time is the zero time.
-- Booleans are 0 or 1. Tables are STRICT so that a value of the wrong type
-- is an error instead of a silent conversion.

CREATE TABLE accounts (
	id         TEXT    NOT NULL PRIMARY KEY,
	name       TEXT    NOT NULL UNIQUE,
	created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE projects (
	id          TEXT    NOT NULL PRIMARY KEY,
	account_id  TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	name        TEXT    NOT NULL,
	cmk_quota   INTEGER NOT NULL,
	grant_quota INTEGER NOT NULL,
	created_at  INTEGER NOT NULL,
	UNIQUE (account_id, name)
) STRICT;

-- key_counts holds one row per project, created with the project and kept
-- current by CreateKey and DeleteKey, so that quota checks never scan keys.
CREATE TABLE key_counts (
	project_id   TEXT    NOT NULL PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
	custom_keys  INTEGER NOT NULL DEFAULT 0 CHECK (custom_keys >= 0),
	default_keys INTEGER NOT NULL DEFAULT 0 CHECK (default_keys >= 0)
) STRICT;

CREATE TABLE users (
	id            TEXT    NOT NULL PRIMARY KEY,
	account_id    TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	name          TEXT    NOT NULL,
	password_hash TEXT    NOT NULL,
	policies      TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(policies)),
	disabled      INTEGER NOT NULL CHECK (disabled IN (0, 1)),
	created_at    INTEGER NOT NULL,
	UNIQUE (account_id, name)
) STRICT;

CREATE TABLE access_keys (
	ak         TEXT    NOT NULL PRIMARY KEY,
	user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	sealed_sk  BLOB    NOT NULL,
	disabled   INTEGER NOT NULL CHECK (disabled IN (0, 1)),
	created_at INTEGER NOT NULL
) STRICT;

CREATE INDEX access_keys_user ON access_keys (user_id);

CREATE TABLE policies (
	account_id TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	name       TEXT    NOT NULL,
	document   BLOB    NOT NULL,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (account_id, name)
) STRICT;

-- keys has no ON DELETE CASCADE towards projects on purpose: a project (and
-- so an account) cannot be deleted while it holds keys.
CREATE TABLE keys (
	project_id            TEXT    NOT NULL REFERENCES projects (id),
	key_id                TEXT    NOT NULL,
	account_id            TEXT    NOT NULL,
	alias                 TEXT    NOT NULL,
	description           TEXT    NOT NULL,
	spec                  TEXT    NOT NULL,
	usage                 TEXT    NOT NULL,
	origin                TEXT    NOT NULL,
	state                 TEXT    NOT NULL,
	is_default            INTEGER NOT NULL CHECK (is_default IN (0, 1)),
	enterprise_project_id TEXT    NOT NULL,
	keystore_id           TEXT    NOT NULL,
	primary_version       INTEGER NOT NULL,
	created_at            INTEGER NOT NULL,
	deletion_date         INTEGER,
	revision              INTEGER NOT NULL,
	PRIMARY KEY (project_id, key_id)
) STRICT;

-- Key ids are UUIDs and unique across projects.
CREATE UNIQUE INDEX keys_key_id ON keys (key_id);

-- A non-empty alias is unique within its project; empty aliases never
-- conflict.
CREATE UNIQUE INDEX keys_alias ON keys (project_id, alias) WHERE alias <> '';

-- ListKeys walks a project's keys in creation order.
CREATE INDEX keys_list ON keys (project_id, created_at, key_id);

-- KeysDueForDeletion scans only keys pending deletion ('4', see
-- store.StatePendingDeletion), oldest deletion date first.
CREATE INDEX keys_due ON keys (deletion_date, project_id, key_id) WHERE state = '4';

CREATE TABLE key_versions (
	project_id TEXT    NOT NULL,
	key_id     TEXT    NOT NULL,
	version    INTEGER NOT NULL,
	sealed     BLOB    NOT NULL,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (project_id, key_id, version),
	FOREIGN KEY (project_id, key_id) REFERENCES keys (project_id, key_id) ON DELETE CASCADE
) STRICT;

CREATE TABLE meta (
	name  TEXT NOT NULL PRIMARY KEY,
	value BLOB NOT NULL
) STRICT;
