//go:build cgo

package hsm

import "github.com/miekg/pkcs11"

// ImportAESKey creates a token AES key with a known value, so that tests
// can check the token's AES-GCM against Go's.
func ImportAESKey(t *Token, label string, value []byte) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, err := t.ctx.CreateObject(t.session, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_AES),
		pkcs11.NewAttribute(pkcs11.CKA_VALUE, value),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, false),
		pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, true),
		pkcs11.NewAttribute(pkcs11.CKA_DECRYPT, true),
	})
	return err
}

// KeyAttributes returns CKA_TOKEN, CKA_SENSITIVE and CKA_EXTRACTABLE of the
// secret key labelled label.
func KeyAttributes(t *Token, label string) (token, sensitive, extractable bool, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	h, err := t.findKey(label)
	if err != nil {
		return false, false, false, err
	}
	attrs, err := t.ctx.GetAttributeValue(t.session, h, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, nil),
		pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, nil),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, nil),
	})
	if err != nil {
		return false, false, false, err
	}
	b := func(i int) bool { return len(attrs[i].Value) == 1 && attrs[i].Value[0] == 1 }
	return b(0), b(1), b(2), nil
}

// NewRootKeyWith is NewRootKey with the mechanism byte chosen.
func NewRootKeyWith(t *Token, keyLabel string, mech byte) ([]byte, []byte, error) {
	return newRootKey(t, keyLabel, mech)
}
