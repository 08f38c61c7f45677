package postgres

import (
	"time"

	"github.com/kmsd/kmsd/internal/store"
)

// Import tokens of get-parameters-for-import. The tokens of a key go with
// it by ON DELETE CASCADE.

const importTokenCols = `token_id, project_id, key_id, wrapping_algorithm, wrapping_key_spec,
	sealed_private_key, expires_at, created_at`

func scanImportToken(s scanner) (store.ImportToken, error) {
	var tok store.ImportToken
	var expires, created int64
	err := s.Scan(&tok.TokenID, &tok.ProjectID, &tok.KeyID, &tok.WrappingAlgorithm,
		&tok.WrappingKeySpec, &tok.SealedPrivateKey, &expires, &created)
	if err != nil {
		return store.ImportToken{}, err
	}
	tok.ExpiresAt = fromMillis(expires)
	tok.CreatedAt = fromMillis(created)
	return tok, nil
}

// PutImportToken fails with store.ErrConflict on a duplicate token id and
// with store.ErrNotFound when the key does not exist in the project.
func (t *tx) PutImportToken(tok store.ImportToken) error {
	_, err := t.exec("put import token", "INSERT INTO import_tokens ("+importTokenCols+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
		tok.TokenID, tok.ProjectID, tok.KeyID, tok.WrappingAlgorithm, tok.WrappingKeySpec,
		blob(tok.SealedPrivateKey), millis(tok.ExpiresAt), millis(tok.CreatedAt))
	return err
}

func (t *tx) GetImportToken(projectID, keyID, tokenID string) (store.ImportToken, error) {
	tok, err := scanImportToken(t.row(
		"SELECT "+importTokenCols+" FROM import_tokens WHERE token_id = $1 AND project_id = $2 AND key_id = $3",
		tokenID, projectID, keyID))
	return tok, wrap("get import token", err)
}

func (t *tx) DeleteImportTokens(projectID, keyID string) error {
	const op = "delete import tokens"
	if err := t.keyExists(op, projectID, keyID); err != nil {
		return err
	}
	_, err := t.exec(op, "DELETE FROM import_tokens WHERE project_id = $1 AND key_id = $2", projectID, keyID)
	return err
}

func (t *tx) DeleteExpiredImportTokens(now time.Time) (int, error) {
	tag, err := t.exec("delete expired import tokens", "DELETE FROM import_tokens WHERE expires_at <= $1", millis(now))
	if err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}
