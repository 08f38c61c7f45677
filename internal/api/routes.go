package api

import (
	"reflect"
	"strings"
)

// authMode says how a route authenticates.
type authMode int

const (
	// authProject: AK/SK signature or X-Auth-Token, and the path's
	// {project_id} must be the caller's (the default).
	authProject authMode = iota
	// authAccount: authenticated, no project in the path (IAM endpoints).
	authAccount
	// authNone: no authentication (versions, token issuing).
	authNone
)

// defaultMaxBody is the body limit of routes that declare none. Every KMS
// request body of the reference is far below it; a larger one is refused
// with KMS.0203 before any work is done.
const defaultMaxBody = 64 << 10

// route is one operation of the wire protocol.
type route struct {
	// op is the official SDK's operation name (kms/v2 GenReqDefFor<op>);
	// the route-parity test compares the table with the SDK by it.
	op      string
	method  string
	pattern string
	// status is the success status (200 when zero).
	status int
	// maxBody is the request body limit in bytes (defaultMaxBody if 0).
	maxBody int64
	// action is the IAM action the caller needs (reference auth.md §8);
	// "" means any authenticated caller of the project.
	action string
	auth   authMode
	// handler serves the operation and names its request type (body);
	// nil, or an unbuilt operation's handler, answers 501 KMSD.0501.
	handler *operation
	// fixed constrains path parameters whose only valid value is their
	// own name: the SDK models ListKmsByTags' literal "resource_instances"
	// segment as a parameter (reference kms-api.md §3, row 43).
	fixed map[string]string
	// rest makes the pattern's last parameter take the rest of the path,
	// slashes included: the SDK puts a tag key into DeleteTag's path
	// unescaped (reference kms-api.md §1), so "team/app" arrives as two
	// segments.
	rest bool
	// newer marks the operations of Huawei's newer SDKs (Node.js 3.1.209,
	// Python 3.1.211) that the Go SDK v0.1.207 lacks (reference
	// kms-api-new.md); the route-parity test leaves them out.
	newer bool
	// noSDK marks the key-space calls: documented by Huawei next to the
	// newer operations, but in no SDK (reference kms-api-new.md §0).
	noSDK bool

	segs []string
}

// operation is a route's handler with the plan of the request type it
// decodes (request.go); plan is nil for an operation without a body, run
// nil for one that is not built yet.
type operation struct {
	plan *requestPlan
	run  func(h *Handler, c *call, req any) (any, error)
}

// body is the handler fn of an operation whose body is the request type
// R, which the route table so names: body[encryptDataRequest](...).
func body[R any](fn func(*Handler, *call, *R) (any, error)) *operation {
	return &operation{
		plan: newPlan(reflect.TypeFor[R]()),
		run:  func(h *Handler, c *call, req any) (any, error) { return fn(h, c, req.(*R)) },
	}
}

// noBody is the handler fn of an operation without a request body.
func noBody(fn func(*Handler, *call) (any, error)) *operation {
	return &operation{run: func(h *Handler, c *call, _ any) (any, error) { return fn(h, c) }}
}

// unbuilt is an operation that is not built yet: its request type is
// declared (the SDK parity test reads it), and it answers 501.
func unbuilt[R any]() *operation { return &operation{plan: newPlan(reflect.TypeFor[R]())} }

// implemented reports whether the route has a handler that runs.
func (rt *route) implemented() bool { return rt.handler != nil && rt.handler.run != nil }

