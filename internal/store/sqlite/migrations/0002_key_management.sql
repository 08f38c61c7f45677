-- 0002_key_management: grants, aliases, tags, rotation and the import of
-- key material (issue 4).
--
-- Every new table hangs off keys with ON DELETE CASCADE, so that DeleteKey
-- removes a key's grants, aliases, tags and import tokens with its versions.

-- Rotation and imported material. Existing keys get rotation off, no
-- interval (the default applies), no rotation yet and no material expiry.
ALTER TABLE keys ADD COLUMN rotation_enabled INTEGER NOT NULL DEFAULT 0 CHECK (rotation_enabled IN (0, 1));
ALTER TABLE keys ADD COLUMN rotation_interval INTEGER NOT NULL DEFAULT 0;
ALTER TABLE keys ADD COLUMN last_rotation INTEGER;
ALTER TABLE keys ADD COLUMN rotation_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE keys ADD COLUMN material_expires_at INTEGER;

-- rotation_due_at is when a key is next due for rotation: its last
-- rotation (its creation when never rotated) plus the interval in days,
-- where an unset interval is store.DefaultRotationInterval (365 days).
ALTER TABLE keys ADD COLUMN rotation_due_at INTEGER GENERATED ALWAYS AS (
	COALESCE(last_rotation, created_at)
	+ (CASE WHEN rotation_interval > 0 THEN rotation_interval ELSE 365 END) * 86400000
) VIRTUAL;

-- KeysDueForRotation scans only enabled keys ('2', see store.StateEnabled)
-- with rotation on, earliest due first.
CREATE INDEX keys_rotation_due ON keys (rotation_due_at, project_id, key_id)
	WHERE rotation_enabled = 1 AND state = '2';

-- KeysWithExpiredMaterial scans only imported keys with an expiry.
CREATE INDEX keys_material_expiry ON keys (material_expires_at, project_id, key_id)
	WHERE origin = 'external' AND material_expires_at IS NOT NULL;

-- grants: grant ids are unique across projects. operations is a JSON
-- array of operation names.
CREATE TABLE grants (
	grant_id               TEXT    NOT NULL PRIMARY KEY,
	project_id             TEXT    NOT NULL,
	key_id                 TEXT    NOT NULL,
	name                   TEXT    NOT NULL,
	grantee_principal      TEXT    NOT NULL,
	grantee_principal_type TEXT    NOT NULL CHECK (grantee_principal_type IN ('user', 'domain')),
	operations             TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(operations)),
	issuing_principal      TEXT    NOT NULL,
	retiring_principal     TEXT    NOT NULL,
	created_at             INTEGER NOT NULL,
	FOREIGN KEY (project_id, key_id) REFERENCES keys (project_id, key_id) ON DELETE CASCADE
) STRICT;

-- ListGrants and CountGrants walk a key's grants in creation order; the
-- cascade from keys uses the same index.
CREATE INDEX grants_key ON grants (project_id, key_id, created_at, grant_id);

-- GrantsFor, on the authorization path of every request.
CREATE INDEX grants_grantee ON grants (project_id, key_id, grantee_principal, grantee_principal_type);

-- ListGrantsByRetiringPrincipal, across projects in creation order.
CREATE INDEX grants_retiring ON grants (retiring_principal, created_at, grant_id)
	WHERE retiring_principal <> '';

-- aliases: the extra names of the multi-alias API, unique per project.
CREATE TABLE aliases (
	project_id TEXT    NOT NULL,
	alias      TEXT    NOT NULL CHECK (alias <> ''),
	key_id     TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (project_id, alias),
	FOREIGN KEY (project_id, key_id) REFERENCES keys (project_id, key_id) ON DELETE CASCADE
) STRICT;

-- ListAliases of one key, by name; the cascade from keys uses it too.
CREATE INDEX aliases_key ON aliases (project_id, key_id, alias);

-- keys.alias and aliases.alias share one namespace per project. These
-- triggers refuse a name taken in the other table; the store maps their
-- RAISE(ABORT) (SQLITE_CONSTRAINT_TRIGGER) to store.ErrConflict. Uniqueness
-- within each table is kept by keys_alias and the primary key of aliases.
CREATE TRIGGER keys_alias_insert BEFORE INSERT ON keys
	WHEN NEW.alias <> ''
	AND EXISTS (SELECT 1 FROM aliases WHERE project_id = NEW.project_id AND alias = NEW.alias)
BEGIN
	SELECT RAISE(ABORT, 'key alias is taken by an alias of the project');
END;

CREATE TRIGGER keys_alias_update BEFORE UPDATE OF project_id, alias ON keys
	WHEN NEW.alias <> ''
	AND (NEW.alias IS NOT OLD.alias OR NEW.project_id IS NOT OLD.project_id)
	AND EXISTS (SELECT 1 FROM aliases WHERE project_id = NEW.project_id AND alias = NEW.alias)
BEGIN
	SELECT RAISE(ABORT, 'key alias is taken by an alias of the project');
END;

-- The conditions repeat the one of the partial index keys_alias so that
-- SQLite can use it.
CREATE TRIGGER aliases_insert BEFORE INSERT ON aliases
	WHEN EXISTS (SELECT 1 FROM keys WHERE project_id = NEW.project_id AND alias = NEW.alias AND alias <> '')
BEGIN
	SELECT RAISE(ABORT, 'alias is taken by a key alias of the project');
END;

CREATE TRIGGER aliases_update BEFORE UPDATE OF project_id, alias ON aliases
	WHEN (NEW.alias IS NOT OLD.alias OR NEW.project_id IS NOT OLD.project_id)
	AND EXISTS (SELECT 1 FROM keys WHERE project_id = NEW.project_id AND alias = NEW.alias AND alias <> '')
BEGIN
	SELECT RAISE(ABORT, 'alias is taken by a key alias of the project');
END;

-- key_tags: at most one value per tag key on a key. The primary key serves
-- ListKeyTags, CountTags and the per-tag lookups of FindKeysByTags.
CREATE TABLE key_tags (
	project_id TEXT NOT NULL,
	key_id     TEXT NOT NULL,
	tag_key    TEXT NOT NULL,
	tag_value  TEXT NOT NULL,
	PRIMARY KEY (project_id, key_id, tag_key),
	FOREIGN KEY (project_id, key_id) REFERENCES keys (project_id, key_id) ON DELETE CASCADE
) STRICT;

-- ListProjectTags reads the distinct pairs of a project in order.
CREATE INDEX key_tags_project ON key_tags (project_id, tag_key, tag_value);

-- import_tokens: token ids are unique across projects; the private half of
-- the wrapping key is sealed by the keyring.
CREATE TABLE import_tokens (
	token_id           TEXT    NOT NULL PRIMARY KEY,
	project_id         TEXT    NOT NULL,
	key_id             TEXT    NOT NULL,
	wrapping_algorithm TEXT    NOT NULL,
	wrapping_key_spec  TEXT    NOT NULL,
	sealed_private_key BLOB    NOT NULL,
	expires_at         INTEGER NOT NULL,
	created_at         INTEGER NOT NULL,
	FOREIGN KEY (project_id, key_id) REFERENCES keys (project_id, key_id) ON DELETE CASCADE
) STRICT;

-- DeleteImportTokens and the cascade from keys.
CREATE INDEX import_tokens_key ON import_tokens (project_id, key_id);

-- DeleteExpiredImportTokens.
CREATE INDEX import_tokens_expiry ON import_tokens (expires_at);
