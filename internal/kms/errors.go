package kms

import "errors"

// Domain error kinds. Every error the service returns to a caller wraps one
// of these (errors.Is), possibly with a private detail for the log. The API
// layer maps each kind to its HTTP status and Huawei error code in exactly
// one table (internal/api/errors.go); anything unmapped becomes a 500.
var (
	ErrKeyNotFound            = errors.New("key not found")
	ErrInvalidKeyID           = errors.New("invalid key id")
	ErrKeyDisabled            = errors.New("key disabled")
	ErrKeyPendingDeletion     = errors.New("key pending deletion")
	ErrKeyPendingImport       = errors.New("key pending import")
	ErrDefaultKey             = errors.New("operation not allowed on a default key")
	ErrInvalidAlias           = errors.New("invalid key alias")
	ErrDuplicateAlias         = errors.New("duplicate key alias")
	ErrInvalidDescription     = errors.New("invalid key description")
	ErrTooManyKeys            = errors.New("key quota exceeded")
	ErrInvalidKeySpec         = errors.New("invalid key spec")
	ErrInvalidKeyUsage        = errors.New("invalid key usage")
	ErrECNoEncrypt            = errors.New("EC keys cannot encrypt")
	ErrSymmetricNoSign        = errors.New("symmetric keys cannot sign")
	ErrKeyNotDisabled         = errors.New("key is not disabled")
	ErrKeyNotEnabled          = errors.New("key is not enabled")
	ErrInvalidPendingDays     = errors.New("pending days out of range")
	ErrAlreadyPendingDeletion = errors.New("key already pending deletion")
	ErrNotPendingDeletion     = errors.New("key not pending deletion")
	ErrInvalidLimit           = errors.New("invalid limit")
	ErrInvalidMarker          = errors.New("invalid marker")
	ErrInvalidParameter       = errors.New("invalid parameter")
	ErrNotImplemented         = errors.New("not implemented")

	// Key usage and class errors of the cryptographic operations.
	ErrKeyForEncryption  = errors.New("key is for encryption, not signing")         // KMS.0334
	ErrKeyForSigning     = errors.New("key is for signing, not encryption")         // KMS.0335
	ErrAsymmetricKey     = errors.New("operation not supported by asymmetric keys") // KMS.0325
	ErrSymmetricKey      = errors.New("operation not supported by symmetric keys")  // KMS.0331
	ErrHMACKey           = errors.New("operation not supported by HMAC keys")       // KMS.0341
	ErrAlgorithmMismatch = errors.New("algorithm does not fit the key")             // KMS.0332
	ErrDigestLength      = errors.New("digest length does not match the hash")      // KMS.0329
	ErrInvalidCiphertext = errors.New("invalid ciphertext")                         // KMS.0308
	ErrDecryptFailed     = errors.New("decryption failed")                          // KMS.0308 / KMS.0311

	// Errors of encrypt-data, decrypt-data, re-encrypt, gen-random and the
	// data key operations (reference errors.md §5).
	ErrSymmetricAlgorithm       = errors.New("encryption algorithm not supported by a symmetric key") // KMS.2105
	ErrRSAAlgorithm             = errors.New("encryption algorithm not supported by an RSA key")      // KMS.2106
	ErrRSAPlaintextTooLong      = errors.New("plaintext too long for RSA encryption")                 // KMS.2108
	ErrRSADecryptFailed         = errors.New("RSA decryption failed")                                 // KMS.0311
	ErrRandomLength             = errors.New("random length not a multiple of 8")                     // KMS.1802
	ErrDataKeySpec              = errors.New("unknown data key spec")                                 // KMS.1902
	ErrDataKeyLengthRange       = errors.New("data key length out of range")                          // KMS.1901
	ErrDataKeyLengthMultiple    = errors.New("data key length not a multiple of 8")                   // KMS.1903
	ErrInvalidDataKeyPlaintext  = errors.New("invalid data key plaintext")                            // KMS.2101
	ErrDataKeyDigest            = errors.New("data key digest does not match")                        // KMS.2103
	ErrDataKeyPlainLength       = errors.New("data key plaintext length mismatch")                    // KMS.2104
	ErrInvalidDataKeyCiphertext = errors.New("invalid data key ciphertext")                           // KMS.2201
	ErrDataKeyIntegrity         = errors.New("data key ciphertext failed authentication")             // KMS.2203
	ErrDataKeyCipherLength      = errors.New("data key ciphertext length mismatch")                   // KMS.2204
)

