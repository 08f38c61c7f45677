package client

import (
	"context"
	"encoding/hex"
	"fmt"
	"strconv"
)

// DataKey is a data key made by CreateDatakey: its plaintext and the
// ciphertext that DecryptDatakey opens (reference kms-api.md §5.D).
type DataKey struct {
	KeyID      string
	Plaintext  []byte
	Ciphertext string // hex, as the service answered it
}

// CreateDataKey asks the CMK keyID for a data key of bits bits.
func (c *Client) CreateDataKey(ctx context.Context, keyID string, bits int) (DataKey, error) {
	var resp struct {
		KeyID      string `json:"key_id"`
		PlainText  string `json:"plain_text"`
		CipherText string `json:"cipher_text"`
	}
	req := map[string]string{"key_id": keyID, "datakey_length": strconv.Itoa(bits)}
	if _, err := c.CallInto(ctx, "POST", "create-datakey", req, &resp); err != nil {
		return DataKey{}, err
	}
	pt, err := hex.DecodeString(resp.PlainText)
	if err != nil || len(pt) != bits/8 {
		return DataKey{}, fmt.Errorf("client: create-datakey answered a plain_text that is not %d hex bytes", bits/8)
	}
	return DataKey{KeyID: resp.KeyID, Plaintext: pt, Ciphertext: resp.CipherText}, nil
}

// DecryptDataKey opens the hex data key ciphertext of a data key of size
// bytes under the CMK keyID.
func (c *Client) DecryptDataKey(ctx context.Context, keyID, ciphertext string, size int) ([]byte, error) {
	var resp struct {
		DataKey string `json:"data_key"`
	}
	req := map[string]string{"key_id": keyID, "cipher_text": ciphertext, "datakey_cipher_length": strconv.Itoa(size)}
	if _, err := c.CallInto(ctx, "POST", "decrypt-datakey", req, &resp); err != nil {
		return nil, err
	}
	pt, err := hex.DecodeString(resp.DataKey)
	if err != nil || len(pt) != size {
		return nil, fmt.Errorf("client: decrypt-datakey answered a data_key that is not %d hex bytes", size)
	}
	return pt, nil
}
