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
// ([NewRootKey]) and stored only encrypted by the token's AES key with
// CKM_AES_GCM (128-bit tag), in DATA_DIR/root-key.pkcs11. At start-up
// [OpenRootKey] has the token decrypt it once; requests never call the
// token. The token key never leaves the token; without the token (and its
// PIN) the file is useless.
//
// # Wrapped root key, format version 1
//
// The file holds 62 bytes:
//
//	offset  length  field
//	0       1       format version, 0x01
//	1       1       mechanism, 0x01 = CKM_AES_GCM
//	2       12      GCM nonce, random from crypto/rand
//	14      32      AES-256-GCM ciphertext of the root key
//	46      16      GCM authentication tag
//
// The GCM additional data is the 23-byte string "kmsd pkcs11 root key v1"
// followed by the format version and the mechanism byte (0x01 0x01). Any
// other version, mechanism or length is refused ([ErrMalformed]). The
// known answer of the encoding is in rootkey_test.go; crosscheck_test.go
// opens a token's wrapping with Go's crypto/cipher.
package hsm
