package kms

import (
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	_ "crypto/sha1" // RSAES_OAEP_SHA_1 wrapping
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"

	"github.com/kmsd/kmsd/internal/keyring"
	"github.com/kmsd/kmsd/internal/store"
)

// Import of key material, "bring your own key" (reference kms-api.md §5.K).
//
// A key created with origin external starts pending import ("5") without
// material. get-parameters-for-import hands out a fresh wrapping key pair:
// the public half to the caller, the private half sealed by the keyring in
// an import token row of the store, and an import token naming that row.
// import-key-material unwraps the caller's material with the private half,
// stores it sealed as version 1 and enables the key; delete-imported-key-
// material and the expiry job (ExpireImportedMaterial) remove it again.
//
// A key id always means the same key: the first import records a keyed
// fingerprint of the material on the key row (store.Key.MaterialFingerprint)
// that survives the material's deletion, and a later import of different
// material is refused (KMS.2606), so ciphertexts made before the deletion
// decrypt again after the same material is imported again.

// Wrapping algorithms of get-parameters-for-import. The SDK's enum has
// RSAES_OAEP_SHA_256 and SM2_ENCRYPT; Huawei's console also offers
// RSAES_OAEP_SHA_1, which kmsd accepts too.
const (
	WrappingRSAOAEPSHA256 = "RSAES_OAEP_SHA_256"
	WrappingRSAOAEPSHA1   = "RSAES_OAEP_SHA_1"
	WrappingSM2           = "SM2_ENCRYPT"
)

// ImportTokenTTL is how long an import token and its wrapping key stay
// usable: 24 hours, as Huawei's (reference kms-api.md §5.K, inferred).
const ImportTokenTTL = 24 * time.Hour

// PurposeImportWrappingKey is the keyring binding purpose of the private
// half of a wrapping key. Its binding names the project, and as KeyID the
// key id and the token id joined by "/", so a sealed private key opens only
// for the token row it was made for.
const PurposeImportWrappingKey = "import-wrapping-key"

// Labels of the keys derived from the root key (keyring.Derive) for import.
const (
	importTokenLabel       = "kmsd import token v1"
	importFingerprintLabel = "kmsd import fingerprint v1"
)

// importedVersion is the version of imported material. External keys do
// not rotate (KMS.0312), so their material is always version 1, and
// material imported again after a deletion takes the same version that
// earlier ciphertexts name.
const importedVersion = 1

// maxMaterialExpiry bounds import-key-material's expiration_time: the end
// of year 9999, which every store keeps in milliseconds.
var maxMaterialExpiry = time.Date(9999, time.December, 31, 23, 59, 59, 0, time.UTC)

// Errors of the import operations (reference errors.md §5).
var (
	ErrNotExternal          = errors.New("key is not of origin external")                      // KMS.0309
	ErrNotPendingImport     = errors.New("key is not pending import")                          // KMS.0310
	ErrImportTokenExpired   = errors.New("import token expired")                               // KMS.2601
	ErrMaterialExpiryPast   = errors.New("material expiration time is not in the future")      // KMS.2602
	ErrImportTokenKey       = errors.New("import token belongs to another key")                // KMS.2603
	ErrMaterialLength       = errors.New("key material has the wrong length for the key spec") // KMS.2604
	ErrImportTokenInvalid   = errors.New("import token verification failed")                   // KMS.2605
	ErrMaterialMismatch     = errors.New("material differs from the key's earlier material")   // KMS.2606
	ErrMaterialNotDeletable = errors.New("key material cannot be deleted in this state")       // KMS.2701
	ErrUnwrapFailed         = errors.New("cannot unwrap the key material")                     // KMS.0311
)

// wrappingSpecs lists, per wrapping algorithm, the wrapping key specs it
// takes; the first is the default (Huawei returns RSA_2048 by default).
var wrappingSpecs = map[string][]string{
	WrappingRSAOAEPSHA256: {"RSA_2048", "RSA_3072", "RSA_4096"},
	WrappingRSAOAEPSHA1:   {"RSA_2048", "RSA_3072", "RSA_4096"},
	WrappingSM2:           {"SM2"},
}

