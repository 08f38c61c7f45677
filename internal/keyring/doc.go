// Package keyring is the root of kmsd's key hierarchy: it holds the root key
// and seals secrets bound to what they belong to.
//
// # Hierarchy
//
// A 256-bit root key comes from one of the root key sources. [New] derives
// two subkeys from it with HKDF-SHA256 (RFC 5869, empty salt) and then keeps
// only those:
//
//	root key (32 bytes, from a file or a passphrase)
//	├── sealing key        = HKDF-SHA256(root, info "kmsd keyring seal key v1", 32 bytes)
//	│   └── AES-256-GCM: every key version's material, every access key's
//	│       secret key, each bound to a [Binding]
//	└── key-derivation key = HKDF-SHA256(root, info "kmsd keyring derive key v1", 32 bytes)
//	    └── [Keyring.Derive](label, n) = HKDF-Expand-SHA256(key-derivation key, info label, n bytes),
//	        e.g. the token-signing key, label "kmsd token signing v1"
//
// The users of the keyring, in one place:
//
//	sealing purpose          binding                          sealed secret
//	"key-material"           project, key id, version         a key version's material (kms)
//	"access-key-secret"      "", AK, 0                        an access key's SK (iam)
//	"import-wrapping-key"    project, "KEYID/TOKENID", 0     an import token's wrapping private key (kms)
//	"pin"                    project, keystore id, 0          a CipherText PIN of create-pin (kms)
//	"access-point-key"       project, access point id, 0      a Custom access point's PKCS#8 private key until its one download (kms)
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
// # Root key check value, format version 1
//
// [Keyring.CheckValue] returns 33 bytes, stored in the database (meta
// "root_key_check") when a data directory is first used; every start
// compares it with [Keyring.VerifyCheckValue] and refuses another root key:
//
//	offset  length  field
//	0       1       format version, 0x01
//	1       32      Derive("kmsd root key check v1", 32)
//
// The known answer for the root key 0x00..0x1f is in check_test.go.
//
// # Sealed blob, format version 1
//
// [Keyring.Seal] returns, byte by byte:
//
//	offset  length  field
//	0       1       format version, 0x01
//	1       12      GCM nonce, random from crypto/rand
//	13      n       AES-256-GCM ciphertext of the n-byte plaintext
//	13+n    16      GCM authentication tag
//
// A blob is therefore 29 bytes longer than its plaintext. Any other first
// byte is an unknown version, and [Keyring.Open] rejects it.
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
// Nonces are random, so one root key must seal fewer than 2³² blobs (NIST SP
// 800-38D §8.3); rotating the root key is on the roadmap.
package keyring
