package kms

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/kmsd/kmsd/internal/keyring"
)

// PIN types of create-pin (reference kms-api.md §5.D, CreatePin).
const (
	PinCipherText = "CipherText"
	PinPlainText  = "PlainText"
)

// pinPurpose is the keyring sealing purpose of a CipherText PIN.
const pinPurpose = "pin"

// pinBytes is the entropy of a PIN: 128 bits, written as 32 hex digits.
const pinBytes = 16

// ErrUnsupportedKeystore means a keystore id names no keystore kmsd can
// use (KMS.0340).
var ErrUnsupportedKeystore = errors.New("keystore not supported")

// CreatePinInput are the parameters of create-pin.
type CreatePinInput struct {
	ProjectID string
	// PinType is PinCipherText (the default when "") or PinPlainText.
	PinType string
	// KeystoreID names the keystore a CipherText PIN is sealed for: "0"
	// (kmsd's built-in store), Huawei's shared clusters "1" and "2",
	// which kmsd serves from its built-in store too, or a dedicated
	// keystore of the project.
	KeystoreID string
}

// builtinKeystore reports whether id names kmsd's built-in store.
func builtinKeystore(id string) bool { return id == "0" || id == "1" || id == "2" }

// CreatePin makes a random PIN of 128 bits as 32 upper-case hex digits.
// PlainText returns it as is. CipherText returns it sealed by the keyring
// for the project and keystore (purpose "pin"), as upper-case hex, so that
// only this kmsd can read it. kmsd's data key operations accept a pin and
// do not check it (docs/compatibility.md).
func (s *Service) CreatePin(ctx context.Context, in CreatePinInput) (string, error) {
	b := make([]byte, pinBytes)
	rand.Read(b) // Never fails; see crypto/rand.Read.
	pin := strings.ToUpper(hex.EncodeToString(b))
	clear(b)
	switch in.PinType {
	case PinPlainText:
		return pin, nil
	case "", PinCipherText:
	default:
		return "", fmt.Errorf("%w: pin_type %q", ErrInvalidParameter, in.PinType)
	}
	if !builtinKeystore(in.KeystoreID) {
		if err := s.checkPinKeystore(ctx, in.ProjectID, in.KeystoreID); err != nil {
			return "", err
		}
	}
	sealed, err := s.keyring.Seal(keyring.Binding{Purpose: pinPurpose, ProjectID: in.ProjectID, KeyID: in.KeystoreID}, []byte(pin))
	if err != nil {
		return "", err
	}
	return strings.ToUpper(hex.EncodeToString(sealed)), nil
}

// checkPinKeystore accepts the id of an enabled dedicated keystore of the
// project whose HSM is configured (ErrKeystoreNotFound,
// ErrKeystoreDisabled, ErrKeystoreUnavailable otherwise).
func (s *Service) checkPinKeystore(ctx context.Context, projectID, keystoreID string) error {
	k, err := s.ShowKeystore(ctx, projectID, keystoreID)
	if err != nil {
		return err
	}
	_, err = s.keystoreToken(k)
	return err
}
