// Package backup writes and reads kmsd's backup archive: a consistent
// snapshot of a whole store (kmsd backup), loaded into an empty store of
// either backend (kmsd restore). Secrets stay as the store holds them:
// sealed by the keyring under the root key. Nothing is unsealed, so the
// archive is no more sensitive than the database, and it is useless
// without the root key.
//
// # Format, version 0x01
//
// All integers are unsigned LEB128 varints (uvarint, encoding/binary's
// AppendUvarint) or zig-zag signed varints (varint, AppendVarint).
//
//	offset  size  field
//	0       8     magic: the ASCII bytes "KMSDBKUP"
//	8       1     format version: 0x01
//	9       ...   records, the first the header, the last the trailer;
//	              the archive ends right after the trailer
//
// A record is
//
//	size      field
//	1         kind (see below)
//	uvarint   n, the payload's length, at most 16 MiB
//	n         payload
//	32        tag: HMAC-SHA256(K, previous tag || kind || the uvarint n || payload)
//
// K is Derive("kmsd backup mac v1", 32) of keyring.New(root_key), a
// keyring of the configured root key alone: HKDF of that root key's own
// derivation key, not the store's derivation key (a restore could open
// that only after reading the archive), so backup and restore compute K
// from the configuration before anything else. The
// "previous tag" of the first record (the header) is
// HMAC-SHA256(K, magic || version byte). Each tag thus covers every byte
// before it: a reader that checks every tag and requires the trailer
// refuses an archive that was truncated, had records removed, reordered,
// inserted or edited, or comes under another root key.
//
// Kinds, in the order they appear (a row may refer only to rows of earlier
// kinds; kinds never go back, several records of one kind follow each
// other):
//
//	0x01 header         0x0a key version
//	0x02 account        0x0b key region (multi-region state)
//	0x03 project        0x0c grant
//	0x04 user           0x0d alias
//	0x05 access key     0x0e tag
//	0x06 policy         0x0f import token
//	0x07 keystore       0x10 access point
//	0x08 key space      0x11 key policy
//	0x09 key            0x12 meta value
//	                    0xff trailer
//
// Payload fields are concatenated with no padding, each of one type:
//
//	string, bytes  uvarint length, then that many bytes (empty bytes read back as nil)
//	strings        uvarint count, then that many strings
//	int            varint (at most 32 bits in magnitude)
//	int64          varint
//	bool           one byte, 0x00 or 0x01
//	time           varint of Unix microseconds (UTC); the zero time is -2^63
//	counts         uvarint 17, then 17 uvarints: the numbers of records of
//	               kinds 0x02 to 0x12, in kind order
//
// The payload of each kind lists the fields of the store type of the same
// name (package store) in this order:
//
//	header        kmsd version string, created time, source backend string
//	              ("sqlite" or "postgres"), root key check value bytes
//	              (keyring.New(root_key).CheckValue(): 0x01 and 32 bytes,
//	              whatever generation root_key is in the store), counts
//	account       ID, Name, CreatedAt
//	project       ID, AccountID, Name, CMKQuota int, GrantQuota int, CreatedAt
//	user          ID, AccountID, Name, PasswordHash (Argon2id PHC string),
//	              Policies strings, Disabled, CreatedAt
//	access key    AK, UserID, SealedSK bytes, Disabled, CreatedAt
//	policy        AccountID, Name, Document bytes, CreatedAt
//	keystore      ID, ProjectID, AccountID, Alias, Type, HSMClusterID,
//	              ClusterID, State, CreatedAt
//	key space     ProjectID, ID, Name, Type, KeystoreID, Description, CreatedAt
//	key           ProjectID, KeyID, AccountID, Alias, Description, Spec, Usage,
//	              Origin, State, Default bool, EnterpriseProjectID, KeystoreID,
//	              PrimaryVersion int, CreatedAt, DeletionDate, RotationEnabled
//	              bool, RotationInterval int, LastRotation, RotationCount int,
//	              MaterialExpiresAt, MaterialFingerprint bytes, Revision int64
//	key version   ProjectID, KeyID, Version int, Sealed bytes, CreatedAt
//	key region    ProjectID, KeyID, PrimaryRegion, MaterialProjectID, uvarint
//	              count of replicas, then for each: Region, ProjectID
//	grant         ProjectID, KeyID, GrantID, Name, GranteePrincipal,
//	              GranteePrincipalType, Operations strings, IssuingPrincipal,
//	              RetiringPrincipal, CreatedAt
//	alias         ProjectID, Alias, KeyID, CreatedAt, UpdatedAt
//	tag           ProjectID, KeyID, tag Key, tag Value
//	import token  ProjectID, KeyID, TokenID, WrappingAlgorithm, WrappingKeySpec,
//	              SealedPrivateKey bytes, ExpiresAt, CreatedAt
//	access point  ProjectID, KeySpaceID, ID, Name, Type int, State int,
//	              Identity, ClusterID, Description, PublicKey bytes,
//	              SealedPrivateKey bytes, CreatedBy, CreatedAt, UpdatedAt
//	key policy    ProjectID, KeySpaceID, ID, Name, Document bytes, Description,
//	              CreatedBy, CreatedAt, UpdatedAt, LastAccessAt
//	meta          Name, Value bytes
//	trailer       counts
//
// Fields not marked otherwise are strings, times for names ending in At
// or Date and for LastRotation. A payload must be consumed exactly. The
// header's and the trailer's counts must be equal to each other and to the
// records present.
//
// The maintained counters of a store (per-project key counts, list and
// state counts) are not in the archive: the store's create methods rebuild
// them on restore, and Restore checks the key counts against the keys it
// wrote.
//
// A reader checks the header's root key check value against the
// configured root key before the header's tag, so that an archive made
// under another root key is reported as such (ErrWrongRootKey) rather
// than as damaged.
package backup
