// Package audit is kmsd's tamper-evident audit trail: one Record per
// request (shaped like a Huawei Cloud Trace Service trace), appended with
// group commit to a hash chain of segment files that the node signs at
// intervals with an Ed25519 key sealed under the root key.
//
// Each node writes its own chain, in its own directory. A chain is a
// sequence of segment files audit-NNNNNNNNNNNNNNNNNNNN.log (the segment
// number, 20 decimal digits), each a header followed by entries. Every
// entry carries the SHA-256 of the entry before it (the first entry of a
// segment: of its segment's header, whose own Prev is the last entry of
// the previous segment), so that no entry can be edited, removed,
// reordered or inserted without breaking a link; a checkpoint entry signs
// the chain head, so that the chain cannot be rewritten from the edit on
// either without the signing key.
//
// # Segment header, format version 1
//
//	offset  length  field
//	0       8       magic "KMSDAUDT"
//	8       1       format version, 0x01 ([Version])
//	9       1       n, the length of the node id, 1 to 64
//	10      n       node id, [A-Za-z0-9._-], not starting with "."
//	10+n    8       segment number, big-endian uint64, from 1
//	18+n    8       sequence number of the segment's first entry, big-endian uint64, from 1
//	26+n    32      Prev: SHA-256 of the previous segment's last entry; zero in segment 1
//
// # Entry
//
//	offset  length  field
//	0       1       kind: 0x01 record ([KindRecord]), 0x02 checkpoint ([KindCheckpoint])
//	1       8       sequence number, big-endian uint64: one more than the previous entry's
//	9       32      Prev: SHA-256 of the previous entry's bytes (of the header, for a segment's first entry)
//	41      4       p, the payload length, big-endian uint32, at most 1 MiB
//	45      p       payload
//
// An entry's hash is the SHA-256 of all its bytes, 0 to 45+p.
//
// The payload of a record is one [Record] as a JSON object (encoding/json
// of the struct: members in declaration order, empty optional members
// left out). The parser refuses unknown members.
//
// The payload of a checkpoint is 104 bytes:
//
//	offset  length  field
//	0       8       time, Unix nanoseconds, big-endian int64
//	8       32      Ed25519 public key of the node
//	40      64      Ed25519 signature of the message below
//
// The signed message ([SignedMessage]) is
//
//	"kmsd audit checkpoint v1" 0x00 | n (1 byte) | node id | sequence number of the
//	checkpoint (8) | its Prev, the chain head (32) | time (8) | public key (32)
//
// A segment that is followed by another ends with a checkpoint; the writer
// also writes one every checkpoint interval while records arrive, and on a
// clean shutdown.
//
// # Verification
//
// [Verify] reads the segments in name order and checks: the header's
// magic, version and node; segment numbers 1, 2, … matching the file
// names; each header's first sequence number and Prev continuing the
// previous segment, which must end with a checkpoint; for every entry,
// its sequence number (one more than the last: a gap or a repeat is a
// removed, reordered or inserted entry), its Prev (the hash of the entry
// before it: a mismatch is an edit of that entry), a record's JSON, and a
// checkpoint's signature and key. It reports the first entry at fault and
// an incomplete entry at the end of the trail (a crash during a write or
// a cut).
//
// # Durability
//
// [Log.Append] queues a record; one writer goroutine takes everything
// queued, chains it, writes it with one write and one fsync (group
// commit) and then releases every request of the batch. A batch that
// cannot be written is cut off again (the segment is truncated back) and
// fails as a whole, so the chain on disk holds exactly the acknowledged
// records.
package audit
