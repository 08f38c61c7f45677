// Package capsule is the byte format of kmsd's data key capsules, the
// datakey_capsule of CreateDatakeyCapsule and DecryptDatakeyCapsule
// (reference kms-api-new.md §3, §4.Q; Huawei does not publish its own
// format). A capsule carries a data key sealed under a customer master
// key together with the key policy that decides who may open it: the
// policy by id, or the inline policy document it was created with.
//
// # Capsule, format version 1
//
// [Capsule.Marshal] produces, byte by byte:
//
//	offset  length  field
//	0       1       format version, 0x01
//	1       1       binding kind: 0x01 policy id ([BindPolicyID]),
//	                0x02 inline policy document ([BindInline])
//	2       2       binding length n, big-endian uint16: exactly 36 for a
//	                policy id, 2–[MaxBinding] for an inline document
//	4       n       binding: the policy id as a lower-case UUID in ASCII,
//	                or the inline document's canonical JSON (kms package)
//	4+n     m       sealed data key: a blob of package ciphertext, kind
//	                data key (0x02), m ≥ [MinSealed] bytes, to the end
//
// Bytes 0 to 3+n are the header ([Capsule.Header]). The sealed blob names
// the customer master key's project, id and version in its own header
// (see package ciphertext), so a capsule opens with the version that
// sealed it after the key rotated.
//
// # Authentication as a whole
//
// The blob is sealed with the caller-independent additional data
//
//	"kmsd datakey capsule v1" || header
//
// (the 23 ASCII bytes, then bytes 0 to 3+n of the capsule) — [AAD]
// returns it. The blob's GCM tag covers its own header (key id, project
// id, version) and, through the additional data, the capsule's version,
// binding kind, length and binding: changing any byte of a capsule makes
// it fail to parse or fail to open, and a binding cannot be moved onto
// another data key.
//
// [Parse] rejects another version or binding kind, a policy id that is
// not a lower-case UUID, a binding length out of range, a truncated
// capsule and a sealed part shorter than [MinSealed], all with
// [ErrMalformed]; it never panics, and Marshal reproduces its input
// exactly. On the wire a capsule is standard base64 with padding.
package capsule