// routeTable returns every operation kmsd serves: the 61 operations of the
// Huawei KMS reference (kms-api.md §3), the 14 newer ones
// (kms-api-new.md §2) and the IAM endpoints the SDK's
// credential layer calls. Operations that are not built yet have a nil
// handler and answer 501 with a JSON error body, never 404.
func routeTable() []*route {
	const p = "/v1.0/{project_id}/kms/"
	const ks = "/v1.0/{project_id}/keystores"
	const v2 = "/v2/{project_id}/kms/"
	rs := []*route{
		// A. Seed operation and quotas.
		{op: "ShowUserInstances", method: "GET", pattern: p + "user-instances", action: "kms:cmk:getInstance", handler: noBody((*Handler).showUserInstances)},
		{op: "ShowUserQuotas", method: "GET", pattern: p + "user-quotas", action: "kms:cmk:getQuota", handler: noBody((*Handler).showUserQuotas)},
		// B. Key lifecycle.
		{op: "CreateKey", method: "POST", pattern: p + "create-key", action: "kms:cmk:create", handler: body[createKeyRequest]((*Handler).createKey)},
		{op: "ListKeyDetail", method: "POST", pattern: p + "describe-key", action: "kms:cmk:get", handler: body[describeKeyRequest]((*Handler).describeKey)},
		{op: "ListKeys", method: "POST", pattern: p + "list-keys", action: "kms:cmk:list", handler: body[listKeysRequest]((*Handler).listKeys)},
		{op: "EnableKey", method: "POST", pattern: p + "enable-key", action: "kms:cmk:enable", handler: body[keyRequest]((*Handler).enableKey)},
		{op: "DisableKey", method: "POST", pattern: p + "disable-key", action: "kms:cmk:disable", handler: body[keyRequest]((*Handler).disableKey)},
		{op: "DeleteKey", method: "POST", pattern: p + "schedule-key-deletion", action: "kms:cmk:update", handler: body[scheduleKeyDeletionRequest]((*Handler).scheduleKeyDeletion)},
		{op: "CancelKeyDeletion", method: "POST", pattern: p + "cancel-key-deletion", action: "kms:cmk:update", handler: body[keyRequest]((*Handler).cancelKeyDeletion)},
		{op: "UpdateKeyAlias", method: "POST", pattern: p + "update-key-alias", action: "kms:cmk:update", handler: body[updateKeyAliasRequest]((*Handler).updateKeyAlias)},
		{op: "UpdateKeyDescription", method: "POST", pattern: p + "update-key-description", action: "kms:cmk:update", handler: body[updateKeyDescriptionRequest]((*Handler).updateKeyDescription)},
		// C. Small-data crypto and random.
		{op: "EncryptData", method: "POST", pattern: p + "encrypt-data", action: "kms:cmk:crypto", handler: body[encryptDataRequest]((*Handler).encryptData)},
		{op: "DecryptData", method: "POST", pattern: p + "decrypt-data", action: "kms:cmk:crypto", handler: body[decryptDataRequest]((*Handler).decryptData)},
		{op: "ReEncrypt", method: "POST", pattern: p + "re-encrypt", action: "kms:cmk:reEncrypt", handler: body[reEncryptRequest]((*Handler).reEncrypt)},
		{op: "CreateRandom", method: "POST", pattern: p + "gen-random", action: "kms:cmk:generate", handler: body[genRandomRequest]((*Handler).genRandom)},
		// D. Data keys and data key pairs.
		{op: "CreateDatakey", method: "POST", pattern: p + "create-datakey", action: "kms:dek:create", handler: body[createDataKeyRequest]((*Handler).createDataKey)},
		{op: "CreateDatakeyWithoutPlaintext", method: "POST", pattern: p + "create-datakey-without-plaintext", action: "kms:dek:create", handler: body[createDataKeyWithoutPlaintextRequest]((*Handler).createDataKeyWithoutPlaintext)},
		{op: "EncryptDatakey", method: "POST", pattern: p + "encrypt-datakey", action: "kms:dek:crypto", handler: body[encryptDataKeyRequest]((*Handler).encryptDataKey)},
		{op: "DecryptDatakey", method: "POST", pattern: p + "decrypt-datakey", action: "kms:dek:crypto", handler: body[decryptDataKeyRequest]((*Handler).decryptDataKey)},
		{op: "CreateRsaDatakeyPair", method: "POST", pattern: p + "create-rsa-datakey-pair", action: "kms:cmk:createDataKeyPair", handler: body[rsaDataKeyPairRequest]((*Handler).createRSADataKeyPair)},
		{op: "CreateEcDatakeyPair", method: "POST", pattern: p + "create-ec-datakey-pair", action: "kms:cmk:createDataKeyPair", handler: body[ecDataKeyPairRequest]((*Handler).createECDataKeyPair)},
		{op: "CreatePin", method: "POST", pattern: p + "create-pin", action: "kms:cmk:createDataKey", handler: body[createPinRequest]((*Handler).createPin)},
		// E. Asymmetric keys.
		{op: "ShowPublicKey", method: "POST", pattern: p + "get-publickey", action: "kms:cmk:getPublicKey", handler: body[keyRequest]((*Handler).showPublicKey)},
		{op: "Sign", method: "POST", pattern: p + "sign", action: "kms:cmk:sign", handler: body[signRequest]((*Handler).sign)},
		{op: "ValidateSignature", method: "POST", pattern: p + "verify", action: "kms:cmk:verify", handler: body[verifyRequest]((*Handler).verify)},
		{op: "DeriveSharedSecret", method: "POST", pattern: p + "derive-shared-secret", action: "kms:cmk:deriveSharedSecret", handler: body[deriveSharedSecretRequest]((*Handler).deriveSharedSecret)},
		// F. MAC.
		{op: "GenerateMac", method: "POST", pattern: p + "generate-mac", action: "kms:cmk:generateMac", handler: body[generateMACRequest]((*Handler).generateMAC)},
		{op: "VerifyMac", method: "POST", pattern: p + "verify-mac", action: "kms:cmk:verifyMac", handler: body[verifyMACRequest]((*Handler).verifyMAC)},
		// G. Grants.
		{op: "CreateGrant", method: "POST", pattern: p + "create-grant", action: "kms:grant:create", handler: body[createGrantRequest]((*Handler).createGrant)},
		{op: "ListGrants", method: "POST", pattern: p + "list-grants", action: "kms:grant:list", handler: body[listGrantsRequest]((*Handler).listGrants)},
		{op: "ListRetirableGrants", method: "POST", pattern: p + "list-retirable-grants", action: "kms:grant:list", handler: body[listRetirableGrantsRequest]((*Handler).listRetirableGrants)},
		{op: "CancelGrant", method: "POST", pattern: p + "revoke-grant", action: "kms:grant:revoke", handler: body[revokeGrantRequest]((*Handler).revokeGrant)},
		{op: "CancelSelfGrant", method: "POST", pattern: p + "retire-grant", action: "kms:grant:retire", handler: body[retireGrantRequest]((*Handler).retireGrant)},
		// H. Aliases.
		{op: "CreateAlias", method: "POST", pattern: p + "aliases", status: 201, action: "kms:alias:create", handler: body[createAliasRequest]((*Handler).createAlias)},
		{op: "AssociateAlias", method: "POST", pattern: p + "alias/associate", action: "kms:alias:update", handler: body[associateAliasRequest]((*Handler).associateAlias)},
		{op: "DeleteAlias", method: "DELETE", pattern: p + "aliases", status: 204, action: "kms:alias:delete", handler: body[deleteAliasRequest]((*Handler).deleteAlias)},
		{op: "ListAliases", method: "GET", pattern: p + "aliases", action: "kms:alias:list", handler: noBody((*Handler).listAliases)},
		// I. Tags and resource search.
		{op: "CreateKmsTag", method: "POST", pattern: p + "{key_id}/tags", status: 204, action: "kms:cmkTag:create", handler: body[createKmsTagRequest]((*Handler).createKmsTag)},
		{op: "BatchCreateKmsTags", method: "POST", pattern: p + "{key_id}/tags/action", status: 204, action: "kms:cmkTag:batch", handler: body[batchCreateKmsTagsRequest]((*Handler).batchCreateKmsTags)},
		{op: "DeleteTag", method: "DELETE", pattern: p + "{key_id}/tags/{key}", rest: true, status: 204, action: "kms:cmkTag:delete", handler: noBody((*Handler).deleteTag)},
		{op: "ShowKmsTags", method: "GET", pattern: p + "{key_id}/tags", action: "kms:cmkTag:list", handler: noBody((*Handler).showKmsTags)},
		{op: "ListKmsTags", method: "GET", pattern: p + "tags", action: "kms:cmkTag:list", handler: noBody((*Handler).listKmsTags)},
		{op: "ListKmsByTags", method: "POST", pattern: p + "{resource_instances}/action", maxBody: 256 << 10, fixed: map[string]string{"resource_instances": "resource_instances"}, action: "kms:cmkTag:listInstance", handler: body[listKmsByTagsRequest]((*Handler).listKmsByTags)},
		// J. Rotation.
		{op: "EnableKeyRotation", method: "POST", pattern: p + "enable-key-rotation", action: "kms:cmk:enableRotation", handler: body[keyRequest]((*Handler).enableKeyRotation)},
		{op: "DisableKeyRotation", method: "POST", pattern: p + "disable-key-rotation", action: "kms:cmk:disableRotation", handler: body[keyRequest]((*Handler).disableKeyRotation)},
		{op: "UpdateKeyRotationInterval", method: "POST", pattern: p + "update-key-rotation-interval", action: "kms:cmk:updateRotation", handler: body[updateKeyRotationIntervalRequest]((*Handler).updateKeyRotationInterval)},
		{op: "ShowKeyRotationStatus", method: "POST", pattern: p + "get-key-rotation-status", action: "kms:cmk:getRotation", handler: body[keyRequest]((*Handler).showKeyRotationStatus)},
		// K. Import of key material.
		{op: "CreateParametersForImport", method: "POST", pattern: p + "get-parameters-for-import", action: "kms:cmk:getMaterial", handler: body[getParametersForImportRequest]((*Handler).getParametersForImport)},
		{op: "ImportKeyMaterial", method: "POST", pattern: p + "import-key-material", action: "kms:cmk:importMaterial", handler: body[importKeyMaterialRequest]((*Handler).importKeyMaterial)},
		{op: "DeleteImportedKeyMaterial", method: "POST", pattern: p + "delete-imported-key-material", action: "kms:cmk:deleteMaterial", handler: body[keyRequest]((*Handler).deleteImportedKeyMaterial)},
		// L. Keystores.
		{op: "CreateKeyStore", method: "POST", pattern: ks, action: "kms:keystore:create", handler: body[createKeyStoreRequest]((*Handler).createKeyStore)},
		{op: "ListKeyStores", method: "GET", pattern: ks, action: "kms:keystore:list", handler: noBody((*Handler).listKeyStores)},
		{op: "ShowKeyStore", method: "GET", pattern: ks + "/{keystore_id}", action: "kms:keystore:get", handler: noBody((*Handler).showKeyStore)},
		{op: "EnableKeyStore", method: "POST", pattern: ks + "/{keystore_id}/enable", action: "kms:keystore:enable", handler: noBody((*Handler).enableKeyStore)},
		{op: "DisableKeyStore", method: "POST", pattern: ks + "/{keystore_id}/disable", action: "kms:keystore:disable", handler: noBody((*Handler).disableKeyStore)},
		{op: "DeleteKeyStore", method: "DELETE", pattern: ks + "/{keystore_id}", action: "kms:keystore:delete", handler: noBody((*Handler).deleteKeyStore)},
		// M. Multi-region keys.
		{op: "ReplicateKey", method: "POST", pattern: v2 + "keys/{key_id}/replicate", action: "kms:cmk:replicate", handler: body[replicateKeyRequest]((*Handler).replicateKey)},
		{op: "UpdatePrimaryRegion", method: "PUT", pattern: v2 + "keys/{key_id}/update-primary-region", action: "kms:cmk:updatePrimaryRegion", handler: body[updatePrimaryRegionRequest]((*Handler).updatePrimaryRegion)},
		{op: "ListSupportRegions", method: "GET", pattern: v2 + "regions", action: "kms:cmk:listRegions", handler: noBody((*Handler).listSupportRegions)},
		// O–Q. Newer than the Go SDK v0.1.207 (reference kms-api-new.md §2):
		// key policies, on-demand rotation, access points, data key capsules.
		{op: "CreateKeyPolicy", method: "POST", pattern: p + "key-policies", status: 201, action: "kms:policy:create", newer: true, handler: body[createKeyPolicyRequest]((*Handler).createKeyPolicy)},
		{op: "ListKeyPolicy", method: "GET", pattern: p + "key-policies", action: "kms:policy:list", newer: true, handler: noBody((*Handler).listKeyPolicies)},
		{op: "ShowKeyPolicy", method: "GET", pattern: p + "key-policies/{policy_id}", action: "kms:policy:get", newer: true, handler: noBody((*Handler).showKeyPolicy)},
		{op: "UpdateKeyPolicy", method: "PUT", pattern: p + "key-policies/{policy_id}", action: "kms:policy:update", newer: true, handler: body[updateKeyPolicyRequest]((*Handler).updateKeyPolicy)},
		{op: "DeleteKeyPolicy", method: "DELETE", pattern: p + "key-policies/{policy_id}", status: 204, action: "kms:policy:delete", newer: true, handler: noBody((*Handler).deleteKeyPolicy)},
		{op: "RotateOnDemand", method: "POST", pattern: p + "rotate-on-demand", action: "kms:cmk:rotateOnDemand", newer: true, handler: body[rotateOnDemandRequest]((*Handler).rotateOnDemand)},
		{op: "CreateAccessPoint", method: "POST", pattern: p + "access-points", status: 201, action: "kms:accessPoint:create", newer: true, handler: body[createAccessPointRequest]((*Handler).createAccessPoint)},
		{op: "ListAccessPoint", method: "GET", pattern: p + "access-points", action: "kms:accessPoint:list", newer: true, handler: noBody((*Handler).listAccessPoints)},
		{op: "EnableAccessPoint", method: "POST", pattern: p + "access-points/{access_point_id}/enable", status: 204, action: "kms:accessPoint:enable", newer: true, handler: noBody((*Handler).enableAccessPoint)},
		{op: "DisableAccessPoint", method: "POST", pattern: p + "access-points/{access_point_id}/disable", status: 204, action: "kms:accessPoint:disable", newer: true, handler: noBody((*Handler).disableAccessPoint)},
		{op: "DeleteAccessPoint", method: "DELETE", pattern: p + "access-points/{access_point_id}", status: 204, action: "kms:accessPoint:delete", newer: true, handler: noBody((*Handler).deleteAccessPoint)},
		{op: "DownloadAccessPointPrivateKey", method: "POST", pattern: p + "access-points/{access_point_id}/get-privatekey", action: "kms:accessPoint:getPrivateKey", newer: true, handler: noBody((*Handler).downloadAccessPointPrivateKey)},
		{op: "CreateDatakeyCapsule", method: "POST", pattern: p + "datakey-capsule/create", action: "kms:cmk:createDatakeyCapsule", newer: true, handler: body[createDatakeyCapsuleRequest]((*Handler).createDatakeyCapsule)},
		{op: "DecryptDatakeyCapsule", method: "POST", pattern: p + "datakey-capsule/decrypt", action: "kms:cmk:decryptDatakeyCapsule", newer: true, handler: body[decryptDatakeyCapsuleRequest]((*Handler).decryptDatakeyCapsule)},
		// Key spaces (reference kms-api-new.md §0): documented, in no SDK.
		{op: "CreateTrustedKeySpace", method: "POST", pattern: p + "key-spaces", status: 201, action: "kms:keyspace:createKeyspace", noSDK: true, handler: body[createKeySpaceRequest]((*Handler).createKeySpace)},
		{op: "ListTrustedKeySpace", method: "GET", pattern: p + "key-spaces", action: "kms:keyspace:listKeyspace", noSDK: true, handler: noBody((*Handler).listKeySpaces)},
		{op: "DeleteTrustedKeySpace", method: "DELETE", pattern: p + "key-spaces/{key_space_id}", status: 204, action: "kms:keyspace:deleteKeyspace", noSDK: true, handler: noBody((*Handler).deleteKeySpace)},
		// N. API versions.
		{op: "ShowVersions", method: "GET", pattern: "/", auth: authNone, handler: noBody((*Handler).showVersions)},
		{op: "ShowVersion", method: "GET", pattern: "/{version_id}", auth: authNone, handler: noBody((*Handler).showVersion)},

		// IAM endpoints used by the SDK's credential layer (auth.md §5).
		{op: "KeystoneCreateUserTokenByPassword", method: "POST", pattern: "/v3/auth/tokens", status: 201, auth: authNone, handler: noBody((*Handler).createToken)},
		{op: "KeystoneValidateToken", method: "GET", pattern: "/v3/auth/tokens", auth: authAccount, handler: noBody((*Handler).validateToken)},
		{op: "KeystoneListProjects", method: "GET", pattern: "/v3/projects", auth: authAccount, handler: noBody((*Handler).listProjects)},
	}
	for _, rt := range rs {
		rt.segs = splitPath(rt.pattern)
	}
	return rs
}

// Operation describes one route for tests and documentation.
type Operation struct {
	Name, Method, Pattern, Action string
	Implemented                   bool
	// MaxBody is the request body limit (KMS.0203 above it).
	MaxBody int64
	// Newer marks the operations the Go SDK v0.1.207 lacks (reference
	// kms-api-new.md).
	Newer bool
	// NoSDK marks the key-space calls, which no SDK has.
	NoSDK bool
}

// Operations lists the route table.
func Operations() []Operation {
	var out []Operation
	for _, rt := range routeTable() {
		out = append(out, Operation{Name: rt.op, Method: rt.method, Pattern: rt.pattern, Action: rt.action, Implemented: rt.implemented(), MaxBody: rt.bodyLimit(), Newer: rt.newer, NoSDK: rt.noSDK})
	}
	return out
}

// isKMSOperation reports whether op is one of the 75 KMS operations (and
// not an IAM endpoint).
func isKMSOperation(o Operation) bool { return !strings.HasPrefix(o.Pattern, "/v3/") && !o.NoSDK }
