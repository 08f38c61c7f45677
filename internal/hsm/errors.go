package hsm

import "errors"

// Errors of the package; wrapped errors name the token and key.
var (
	// ErrUnsupported means this kmsd was built without cgo and so without
	// PKCS#11 support.
	ErrUnsupported = errors.New("hsm: this kmsd was built without PKCS#11 support (CGO_ENABLED=0); build it with cgo (CGO_ENABLED=1 and a C compiler) to use a PKCS#11 token")
	// ErrNoToken means no initialised token carries the configured label.
	ErrNoToken = errors.New("token not found")
	// ErrWrongPIN means the token refused the user PIN.
	ErrWrongPIN = errors.New("the token refused the PIN")
	// ErrNoKey means the token holds no secret key of that label.
	ErrNoKey = errors.New("key not found")
	// ErrKeyExists means a secret key of that label exists already.
	ErrKeyExists = errors.New("key exists")
	// ErrMechanism means the token does not offer a mechanism kmsd needs.
	ErrMechanism = errors.New("the token does not support the mechanism")
	// ErrDecrypt means a ciphertext failed to authenticate.
	ErrDecrypt = errors.New("hsm: ciphertext does not authenticate")
	// ErrClosed means the token was closed.
	ErrClosed = errors.New("hsm: token closed")
)
