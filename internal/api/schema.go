package api

import (
	"fmt"
	"maps"
	"slices"
)

// jsonType is the JSON type of a request member.
type jsonType uint8

const (
	typeString jsonType = iota + 1
	typeNumber
	typeBoolean
	typeArray
	typeObject
)

var jsonTypeNames = [...]string{typeString: "string", typeNumber: "number", typeBoolean: "boolean", typeArray: "array", typeObject: "object"}

func (t jsonType) String() string { return jsonTypeNames[t] }

// member is the type of one request member: for an array the type of its
// elements, for an object the types of its members.
type member struct {
	typ     jsonType
	elem    *member
	members map[string]member
}

var (
	stringMember  = member{typ: typeString}
	numberMember  = member{typ: typeNumber}
	booleanMember = member{typ: typeBoolean}
)

func arrayOf(elem member) member         { return member{typ: typeArray, elem: &elem} }
func object(ms map[string]member) member { return member{typ: typeObject, members: ms} }
func stringMembers(names ...string) map[string]member {
	m := make(map[string]member, len(names))
	for _, n := range names {
		m[n] = stringMember
	}
	return m
}

// with returns ms with the members of more added.
func with(ms map[string]member, more map[string]member) map[string]member {
	out := maps.Clone(ms)
	maps.Copy(out, more)
	return out
}

var (
	tagItemMember = object(stringMembers("key", "value"))
	tagMember     = object(map[string]member{"key": stringMember, "values": arrayOf(stringMember)})
)

// requestSchemas are the JSON types of every member of every request body
// of the route table, by operation: the official SDK's request models
// (reference kms-api.md §5; test/compat compares the two). Integers are
// JSON numbers (the handlers check their range and form); every other
// scalar is a string, enums included.
//
// The schema is checked before anything else about a request, so a member
// of the wrong type is KMS.0202 whatever else the body holds or lacks, as
// a body that is not JSON is: both are malformed messages
// (docs/compatibility.md). Unknown members are not checked: they are
// ignored, as the real service ignores the fields newer SDKs add.
var requestSchemas = map[string]map[string]member{
	// B. Key lifecycle.
	"CreateKey":            stringMembers("key_alias", "key_spec", "key_usage", "key_description", "origin", "enterprise_project_id", "sequence", "keystore_id", "vm_id"),
	"ListKeyDetail":        stringMembers("key_id", "sequence"),
	"ListKeys":             stringMembers("limit", "marker", "key_state", "key_spec", "enterprise_project_id", "sequence"),
	"EnableKey":            stringMembers("key_id", "sequence"),
	"DisableKey":           stringMembers("key_id", "sequence"),
	"DeleteKey":            stringMembers("key_id", "pending_days", "sequence"),
	"CancelKeyDeletion":    stringMembers("key_id", "sequence"),
	"UpdateKeyAlias":       stringMembers("key_id", "key_alias", "sequence"),
	"UpdateKeyDescription": stringMembers("key_id", "key_description", "sequence"),
	// C. Small-data crypto and random.
	"EncryptData": stringMembers("key_id", "plain_text", "encryption_algorithm", "additional_authenticated_data", "sequence"),
	"DecryptData": stringMembers("cipher_text", "encryption_algorithm", "key_id", "additional_authenticated_data", "sequence"),
	"ReEncrypt": stringMembers("source_key_id", "source_additional_authenticated_data", "source_encryption_algorithm",
		"destination_key_id", "destination_additional_authenticated_data", "destination_encryption_algorithm", "datakey_cipher_length", "cipher_text"),
	"CreateRandom": stringMembers("random_data_length", "sequence"),
	// D. Data keys and data key pairs.
	"CreateDatakey":                 stringMembers("key_id", "key_spec", "datakey_length", "additional_authenticated_data", "sequence", "pin", "pin_type"),
	"CreateDatakeyWithoutPlaintext": stringMembers("key_id", "key_spec", "datakey_length", "additional_authenticated_data", "sequence", "pin", "pin_type"),
	"EncryptDatakey":                stringMembers("key_id", "plain_text", "datakey_plain_length", "additional_authenticated_data", "sequence", "pin", "pin_type", "key_spec"),
	"DecryptDatakey":                stringMembers("key_id", "cipher_text", "datakey_cipher_length", "additional_authenticated_data", "sequence"),
	"CreateRsaDatakeyPair":          with(stringMembers("key_id", "key_spec", "additional_authenticated_data", "sequence"), map[string]member{"with_plain_text": booleanMember}),
	"CreateEcDatakeyPair":           with(stringMembers("key_id", "key_spec", "additional_authenticated_data", "sequence", "pin", "pin_type"), map[string]member{"with_plain_text": booleanMember}),
	"CreatePin":                     stringMembers("pin_type", "keystore_id"),
	// E. Asymmetric keys.
	"ShowPublicKey":      stringMembers("key_id", "sequence"),
	"Sign":               stringMembers("key_id", "message", "signing_algorithm", "message_type", "sequence"),
	"ValidateSignature":  stringMembers("key_id", "message", "signature", "signing_algorithm", "message_type", "sequence"),
	"DeriveSharedSecret": with(stringMembers("key_id", "key_agreement_algorithm", "public_key"), map[string]member{"recipient": object(stringMembers("attestation_document", "key_encryption_algorithm"))}),
	// F. MAC.
	"GenerateMac": stringMembers("key_id", "mac_algorithm", "message"),
	"VerifyMac":   stringMembers("key_id", "mac_algorithm", "message", "mac"),
	// G. Grants.
	"CreateGrant":         with(stringMembers("key_id", "grantee_principal", "name", "retiring_principal", "grantee_principal_type", "sequence"), map[string]member{"operations": arrayOf(stringMember)}),
	"ListGrants":          stringMembers("key_id", "limit", "marker", "sequence"),
	"ListRetirableGrants": stringMembers("limit", "marker", "sequence"),
	"CancelGrant":         stringMembers("key_id", "grant_id", "sequence"),
	"CancelSelfGrant":     stringMembers("key_id", "grant_id", "sequence"),
	// H. Aliases.
	"CreateAlias":    stringMembers("key_id", "alias"),
	"AssociateAlias": stringMembers("alias", "target_key_id"),
	"DeleteAlias":    map[string]member{"aliases": arrayOf(stringMember), "key_id": stringMember},
	// I. Tags and resource search.
	"CreateKmsTag":       map[string]member{"tag": tagItemMember, "sequence": stringMember},
	"BatchCreateKmsTags": map[string]member{"tags": arrayOf(tagItemMember), "action": stringMember, "sequence": stringMember},
	"ListKmsByTags":      with(stringMembers("limit", "offset", "action", "sequence"), map[string]member{"tags": arrayOf(tagMember), "matches": arrayOf(tagItemMember)}),
	// J. Rotation.
	"EnableKeyRotation":         stringMembers("key_id", "sequence"),
	"DisableKeyRotation":        stringMembers("key_id", "sequence"),
	"UpdateKeyRotationInterval": map[string]member{"key_id": stringMember, "rotation_interval": numberMember, "sequence": stringMember},
	"ShowKeyRotationStatus":     stringMembers("key_id", "sequence"),
	// K. Import of key material.
	"CreateParametersForImport": stringMembers("key_id", "wrapping_algorithm", "sequence"),
	"ImportKeyMaterial":         with(stringMembers("key_id", "import_token", "encrypted_key_material", "encrypted_privatekey", "sequence"), map[string]member{"expiration_time": numberMember}),
	"DeleteImportedKeyMaterial": stringMembers("key_id", "sequence"),
	// L. Keystores.
	"CreateKeyStore": stringMembers("keystore_alias", "hsm_cluster_id", "hsm_ca_cert", "cluster_id", "keystore_type"),
	// M. Multi-region keys.
	"ReplicateKey":        with(stringMembers("key_id", "replica_region", "key_alias", "key_description", "enterprise_project_id", "replica_project_id"), map[string]member{"tags": arrayOf(tagItemMember)}),
	"UpdatePrimaryRegion": stringMembers("key_id", "primary_region"),
}

