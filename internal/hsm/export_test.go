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
