-- 0006_key_regions: multi-region keys (store.KeyRegion). A key with a row
-- here is multi-region: primary_region names the region whose copy is the
-- primary, material_project_id the project its ciphertexts name (the
-- project of the key it was first created as). key_replicas lists, on the
-- primary, the regions and projects of its replicas. Both go with the key.
CREATE TABLE key_regions (
	project_id          TEXT NOT NULL,
	key_id              TEXT NOT NULL,
	primary_region      TEXT NOT NULL CHECK (primary_region <> ''),
	material_project_id TEXT NOT NULL CHECK (material_project_id <> ''),
	PRIMARY KEY (project_id, key_id),
	FOREIGN KEY (project_id, key_id) REFERENCES keys (project_id, key_id) ON DELETE CASCADE
) STRICT;

CREATE TABLE key_replicas (
	project_id         TEXT NOT NULL,
	key_id             TEXT NOT NULL,
	region             TEXT NOT NULL,
	replica_project_id TEXT NOT NULL,
	PRIMARY KEY (project_id, key_id, region),
	FOREIGN KEY (project_id, key_id) REFERENCES key_regions (project_id, key_id) ON DELETE CASCADE
) STRICT;
