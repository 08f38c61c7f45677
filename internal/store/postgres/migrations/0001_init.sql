-- 0001_init: the schema of kmsd on PostgreSQL, equivalent to the SQLite
-- migrations 0001 to 0003.
--
-- Times are Unix milliseconds (UTC) in BIGINT columns; a NULL time is the
-- zero time. Text columns use the "C" collation, so that names and ids
-- compare and sort byte for byte, as the store contract requires, whatever
-- the collation of the database.

CREATE TABLE accounts (
	id         TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	name       TEXT COLLATE "C" NOT NULL UNIQUE,
	created_at BIGINT NOT NULL
);

CREATE TABLE projects (
	id          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	account_id  TEXT COLLATE "C" NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	name        TEXT COLLATE "C" NOT NULL,
	cmk_quota   INTEGER NOT NULL,
	grant_quota INTEGER NOT NULL,
	created_at  BIGINT NOT NULL,
	UNIQUE (account_id, name)
);

-- key_counts holds one row per project, created with the project and kept
-- current by CreateKey and DeleteKey, so that quota checks never scan keys.
-- Writers lock the row (see KeyCounts), so that the check and the insert of
-- a key are one step even with several nodes writing at once.
CREATE TABLE key_counts (
	project_id   TEXT COLLATE "C" NOT NULL PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
	custom_keys  BIGINT NOT NULL DEFAULT 0 CHECK (custom_keys >= 0),
	default_keys BIGINT NOT NULL DEFAULT 0 CHECK (default_keys >= 0)
);

CREATE TABLE users (
	id            TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	account_id    TEXT COLLATE "C" NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	name          TEXT COLLATE "C" NOT NULL,
	password_hash TEXT COLLATE "C" NOT NULL,
	policies      TEXT[] COLLATE "C" NOT NULL DEFAULT '{}',
	disabled      BOOLEAN NOT NULL,
	created_at    BIGINT NOT NULL,
	UNIQUE (account_id, name)
);

CREATE TABLE access_keys (
	ak         TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	user_id    TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	sealed_sk  BYTEA NOT NULL,
	disabled   BOOLEAN NOT NULL,
	created_at BIGINT NOT NULL
);

CREATE INDEX access_keys_user ON access_keys (user_id);

CREATE TABLE policies (
	account_id TEXT COLLATE "C" NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	name       TEXT COLLATE "C" NOT NULL,
	document   BYTEA NOT NULL,
	created_at BIGINT NOT NULL,
	PRIMARY KEY (account_id, name)
);

-- keys has no ON DELETE CASCADE towards projects on purpose: a project (and
-- so an account) cannot be deleted while it holds keys.
CREATE TABLE keys (
	project_id            TEXT COLLATE "C" NOT NULL REFERENCES projects (id),
	key_id                TEXT COLLATE "C" NOT NULL,
	account_id            TEXT COLLATE "C" NOT NULL,
	alias                 TEXT COLLATE "C" NOT NULL,
	description           TEXT COLLATE "C" NOT NULL,
	spec                  TEXT COLLATE "C" NOT NULL,
	usage                 TEXT COLLATE "C" NOT NULL,
	origin                TEXT COLLATE "C" NOT NULL,
	state                 TEXT COLLATE "C" NOT NULL,
	is_default            BOOLEAN NOT NULL,
	enterprise_project_id TEXT COLLATE "C" NOT NULL,
	keystore_id           TEXT COLLATE "C" NOT NULL,
	primary_version       INTEGER NOT NULL,
	created_at            BIGINT NOT NULL,
	deletion_date         BIGINT,
	rotation_enabled      BOOLEAN NOT NULL DEFAULT FALSE,
	rotation_interval     INTEGER NOT NULL DEFAULT 0,
	last_rotation         BIGINT,
	rotation_count        INTEGER NOT NULL DEFAULT 0,
	material_expires_at   BIGINT,
	material_fingerprint  BYTEA,
	revision              BIGINT NOT NULL,
	-- rotation_due_at is when a key is next due for rotation: its last
	-- rotation (its creation when never rotated) plus the interval in
	-- days, where an unset interval is store.DefaultRotationInterval.
	rotation_due_at BIGINT GENERATED ALWAYS AS (
		COALESCE(last_rotation, created_at)
		+ (CASE WHEN rotation_interval > 0 THEN rotation_interval ELSE 365 END)::BIGINT * 86400000
	) STORED,
	PRIMARY KEY (project_id, key_id)
);

