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

// upperHex encodes b as upper-case hex, as Huawei's examples show the hex
// members of the data key operations and gen-random.
func upperHex(b []byte) string { return strings.ToUpper(hex.EncodeToString(b)) }

type encryptDataResponse struct {
	KeyID      string `json:"key_id"`
	CipherText string `json:"cipher_text"`
}

// encryptDataRequest is EncryptDataRequestBody; an encrypt-data grant
// lets a grantee call it.
type encryptDataRequest struct {
	KeyID               string `json:"key_id" kms:"nonempty,key=encrypt-data"`
	PlainText           []byte `json:"plain_text" kms:"nonempty"`
	EncryptionAlgorithm string `json:"encryption_algorithm"`
	AAD                 string `json:"additional_authenticated_data"`
	sequenced
}

func (h *Handler) encryptData(c *call, r *encryptDataRequest) (any, error) {
	alg, err := enum("encryption_algorithm", r.EncryptionAlgorithm, encryptionAlgorithms...)
	if err != nil {
		return nil, err
	}
	id := r.KeyID
	ct, err := h.kms.Encrypt(c.ctx, c.project(), id, r.PlainText, aadBytes(r.AAD), alg)
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

// aadBytes is an additional_authenticated_data member; "" is none.
func aadBytes(s string) []byte {
	if s == "" {
		return nil
	}
	return []byte(s)
}

// decryptDataRequest is DecryptDataRequestBody. A decrypt-data grant lets
// a grantee call it; the key is key_id, or the one the ciphertext names.
type decryptDataRequest struct {
	CipherText          string `json:"cipher_text" kms:"nonempty,ciphertext=decrypt-data"`
	EncryptionAlgorithm string `json:"encryption_algorithm"`
	KeyID               string `json:"key_id" kms:"key=decrypt-data"`
	AAD                 string `json:"additional_authenticated_data"`
	sequenced
}

func (h *Handler) decryptData(c *call, r *decryptDataRequest) (any, error) {
	alg, err := enum("encryption_algorithm", r.EncryptionAlgorithm, encryptionAlgorithms...)
	if err != nil {
		return nil, err
	}
	id := r.KeyID
	if alg != "" && alg != kms.EncryptionSymmetricDefault && id == "" {
		return nil, fmt.Errorf("%w: key_id is required for %s", errMissingParameter, alg)
	}
	ct, err := kms.DecodeCiphertext(r.CipherText)
	if err != nil {
		return nil, err
	}
	keyID, pt, err := h.kms.Decrypt(c.ctx, c.project(), ct, aadBytes(r.AAD), id, alg)
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

// reEncryptRequest is ReEncryptRequestBody. The source key (source_key_id,
// or the one the ciphertext names) needs a decrypt-data grant, the
// destination an encrypt-data one. The cipher_text is hex when it is a
// data key ciphertext and base64 otherwise; kms tells which
// (kms.DecodeReEncryptCiphertext).
type reEncryptRequest struct {
	SourceKeyID               string  `json:"source_key_id" kms:"key=decrypt-data"`
	SourceAAD                 string  `json:"source_additional_authenticated_data"`
	SourceEncryptionAlgorithm string  `json:"source_encryption_algorithm"`
	DestinationKeyID          string  `json:"destination_key_id" kms:"nonempty,key=encrypt-data"`
	DestinationAAD            string  `json:"destination_additional_authenticated_data"`
	DestinationEncryptionAlg  string  `json:"destination_encryption_algorithm"`
	DataKeyCipherLength       numeric `json:"datakey_cipher_length"`
	CipherText                string  `json:"cipher_text" kms:"nonempty,ciphertext=decrypt-data"`
}

func (h *Handler) reEncrypt(c *call, r *reEncryptRequest) (any, error) {
	in := kms.ReEncryptInput{
		ProjectID: c.project(), SourceKeyID: r.SourceKeyID, DestinationKeyID: r.DestinationKeyID,
		SourceAAD: aadBytes(r.SourceAAD), DestinationAAD: aadBytes(r.DestinationAAD),
	}
	var err error
	if in.SourceAlgorithm, err = enum("source_encryption_algorithm", r.SourceEncryptionAlgorithm, reEncryptionAlgorithms...); err != nil {
		return nil, err
	}
	if in.DestinationAlgorithm, err = enum("destination_encryption_algorithm", r.DestinationEncryptionAlg, reEncryptionAlgorithms...); err != nil {
		return nil, err
	}
	asymmetricSource := in.SourceAlgorithm != "" && in.SourceAlgorithm != kms.EncryptionSymmetricDefault
	if asymmetricSource && in.SourceKeyID == "" {
		return nil, fmt.Errorf("%w: source_key_id is required for %s", errMissingParameter, in.SourceAlgorithm)
	}
	n := r.DataKeyCipherLength
	if n.Set && (n.N < kms.MinDataKeyBytes || n.N > kms.MaxDataKeyBytes) {
		return nil, fmt.Errorf("%w: datakey_cipher_length %d", kms.ErrInvalidParameter, n.N)
	}
	in.DataKeyLength = n.N
	if in.Ciphertext, err = kms.DecodeReEncryptCiphertext(r.CipherText, n.Set, !asymmetricSource); err != nil {
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

// genRandomRequest is CreateRandomRequestBody.
type genRandomRequest struct {
	RandomDataLength numeric `json:"random_data_length" kms:"req"`
	sequenced
}

func (h *Handler) genRandom(c *call, r *genRandomRequest) (any, error) {
	b, err := h.kms.GenerateRandom(r.RandomDataLength.N)
	if err != nil {
		return nil, err
	}
	return randomResponse{RandomData: upperHex(b)}, nil
}
