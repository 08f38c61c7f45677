-- 0003_material_fingerprint: the keyed fingerprint of the key material
-- first imported into an external key (store.Key.MaterialFingerprint).
-- It lives on the key row, so it survives the deletion of the material
-- (key_versions) and goes with the key. Existing keys have none (NULL).
ALTER TABLE keys ADD COLUMN material_fingerprint BLOB;
