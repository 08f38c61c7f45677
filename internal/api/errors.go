package api

import (
	"errors"
	"strconv"

	"github.com/kmsd/kmsd/internal/auth"
	"github.com/kmsd/kmsd/internal/iam"
	"github.com/kmsd/kmsd/internal/kms"
)

// Wire-level error kinds raised by the API layer itself.
var (
	errMalformedJSON    = errors.New("malformed JSON")
	errMissingParameter = errors.New("missing parameter")
	errBodyTooLong      = errors.New("request body longer than the operation allows")
	errEntityTooLarge   = errors.New("request body larger than the gateway limit")
	errInvalidSequence  = errors.New("invalid sequence")
	errNoSuchAPI        = errors.New("no such API")
	errNoSuchMethod     = errors.New("method not defined for path")
	errInvalidURL       = errors.New("invalid request URL")
	errNotImplemented   = errors.New("operation not implemented")
	errURITooLong       = errors.New("request URI longer than the gateway limit")
	errHeadersTooLarge  = errors.New("request headers larger than the gateway limit")
	errBadTokenRequest  = errors.New("bad token request")
	errBodiesBusy       = errors.New("request bodies in flight hold the whole body budget")
	errAuditUnavailable = errors.New("audit trail not writable")
	errThrottled        = errors.New("rate limit exceeded")
)

// wireError is how one error kind travels: its HTTP status, code and the
// published message. gateway selects the API-gateway body shape
// (reference errors.md §1) instead of the KMS service shape.
type wireError struct {
	kind    error
	status  int
	code    string
	msg     string
	gateway bool
	// keystone selects the IAM (Keystone) body shape of /v3 endpoints.
	keystone bool
}