// importLengths is the length in bytes of the material each importable key
// spec takes (KMS.2604 otherwise).
var importLengths = map[string]int{
	"AES_256": 32,
	"SM4":     16,
}

// ImportParametersInput are the parameters of get-parameters-for-import.
type ImportParametersInput struct {
	ProjectID         string
	KeyID             string
	WrappingAlgorithm string
	// WrappingKeySpec chooses the wrapping key: RSA_2048 (the default),
	// RSA_3072 or RSA_4096 for the RSA algorithms, SM2 for SM2_ENCRYPT.
	// It is a kmsd extension; Huawei's API has no such member.
	WrappingKeySpec string
}

// ImportParameters are what get-parameters-for-import returns.
type ImportParameters struct {
	KeyID string
	// Token is the import token: base64 text, opaque to the caller.
	Token     string
	ExpiresAt time.Time
	// PublicKey is the wrapping public key as a DER SubjectPublicKeyInfo.
	PublicKey []byte
}

// GetParametersForImport generates a wrapping key pair for importing
// material into a key of origin external that is pending import, stores
// its private half sealed with the token, and returns the public half and
// the token, valid for ImportTokenTTL. Errors: an unknown algorithm or a
// spec it does not take → ErrInvalidParameter; another origin →
// ErrNotExternal; another state → ErrNotPendingImport.
func (s *Service) GetParametersForImport(ctx context.Context, in ImportParametersInput) (ImportParameters, error) {
	if err := ValidateKeyID(in.KeyID); err != nil {
		return ImportParameters{}, err
	}
	if err := s.regionWritable(ctx, in.ProjectID, in.KeyID, false); err != nil {
		return ImportParameters{}, err
	}
	allowed, ok := wrappingSpecs[in.WrappingAlgorithm]
	if !ok {
		return ImportParameters{}, fmt.Errorf("%w: wrapping_algorithm %q", ErrInvalidParameter, in.WrappingAlgorithm)
	}
	if in.WrappingKeySpec == "" {
		in.WrappingKeySpec = allowed[0]
	}
	if !slices.Contains(allowed, in.WrappingKeySpec) {
		return ImportParameters{}, fmt.Errorf("%w: wrapping key spec %q with %s", ErrInvalidParameter, in.WrappingKeySpec, in.WrappingAlgorithm)
	}
	err := s.store.View(ctx, func(tx store.Tx) error {
		k, err := getKey(tx, in.ProjectID, in.KeyID)
		if err != nil {
			return mapNotFound(err)
		}
		return importable(k)
	})
	if err != nil {
		return ImportParameters{}, err
	}

	// Generate and seal outside the transaction: RSA generation can take
	// seconds and must not hold the write lock.
	private, public, err := generateWrappingKey(in.WrappingKeySpec)
	if err != nil {
		return ImportParameters{}, fmt.Errorf("generate %s wrapping key: %w", in.WrappingKeySpec, err)
	}
	var id [tokenIDSize]byte
	rand.Read(id[:]) // Never fails; see crypto/rand.Read.
	tokenID := hex.EncodeToString(id[:])
	now := s.Now().UTC()
	expires := now.Truncate(time.Second).Add(ImportTokenTTL)
	sealed, err := s.keyring.Seal(wrappingKeyBinding(in.ProjectID, in.KeyID, tokenID), private)
	clear(private)
	if err != nil {
		return ImportParameters{}, fmt.Errorf("seal wrapping key: %w", err)
	}
	tok := store.ImportToken{
		ProjectID: in.ProjectID, KeyID: in.KeyID, TokenID: tokenID,
		WrappingAlgorithm: in.WrappingAlgorithm, WrappingKeySpec: in.WrappingKeySpec,
		SealedPrivateKey: sealed, ExpiresAt: expires, CreatedAt: now.Truncate(time.Millisecond),
	}
	err = s.update(ctx, func(tx store.Tx) error {
		k, err := getKey(tx, in.ProjectID, in.KeyID)
		if err != nil {
			return mapNotFound(err)
		}
		if err := importable(k); err != nil {
			return err
		}
		return tx.PutImportToken(tok)
	})
	if err != nil {
		return ImportParameters{}, err
	}
	token := s.marshalImportToken(importToken{
		id: id, expires: expires.Unix(), projectID: in.ProjectID, keyID: in.KeyID,
		algorithm: in.WrappingAlgorithm, keySpec: in.WrappingKeySpec,
	})
	s.log.InfoContext(ctx, "import parameters issued", "request_id", RequestID(ctx), "project_id", in.ProjectID, "key_id", in.KeyID,
		"wrapping_algorithm", in.WrappingAlgorithm, "wrapping_key_spec", in.WrappingKeySpec, "expires_at", expires)
	return ImportParameters{KeyID: in.KeyID, Token: token, ExpiresAt: expires, PublicKey: public}, nil
}

