package api

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/kmsd/kmsd/internal/kms"
)

// encryptionAlgorithms are the encryption_algorithm values of encrypt-data
// and decrypt-data; re-encrypt also takes RSAES_OAEP_SHA_1.
var (
	encryptionAlgorithms   = []string{kms.EncryptionSymmetricDefault, kms.EncryptionRSAOAEPSHA256, kms.EncryptionSM2}
	reEncryptionAlgorithms = []string{kms.EncryptionSymmetricDefault, kms.EncryptionRSAOAEPSHA1, kms.EncryptionRSAOAEPSHA256, kms.EncryptionSM2}
)

// requiredText reads a required string member; the empty string counts as
// missing (KMS.0204), as for key_id.
func requiredText(f fields, name string) (string, error) {
	s, _, err := f.str(name, true)
	if err == nil && s == "" {
		err = fmt.Errorf("%w: %s is empty", errMissingParameter, name)
	}
	return s, err
}

// textBytes is requiredText returning bytes that may alias the body (see
// fields.bytes).
func textBytes(f fields, name string) ([]byte, error) {
	b, _, err := f.bytes(name, true)
	if err == nil && len(b) == 0 {
		err = fmt.Errorf("%w: %s is empty", errMissingParameter, name)
	}
	return b, err
}

// aadField reads an optional additional_authenticated_data member.
func aadField(f fields, name string) ([]byte, error) {
	s, _, err := f.str(name, false)
	if err != nil || s == "" {
		return nil, err
	}
	return []byte(s), nil
}

// optionalKeyID reads an optional key id member and checks its shape.
func optionalKeyID(f fields, name string) (string, error) {
	id, _, err := f.str(name, false)
	if err != nil || id == "" {
		return "", err
	}
	return id, kms.ValidateKeyID(id)
}

// upperHex encodes b as upper-case hex, as Huawei's examples show the hex
// members of the data key operations and gen-random.
func upperHex(b []byte) string { return strings.ToUpper(hex.EncodeToString(b)) }

type encryptDataResponse struct {
	KeyID      string `json:"key_id"`
	CipherText string `json:"cipher_text"`
}

func (h *Handler) encryptData(c *call) (any, error) {
	id, f, err := keyRequest(c)
	if err != nil {
		return nil, err
	}
	pt, err := textBytes(f, "plain_text")
	if err != nil {
		return nil, err
	}
	alg, err := enum(f, "encryption_algorithm", encryptionAlgorithms...)
	if err != nil {
		return nil, err
	}
	aad, err := aadField(f, "additional_authenticated_data")
	if err != nil {
		return nil, err
	}
	ct, err := h.kms.Encrypt(c.ctx, c.project(), id, pt, aad, alg)
	if err != nil {
		return nil, err
	}
	// encryptDataResponse{KeyID: id, CipherText: base64(ct)}, encoded
	// by hand: this is the hottest response.
	return encodeKeyBase64(id, "cipher_text", ct), nil
}

type decryptDataResponse struct {
	KeyID           string `json:"key_id"`
	PlainText       string `json:"plain_text"`
	PlainTextBase64 string `json:"plain_text_base64"`
}

func (h *Handler) decryptData(c *call) (any, error) {
	f, err := c.request()
	if err != nil {
		return nil, err
	}
	s, err := requiredText(f, "cipher_text")
	if err != nil {
		return nil, err
	}
	alg, err := enum(f, "encryption_algorithm", encryptionAlgorithms...)
	if err != nil {
		return nil, err
	}
	id, err := optionalKeyID(f, "key_id")
	if err != nil {
		return nil, err
	}
	if alg != "" && alg != kms.EncryptionSymmetricDefault && id == "" {
		return nil, fmt.Errorf("%w: key_id is required for %s", errMissingParameter, alg)
	}
	aad, err := aadField(f, "additional_authenticated_data")
	if err != nil {
		return nil, err
	}
	ct, err := kms.DecodeCiphertext(s)
	if err != nil {
		return nil, err
	}
	keyID, pt, err := h.kms.Decrypt(c.ctx, c.project(), ct, aad, id, alg)
	if err != nil {
		return nil, err
	}
	// decryptDataResponse, encoded by hand: the plaintext is most of it.
	return encodeDecryptData(keyID, pt), nil
}

