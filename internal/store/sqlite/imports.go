package sqlite

import (
	"time"

	"github.com/kmsd/kmsd/internal/store"
)

// Import tokens of get-parameters-for-import. The tokens of a key go with
// it by ON DELETE CASCADE.

const importTokenCols = `token_id, project_id, key_id, wrapping_algorithm, wrapping_key_spec,
	sealed_private_key, expires_at, created_at`

// importTokensExpiredQuery deletes on the index import_tokens_expiry; its
// plan is checked by TestQueryPlans.
const importTokensExpiredQuery = "DELETE FROM import_tokens WHERE expires_at <= ?"

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
	_, err := t.exec("INSERT INTO import_tokens ("+importTokenCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		tok.TokenID, tok.ProjectID, tok.KeyID, tok.WrappingAlgorithm, tok.WrappingKeySpec,
		blob(tok.SealedPrivateKey), millis(tok.ExpiresAt), millis(tok.CreatedAt))
	return wrap("put import token", err)
}

func (t *tx) GetImportToken(projectID, keyID, tokenID string) (store.ImportToken, error) {
	tok, err := scanImportToken(t.queryRow(
		"SELECT "+importTokenCols+" FROM import_tokens WHERE token_id = ? AND project_id = ? AND key_id = ?",
		tokenID, projectID, keyID))
	return tok, wrap("get import token", err)
}

func (t *tx) DeleteImportTokens(projectID, keyID string) error {
	const op = "delete import tokens"
	if err := t.keyExists(op, projectID, keyID); err != nil {
		return err
	}
	_, err := t.exec("DELETE FROM import_tokens WHERE project_id = ? AND key_id = ?", projectID, keyID)
	return wrap(op, err)
}

func (t *tx) DeleteExpiredImportTokens(now time.Time) (int, error) {
	const op = "delete expired import tokens"
	res, err := t.exec(importTokensExpiredQuery, millis(now))
	if err != nil {
		return 0, wrap(op, err)
	}
	n, err := res.RowsAffected()
	return int(n), wrap(op, err)
}