// importable checks that material can be imported into k: origin external
// (KMS.0309) and pending import (KMS.0310).
func importable(k Key) error {
	if k.Origin != OriginExternal {
		return ErrNotExternal
	}
	if k.State != StatePendingImport {
		return fmt.Errorf("%w: key %s is %v", ErrNotPendingImport, k.KeyID, k.State)
	}
	return nil
}

// generateWrappingKey returns a new wrapping key pair of spec: the private
// key as PKCS #8 DER (the caller clears it) and the public key as a DER
// SubjectPublicKeyInfo.
func generateWrappingKey(spec string) (private, public []byte, err error) {
	var priv, pub any
	switch spec {
	case "RSA_2048", "RSA_3072", "RSA_4096":
		bits := map[string]int{"RSA_2048": 2048, "RSA_3072": 3072, "RSA_4096": 4096}[spec]
		k, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			return nil, nil, err
		}
		priv, pub = k, &k.PublicKey
	case "SM2":
		k, err := sm2.GenerateKey(rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		priv, pub = k, &k.PublicKey
	default:
		return nil, nil, fmt.Errorf("unknown wrapping key spec %q", spec)
	}
	if private, err = smx509.MarshalPKCS8PrivateKey(priv); err != nil {
		return nil, nil, err
	}
	if public, err = smx509.MarshalPKIXPublicKey(pub); err != nil {
		clear(private)
		return nil, nil, err
	}
	return private, public, nil
}

func wrappingKeyBinding(projectID, keyID, tokenID string) keyring.Binding {
	return keyring.Binding{Purpose: PurposeImportWrappingKey, ProjectID: projectID, KeyID: keyID + "/" + tokenID}
}

// ImportMaterialInput are the parameters of import-key-material.
type ImportMaterialInput struct {
	ProjectID string
	KeyID     string
	// Token is the import token of get-parameters-for-import.
	Token string
	// EncryptedMaterial is the material wrapped with the token's public
	// key by the token's wrapping algorithm.
	EncryptedMaterial []byte
	// EncryptedPrivateKey is the asymmetric-import member
	// encrypted_privatekey; only symmetric keys can be external, so a
	// non-empty one is refused.
	EncryptedPrivateKey []byte
	// ExpiresAt is when the material expires and is deleted; the zero
	// time means never.
	ExpiresAt time.Time
}

