package kms

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/kmsd/kmsd/internal/ciphertext"
	"github.com/kmsd/kmsd/internal/store"
)

// The cryptography of keys in dedicated keystores: the token runs AES-GCM
// under its non-extractable key and kmsd frames the result as the same
// ciphertext blob (docs/ciphertext.md) that the built-in store makes, with
// the same additional data, so decrypt-data needs no key id for them
// either.

// errTokenFailure wraps a token's failure; it is not a client error.
var errTokenFailure = errors.New("the keystore's HSM failed")

// sealInToken seals plaintext under the primary version of the dedicated
// key h in its token.
func sealInToken(h *handle, kind ciphertext.Kind, alg ciphertext.Algorithm, plaintext, aad []byte) ([]byte, error) {
	label, ok := h.Material(0)
	if !ok {
		return nil, fmt.Errorf("%w: key %s has no primary version", ErrKeyNotFound, h.KeyID)
	}
	b := ciphertext.Blob{
		Kind: kind, Algorithm: alg, KeyVersion: uint32(h.PrimaryVersion),
		KeyID: h.KeyID, ProjectID: h.ciphertextProject(), Nonce: make([]byte, ciphertext.NonceSize),
	}
	rand.Read(b.Nonce) // Never fails; see crypto/rand.Read.
	sealed, err := h.token.SealGCM(string(label), b.Nonce, plaintext, b.AdditionalData(aad))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errTokenFailure, err)
	}
	b.Sealed = sealed
	return b.Marshal(), nil
}

// openInToken opens b, whose header openBlob checked, in the token of the
// dedicated key h. Every failure to authenticate is the blob kind's one
// error.
func openInToken(h *handle, b ciphertext.Blob, aad []byte) ([]byte, error) {
	_, failed := blobErrors(b.Kind)
	label, _ := h.Material(int(b.KeyVersion))
	if len(b.Nonce) != ciphertext.NonceSize || len(b.Sealed) < ciphertext.TagSize {
		return nil, failed
	}
	pt, err := h.token.OpenGCM(string(label), b.Nonce, b.Sealed, b.AdditionalData(aad))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", failed, err)
	}
	return pt, nil
}

// destroyTokenKey destroys the token objects of a destroyed dedicated
// key. The key row is gone already; a token that is not configured or
// fails leaves the object behind, and the log says so.
func (s *Service) destroyTokenKey(ctx context.Context, k store.Key) {
	var ks store.Keystore
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		ks, err = getKeystore(tx, k.ProjectID, k.KeystoreID)
		return err
	})
	if err == nil {
		tok, ok := s.cfg.Tokens[ks.HSMClusterID]
		if !ok {
			err = fmt.Errorf("%w: %q", ErrKeystoreUnavailable, ks.HSMClusterID)
		} else {
			err = tok.DestroyKey(tokenLabel(k.KeyID, 1))
		}
	}
	if err != nil {
		s.log.WarnContext(ctx, "destroyed key's HSM object not destroyed; remove it with the HSM's tools", "project_id", k.ProjectID, "key_id", k.KeyID, "label", tokenLabel(k.KeyID, 1), "err", err)
	}
}
