// Package hsm talks to PKCS#11 tokens (hardware security modules) through
// github.com/miekg/pkcs11: kmsd's root key can be kept by a token key that
// never leaves the token, and dedicated keystores keep their keys there.
//
// PKCS#11 modules are C libraries, so the package needs cgo. A kmsd built
// with CGO_ENABLED=0 still builds: [Open] then fails with
// [ErrUnsupported], which says so, and [Supported] is false.
//
// # Tokens
//
// [Open] loads a module once per process (a module may be initialised only
// once), finds the token by label, opens one read-write session and logs in
// as the user. A [Token]'s methods take turns on that session. Keys are
// addressed by their CKA_LABEL. [Token.GenerateAESKey] makes a 256-bit AES
// token object that is sensitive and not extractable.
//
// # The root key in a token
//
// The root key of the keyring is 32 random bytes made by kmsd
// ([NewRootKey]) and stored only encrypted by the token's AES key, in
// DATA_DIR/root-key.pkcs11: with CKM_AES_GCM (128-bit tag) when the token
// offers it, else with CKM_AES_KEY_WRAP_PAD (RFC 5649); a token with
// neither is refused ([ErrMechanism]). At start-up
// [OpenRootKey] has the token decrypt it once; requests never call the
// token. The token key never leaves the token; without the token (and its
// PIN) the file is useless.
//
// # Wrapped root key, format version 1
//
// With mechanism 0x01 (CKM_AES_GCM) the file holds 62 bytes:
//
//	offset  length  field
//	0       1       format version, 0x01
//	1       1       mechanism, 0x01 = CKM_AES_GCM
//	2       12      GCM nonce, random from crypto/rand
//	14      32      AES-256-GCM ciphertext of the root key
//	46      16      GCM authentication tag
//
// The GCM additional data is the 23-byte string "kmsd pkcs11 root key v1"
// followed by the format version and the mechanism byte (0x01 0x01).
//
// With mechanism 0x02 (CKM_AES_KEY_WRAP_PAD) it holds 42 bytes:
//
//	offset  length  field
//	0       1       format version, 0x01
//	1       1       mechanism, 0x02 = CKM_AES_KEY_WRAP_PAD
//	2       40      RFC 5649 wrapping of the root key (its integrity
//	                check value authenticates it)
//
// Any other version, mechanism or length is refused ([ErrMalformed]). The
// known answers of the encoding are in rootkey_test.go; crosscheck_test.go
// opens a token's AES-GCM with Go's crypto/cipher and its key wrap with an
// RFC 5649 unwrap written over Go's AES.
package hsm
