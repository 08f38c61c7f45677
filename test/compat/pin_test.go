package compat

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2/model"
)

// pinType returns the SDK's pin_type value v, also one outside its enum.
func pinType(t *testing.T, v string) *model.CreatePinRequestBodyPinType {
	t.Helper()
	var p model.CreatePinRequestBodyPinType
	if err := p.UnmarshalJSON([]byte(`"` + v + `"`)); err != nil {
		t.Fatal(err)
	}
	return &p
}

// TestCreatePin checks create-pin's PlainText and CipherText PINs, its
// default and its errors.
func TestCreatePin(t *testing.T) {
	t.Parallel()
	e := start(t)
	c := e.admin()
	pin := func(body *model.CreatePinRequestBody) (string, error) {
		resp, err := c.CreatePin(&model.CreatePinRequest{Body: body})
		if err != nil {
			return "", err
		}
		return text(resp.Pin), nil
	}
	ks := func(s string) *string { return &s }

	var plain []string
	for range 2 {
		p, err := pin(&model.CreatePinRequestBody{PinType: pinType(t, "PlainText")})
		if err != nil {
			t.Fatalf("CreatePin PlainText: %v", err)
		}
		if b, err := hex.DecodeString(p); err != nil || len(b) != 16 || p != strings.ToUpper(p) {
			t.Errorf("PlainText pin %q is not 32 upper-case hex digits", p)
		}
		plain = append(plain, p)
	}
	if plain[0] == plain[1] {
		t.Error("two PlainText pins are equal")
	}

	// CipherText, explicit and by default, for kmsd's store and Huawei's
	// shared clusters: a sealed blob (29 bytes of overhead) of the PIN.
	for _, body := range []*model.CreatePinRequestBody{
		{PinType: pinType(t, "CipherText"), KeystoreId: ks("0")},
		{KeystoreId: ks("1")},
		{PinType: pinType(t, "CipherText"), KeystoreId: ks("2")},
	} {
		p, err := pin(body)
		if err != nil {
			t.Fatalf("CreatePin %v: %v", body, err)
		}
		b, err := hex.DecodeString(p)
		if err != nil || len(b) != 29+32 || b[0] != 0x01 || p != strings.ToUpper(p) {
			t.Errorf("CipherText pin %q: not upper-case hex of a sealed 32-digit PIN", p)
		}
	}

	_, err := pin(&model.CreatePinRequestBody{PinType: pinType(t, "CipherText")})
	wantError(t, err, 400, "KMS.0204")
	_, err = pin(&model.CreatePinRequestBody{})
	wantError(t, err, 400, "KMS.0204")
	_, err = pin(&model.CreatePinRequestBody{PinType: pinType(t, "Other"), KeystoreId: ks("0")})
	wantError(t, err, 400, "KMS.0308")
	_, err = pin(&model.CreatePinRequestBody{PinType: pinType(t, "CipherText"), KeystoreId: ks("not-a-keystore")})
	wantError(t, err, 400, "KMS.0340")
	_, err = e.reader().CreatePin(&model.CreatePinRequest{Body: &model.CreatePinRequestBody{PinType: pinType(t, "PlainText")}})
	wantError(t, err, 403, "KMS.0307")
}