// checkTypes checks the members of f that schema types. A member that is
// null counts as absent: the handler decides whether it may be.
func checkTypes(f fields, schema map[string]member) error {
	for name, raw := range f {
		m, ok := schema[name]
		if !ok {
			continue
		}
		if !m.matches(raw) {
			return fmt.Errorf("%w: %s must be a JSON %v", errMalformedJSON, name, m.typ)
		}
	}
	return nil
}

// matches reports whether the valid JSON value raw has the member's type,
// deeply.
func (m member) matches(raw []byte) bool {
	if len(raw) == 0 {
		return false
	}
	switch raw[0] {
	case 'n':
		return true
	case '"':
		return m.typ == typeString
	case 't', 'f':
		return m.typ == typeBoolean
	case '[':
		if m.typ != typeArray {
			return false
		}
		return m.elem == nil || eachElement(raw, m.elem.matches)
	case '{':
		if m.typ != typeObject {
			return false
		}
		if m.members == nil {
			return true
		}
		f, err := decodeObject(raw)
		return err == nil && checkTypes(f, m.members) == nil
	}
	return m.typ == typeNumber
}

// eachElement reports whether ok holds for every element of the valid
// JSON array raw.
func eachElement(raw []byte, ok func([]byte) bool) bool {
	i := skipSpace(raw, 1)
	for i < len(raw) && raw[i] != ']' {
		end := valueEnd(raw, i)
		if !ok(raw[i:end]) {
			return false
		}
		i = skipSpace(raw, end)
		if i < len(raw) && raw[i] == ',' {
			i = skipSpace(raw, i+1)
		}
	}
	return true
}

// RequestMembers returns the JSON type of every request member of op that
// kmsd checks, by JSON path: "tags" for a member, "tags[]" for its
// elements, "tags[].key" for a member of an element. It is nil for an
// operation without a request body.
func RequestMembers(op string) map[string]string {
	schema, ok := requestSchemas[op]
	if !ok {
		return nil
	}
	out := map[string]string{}
	var walk func(prefix string, ms map[string]member)
	var add func(path string, m member)
	add = func(path string, m member) {
		out[path] = m.typ.String()
		if m.elem != nil {
			add(path+"[]", *m.elem)
		}
		if m.members != nil {
			walk(path+".", m.members)
		}
	}
	walk = func(prefix string, ms map[string]member) {
		for _, name := range slices.Sorted(maps.Keys(ms)) {
			add(prefix+name, ms[name])
		}
	}
	walk("", schema)
	return out
}