// ImportKeyMaterial unwraps material with the private key of the import
// token and makes it the key's version 1: the key becomes enabled, and its
// import tokens are spent.
//
// Errors, in the order they are checked: the key's origin
// (ErrNotExternal) and state (ErrNotPendingImport); EncryptedPrivateKey set
// → ErrInvalidParameter; a token that is malformed, forged, altered or
// already spent → ErrImportTokenInvalid; a token of another key →
// ErrImportTokenKey; an expired token → ErrImportTokenExpired; ExpiresAt
// not after now → ErrMaterialExpiryPast (after the year 9999 →
// ErrInvalidParameter); material that does not unwrap → ErrUnwrapFailed;
// of the wrong length for the key spec → ErrMaterialLength; different
// from the material the key held before → ErrMaterialMismatch.
func (s *Service) ImportKeyMaterial(ctx context.Context, in ImportMaterialInput) (Key, error) {
	if err := ValidateKeyID(in.KeyID); err != nil {
		return Key{}, err
	}
	if err := s.regionWritable(ctx, in.ProjectID, in.KeyID, false); err != nil {
		return Key{}, err
	}
	// Parsing the token asks no store, so it comes first and the key and
	// the token's row are read in one transaction; its error is still
	// reported in the documented order.
	tok, tokErr := s.parseImportToken(in.Token)
	tokenID := hex.EncodeToString(tok.id[:])
	var k Key
	var row store.ImportToken
	var rowErr error
	err := s.store.View(ctx, func(tx store.Tx) (err error) {
		if k, err = getKey(tx, in.ProjectID, in.KeyID); err != nil {
			return mapNotFound(err)
		}
		if tokErr == nil {
			row, rowErr = tx.GetImportToken(in.ProjectID, in.KeyID, tokenID)
		}
		return nil
	})
	if err != nil {
		return Key{}, err
	}
	if err := importable(k); err != nil {
		return Key{}, err
	}
	if len(in.EncryptedPrivateKey) > 0 {
		return Key{}, fmt.Errorf("%w: encrypted_privatekey with a %s key", ErrInvalidParameter, k.Spec)
	}
	if tokErr != nil {
		return Key{}, tokErr
	}
	if tok.projectID != in.ProjectID || tok.keyID != in.KeyID {
		return Key{}, fmt.Errorf("%w: token of key %s, request for key %s", ErrImportTokenKey, tok.keyID, in.KeyID)
	}
	now := s.Now()
	if !time.Unix(tok.expires, 0).After(now) {
		return Key{}, ErrImportTokenExpired
	}
	if !in.ExpiresAt.IsZero() {
		if !in.ExpiresAt.After(now) {
			return Key{}, ErrMaterialExpiryPast
		}
		if in.ExpiresAt.After(maxMaterialExpiry) {
			return Key{}, fmt.Errorf("%w: expiration_time after %v", ErrInvalidParameter, maxMaterialExpiry)
		}
	}
	if errors.Is(rowErr, store.ErrNotFound) {
		return Key{}, fmt.Errorf("%w: token %s is spent or unknown", ErrImportTokenInvalid, tokenID)
	}
	if rowErr != nil {
		return Key{}, rowErr
	}
	if row.WrappingAlgorithm != tok.algorithm || row.WrappingKeySpec != tok.keySpec {
		return Key{}, fmt.Errorf("%w: token %s does not match its row", ErrImportTokenInvalid, tokenID)
	}
	if !row.ExpiresAt.After(now) {
		return Key{}, ErrImportTokenExpired
	}

	material, err := s.unwrap(row, in.EncryptedMaterial)
	if err != nil {
		return Key{}, err
	}
	defer clear(material)
	want, ok := importLengths[k.Spec]
	if !ok {
		return Key{}, fmt.Errorf("%w: %s keys cannot be imported", ErrInvalidParameter, k.Spec)
	}
	if len(material) != want {
		return Key{}, fmt.Errorf("%w: %d bytes for %s, want %d", ErrMaterialLength, len(material), k.Spec, want)
	}
	fp := s.materialFingerprint(in.ProjectID, in.KeyID, material)
	sealed, err := s.keyring.Seal(materialBinding(in.ProjectID, in.KeyID, importedVersion), material)
	if err != nil {
		return Key{}, fmt.Errorf("seal material: %w", err)
	}
	nowMillis := now.UTC().Truncate(time.Millisecond)
	out, err := s.modifyKey(ctx, in.ProjectID, in.KeyID, func(tx store.Tx, cur *Key) error {
		// Re-check what another request or node may have changed since.
		if err := importable(*cur); err != nil {
			return err
		}
		if _, err := tx.GetImportToken(in.ProjectID, in.KeyID, tokenID); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("%w: token %s was spent meanwhile", ErrImportTokenInvalid, tokenID)
			}
			return err
		}
		if cur.fingerprint != nil && !hmac.Equal(cur.fingerprint, fp) {
			return ErrMaterialMismatch
		}
		v := store.KeyVersion{ProjectID: cur.ProjectID, KeyID: cur.KeyID, Version: importedVersion, Sealed: sealed, CreatedAt: nowMillis}
		if err := tx.PutKeyVersion(v); err != nil {
			return fmt.Errorf("put imported version of key %s: %w", cur.KeyID, err)
		}
		cur.State = StateEnabled
		cur.PrimaryVersion = importedVersion
		cur.MaterialExpiresAt = in.ExpiresAt.UTC().Truncate(time.Millisecond)
		if in.ExpiresAt.IsZero() {
			cur.MaterialExpiresAt = time.Time{}
		}
		cur.fingerprint = fp
		return tx.DeleteImportTokens(in.ProjectID, in.KeyID)
	})
	if err != nil {
		return Key{}, err
	}
	s.log.InfoContext(ctx, "key material imported", "request_id", RequestID(ctx), "project_id", in.ProjectID, "key_id", in.KeyID,
		"material_expires_at", out.MaterialExpiresAt)
	return out, nil
}

