package region

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/kmsd/kmsd/internal/kms"
)

// maxBody bounds a peer request or answer.
const maxBody = 1 << 20

const prefix = "/kmsd/peer/v1/"

// transportKey is the answer of GET transport-key.
type transportKey struct {
	Region    string `json:"region"`
	PublicKey []byte `json:"public_key"`
}

// wireError is a refusal.
type wireError struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

// errorKinds names the kms errors a peer may answer, in matching order.
var errorKinds = []struct {
	name string
	err  error
}{
	{"read_only", kms.ErrReplicaReadOnly},
	{"region", kms.ErrRegion},
	{"duplicate_alias", kms.ErrDuplicateAlias},
	{"invalid_alias", kms.ErrInvalidAlias},
	{"too_many_keys", kms.ErrTooManyKeys},
	{"key_not_found", kms.ErrKeyNotFound},
	{"invalid_key_id", kms.ErrInvalidKeyID},
	{"invalid_parameter", kms.ErrInvalidParameter},
}

func kindOf(err error) (string, bool) {
	for _, k := range errorKinds {
		if errors.Is(err, k.err) {
			return k.name, true
		}
	}
	return "", false
}

func errorOf(kind string) (error, bool) {
	for _, k := range errorKinds {
		if k.name == kind {
			return k.err, true
		}
	}
	return nil, false
}

// decode reads one JSON value of at most maxBody bytes into v, strictly:
// unknown members and trailing data are errors.
func decode(r io.Reader, v any) error {
	b, err := io.ReadAll(io.LimitReader(r, maxBody+1))
	if err != nil {
		return err
	}
	if len(b) > maxBody {
		return fmt.Errorf("body over %d bytes", maxBody)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}
