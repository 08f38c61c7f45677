// Package auth authenticates and authorizes callers of the Huawei Cloud KMS
// API the way Huawei's API gateway and IAM do, as far as the official SDKs
// can tell (reference auth.md).
//
// # Request signatures
//
// [VerifyRequest] checks an AK/SK-signed request: the canonical request,
// string to sign and signature of auth.md §3, for every algorithm the SDKs
// offer — [AlgHMACSHA256] (the default), [AlgHMACSM3],
// [AlgECDSAP256SHA256], [AlgSM2SM3] and the derived [AlgV11HMACSHA256]. For
// the asymmetric algorithms the server derives the client's private key from
// (AK, SK) exactly as the SDK does and verifies with its public key; there is
// no key to register. [SignRequest] and [SignRequestDerived] are the client
// side, for tests and the kmsd command.
//
// # Tokens
//
// A [TokenSigner] issues and verifies the IAM tokens of POST /v3/auth/tokens
// (auth.md §5): versioned, HMAC-SHA256-authenticated claims that any node
// holding the shared key can check without a database.
//
// # Policies
//
// [Policy] is Huawei's identity policy document (Version "1.1");
// [ParsePolicy] validates one strictly, [SystemRole] returns the built-in KMS
// roles, [ActionNames] maps an action to its aliases and [Allowed] decides
// whether a set of policies grants an action, Deny winning over Allow.
//
// # Errors
//
// Every authentication failure wraps [ErrUnauthenticated]; it is usually an
// [*AuthError] whose Reason is meant for logs and must not reach the client,
// who gets one fixed message whatever went wrong (errors.md: 401
// APIGW.0301). Failures of the identity store are returned as other errors.
//
// The package imports only the standard library and github.com/emmansun/gmsm.
package auth
