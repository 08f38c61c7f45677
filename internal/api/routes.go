package api

import (
	"strings"

	"github.com/kmsd/kmsd/internal/kms"
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
	// handler serves the operation; nil answers 501 KMSD.0501.
	handler func(*Handler, *call) (any, error)
	// keys appends to dst the keys a request names, each with the grant
	// operation (reference kms-api.md §5.G) that lets a grantee use it;
	// nil for a route no grant can authorize. kms.Authorize decides on
	// them (access.go).
	keys func(f fields, dst []kms.KeyUse) []kms.KeyUse
	// fixed constrains path parameters whose only valid value is their
	// own name: the SDK models ListKmsByTags' literal "resource_instances"
	// segment as a parameter (reference kms-api.md §3, row 43).
	fixed map[string]string
	// rest makes the pattern's last parameter take the rest of the path,
	// slashes included: the SDK puts a tag key into DeleteTag's path
	// unescaped (reference kms-api.md §1), so "team/app" arrives as two
	// segments.
	rest bool

	segs []string
	// schema is requestSchemas[op], looked up once when the table is
	// built rather than on every request.
	schema map[string]member
}

// routeTable returns every operation kmsd serves: the 61 operations of the
// Huawei KMS reference (kms-api.md §3) and the IAM endpoints the SDK's
// credential layer calls. Operations that are not built yet have a nil
// handler and answer 501 with a JSON error body, never 404.
func routeTable() []*route {
	const p = "/v1.0/{project_id}/kms/"
	const ks = "/v1.0/{project_id}/keystores"
	const v2 = "/v2/{project_id}/kms/"
	rs := []*route{
		// A. Seed operation and quotas.
		{op: "ShowUserInstances", method: "GET", pattern: p + "user-instances", action: "kms:cmk:getInstance", handler: (*Handler).showUserInstances},
		{op: "ShowUserQuotas", method: "GET", pattern: p + "user-quotas", action: "kms:cmk:getQuota", handler: (*Handler).showUserQuotas},
		// B. Key lifecycle.
		{op: "CreateKey", method: "POST", pattern: p + "create-key", action: "kms:cmk:create", handler: (*Handler).createKey},
		{op: "ListKeyDetail", method: "POST", pattern: p + "describe-key", action: "kms:cmk:get", keys: keyUse(kms.OpDescribeKey), handler: (*Handler).describeKey},
		{op: "ListKeys", method: "POST", pattern: p + "list-keys", action: "kms:cmk:list", handler: (*Handler).listKeys},
		{op: "EnableKey", method: "POST", pattern: p + "enable-key", action: "kms:cmk:enable", handler: (*Handler).enableKey},
		{op: "DisableKey", method: "POST", pattern: p + "disable-key", action: "kms:cmk:disable", handler: (*Handler).disableKey},
		{op: "DeleteKey", method: "POST", pattern: p + "schedule-key-deletion", action: "kms:cmk:update", handler: (*Handler).scheduleKeyDeletion},
		{op: "CancelKeyDeletion", method: "POST", pattern: p + "cancel-key-deletion", action: "kms:cmk:update", handler: (*Handler).cancelKeyDeletion},
		{op: "UpdateKeyAlias", method: "POST", pattern: p + "update-key-alias", action: "kms:cmk:update", handler: (*Handler).updateKeyAlias},
		{op: "UpdateKeyDescription", method: "POST", pattern: p + "update-key-description", action: "kms:cmk:update", handler: (*Handler).updateKeyDescription},
		// C. Small-data crypto and random.
		{op: "EncryptData", method: "POST", pattern: p + "encrypt-data", action: "kms:cmk:crypto", keys: keyUse(kms.OpEncryptData), handler: (*Handler).encryptData},
		{op: "DecryptData", method: "POST", pattern: p + "decrypt-data", action: "kms:cmk:crypto", keys: decryptDataKeys, handler: (*Handler).decryptData},
		{op: "ReEncrypt", method: "POST", pattern: p + "re-encrypt", action: "kms:cmk:reEncrypt", keys: reEncryptKeys, handler: (*Handler).reEncrypt},
		{op: "CreateRandom", method: "POST", pattern: p + "gen-random", action: "kms:cmk:generate", handler: (*Handler).genRandom},
		// D. Data keys and data key pairs.
		{op: "CreateDatakey", method: "POST", pattern: p + "create-datakey", action: "kms:dek:create", keys: keyUse(kms.OpCreateDataKey), handler: (*Handler).createDataKey},
		{op: "CreateDatakeyWithoutPlaintext", method: "POST", pattern: p + "create-datakey-without-plaintext", action: "kms:dek:create", keys: keyUse(kms.OpCreateDataKeyWithoutPlaintext), handler: (*Handler).createDataKeyWithoutPlaintext},
		{op: "EncryptDatakey", method: "POST", pattern: p + "encrypt-datakey", action: "kms:dek:crypto", keys: keyUse(kms.OpEncryptDataKey), handler: (*Handler).encryptDataKey},
		{op: "DecryptDatakey", method: "POST", pattern: p + "decrypt-datakey", action: "kms:dek:crypto", keys: keyUse(kms.OpDecryptDataKey), handler: (*Handler).decryptDataKey},
		{op: "CreateRsaDatakeyPair", method: "POST", pattern: p + "create-rsa-datakey-pair", action: "kms:cmk:createDataKeyPair", handler: (*Handler).createRSADataKeyPair},
		{op: "CreateEcDatakeyPair", method: "POST", pattern: p + "create-ec-datakey-pair", action: "kms:cmk:createDataKeyPair", handler: (*Handler).createECDataKeyPair},
		{op: "CreatePin", method: "POST", pattern: p + "create-pin", action: "kms:cmk:createDataKey", handler: (*Handler).createPin},
		// E. Asymmetric keys.
		{op: "ShowPublicKey", method: "POST", pattern: p + "get-publickey", action: "kms:cmk:getPublicKey", handler: (*Handler).showPublicKey},
		{op: "Sign", method: "POST", pattern: p + "sign", action: "kms:cmk:sign", handler: (*Handler).sign},
		{op: "ValidateSignature", method: "POST", pattern: p + "verify", action: "kms:cmk:verify", handler: (*Handler).verify},
		{op: "DeriveSharedSecret", method: "POST", pattern: p + "derive-shared-secret", action: "kms:cmk:deriveSharedSecret", handler: (*Handler).deriveSharedSecret},
		// F. MAC.
		{op: "GenerateMac", method: "POST", pattern: p + "generate-mac", action: "kms:cmk:generateMac", handler: (*Handler).generateMAC},
		{op: "VerifyMac", method: "POST", pattern: p + "verify-mac", action: "kms:cmk:verifyMac", handler: (*Handler).verifyMAC},
		// G. Grants.
		{op: "CreateGrant", method: "POST", pattern: p + "create-grant", action: "kms:grant:create", keys: keyUse(kms.OpCreateGrant), handler: (*Handler).createGrant},
		{op: "ListGrants", method: "POST", pattern: p + "list-grants", action: "kms:grant:list", handler: (*Handler).listGrants},
		{op: "ListRetirableGrants", method: "POST", pattern: p + "list-retirable-grants", action: "kms:grant:list", handler: (*Handler).listRetirableGrants},
		{op: "CancelGrant", method: "POST", pattern: p + "revoke-grant", action: "kms:grant:revoke", handler: (*Handler).revokeGrant},
		{op: "CancelSelfGrant", method: "POST", pattern: p + "retire-grant", action: "kms:grant:retire", keys: keyUse(kms.OpRetireGrant), handler: (*Handler).retireGrant},
		// H. Aliases.
		{op: "CreateAlias", method: "POST", pattern: p + "aliases", status: 201, action: "kms:alias:create", handler: (*Handler).createAlias},
		{op: "AssociateAlias", method: "POST", pattern: p + "alias/associate", action: "kms:alias:update", handler: (*Handler).associateAlias},
		{op: "DeleteAlias", method: "DELETE", pattern: p + "aliases", status: 204, action: "kms:alias:delete", handler: (*Handler).deleteAlias},
		{op: "ListAliases", method: "GET", pattern: p + "aliases", action: "kms:alias:list", handler: (*Handler).listAliases},
		// I. Tags and resource search.
		{op: "CreateKmsTag", method: "POST", pattern: p + "{key_id}/tags", status: 204, action: "kms:cmkTag:create", handler: (*Handler).createKmsTag},
		{op: "BatchCreateKmsTags", method: "POST", pattern: p + "{key_id}/tags/action", status: 204, action: "kms:cmkTag:batch", handler: (*Handler).batchCreateKmsTags},
		{op: "DeleteTag", method: "DELETE", pattern: p + "{key_id}/tags/{key}", rest: true, status: 204, action: "kms:cmkTag:delete", handler: (*Handler).deleteTag},
		{op: "ShowKmsTags", method: "GET", pattern: p + "{key_id}/tags", action: "kms:cmkTag:list", handler: (*Handler).showKmsTags},
		{op: "ListKmsTags", method: "GET", pattern: p + "tags", action: "kms:cmkTag:list", handler: (*Handler).listKmsTags},
		{op: "ListKmsByTags", method: "POST", pattern: p + "{resource_instances}/action", maxBody: 256 << 10, fixed: map[string]string{"resource_instances": "resource_instances"}, action: "kms:cmkTag:listInstance", handler: (*Handler).listKmsByTags},
		// J. Rotation.
		{op: "EnableKeyRotation", method: "POST", pattern: p + "enable-key-rotation", action: "kms:cmk:enableRotation", handler: (*Handler).enableKeyRotation},
		{op: "DisableKeyRotation", method: "POST", pattern: p + "disable-key-rotation", action: "kms:cmk:disableRotation", handler: (*Handler).disableKeyRotation},
		{op: "UpdateKeyRotationInterval", method: "POST", pattern: p + "update-key-rotation-interval", action: "kms:cmk:updateRotation", handler: (*Handler).updateKeyRotationInterval},
		{op: "ShowKeyRotationStatus", method: "POST", pattern: p + "get-key-rotation-status", action: "kms:cmk:getRotation", handler: (*Handler).showKeyRotationStatus},
		// K. Import of key material.
		{op: "CreateParametersForImport", method: "POST", pattern: p + "get-parameters-for-import", action: "kms:cmk:getMaterial", handler: (*Handler).getParametersForImport},
		{op: "ImportKeyMaterial", method: "POST", pattern: p + "import-key-material", action: "kms:cmk:importMaterial", handler: (*Handler).importKeyMaterial},
		{op: "DeleteImportedKeyMaterial", method: "POST", pattern: p + "delete-imported-key-material", action: "kms:cmk:deleteMaterial", handler: (*Handler).deleteImportedKeyMaterial},
		// L. Keystores.
		{op: "CreateKeyStore", method: "POST", pattern: ks, action: "kms:keystore:create", handler: (*Handler).createKeyStore},
		{op: "ListKeyStores", method: "GET", pattern: ks, action: "kms:keystore:list", handler: (*Handler).listKeyStores},
		{op: "ShowKeyStore", method: "GET", pattern: ks + "/{keystore_id}", action: "kms:keystore:get", handler: (*Handler).showKeyStore},
		{op: "EnableKeyStore", method: "POST", pattern: ks + "/{keystore_id}/enable", action: "kms:keystore:enable", handler: (*Handler).enableKeyStore},
		{op: "DisableKeyStore", method: "POST", pattern: ks + "/{keystore_id}/disable", action: "kms:keystore:disable", handler: (*Handler).disableKeyStore},
		{op: "DeleteKeyStore", method: "DELETE", pattern: ks + "/{keystore_id}", action: "kms:keystore:delete", handler: (*Handler).deleteKeyStore},
		// M. Multi-region keys.
		{op: "ReplicateKey", method: "POST", pattern: v2 + "keys/{key_id}/replicate", action: "kms:cmk:replicate"},
		{op: "UpdatePrimaryRegion", method: "PUT", pattern: v2 + "keys/{key_id}/update-primary-region", action: "kms:cmk:updatePrimaryRegion"},
		{op: "ListSupportRegions", method: "GET", pattern: v2 + "regions", action: "kms:cmk:listRegions"},
		// N. API versions.
		{op: "ShowVersions", method: "GET", pattern: "/", auth: authNone, handler: (*Handler).showVersions},
		{op: "ShowVersion", method: "GET", pattern: "/{version_id}", auth: authNone, handler: (*Handler).showVersion},

		// IAM endpoints used by the SDK's credential layer (auth.md §5).
		{op: "KeystoneCreateUserTokenByPassword", method: "POST", pattern: "/v3/auth/tokens", status: 201, auth: authNone, handler: (*Handler).createToken},
		{op: "KeystoneValidateToken", method: "GET", pattern: "/v3/auth/tokens", auth: authAccount, handler: (*Handler).validateToken},
		{op: "KeystoneListProjects", method: "GET", pattern: "/v3/projects", auth: authAccount, handler: (*Handler).listProjects},
	}
	for _, rt := range rs {
		rt.segs = splitPath(rt.pattern)
		rt.schema = requestSchemas[rt.op]
	}
	return rs
}

// Operation describes one route for tests and documentation.
type Operation struct {
	Name, Method, Pattern, Action string
	Implemented                   bool
	// MaxBody is the request body limit (KMS.0203 above it).
	MaxBody int64
}

// Operations lists the route table.
func Operations() []Operation {
	var out []Operation
	for _, rt := range routeTable() {
		out = append(out, Operation{Name: rt.op, Method: rt.method, Pattern: rt.pattern, Action: rt.action, Implemented: rt.handler != nil, MaxBody: rt.bodyLimit()})
	}
	return out
}

// isKMSOperation reports whether op is one of the 61 KMS operations (and
// not an IAM endpoint).
func isKMSOperation(o Operation) bool { return !strings.HasPrefix(o.Pattern, "/v3/") }
