// Package keyring is the root of kmsd's key hierarchy: it holds the root key
// and seals secrets bound to what they belong to.
//
// # Hierarchy
//
// A 256-bit root key comes from one of the root key sources. [New] derives
// two subkeys from it with HKDF-SHA256 (RFC 5869, empty salt) and then keeps
// only those (a keyring of several root key generations does so for each;
// see "Root key generations" below):
//
//	root key (32 bytes, from a file or a passphrase)
//	├── sealing key        = HKDF-SHA256(root, info "kmsd keyring seal key v1", 32 bytes)
//	│   └── AES-256-GCM: every key version's material, every access key's
//	│       secret key, each bound to a [Binding]
//	└── key-derivation key = HKDF-SHA256(root, info "kmsd keyring derive key v1", 32 bytes)
//	    └── [Keyring.Derive](label, n) = HKDF-Expand-SHA256(key-derivation key, info label, n bytes),
//	        e.g. the token-signing key, label "kmsd token signing v1"
//
// The key-derivation key that Derive uses is the first root key's: a data
// directory stores it sealed (meta "derivation_key", see below) and every
// later root key generation opens it, so that derived values stay the same
// when the root key changes.
//
// The users of the keyring, in one place:
//
//	sealing purpose          binding                          sealed secret
//	"key-material"           project, key id, version         a key version's material (kms)
//	"access-key-secret"      "", AK, 0                        an access key's SK (iam)
//	"import-wrapping-key"    project, "KEYID/TOKENID", 0     an import token's wrapping private key (kms)
//	"pin"                    project, keystore id, 0          a CipherText PIN of create-pin (kms)
//	"access-point-key"       project, access point id, 0      a Custom access point's PKCS#8 private key until its one download (kms)
//	"derivation-key"         "", "", 0                        the key-derivation key of Derive, meta "derivation_key" (server)
//	"audit-signing-key"      "", node id, 0                   a node's audit checkpoint signing key, in its audit directory (audit)
//	"readiness-probe"        "", "", 0                        a throw-away seal of /readyz, never stored (server)
//
//	derive label                     use
//	"kmsd token signing v1"          HMAC key of IAM tokens (server)
//	"kmsd import token v1"           HMAC key of import tokens (kms)
//	"kmsd import fingerprint v1"     HMAC key of imported-material fingerprints (kms)
//	"kmsd root key check v1"         the root key check value (server)
//	"kmsd region transport v1"       the seed of the region's HPKE transport key (kms)
//
// Nothing below the root key is stored: a database dump holds only sealed
// blobs, and a blob moved to another row fails to open.
//
// # Root key sources
//
//   - A file: [CreateRootKeyFile] writes 32 random bytes with mode 0600;
//     [LoadRootKeyFile] refuses a file that group or others may access.
//   - A passphrase: [NewPassphraseParams] and [PassphraseParams.Derive] run
//     Argon2id (RFC 9106) over the passphrase with a stored random salt.
//
// # Root key generations
//
// The root key can be replaced (kmsd rootkey rotate). Each root key a data
// directory has used is a generation, numbered from 1 (the root key it was
// initialised with). A [Keyring] made by [NewGenerations] holds the current
// generation and, during a rotation, previous ones: [Keyring.Seal] seals
// under the current generation, [Keyring.Open] opens a blob of any
// generation it holds, picking the root key by the generation the blob
// names ([GenerationOf]). Generation 1 seals format version 1, exactly as
// before generations existed, so nothing changes for a data directory
// that never rotates; later generations seal format version 2.
//
// What Derive returns must not change with the root key: stored import
// fingerprints, outstanding IAM and import tokens and the peers' transport
// keys depend on it. Derive therefore uses one derivation key per data
// directory — the key-derivation key of generation 1's root key, so that
// existing deployments derive exactly what they derived before — kept in
// the store sealed under the current generation ([Keyring.SealDerivationKey],
// [Keyring.OpenDerivationKey]) and re-sealed by a rotation like every other
// item. The root key check value, by contrast, is computed from each root
// key's own key-derivation key, so it identifies the generation.
//
// # Root key check value
//
// [Keyring.CheckValue] returns the check value of the current generation,
// stored in the database (meta "root_key_check") when a data directory is
// first used; every start compares it with [Keyring.VerifyCheckValue] and
// refuses another root key. Format version 1, for generation 1 (33 bytes):
//
//	offset  length  field
//	0       1       format version, 0x01
//	1       32      check digest: HKDF-Expand-SHA256(the root key's own key-derivation key, "kmsd root key check v1", 32)
//
// Format version 2, for a generation n ≥ 2 (37 bytes), which kmsd writes
// once a second generation exists, so that a kmsd without generations
// refuses the database instead of failing to open its blobs:
//
//	offset  length  field
//	0       1       format version, 0x02
//	1       4       generation n, big-endian, at least 2
//	5       32      check digest of generation n's root key
//
// The known answer for the root key 0x00..0x1f is in check_test.go.
//
// # Generation table, format version 1
//
// The database records every generation (meta "root_key_generations") so
// that a start can tell which configured root key is which generation and
// which generations still seal items. [MarshalGenerations] writes:
//
//	offset  length  field
//	0       1       format version, 0x01
//	1       37·m    m ≥ 1 entries, numbers strictly increasing:
//	                  4   generation number, big-endian, at least 1
//	                  1   state: 0x01 active, 0x02 retired (no item sealed by it remains)
//	                  32  check digest of the generation's root key
//
// [ParseGenerations] rejects every other input; the known answer is in
// generations_test.go.
//
// # Sealed blob, format version 1
//
// [Keyring.Seal] under generation 1 returns, byte by byte:
//
//	offset  length  field
//	0       1       format version, 0x01
//	1       12      GCM nonce, random from crypto/rand
//	13      n       AES-256-GCM ciphertext of the n-byte plaintext
//	13+n    16      GCM authentication tag
//
// A blob is therefore 29 bytes longer than its plaintext. A first byte
// other than 0x01 or 0x02 is an unknown version, and [Keyring.Open]
// rejects it.
//
// The GCM additional data is not stored; it is rebuilt from the [Binding]
// given to Open. Each string is a 4-byte big-endian length followed by its
// bytes, so no two inputs encode alike:
//
//	length  field
//	4       length of the context string (20)
//	20      context string "kmsd keyring seal v1"
//	1       format version, 0x01
//	4 + p   Purpose, length-prefixed
//	4 + j   ProjectID, length-prefixed
//	4 + k   KeyID, length-prefixed
//	8       Version as a big-endian two's-complement 64-bit integer
//
// # Sealed blob, format version 2
//
// [Keyring.Seal] under a generation n ≥ 2 returns, byte by byte:
//
//	offset  length  field
//	0       1       format version, 0x02
//	1       4       root key generation n, big-endian, at least 2
//	5       12      GCM nonce, random from crypto/rand
//	17      n       AES-256-GCM ciphertext under generation n's sealing key
//	17+n    16      GCM authentication tag
//
// A blob is 33 bytes longer than its plaintext. Generation 1 never appears
// in format version 2 (Open rejects it), so each blob has one encoding.
// The sealing key of generation n is derived from its root key as in
// format version 1. The additional data authenticates the generation:
//
//	length  field
//	4       length of the context string (20)
//	20      context string "kmsd keyring seal v2"
//	1       format version, 0x02
//	4       generation n, big-endian
//	4 + p   Purpose, length-prefixed
//	4 + j   ProjectID, length-prefixed
//	4 + k   KeyID, length-prefixed
//	8       Version as a big-endian two's-complement 64-bit integer
//
// The known answer is in generations_test.go (sealV2KAT); FuzzOpen checks
// that only canonical blobs of either version open.
//
// Nonces are random, so one root key must seal fewer than 2³² blobs (NIST SP
// 800-38D §8.3); rotating the root key (a new generation) starts a new
// count.
package keyring