// unwrap opens the token's private key and decrypts wrapped with it by the
// token's algorithm: RSA-OAEP with SHA-1 or SHA-256 (MGF1 with the same
// hash, empty label), or SM2 encryption (GB/T 32918.4, C1C3C2 as ASN.1 or
// raw bytes). Every decryption failure is the one ErrUnwrapFailed.
func (s *Service) unwrap(tok store.ImportToken, wrapped []byte) ([]byte, error) {
	der, err := s.keyring.Open(wrappingKeyBinding(tok.ProjectID, tok.KeyID, tok.TokenID), tok.SealedPrivateKey)
	if err != nil {
		return nil, fmt.Errorf("open wrapping key of token %s: %w", tok.TokenID, err)
	}
	priv, err := smx509.ParsePKCS8PrivateKey(der)
	clear(der)
	if err != nil {
		return nil, fmt.Errorf("parse wrapping key of token %s: %w", tok.TokenID, err)
	}
	var pt []byte
	switch tok.WrappingAlgorithm {
	case WrappingRSAOAEPSHA256, WrappingRSAOAEPSHA1:
		k, ok := priv.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("token %s: %s with a %T", tok.TokenID, tok.WrappingAlgorithm, priv)
		}
		h := crypto.SHA256
		if tok.WrappingAlgorithm == WrappingRSAOAEPSHA1 {
			h = crypto.SHA1
		}
		pt, err = k.Decrypt(nil, wrapped, &rsa.OAEPOptions{Hash: h})
	case WrappingSM2:
		k, ok := priv.(*sm2.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("token %s: %s with a %T", tok.TokenID, tok.WrappingAlgorithm, priv)
		}
		pt, err = sm2Decrypt(k, wrapped)
	default:
		return nil, fmt.Errorf("token %s: unknown wrapping algorithm %q", tok.TokenID, tok.WrappingAlgorithm)
	}
	if err != nil {
		return nil, ErrUnwrapFailed
	}
	return pt, nil
}