// errorTable maps every error kind to its wire form; it is the only place
// that does (house rule 3). Order matters only where kinds wrap each other.
// Codes and messages are from reference errors.md §4–5.
var errorTable = []wireError{
	// The database cannot be reached: fail fast, whatever else the error
	// wraps (an authentication that could not read its access key, too).
	{kind: kms.ErrUnavailable, status: 503, code: "KMS.0104", msg: "A system exception occurred. Contact technical support."},
	// Gateway: authentication, routing, size.
	{kind: auth.ErrUnauthenticated, status: 401, code: "APIGW.0301", msg: "Incorrect IAM authentication information.", gateway: true},
	{kind: errNoSuchAPI, status: 404, code: "APIGW.0101", msg: "The API does not exist or has not been published in the environment.", gateway: true},
	{kind: errNoSuchMethod, status: 404, code: "APIGW.0101", msg: "The API does not exist.", gateway: true},
	{kind: errThrottled, status: 429, code: "APIGW.0308", msg: "The throttling threshold has been reached.", gateway: true},
	{kind: errAuditUnavailable, status: 503, code: "KMS.0104", msg: "A system exception occurred. Contact technical support."},
	{kind: errEntityTooLarge, status: 413, code: "APIGW.0201", msg: "Request entity too large.", gateway: true},
	{kind: errURITooLong, status: 414, code: "APIGW.0201", msg: "Request URI too large.", gateway: true},
	// The gateway answers 494 (nginx's own status); kmsd answers the
	// standard 431 that net/http and clients know.
	{kind: errHeadersTooLarge, status: 431, code: "APIGW.0201", msg: "Request headers too large.", gateway: true},
	// IAM token endpoint.
	// Keystone's answer to a scope the user cannot have (a project that is
	// not in the account), distinct from a wrong password.
	{kind: iam.ErrUnknownScope, status: 401, code: "401", msg: "The request you have made requires authentication.", keystone: true},
	{kind: errBadTokenRequest, status: 400, code: "400", msg: "The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.", keystone: true},
	// KMS service: request shape.
	{kind: errMalformedJSON, status: 400, code: "KMS.0202", msg: "Invalid JSON format of the request message."},
	{kind: errBodyTooLong, status: 400, code: "KMS.0203", msg: "Request message too long."},
	// The body budget (body.go) is spent: the gateway's throttling answer.
	{kind: errBodiesBusy, status: 429, code: "APIGW.0308", msg: "The throttling threshold has been reached.", gateway: true},
	{kind: errMissingParameter, status: 400, code: "KMS.0204", msg: "Parameters missing in the request message."},
	{kind: errInvalidSequence, status: 400, code: "KMS.0206", msg: "Invalid sequence number."},
	{kind: errInvalidURL, status: 400, code: "KMS.0201", msg: "Invalid request URL."},
	{kind: auth.ErrProjectMismatch, status: 403, code: "KMS.0321", msg: "URIs in URL and X-Auth-Token do not match."},
	{kind: kms.ErrAccessDenied, status: 403, code: "KMS.0307", msg: "No access permissions."},
	{kind: errNotImplemented, status: 501, code: "KMSD.0501", msg: "This operation is not implemented by kmsd yet."},
	{kind: kms.ErrNotImplemented, status: 501, code: "KMSD.0501", msg: "This operation is not implemented by kmsd yet."},
	// KMS service: domain.
	{kind: kms.ErrInvalidKeyID, status: 400, code: "KMS.0205", msg: "Invalid key ID."},
	{kind: kms.ErrKeyNotFound, status: 404, code: "KMS.0207", msg: "The key does not exist."},
	{kind: kms.ErrKeyDisabled, status: 400, code: "KMS.0209", msg: "The key has been disabled."},
	{kind: kms.ErrKeyPendingDeletion, status: 400, code: "KMS.0210", msg: "The key is in Scheduled deletion state and cannot be used."},
	{kind: kms.ErrDefaultKey, status: 400, code: "KMS.0211", msg: "Cannot perform this operation on Default Master Keys."},
	{kind: kms.ErrInvalidParameter, status: 400, code: "KMS.0308", msg: "Invalid parameter."},
	{kind: kms.ErrKeyPendingImport, status: 400, code: "KMS.0310", msg: "The key is not in Pending import state."},
	{kind: kms.ErrInvalidAlias, status: 400, code: "KMS.1101", msg: "Invalid key_alias."},
	{kind: kms.ErrInvalidDescription, status: 400, code: "KMS.1103", msg: "Invalid key_description."},
	{kind: kms.ErrDuplicateAlias, status: 400, code: "KMS.1104", msg: "Duplicate key aliases."},
	{kind: kms.ErrTooManyKeys, status: 400, code: "KMS.1105", msg: "Too many keys."},
	{kind: kms.ErrInvalidKeySpec, status: 400, code: "KMS.1110", msg: "Invalid alg_type."},
	{kind: kms.ErrInvalidKeyUsage, status: 400, code: "KMS.0308", msg: "Invalid parameter."},
	{kind: kms.ErrECNoEncrypt, status: 400, code: "KMS.1114", msg: "EC keys do not support to encrypt/decrypt."},
	{kind: kms.ErrSymmetricNoSign, status: 400, code: "KMS.1115", msg: "Symmetric keys do not support to sign/verify."},
	{kind: kms.ErrKeyNotDisabled, status: 400, code: "KMS.1201", msg: "The key is not disabled."},
	{kind: kms.ErrKeyNotEnabled, status: 400, code: "KMS.1301", msg: "The key is not enabled."},
	{kind: kms.ErrInvalidPendingDays, status: 400, code: "KMS.1401", msg: "Set the pending deletion period between 7 to 1096 days."},
	{kind: kms.ErrAlreadyPendingDeletion, status: 400, code: "KMS.1402", msg: "The key is already in Pending deletion state."},
	{kind: kms.ErrNotPendingDeletion, status: 400, code: "KMS.1501", msg: "The key is not in Pending deletion state."},
	{kind: kms.ErrInvalidLimit, status: 400, code: "KMS.1601", msg: "Invalid limit."},
	{kind: kms.ErrInvalidMarker, status: 400, code: "KMS.1602", msg: "marker must be greater than or equals 0."},
	{kind: kms.ErrKeyForEncryption, status: 400, code: "KMS.0334", msg: "The cmk is used to encrypt and decrypt."},
	{kind: kms.ErrKeyForSigning, status: 400, code: "KMS.0335", msg: "The cmk is used to sign and verify."},
	{kind: kms.ErrAsymmetricKey, status: 400, code: "KMS.0325", msg: "The asymmetric key is not support this operation."},
	{kind: kms.ErrSymmetricKey, status: 400, code: "KMS.0331", msg: "The symmetric key is not support this operation."},
	{kind: kms.ErrHMACKey, status: 400, code: "KMS.0341", msg: "The hmac key do not support this operation."},
	{kind: kms.ErrAlgorithmMismatch, status: 400, code: "KMS.0332", msg: "This key is not support the signing algorithm."},
	{kind: kms.ErrDigestLength, status: 400, code: "KMS.0329", msg: "Hash algorithm does not match the digest length."},
	{kind: kms.ErrInvalidCiphertext, status: 400, code: "KMS.0308", msg: "Invalid parameter."},
	{kind: kms.ErrDecryptFailed, status: 400, code: "KMS.0308", msg: "Invalid parameter."},
	{kind: kms.ErrRSADecryptFailed, status: 400, code: "KMS.0311", msg: "Failed to decrypt data using the RSA private key."},
	{kind: kms.ErrRandomLength, status: 400, code: "KMS.1802", msg: "random_data_length must be a multiple of 8."},
	// Huawei's message names only the AES specs of its day; kmsd's lists them all.
	{kind: kms.ErrDataKeySpec, status: 400, code: "KMS.1902", msg: "key_spec can only be AES_256, AES_128, SM4, HMAC_256, HMAC_384, HMAC_512 or HMAC_SM3."},
	{kind: kms.ErrDataKeyLengthRange, status: 400, code: "KMS.1901", msg: "datakey_length must be in the range 8 bits to 8,192 bits."},
	{kind: kms.ErrDataKeyLengthMultiple, status: 400, code: "KMS.1903", msg: "datakey_length must be a multiple of 8."},
	{kind: kms.ErrInvalidDataKeyPlaintext, status: 400, code: "KMS.2101", msg: "Invalid plain_text."},
	{kind: kms.ErrDataKeyDigest, status: 400, code: "KMS.2103", msg: "Failed to verify the DEK hash."},
	{kind: kms.ErrDataKeyPlainLength, status: 400, code: "KMS.2104", msg: "The length of plain_text does not match datakey_plain_length."},
	{kind: kms.ErrSymmetricAlgorithm, status: 400, code: "KMS.2105", msg: "The symmetric key not support this encryption algorithm."},
	{kind: kms.ErrRSAAlgorithm, status: 400, code: "KMS.2106", msg: "The rsa key not support this encryption algorithm."},
	{kind: kms.ErrRSAPlaintextTooLong, status: 400, code: "KMS.2108", msg: "The rsa encryption plain_text is over length."},
	{kind: kms.ErrInvalidDataKeyCiphertext, status: 400, code: "KMS.2201", msg: "Invalid cipher_text."},
	{kind: kms.ErrDataKeyIntegrity, status: 400, code: "KMS.2203", msg: "Failed to verify the DEK hash."},
	{kind: kms.ErrDataKeyCipherLength, status: 400, code: "KMS.2204", msg: "The length of cipher_text does not match datakey_cipher_length."},
	// Tags and resource search (reference kms-api.md §5.I).
	{kind: kms.ErrTagListEmpty, status: 400, code: "KMS.0401", msg: "Tag list cannot be empty."},
	{kind: kms.ErrInvalidMatchValue, status: 400, code: "KMS.0402", msg: "Invalid match value."},
	{kind: kms.ErrInvalidMatchKey, status: 400, code: "KMS.0403", msg: "Invalid match key."},
	{kind: kms.ErrInvalidAction, status: 400, code: "KMS.0404", msg: "Invalid action."},
	{kind: kms.ErrInvalidTagValue, status: 400, code: "KMS.0405", msg: "Invalid tag value."},
	{kind: kms.ErrInvalidTagKey, status: 400, code: "KMS.0406", msg: "Invalid tag key."},
	{kind: kms.ErrTagListSize, status: 400, code: "KMS.0407", msg: "Invalid tag list size."},
	{kind: kms.ErrTooManyTags, status: 400, code: "KMS.0409", msg: "Too many tags."},
	{kind: kms.ErrTagValueLength, status: 400, code: "KMS.0410", msg: "Invalid tag value length."},
	{kind: kms.ErrTagKeyLength, status: 400, code: "KMS.0411", msg: "Invalid tag key length."},
	{kind: kms.ErrInvalidTagList, status: 400, code: "KMS.0412", msg: "Invalid tag list."},
	{kind: kms.ErrTooManyTagValues, status: 400, code: "KMS.0413", msg: "Too many tag values."},
	{kind: kms.ErrInvalidTags, status: 400, code: "KMS.0414", msg: "Invalid tags."},
	{kind: kms.ErrInvalidMatches, status: 400, code: "KMS.0415", msg: "Invalid matches."},
	{kind: kms.ErrTagNotFound, status: 404, code: "KMS.0416", msg: "Invalid tag ID."},
	{kind: kms.ErrInvalidOffset, status: 400, code: "KMS.0417", msg: "Invalid offset."},
	// Rotation (reference kms-api.md §5.J).
	{kind: kms.ErrExternalKeyRotation, status: 400, code: "KMS.0312", msg: "External keys cannot be rotated."},
	{kind: kms.ErrRotationNotEnabled, status: 400, code: "KMS.0313", msg: "Key rotation is not enabled."},
	{kind: kms.ErrRSAKeyRotation, status: 400, code: "KMS.0324", msg: "RSA keys cannot be rotated."},
	{kind: kms.ErrUnsupportedKeystore, status: 400, code: "KMS.0340", msg: "not support keystore."},
	{kind: kms.ErrReplicaReadOnly, status: 400, code: "KMS.0106", msg: "It is replica service, readonly api allowed."},
	{kind: kms.ErrMultiRegionRotation, status: 400, code: "KMS.0319", msg: "Rotation not supported in the current KMS version."},
	{kind: kms.ErrRegion, status: 400, code: "KMS.0308", msg: "Invalid parameter."},
	{kind: kms.ErrRegionUnavailable, status: 503, code: "KMSD.0504", msg: "The peer region cannot be reached."},
	{kind: kms.ErrKeystoreDisabled, status: 400, code: "KMS.0340", msg: "not support keystore."},
	{kind: kms.ErrKeystoreUnavailable, status: 503, code: "KMSD.0503", msg: "The keystore's HSM is not available."},
	{kind: kms.ErrKeystoreHasKeys, status: 400, code: "KMS.0308", msg: "Invalid parameter."},
	{kind: kms.ErrHSMCluster, status: 400, code: "KMS.0308", msg: "Invalid parameter."},
	{kind: kms.ErrDuplicateKeystore, status: 400, code: "KMS.0308", msg: "Invalid parameter."},
	{kind: kms.ErrKeystoreRotation, status: 400, code: "KMS.0338", msg: "The custom keystore do not support rotation."},
	{kind: kms.ErrKeystoreImport, status: 400, code: "KMS.0339", msg: "The custom keystore do not support import key."},
	{kind: kms.ErrRotationEnabled, status: 400, code: "KMS.2901", msg: "Key rotation is not disabled."},
	{kind: kms.ErrInvalidRotationInterval, status: 400, code: "KMS.3001", msg: "Invalid rotation_interval."},
	// Grants (reference kms-api.md §5.G).
	{kind: kms.ErrOnlyCreateGrant, status: 400, code: "KMS.2401", msg: "Specify an operation in addition to create-grant."},
	{kind: kms.ErrInvalidPrincipal, status: 400, code: "KMS.2402", msg: "Invalid user ID."},
	{kind: kms.ErrTooManyKeyGrants, status: 400, code: "KMS.2404", msg: "Too many CMK grants."},
	{kind: kms.ErrTooManyGranteeGrants, status: 400, code: "KMS.2405", msg: "Too many grants."},
	{kind: kms.ErrInvalidGrantID, status: 400, code: "KMS.2501", msg: "Invalid grant ID."},
	{kind: kms.ErrGrantKeyMismatch, status: 400, code: "KMS.2502", msg: "grant_id and key_id do not match."},
	{kind: kms.ErrNotPermitted, status: 403, code: "KMS.0307", msg: "No access permissions."},
	// Aliases (reference kms-api.md §5.H documents no codes of their own).
	{kind: kms.ErrAliasNotFound, status: 400, code: "KMS.0308", msg: "Invalid parameter."},
	{kind: kms.ErrTooManyAliases, status: 400, code: "KMS.0308", msg: "Invalid parameter."},
	// Import of key material (reference kms-api.md §5.K).
	{kind: kms.ErrNotExternal, status: 400, code: "KMS.0309", msg: "External keys required."},
	{kind: kms.ErrNotPendingImport, status: 400, code: "KMS.0310", msg: "The key is not in Pending import state."},
	{kind: kms.ErrUnwrapFailed, status: 400, code: "KMS.0311", msg: "Failed to decrypt data using the RSA private key."},
	{kind: kms.ErrImportTokenExpired, status: 400, code: "KMS.2601", msg: "Token expired."},
	{kind: kms.ErrMaterialExpiryPast, status: 400, code: "KMS.2602", msg: "Key expiration time must be later than the current time."},
	{kind: kms.ErrImportTokenKey, status: 400, code: "KMS.2603", msg: "Key IDs in the imported key and token do not match."},
	{kind: kms.ErrMaterialLength, status: 400, code: "KMS.2604", msg: "The external key plaintext length must be 32 bits."},
	{kind: kms.ErrImportTokenInvalid, status: 400, code: "KMS.2605", msg: "Token verification failed."},
	{kind: kms.ErrMaterialMismatch, status: 400, code: "KMS.2606", msg: "You are importing a deleted key again. The imported plaintext must be the same as the deleted key plaintext."},
	{kind: kms.ErrMaterialNotDeletable, status: 400, code: "KMS.2701", msg: "Key material is not in Enabled or Disabled state and cannot be deleted."},
	// Key spaces, access points, key policies, capsules (reference
	// kms-api-new.md §6: no codes of their own; existing codes, messages
	// naming the cause, nothing of a capsule's content).
	{kind: kms.ErrKeySpaceNotFound, status: 404, code: "KMS.0207", msg: "The key space does not exist."},
	{kind: kms.ErrAccessPointNotFound, status: 404, code: "KMS.0207", msg: "The access point does not exist."},
	{kind: kms.ErrKeyPolicyNotFound, status: 404, code: "KMS.0207", msg: "The key policy does not exist."},
	{kind: kms.ErrKeySpaceNotEmpty, status: 400, code: "KMS.0308", msg: "The key space still holds access points or key policies."},
	{kind: kms.ErrDuplicateName, status: 400, code: "KMS.0308", msg: "The name is already taken."},
	{kind: kms.ErrNoPrivateKey, status: 400, code: "KMS.0308", msg: "Only a Custom (type 3) access point has a private key to download."},
	{kind: kms.ErrPrivateKeyDownloaded, status: 400, code: "KMS.0308", msg: "The private key of this access point has already been downloaded."},
	{kind: kms.ErrInvalidPolicyDocument, status: 400, code: "KMS.0308", msg: "Invalid key policy document."},
	{kind: kms.ErrInvalidCapsule, status: 400, code: "KMS.0308", msg: "Invalid datakey_capsule."},
	{kind: kms.ErrCapsulePolicyGone, status: 403, code: "KMS.0306", msg: "The key policy of the capsule no longer exists."},
	{kind: kms.ErrPolicyNotInPeriod, status: 403, code: "KMS.0306", msg: "The key policy is not valid at this time."},
	{kind: kms.ErrAttestationMissing, status: 403, code: "KMS.0306", msg: "The attestation document identifies no access point."},
	{kind: kms.ErrAccessPointNotAllowed, status: 403, code: "KMS.0306", msg: "The access point is not allowed by the key policy."},
	{kind: kms.ErrAccessPointDisabled, status: 403, code: "KMS.0306", msg: "The access point is disabled."},
	{kind: kms.ErrAttestationSignature, status: 403, code: "KMS.0306", msg: "The attestation signature does not verify."},
	{kind: kms.ErrAttestationExpired, status: 403, code: "KMS.0306", msg: "The attestation has expired or its expire_time is invalid."},
	{kind: kms.ErrAttestationUnverifiable, status: 403, code: "KMS.0306", msg: "No attestation verifier is configured for ECS and CCE access points."},
	// IAM administration errors only reach the API through /v3 routes.
	{kind: iam.ErrWrongPassword, status: 401, code: "401", msg: "The username or password is wrong.", keystone: true},
}

