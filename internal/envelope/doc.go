// Package envelope is kmsd's file envelope: a stream of any length
// encrypted in chunks under a data key that a KMS wraps, with a header
// that carries the wrapped data key and the id of the CMK that wrapped it.
// `kmsd kms encrypt-file` and `decrypt-file` write and read it.
//
// # Format, version 1
//
// A file is a header followed by the payload. All integers are big-endian.
//
//	offset  size  field
//	0       7     magic "KMSDENV"
//	7       1     version, 0x01
//	8       1     cipher: 0x01 AES-256-GCM, 0x02 SM4-GCM (GCM over SM4)
//	9       1     chunk-size exponent s, 10 ≤ s ≤ 24: chunks hold 2^s
//	              plaintext bytes (the writer's default is 16: 64 KiB)
//	10      16    salt, random per file
//	26      1     n, the length of the CMK id, 1 ≤ n ≤ 128
//	27      n     the CMK id, printable ASCII without spaces
//	27+n    2     m, the length of the wrapped data key, 1 ≤ m ≤ 4096
//	29+n    m     the wrapped data key: the bytes of the hex cipher_text
//	              that CreateDatakey answered for a 32-byte data key
//
// The payload key is HKDF-SHA-256 (RFC 5869) of the 32-byte data key,
// with the salt as salt and "kmsd envelope v1 " followed by the cipher's
// name ("AES_256_GCM" or "SM4_GCM") as info; it is 32 bytes for
// AES-256-GCM and 16 for SM4-GCM.
//
// The payload is a sequence of chunks. Chunk i (from 0) is the AEAD seal
// of the i-th 2^s bytes of plaintext with the payload key, a 12-byte nonce
// made of i as an 11-byte integer followed by a last-chunk flag byte (0x01
// for the final chunk, 0x00 otherwise), and the SHA-256 of the whole
// header as additional data. Every chunk but the final one holds exactly
// 2^s plaintext bytes (2^s + 16 bytes sealed); the final chunk holds fewer
// (0 to 2^s − 1: a plaintext whose length is a multiple of 2^s, the empty
// one included, ends with an empty final chunk of 16 bytes). Nothing
// follows the final chunk.
//
// # What is detected
//
// The header is bound to every chunk by the additional data, so a changed
// cipher, chunk size, salt, key id or wrapped key fails the first chunk.
// The counter in the nonce detects reordered, duplicated or dropped
// chunks; the last-chunk flag and the short final chunk detect truncation
// at or between chunk boundaries; trailing bytes after the final chunk are
// refused. Every failure is [ErrAuth] (or [ErrFormat] for a header that
// does not parse). A [Reader] returns a chunk's plaintext only once the
// chunk has been authenticated, but a stream cut or altered late returns
// its earlier chunks before the error: callers that write a file keep it
// only when Read ended with io.EOF.
//
// Known-answer vectors are in testdata/kat.json.
package envelope