// materialFingerprint is the keyed fingerprint of a key's imported
// material: HMAC-SHA256 under the root-derived key of label
// "kmsd import fingerprint v1", over the length-prefixed project id, key
// id and material. It identifies the material without revealing it: with
// no root key, it cannot be checked against guesses.
func (s *Service) materialFingerprint(projectID, keyID string, material []byte) []byte {
	key := s.keyring.Derive(importFingerprintLabel, 32)
	defer clear(key)
	m := hmac.New(sha256.New, key)
	for _, f := range [][]byte{[]byte(projectID), []byte(keyID), material} {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(f)))
		m.Write(n[:])
		m.Write(f)
	}
	return m.Sum(nil)
}

// DeleteImportedKeyMaterial removes the material of an enabled or disabled
// key of origin external and returns it to pending import; the key's
// fingerprint stays, so only the same material can be imported again.
// Errors: another origin → ErrNotExternal; another state →
// ErrMaterialNotDeletable.
func (s *Service) DeleteImportedKeyMaterial(ctx context.Context, projectID, keyID string) (Key, error) {
	if err := s.regionWritable(ctx, projectID, keyID, false); err != nil {
		return Key{}, err
	}
	out, err := s.modifyKey(ctx, projectID, keyID, func(tx store.Tx, k *Key) error {
		if k.Origin != OriginExternal {
			return ErrNotExternal
		}
		if k.State != StateEnabled && k.State != StateDisabled {
			return fmt.Errorf("%w: key %s is %v", ErrMaterialNotDeletable, keyID, k.State)
		}
		if err := tx.DeleteKeyVersions(projectID, keyID); err != nil {
			return err
		}
		if err := tx.DeleteImportTokens(projectID, keyID); err != nil {
			return err
		}
		k.State = StatePendingImport
		k.PrimaryVersion = 0
		k.MaterialExpiresAt = time.Time{}
		return nil
	})
	if err != nil {
		return Key{}, err
	}
	s.log.InfoContext(ctx, "imported key material deleted", "request_id", RequestID(ctx), "project_id", projectID, "key_id", keyID)
	return out, nil
}

// ExpireImportedMaterial removes the material of every key whose imported
// material has expired, and the expired import tokens, and returns how
// many keys and tokens it removed. An enabled or disabled key returns to
// pending import; a key pending deletion stays so (cancelling the deletion
// then returns it to pending import). Each key is handled in its own
// transaction that re-checks the expiry, so several nodes may run it at
// once.
func (s *Service) ExpireImportedMaterial(ctx context.Context) (keys, tokens int, err error) {
	now := s.Now()
	for {
		var due []store.Key
		err := s.store.View(ctx, func(tx store.Tx) error {
			var err error
			due, err = tx.KeysWithExpiredMaterial(now, 100)
			return err
		})
		if err != nil {
			return keys, 0, err
		}
		for _, k := range due {
			expired := false
			_, err := s.modifyKey(ctx, k.ProjectID, k.KeyID, func(tx store.Tx, cur *Key) error {
				expired = false
				if cur.Origin != OriginExternal || cur.MaterialExpiresAt.IsZero() || cur.MaterialExpiresAt.After(now) {
					return errUnchanged
				}
				if err := tx.DeleteKeyVersions(cur.ProjectID, cur.KeyID); err != nil {
					return err
				}
				cur.PrimaryVersion = 0
				cur.MaterialExpiresAt = time.Time{}
				if cur.State == StateEnabled || cur.State == StateDisabled {
					cur.State = StatePendingImport
				}
				expired = true
				return nil
			})
			if err != nil && !errors.Is(err, ErrKeyNotFound) {
				return keys, 0, err
			}
			if err == nil && expired {
				s.log.InfoContext(ctx, "imported key material expired", "request_id", RequestID(ctx), "project_id", k.ProjectID, "key_id", k.KeyID)
				keys++
			}
		}
		if len(due) < 100 {
			break
		}
	}
	err = s.update(ctx, func(tx store.Tx) error {
		var err error
		tokens, err = tx.DeleteExpiredImportTokens(now)
		return err
	})
	return keys, tokens, err
}

