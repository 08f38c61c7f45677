package api

import (
	"errors"
	"reflect"
	"testing"

	"github.com/kmsd/kmsd/internal/kms"
)

// TestRequestDecoderRules checks the decoder's rules on single members
// through the request plans of real operations: numeric members as
// strings or JSON integers, in one canonical form; duplicate members,
// nested ones included; escaped lone surrogates.
func TestRequestDecoderRules(t *testing.T) {
	const id = "0d0466b0-e727-4d9c-b35d-f84bb474a37f"
	for _, tc := range []struct {
		op, body string
		want     error // nil: decodes
	}{
		{"ListKeys", `{"limit":"5","marker":"0"}`, nil},
		{"ListKeys", `{"limit":5,"marker":0}`, nil},
		{"ListKeys", `{"limit":2000}`, nil},
		{"ListKeys", `{"limit":""}`, nil},
		{"ListKeys", `{"limit":5.0}`, errMalformedJSON},
		{"ListKeys", `{"limit":5e0}`, errMalformedJSON},
		{"ListKeys", `{"limit":-5}`, errMalformedJSON},
		{"ListKeys", `{"limit":05}`, errMalformedJSON}, // not even JSON
		{"ListKeys", `{"limit":true}`, errMalformedJSON},
		{"ListKeys", `{"limit":{}}`, errMalformedJSON},
		{"ListKeys", `{"limit":["5"]}`, errMalformedJSON},
		{"ListKeys", `{"limit":"+5"}`, kms.ErrInvalidLimit},
		{"ListKeys", `{"limit":"05"}`, kms.ErrInvalidLimit},
		{"ListKeys", `{"limit":" 5"}`, kms.ErrInvalidLimit},
		{"ListKeys", `{"limit":"5.0"}`, kms.ErrInvalidLimit},
		{"ListKeys", `{"limit":"99999999999999999999"}`, kms.ErrInvalidLimit},
		{"ListKeys", `{"marker":"-1"}`, kms.ErrInvalidMarker},
		{"ListKeys", `{"marker":"0"}`, nil},
		{"ListKeys", `{"limit":"5","limit":"6"}`, errMalformedJSON},
		{"ListKeys", `{"limit":"5","li\u006dit":"6"}`, errMalformedJSON},
		{"DeleteKey", `{"key_id":"` + id + `","pending_days":7}`, nil},
		{"DeleteKey", `{"key_id":"` + id + `","pending_days":"7","pending_days":"30"}`, errMalformedJSON},
		{"DeleteKey", `{"key_id":"` + id + `","pending_days":"+7"}`, kms.ErrInvalidPendingDays},
		{"ListKmsByTags", `{"action":"filter","offset":10,"limit":1}`, nil},
		{"ListKmsByTags", `{"action":"filter","offset":"010"}`, kms.ErrInvalidOffset},
		{"CreateKmsTag", `{"tag":{"key":"a","key":"b"}}`, errMalformedJSON},
		{"BatchCreateKmsTags", `{"action":"create","tags":[{"key":"a","value":"1","value":"2"}]}`, errMalformedJSON},
		{"EncryptData", `{"key_id":"` + id + `","plain_text":"A\ud83d\ude00B"}`, nil},
		{"EncryptData", `{"key_id":"` + id + `","plain_text":"A\ud800B"}`, errMalformedJSON},
		{"EncryptData", `{"key_id":"` + id + `","plain_text":"A\udc00B"}`, errMalformedJSON},
		{"EncryptData", `{"key_id":"` + id + `","plain_text":"\ud800\ud800"}`, errMalformedJSON},
		{"EncryptData", `{"key_id":"` + id + `","plain_text":"x","x_unknown":"\ud800"}`, errMalformedJSON},
		{"EncryptData", `{"key_id":"` + id + `","plain_text":"\\ud800"}`, nil}, // an escaped backslash, then text
		{"CreateGrant", `{"key_id":"` + id + `","grantee_principal":"u","operations":["describe-key",null]}`, errMalformedJSON},
	} {
		f, err := decodeObject([]byte(tc.body))
		if err == nil {
			_, err = planOf(tc.op).decode(f)
		}
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s %s: got %v, want %v", tc.op, tc.body, err, tc.want)
		}
	}
}

// TestRequestKeys checks which keys a request names for kms.Authorize:
// a key member before a ciphertext of the same grant operation, in the
// order the request type first names each operation, and none when one
// operation has no key.
func TestRequestKeys(t *testing.T) {
	const a, b = "0d0466b0-e727-4d9c-b35d-f84bb474a37f", "1d0466b0-e727-4d9c-b35d-f84bb474a37f"
	ct := `"AQAAAA"`
	for _, tc := range []struct {
		op, body string
		want     []kms.KeyUse
	}{
		{"EncryptData", `{"key_id":"` + a + `","plain_text":"x"}`, []kms.KeyUse{{KeyID: a, Operation: kms.OpEncryptData}}},
		{"ListKeyDetail", `{"key_id":"` + a + `"}`, []kms.KeyUse{{KeyID: a, Operation: kms.OpDescribeKey}}},
		{"Sign", `{"key_id":"` + a + `","message":"x","signing_algorithm":"y"}`, []kms.KeyUse{{KeyID: a}}},
		{"DecryptData", `{"cipher_text":` + ct + `}`, []kms.KeyUse{{Ciphertext: "AQAAAA", Operation: kms.OpDecryptData}}},
		{"DecryptData", `{"cipher_text":` + ct + `,"key_id":"` + a + `"}`, []kms.KeyUse{{KeyID: a, Operation: kms.OpDecryptData}}},
		{"ReEncrypt", `{"cipher_text":` + ct + `,"destination_key_id":"` + b + `"}`, []kms.KeyUse{{Ciphertext: "AQAAAA", Operation: kms.OpDecryptData}, {KeyID: b, Operation: kms.OpEncryptData}}},
		{"ReEncrypt", `{"cipher_text":` + ct + `,"source_key_id":"` + a + `","destination_key_id":"` + b + `"}`, []kms.KeyUse{{KeyID: a, Operation: kms.OpDecryptData}, {KeyID: b, Operation: kms.OpEncryptData}}},
		{"ListKeys", `{}`, nil},
	} {
		f, err := decodeObject([]byte(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		p := planOf(tc.op)
		req, err := p.decode(f)
		if err != nil {
			t.Fatalf("%s %s: %v", tc.op, tc.body, err)
		}
		got := p.keys(reflectElem(req), nil)
		if len(got) != len(tc.want) {
			t.Errorf("%s %s: got %v, want %v", tc.op, tc.body, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%s %s: got %v, want %v", tc.op, tc.body, got, tc.want)
			}
		}
	}
}

func reflectElem(req any) reflect.Value { return reflect.ValueOf(req).Elem() }
