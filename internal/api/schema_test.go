package api

import (
	"errors"
	"testing"
)

// TestCheckTypes checks the member type check on bodies whose members
// have the right types, null ones included, and on bodies with one member
// of a wrong type, at the top level and nested.
func TestCheckTypes(t *testing.T) {
	tests := []struct {
		op, body string
		ok       bool
	}{
		{"ListKeyDetail", `{"key_id":"k","sequence":"s"}`, true},
		{"ListKeyDetail", `{"key_id":null}`, true},
		{"ListKeyDetail", `{"unknown":5,"other":{"a":[1]}}`, true},
		{"ListKeyDetail", `{"key_id":5}`, false},
		{"ListKeyDetail", `{"key_id":"k","sequence":false}`, false},
		{"ListKeyDetail", `{"key_id":["k"]}`, false},
		{"UpdateKeyRotationInterval", `{"key_id":"k","rotation_interval":30}`, true},
		{"UpdateKeyRotationInterval", `{"rotation_interval":-1.5e3}`, true},
		{"UpdateKeyRotationInterval", `{"rotation_interval":"30"}`, false},
		{"CreateRsaDatakeyPair", `{"with_plain_text":false}`, true},
		{"CreateRsaDatakeyPair", `{"with_plain_text":"false"}`, false},
		{"CreateGrant", `{"operations":["describe-key", null]}`, true},
		{"CreateGrant", `{"operations":[]}`, true},
		{"CreateGrant", `{"operations":"describe-key"}`, false},
		{"CreateGrant", `{"operations":["describe-key",5]}`, false},
		{"CreateKmsTag", `{"tag":{"key":"k","value":"v","extra":1}}`, true},
		{"CreateKmsTag", `{"tag":{"key":"k","value":7}}`, false},
		{"CreateKmsTag", `{"tag":[]}`, false},
		{"ListKmsByTags", `{"tags":[{"key":"k","values":["a","b"]},{"key":"j"}],"matches":[{"key":"resource_name","value":""}]}`, true},
		{"ListKmsByTags", `{"tags":[{"key":"k","values":["a",{}]}]}`, false},
		{"ListKmsByTags", `{"tags":[{"key":"k"}, "x"]}`, false},
		{"ListKmsByTags", `{"matches":[{"key":"resource_name","value":["x"]}]}`, false},
		{"DeriveSharedSecret", `{"recipient":{"attestation_document":"a"}}`, true},
		{"DeriveSharedSecret", `{"recipient":{"attestation_document":true}}`, false},
		{"NoSuchOperation", `{"key_id":5}`, true},
	}
	for _, tt := range tests {
		f, err := decodeObject([]byte(tt.body))
		if err != nil {
			t.Fatalf("%s: %v", tt.body, err)
		}
		err = nil
		if p := planOf(tt.op); p != nil {
			err = p.checkTypes(p.lookup(f, nil))
		}
		if tt.ok && err != nil {
			t.Errorf("%s %s: got %v, want no error", tt.op, tt.body, err)
		}
		if !tt.ok && !errors.Is(err, errMalformedJSON) {
			t.Errorf("%s %s: got %v, want errMalformedJSON", tt.op, tt.body, err)
		}
	}
}

// planOf returns the request plan of the route op, nil if none.
func planOf(op string) *requestPlan {
	for _, rt := range routeTable() {
		if rt.op == op && rt.handler != nil {
			return rt.handler.plan
		}
	}
	return nil
}