type reEncryptResponse struct {
	KeyID                          string `json:"key_id"`
	SourceKeyID                    string `json:"source_key_id"`
	SourceEncryptionAlgorithm      string `json:"source_encryption_algorithm"`
	DestinationEncryptionAlgorithm string `json:"destination_encryption_algorithm"`
	CipherText                     string `json:"cipher_text"`
}

// reEncryptInput decodes re-encrypt. The cipher_text is hex when it is a
// data key ciphertext and base64 otherwise; kms tells which
// (kms.DecodeReEncryptCiphertext).
func reEncryptInput(c *call) (kms.ReEncryptInput, error) {
	in := kms.ReEncryptInput{ProjectID: c.project()}
	f, err := c.request()
	if err != nil {
		return in, err
	}
	if in.DestinationKeyID, err = requiredText(f, "destination_key_id"); err != nil {
		return in, err
	}
	if err := kms.ValidateKeyID(in.DestinationKeyID); err != nil {
		return in, err
	}
	s, err := requiredText(f, "cipher_text")
	if err != nil {
		return in, err
	}
	if in.SourceKeyID, err = optionalKeyID(f, "source_key_id"); err != nil {
		return in, err
	}
	if in.SourceAlgorithm, err = enum(f, "source_encryption_algorithm", reEncryptionAlgorithms...); err != nil {
		return in, err
	}
	if in.DestinationAlgorithm, err = enum(f, "destination_encryption_algorithm", reEncryptionAlgorithms...); err != nil {
		return in, err
	}
	asymmetricSource := in.SourceAlgorithm != "" && in.SourceAlgorithm != kms.EncryptionSymmetricDefault
	if asymmetricSource && in.SourceKeyID == "" {
		return in, fmt.Errorf("%w: source_key_id is required for %s", errMissingParameter, in.SourceAlgorithm)
	}
	if in.SourceAAD, err = aadField(f, "source_additional_authenticated_data"); err != nil {
		return in, err
	}
	if in.DestinationAAD, err = aadField(f, "destination_additional_authenticated_data"); err != nil {
		return in, err
	}
	n, hasLength, err := f.numericString("datakey_cipher_length", false, kms.ErrInvalidParameter)
	if err != nil {
		return in, err
	}
	if hasLength && (n < kms.MinDataKeyBytes || n > kms.MaxDataKeyBytes) {
		return in, fmt.Errorf("%w: datakey_cipher_length %d", kms.ErrInvalidParameter, n)
	}
	in.DataKeyLength = n
	in.Ciphertext, err = kms.DecodeReEncryptCiphertext(s, hasLength, !asymmetricSource)
	return in, err
}

func (h *Handler) reEncrypt(c *call) (any, error) {
	in, err := reEncryptInput(c)
	if err != nil {
		return nil, err
	}
	out, err := h.kms.ReEncrypt(c.ctx, in)
	if err != nil {
		return nil, err
	}
	ct := base64.StdEncoding.EncodeToString(out.Ciphertext)
	if out.DataKey {
		ct = upperHex(out.Ciphertext)
	}
	return reEncryptResponse{
		KeyID: out.KeyID, SourceKeyID: out.SourceKeyID,
		SourceEncryptionAlgorithm: out.SourceAlgorithm, DestinationEncryptionAlgorithm: out.DestinationAlgorithm,
		CipherText: ct,
	}, nil
}

type randomResponse struct {
	RandomData string `json:"random_data"`
}

func (h *Handler) genRandom(c *call) (any, error) {
	f, err := c.request()
	if err != nil {
		return nil, err
	}
	bits, _, err := f.numericString("random_data_length", true, kms.ErrInvalidParameter)
	if err != nil {
		return nil, err
	}
	b, err := h.kms.GenerateRandom(bits)
	if err != nil {
		return nil, err
	}
	return randomResponse{RandomData: upperHex(b)}, nil
}
