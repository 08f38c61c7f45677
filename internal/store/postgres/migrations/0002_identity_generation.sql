-- 0002_identity_generation: one counter that every committed change of an
-- identity (user, access key, policy, project) increments, so that a node
-- can check with one read before each use whether its cached identities
-- are still true (store.IdentityGenerations). The notifications of 0001
-- drop stale entries too, but arrive a moment after the commit; the
-- counter makes a change seen by the very next request on every node.
CREATE TABLE identity_generation (
	one        BOOLEAN NOT NULL PRIMARY KEY DEFAULT TRUE CHECK (one),
	generation BIGINT  NOT NULL
);

INSERT INTO identity_generation (one, generation) VALUES (TRUE, 0);

CREATE FUNCTION bump_identity_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE identity_generation SET generation = generation + 1;
	RETURN NULL;
END
$$;

CREATE TRIGGER users_generation AFTER INSERT OR UPDATE OR DELETE ON users
	FOR EACH STATEMENT EXECUTE FUNCTION bump_identity_generation();
CREATE TRIGGER access_keys_generation AFTER INSERT OR UPDATE OR DELETE ON access_keys
	FOR EACH STATEMENT EXECUTE FUNCTION bump_identity_generation();
CREATE TRIGGER policies_generation AFTER INSERT OR UPDATE OR DELETE ON policies
	FOR EACH STATEMENT EXECUTE FUNCTION bump_identity_generation();
CREATE TRIGGER projects_generation AFTER INSERT OR UPDATE OR DELETE ON projects
	FOR EACH STATEMENT EXECUTE FUNCTION bump_identity_generation();
