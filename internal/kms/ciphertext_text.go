package kms

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/kmsd/kmsd/internal/ciphertext"
)

// Wire limits of cipher_text (reference kms-api.md §5.C): decrypt-data's
// matches ^[0-9a-zA-Z+/=]{128,5648}$.
const (
	minCipherTextChars = 128
	maxCipherTextChars = 5648
)

// DecodeCiphertext decodes the base64 cipher_text of decrypt-data: 128–5648
// characters of the base64 alphabet, else ErrInvalidCiphertext (KMS.0308).
// encoding/base64 skips CR and LF, which the reference's pattern does not
// allow, so they are refused first.
func DecodeCiphertext(s string) ([]byte, error) {
	if len(s) < minCipherTextChars || len(s) > maxCipherTextChars {
		return nil, fmt.Errorf("%w: cipher_text of %d characters, want %d–%d", ErrInvalidCiphertext, len(s), minCipherTextChars, maxCipherTextChars)
	}
	if strings.ContainsAny(s, "\r\n") {
		return nil, fmt.Errorf("%w: cipher_text contains a line break", ErrInvalidCiphertext)
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: cipher_text is not base64", ErrInvalidCiphertext)
	}
	return b, nil
}

// DecodeReEncryptCiphertext decodes the cipher_text of re-encrypt, which
// is hex when it is a data key blob and base64 otherwise. dataKey says
// datakey_cipher_length was given: the text must then be hex
// (ErrInvalidDataKeyCiphertext). Otherwise, for a symmetric source, hex
// that holds a data key blob is one; a kmsd data key blob in hex starts
// "0102", which no base64 encoding of a kmsd blob does (they start "AQ"),
// so the two cannot be confused. Anything else is DecodeCiphertext's.
func DecodeReEncryptCiphertext(s string, dataKey, symmetricSource bool) ([]byte, error) {
	if dataKey {
		b, err := hex.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("%w: cipher_text is not hex", ErrInvalidDataKeyCiphertext)
		}
		return b, nil
	}
	if symmetricSource {
		if b, err := hex.DecodeString(s); err == nil {
			if blob, err := ciphertext.Parse(b); err == nil && blob.Kind == ciphertext.KindDataKey {
				return b, nil
			}
		}
	}
	return DecodeCiphertext(s)
}

// parseCiphertextText parses the blob in the wire text of a cipher_text
// member, hex or base64, without opening it, to learn the key it names.
// The request is not trusted by this: the operation itself authenticates
// the blob.
func parseCiphertextText(s string) (ciphertext.Blob, bool) {
	raw, err := hex.DecodeString(s)
	if err != nil {
		if raw, err = base64.StdEncoding.DecodeString(s); err != nil {
			return ciphertext.Blob{}, false
		}
	}
	b, err := ciphertext.Parse(raw)
	return b, err == nil
}
