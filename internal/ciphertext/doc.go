// Package ciphertext is the byte format of kmsd's symmetric ciphertexts:
// the output of encrypt-data and the cipher_text of the data-key (DEK)
// operations. A blob names the project, key and key version that sealed
// it, so decrypt-data needs nothing but the blob, and a rotated key still
// opens blobs sealed under its older versions.
//
// # Blob, format version 1
//
// [Blob.Marshal] produces, byte by byte:
//
//	offset  length  field
//	0       1       format version, 0x01
//	1       1       kind: 0x01 encrypt-data ([KindData]), 0x02 data key ([KindDataKey])
//	2       1       algorithm: 0x01 AES-256-GCM ([AES256GCM]), 0x02 SM4-GCM ([SM4GCM])
//	3       1       reserved, 0x00
//	4       4       key version, big-endian uint32, at least 1
//	8       36      key id, lower-case UUID in ASCII
//	44      32      project id, 32 lower-case hex digits in ASCII
//	76      12      GCM nonce, random from crypto/rand
//	88      n       GCM ciphertext of the n-byte plaintext
//	88+n    16      GCM authentication tag
//
// Bytes 0–75 are the header ([HeaderSize]); a blob is [Overhead] (104)
// bytes longer than its plaintext. [Parse] rejects any other version,
// kind, algorithm or reserved value, a key version of 0, a key id or
// project id of another shape, and a blob shorter than [Overhead], all with
// [ErrMalformed]; it never panics. Parsing and marshalling reproduce the
// input exactly.
//
// # Additional data
//
// The GCM additional data is the whole header followed by the SHA-256
// digest of the caller's additional authenticated data (AAD):
//
//	length  field
//	76      header, bytes 0–75 of the blob
//	32      SHA-256(AAD); an absent AAD is the empty string
//
// The header has a fixed length and the digest too, so no two inputs
// encode alike. A blob whose kind, algorithm, key version, key id or
// project id was changed, or that is opened with another AAD, fails to
// open with [ErrOpen] — and one kind never opens as the other.
//
// # Keys and nonces
//
// The GCM key is the key version's material as it is: 32 bytes for
// AES-256, 16 bytes for SM4 ([NewAEAD]). Nonces are random, so one key
// version must seal fewer than 2³² blobs (NIST SP 800-38D §8.3); rotate
// keys that seal more.
package ciphertext