// RunImportExpiryJob runs ExpireImportedMaterial every interval until ctx
// ends. State lives in the store, so a restart resumes where it left off.
func (s *Service) RunImportExpiryJob(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		err := s.exclusive(ctx, "import expiry", func(ctx context.Context) error {
			_, _, err := s.ExpireImportedMaterial(ctx)
			return err
		})
		if ctx.Err() != nil {
			return
		}
		s.jobRan(jobImportExpiry, err)
		if err != nil {
			s.log.ErrorContext(ctx, "import expiry job failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Import token, format version 1. The token is the standard base64
// encoding (with padding) of:
//
//	length  field
//	1       format version, 0x01
//	32      token id (random; the store's TokenID is its hex form)
//	8       expiry, Unix seconds, big-endian
//	1 + n   project id, length-prefixed
//	1 + n   key id, length-prefixed
//	1 + n   wrapping algorithm, length-prefixed
//	1 + n   wrapping key spec, length-prefixed
//	32      HMAC-SHA256 of all the bytes before it, under the root-derived
//	        key of label "kmsd import token v1"
//
// The MAC makes a forged or altered token fail (KMS.2605) before the store
// is asked, lets a token of another key be told apart (KMS.2603), and lets
// an expired token be named as such (KMS.2601) after the expiry job has
// removed its row. Encoded tokens are 200 to 300 characters, inside the
// reference's 200–6144.
const (
	importTokenV1 byte = 0x01
	tokenIDSize        = 32
	tokenMACSize       = sha256.Size
)

type importToken struct {
	id                                   [tokenIDSize]byte
	expires                              int64
	projectID, keyID, algorithm, keySpec string
}

func (s *Service) marshalImportToken(t importToken) string {
	b := []byte{importTokenV1}
	b = append(b, t.id[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(t.expires))
	for _, f := range []string{t.projectID, t.keyID, t.algorithm, t.keySpec} {
		if len(f) > 255 {
			panic("kms: import token field longer than 255 bytes") // ids and enum values are short
		}
		b = append(b, byte(len(f)))
		b = append(b, f...)
	}
	b = append(b, s.importTokenMAC(b)...)
	return base64.StdEncoding.EncodeToString(b)
}

// parseImportToken decodes and authenticates a token. Every failure is
// ErrImportTokenInvalid.
func (s *Service) parseImportToken(text string) (importToken, error) {
	bad := func(why string) (importToken, error) {
		return importToken{}, fmt.Errorf("%w: %s", ErrImportTokenInvalid, why)
	}
	b, err := base64.StdEncoding.Strict().DecodeString(text)
	if err != nil {
		return bad("not base64")
	}
	if len(b) < 1+tokenIDSize+8+4+tokenMACSize || b[0] != importTokenV1 {
		return bad("not a version 1 token")
	}
	body, mac := b[:len(b)-tokenMACSize], b[len(b)-tokenMACSize:]
	if !hmac.Equal(mac, s.importTokenMAC(body)) {
		return bad("wrong MAC")
	}
	var t importToken
	copy(t.id[:], body[1:])
	t.expires = int64(binary.BigEndian.Uint64(body[1+tokenIDSize:]))
	rest := body[1+tokenIDSize+8:]
	for _, f := range []*string{&t.projectID, &t.keyID, &t.algorithm, &t.keySpec} {
		if len(rest) < 1 || len(rest) < 1+int(rest[0]) {
			return bad("truncated field")
		}
		*f, rest = string(rest[1:1+int(rest[0])]), rest[1+int(rest[0]):]
	}
	if len(rest) != 0 {
		return bad("trailing data")
	}
	return t, nil
}

func (s *Service) importTokenMAC(body []byte) []byte {
	key := s.keyring.Derive(importTokenLabel, 32)
	defer clear(key)
	m := hmac.New(sha256.New, key)
	m.Write(body)
	return m.Sum(nil)
}