-- Key ids are UUIDs and unique across projects.
CREATE UNIQUE INDEX keys_key_id ON keys (key_id);

-- A non-empty alias is unique within its project.
CREATE UNIQUE INDEX keys_alias ON keys (project_id, alias) WHERE alias <> '';

-- ListKeys walks a project's keys in creation order.
CREATE INDEX keys_list ON keys (project_id, created_at, key_id);

-- The background jobs scan only the keys they act on.
CREATE INDEX keys_due ON keys (deletion_date, project_id, key_id) WHERE state = '4';
CREATE INDEX keys_rotation_due ON keys (rotation_due_at, project_id, key_id)
	WHERE rotation_enabled AND state = '2';
CREATE INDEX keys_material_expiry ON keys (material_expires_at, project_id, key_id)
	WHERE origin = 'external' AND material_expires_at IS NOT NULL;

CREATE TABLE key_versions (
	project_id TEXT COLLATE "C" NOT NULL,
	key_id     TEXT COLLATE "C" NOT NULL,
	version    INTEGER NOT NULL,
	sealed     BYTEA NOT NULL,
	created_at BIGINT NOT NULL,
	PRIMARY KEY (project_id, key_id, version),
	FOREIGN KEY (project_id, key_id) REFERENCES keys (project_id, key_id) ON DELETE CASCADE
);

CREATE TABLE grants (
	grant_id               TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	project_id             TEXT COLLATE "C" NOT NULL,
	key_id                 TEXT COLLATE "C" NOT NULL,
	name                   TEXT COLLATE "C" NOT NULL,
	grantee_principal      TEXT COLLATE "C" NOT NULL,
	grantee_principal_type TEXT COLLATE "C" NOT NULL CHECK (grantee_principal_type IN ('user', 'domain')),
	operations             TEXT[] COLLATE "C" NOT NULL DEFAULT '{}',
	issuing_principal      TEXT COLLATE "C" NOT NULL,
	retiring_principal     TEXT COLLATE "C" NOT NULL,
	created_at             BIGINT NOT NULL,
	FOREIGN KEY (project_id, key_id) REFERENCES keys (project_id, key_id) ON DELETE CASCADE
);

CREATE INDEX grants_key ON grants (project_id, key_id, created_at, grant_id);
CREATE INDEX grants_grantee ON grants (project_id, key_id, grantee_principal, grantee_principal_type);
CREATE INDEX grants_retiring ON grants (retiring_principal, created_at, grant_id)
	WHERE retiring_principal <> '';

CREATE TABLE aliases (
	project_id TEXT COLLATE "C" NOT NULL,
	alias      TEXT COLLATE "C" NOT NULL CHECK (alias <> ''),
	key_id     TEXT COLLATE "C" NOT NULL,
	created_at BIGINT NOT NULL,
	updated_at BIGINT NOT NULL,
	PRIMARY KEY (project_id, alias),
	FOREIGN KEY (project_id, key_id) REFERENCES keys (project_id, key_id) ON DELETE CASCADE
);

CREATE INDEX aliases_key ON aliases (project_id, key_id, alias);

-- alias_names holds every name of the one alias namespace of a project:
-- each non-empty keys.alias and each aliases.alias. The triggers below keep
-- it current; its primary key makes a name taken in the other table a
-- unique violation (store.ErrConflict). Unlike a check by query, the unique
-- index also holds between concurrent transactions of different nodes: the
-- second writer waits for the first and then fails.
CREATE TABLE alias_names (
	project_id TEXT COLLATE "C" NOT NULL,
	name       TEXT COLLATE "C" NOT NULL,
	PRIMARY KEY (project_id, name)
);

CREATE FUNCTION alias_names_sync() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	old_name TEXT;
	new_name TEXT;