// keystoneForm is how an error of an IAM endpoint (/v3) travels: the
// gateway's answers (authentication, routing) as they are, everything
// else — a body too long or too deep, an internal failure — in Keystone's
// shape with the same status, since Keystone, not the KMS service, answers
// there.
func keystoneForm(w wireError) wireError {
	if w.keystone || w.gateway && w.status != 413 {
		return w
	}
	k := wireError{kind: w.kind, status: w.status, code: strconv.Itoa(w.status), keystone: true}
	switch {
	case w.status == 413 || w.code == "KMS.0203":
		k.status, k.code, k.msg = 413, "413", "Request is too large."
	case w.status == 400:
		k.msg = "The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error."
	case w.status == 403:
		k.msg = "You are not authorized to perform the requested action."
	default:
		k.status, k.code, k.msg = 500, "500", "An unexpected error prevented the server from fulfilling your request."
	}
	return k
}

// internalError is the answer to anything unmapped: a logged 500 with a
// generic message.
var internalError = wireError{status: 500, code: "KMS.0101", msg: "KMS error."}

// lookupError returns the wire form of err.
func lookupError(err error) (wireError, bool) {
	for _, w := range errorTable {
		if errors.Is(err, w.kind) {
			return w, true
		}
	}
	return internalError, false
}
