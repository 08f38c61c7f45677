// Package region connects the kmsd clusters of several regions for
// multi-region keys: [Client] is the kms.Peers of a cluster, [Handler]
// serves the peer protocol to the other regions.
//
// # Identity
//
// Peers talk HTTPS with mutual TLS. Every region has a certificate, signed
// by a CA that all regions trust (regions.ca_file), whose subject common
// name or a DNS name is the region's name (e.g. "cn-north-4"). The server
// takes the caller's region from its verified client certificate; the
// client checks that the peer's server certificate names the region it
// dialled. Nothing else authenticates a peer: a region trusts its peers
// with the keys it replicates to them.
//
// # Protocol, version 1
//
// Requests are JSON under /kmsd/peer/v1/ on the peer's KMS endpoint; the
// version is the path segment, and a server answers an unknown one 404.
// Bodies are at most 1 MiB and are decoded strictly (unknown members are
// errors).
//
//	GET    /kmsd/peer/v1/transport-key            → {"region": R, "public_key": base64 X25519}
//	POST   /kmsd/peer/v1/replicas                 kms.Replica → kms.ReplicaResult
//	POST   /kmsd/peer/v1/primary                  kms.PrimaryUpdate → {}
//	DELETE /kmsd/peer/v1/replicas/PROJECT/KEY_ID  → {}
//
// A refusal is {"error": KIND, "message": TEXT} with a 4xx status, KIND
// one of the names in errorKinds; the client returns the kms error of that
// kind. Any other failure (no answer, 5xx, a body that does not decode) is
// kms.ErrRegionUnavailable.
//
// Key material travels in kms.Replica.Versions, each version sealed with
// HPKE (RFC 9180: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM)
// to the receiving region's transport key, with the info
// "kmsd replicate v1" NUL region NUL key id NUL version; see kms.Replica.
package region