BEGIN
	IF TG_OP <> 'INSERT' THEN
		old_name := OLD.alias;
	END IF;
	IF TG_OP <> 'DELETE' THEN
		new_name := NEW.alias;
	END IF;
	IF TG_OP = 'UPDATE' AND old_name = new_name AND OLD.project_id = NEW.project_id THEN
		RETURN NULL;
	END IF;
	IF old_name IS NOT NULL AND old_name <> '' THEN
		DELETE FROM alias_names WHERE project_id = OLD.project_id AND name = old_name;
	END IF;
	IF new_name IS NOT NULL AND new_name <> '' THEN
		INSERT INTO alias_names (project_id, name) VALUES (NEW.project_id, new_name);
	END IF;
	RETURN NULL;
END
$$;

CREATE TRIGGER keys_alias_names AFTER INSERT OR DELETE OR UPDATE OF project_id, alias ON keys
	FOR EACH ROW EXECUTE FUNCTION alias_names_sync();
CREATE TRIGGER aliases_alias_names AFTER INSERT OR DELETE OR UPDATE OF project_id, alias ON aliases
	FOR EACH ROW EXECUTE FUNCTION alias_names_sync();

CREATE TABLE key_tags (
	project_id TEXT COLLATE "C" NOT NULL,
	key_id     TEXT COLLATE "C" NOT NULL,
	tag_key    TEXT COLLATE "C" NOT NULL,
	tag_value  TEXT COLLATE "C" NOT NULL,
	PRIMARY KEY (project_id, key_id, tag_key),
	FOREIGN KEY (project_id, key_id) REFERENCES keys (project_id, key_id) ON DELETE CASCADE
);

CREATE INDEX key_tags_project ON key_tags (project_id, tag_key, tag_value);

CREATE TABLE import_tokens (
	token_id           TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	project_id         TEXT COLLATE "C" NOT NULL,
	key_id             TEXT COLLATE "C" NOT NULL,
	wrapping_algorithm TEXT COLLATE "C" NOT NULL,
	wrapping_key_spec  TEXT COLLATE "C" NOT NULL,
	sealed_private_key BYTEA NOT NULL,
	expires_at         BIGINT NOT NULL,
	created_at         BIGINT NOT NULL,
	FOREIGN KEY (project_id, key_id) REFERENCES keys (project_id, key_id) ON DELETE CASCADE
);

CREATE INDEX import_tokens_key ON import_tokens (project_id, key_id);
CREATE INDEX import_tokens_expiry ON import_tokens (expires_at);

CREATE TABLE meta (
	name  TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	value BYTEA NOT NULL
);

-- Change notifications. Every node of a cluster caches opened keys and
-- resolved identities; these triggers tell all of them, through
-- NOTIFY kmsd_changes (delivered when the transaction commits, and only
-- then), which cached entries a committed change made stale:
--   "k:<project id>:<key id>"  a key, its versions or its grants changed;
--   "i"                        an identity (user, access key, policy,
--                              project) changed.
-- The payloads name only ids, never secrets.
CREATE FUNCTION notify_key_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('kmsd_changes', 'k:' || OLD.project_id || ':' || OLD.key_id);
	RETURN NULL;
END
$$;

CREATE FUNCTION notify_identity_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('kmsd_changes', 'i');
	RETURN NULL;
END
$$;

CREATE TRIGGER keys_notify AFTER UPDATE OR DELETE ON keys
	FOR EACH ROW EXECUTE FUNCTION notify_key_change();
CREATE TRIGGER key_versions_notify AFTER UPDATE OR DELETE ON key_versions
	FOR EACH ROW EXECUTE FUNCTION notify_key_change();
CREATE TRIGGER grants_notify AFTER UPDATE OR DELETE ON grants
	FOR EACH ROW EXECUTE FUNCTION notify_key_change();
CREATE TRIGGER users_notify AFTER UPDATE OR DELETE ON users
	FOR EACH STATEMENT EXECUTE FUNCTION notify_identity_change();
CREATE TRIGGER access_keys_notify AFTER UPDATE OR DELETE ON access_keys
	FOR EACH STATEMENT EXECUTE FUNCTION notify_identity_change();
CREATE TRIGGER policies_notify AFTER INSERT OR UPDATE OR DELETE ON policies
	FOR EACH STATEMENT EXECUTE FUNCTION notify_identity_change();
CREATE TRIGGER projects_notify AFTER UPDATE OR DELETE ON projects
	FOR EACH STATEMENT EXECUTE FUNCTION notify_identity_change();