// Errors of the tag and resource-search operations (reference kms-api.md
// §5.I, errors.md §5).
var (
	ErrTagListEmpty      = errors.New("tag list is empty")               // KMS.0401
	ErrInvalidMatchValue = errors.New("invalid match value")             // KMS.0402
	ErrInvalidMatchKey   = errors.New("invalid match key")               // KMS.0403
	ErrInvalidAction     = errors.New("invalid action")                  // KMS.0404
	ErrInvalidTagValue   = errors.New("invalid tag value")               // KMS.0405
	ErrInvalidTagKey     = errors.New("invalid tag key")                 // KMS.0406
	ErrTagListSize       = errors.New("tag list too long")               // KMS.0407
	ErrTooManyTags       = errors.New("too many tags on the key")        // KMS.0409
	ErrTagValueLength    = errors.New("tag value too long")              // KMS.0410
	ErrTagKeyLength      = errors.New("tag key empty or too long")       // KMS.0411
	ErrInvalidTagList    = errors.New("tag key listed twice")            // KMS.0412
	ErrTooManyTagValues  = errors.New("too many values for one tag key") // KMS.0413
	ErrInvalidTags       = errors.New("invalid tags")                    // KMS.0414
	ErrInvalidMatches    = errors.New("invalid matches")                 // KMS.0415
	ErrTagNotFound       = errors.New("the key does not carry the tag")  // KMS.0416
	ErrInvalidOffset     = errors.New("invalid offset")                  // KMS.0417
)

// Errors of the rotation operations (reference kms-api.md §5.J).
var (
	ErrExternalKeyRotation     = errors.New("imported key material cannot rotate") // KMS.0312
	ErrRotationNotEnabled      = errors.New("key rotation is not enabled")         // KMS.0313
	ErrRSAKeyRotation          = errors.New("RSA keys cannot rotate")              // KMS.0324
	ErrRotationEnabled         = errors.New("key rotation is already enabled")     // KMS.2901
	ErrInvalidRotationInterval = errors.New("invalid rotation interval")           // KMS.3001
)

// Errors of grants (reference kms-api.md §5.G, errors.md §5).
var (
	ErrOnlyCreateGrant      = errors.New("a grant needs an operation besides create-grant") // KMS.2401
	ErrInvalidPrincipal     = errors.New("invalid principal")                               // KMS.2402
	ErrTooManyKeyGrants     = errors.New("grant quota of the key reached")                  // KMS.2404
	ErrTooManyGranteeGrants = errors.New("grant limit of the grantee on the key reached")   // KMS.2405
	ErrInvalidGrantID       = errors.New("invalid or unknown grant id")                     // KMS.2501
	ErrGrantKeyMismatch     = errors.New("grant is not on the key")                         // KMS.2502
	// ErrNotPermitted refuses what the caller's grants do not allow:
	// retiring a grant it neither retires, issued nor holds retire-grant
	// on, or creating a grant broader than its own.
	ErrNotPermitted = errors.New("not permitted by the grant") // KMS.0307
)

// Errors of the multi-alias API (reference kms-api.md §5.H). The reference
// documents no codes of their own for them.
var (
	ErrAliasNotFound  = errors.New("alias not found")                // KMS.0308
	ErrTooManyAliases = errors.New("alias limit of the key reached") // KMS.0308
)
