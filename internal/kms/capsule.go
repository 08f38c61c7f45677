package kms

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kmsd/kmsd/internal/capsule"
	"github.com/kmsd/kmsd/internal/ciphertext"
	"github.com/kmsd/kmsd/internal/store"
)

// Refusals of DecryptDatakeyCapsule. Each names its cause and nothing of
// the capsule's content (reference kms-api-new.md §4.Q; the codes are the
// API's, internal/api/errors.go).
var (
	// ErrInvalidCapsule is a capsule that does not parse, or that fails to
	// authenticate (any byte changed), or that another key sealed.
	ErrInvalidCapsule = errors.New("invalid data key capsule")
	// ErrCapsulePolicyGone is a capsule bound to a key policy that no
	// longer exists.
	ErrCapsulePolicyGone = errors.New("the capsule's key policy no longer exists")
	// ErrPolicyNotInPeriod is a decryption outside the policy's
	// validity period.
	ErrPolicyNotInPeriod = errors.New("now is outside the key policy's validity period")
	// ErrAttestationMissing is an attestation document that identifies no
	// access point (no custom signature, ECS signature or service token).
	ErrAttestationMissing = errors.New("the attestation document identifies no access point")
	// ErrAccessPointNotAllowed is an access point the policy does not list
	// (or that does not exist).
	ErrAccessPointNotAllowed = errors.New("the access point is not allowed by the key policy")
	// ErrAccessPointDisabled is a listed access point that is disabled.
	ErrAccessPointDisabled = errors.New("the access point is disabled")
	// ErrAttestationSignature is a custom signature that does not verify.
	ErrAttestationSignature = errors.New("the access point's signature does not verify")
	// ErrAttestationExpired is a custom signature whose expire_time is
	// past, malformed, or too far ahead.
	ErrAttestationExpired = errors.New("the attestation's expire_time is past, malformed or too far ahead")
	// ErrAttestationUnverifiable is an ECS or CCE attestation while no
	// verifier for it is configured.
	ErrAttestationUnverifiable = errors.New("no attestation verifier is configured for ECS and CCE access points")
)

// MaxAttestationLifetime bounds how far ahead of now a custom signature's
// expire_time may lie: a signature is usable for at most this long.
const MaxAttestationLifetime = time.Hour

// capsuleDataKeyBytes maps datakey_length to data key bytes (reference
// kms-api-new.md §4.Q: "128"/"256" of the Huawei page, AES_256/SM4 of the
// Node model; AES_128 accepted too).
var capsuleDataKeyBytes = map[string]int{"128": 16, "256": 32, "AES_128": 16, "AES_256": 32, "SM4": 16}

// Attestation is the attestation_document of DecryptDatakeyCapsule.
type Attestation struct {
	ECSSignature    string
	CustomSignature string
	CustomPublicKey string
	ExpireTime      string
	ServiceToken    string
}

// AttestationVerifier checks the attestation of an ECS (type 1) or CCE
// (type 2) access point, whose formats Huawei does not publish. It
// returns nil when doc proves the environment of ap. kmsd has none by
// default: such decryptions then fail with ErrAttestationUnverifiable.
type AttestationVerifier interface {
	VerifyAttestation(ctx context.Context, ap AccessPoint, doc Attestation) error
}

// SetAttestationVerifier installs the verifier of ECS and CCE access
// points; call it before the service serves requests.
func (s *Service) SetAttestationVerifier(v AttestationVerifier) { s.attestation = v }

// CreateCapsuleInput are the parameters of CreateDatakeyCapsule.
type CreateCapsuleInput struct {
	ProjectID     string
	KeyID         string
	DataKeyLength string
	// PolicyID or InlinePolicy (exactly one) binds the capsule.
	PolicyID     string
	InlinePolicy string
}

// CreateDatakeyCapsule makes a fresh data key and a capsule (package
// capsule) sealing it under the primary version of the enabled symmetric
// key KeyID, bound to a key policy of the project by id or to an inline
// policy document. It returns the data key, the caller's to clear, and
// the capsule's bytes.
func (s *Service) CreateDatakeyCapsule(ctx context.Context, in CreateCapsuleInput) (dek, out []byte, err error) {
	n, ok := capsuleDataKeyBytes[in.DataKeyLength]
	if !ok {
		return nil, nil, fmt.Errorf("%w: datakey_length %q, want 128, 256, AES_128, AES_256 or SM4", ErrInvalidParameter, in.DataKeyLength)
	}
	if (in.PolicyID == "") == (in.InlinePolicy == "") {
		return nil, nil, fmt.Errorf("%w: exactly one of policy_id and key_policy", ErrInvalidParameter)
	}
	c := capsule.Capsule{Kind: capsule.BindPolicyID}
	var doc PolicyDocument
	if in.PolicyID != "" {
		id, err := spaceID("policy_id", in.PolicyID)
		if err != nil {
			return nil, nil, err
		}
		c.Binding = []byte(id)
	} else {
		if doc, err = ParsePolicyDocument(in.InlinePolicy); err != nil {
			return nil, nil, err
		}
		c.Kind, c.Binding = capsule.BindInline, doc.Canonical()
		if len(c.Binding) > capsule.MaxBinding {
			return nil, nil, fmt.Errorf("%w: the inline policy is longer than %d bytes", ErrInvalidPolicyDocument, capsule.MaxBinding)
		}
	}
	err = s.store.View(ctx, func(tx store.Tx) error {
		if c.Kind == capsule.BindPolicyID {
			_, err := keyPolicyOf(tx, in.ProjectID, string(c.Binding))
			return err
		}
		return checkAccessPoints(tx, in.ProjectID, "", doc)
	})
	if err != nil {
		return nil, nil, err
	}
	h, err := s.dataKeyCMK(ctx, in.ProjectID, in.KeyID)
	if err != nil {
		return nil, nil, err
	}
	dek = make([]byte, n)
	rand.Read(dek) // Never fails; see crypto/rand.Read.
	if c.Sealed, err = sealBlob(h, ciphertext.KindDataKey, dek, c.AAD()); err != nil {
		clear(dek)
		return nil, nil, err
	}
	if out, err = c.Marshal(); err != nil {
		clear(dek)
		return nil, nil, err
	}
	return dek, out, nil
}

// DecryptCapsuleInput are the parameters of DecryptDatakeyCapsule; the
// caller's IAM or grant authorization for the key was decided before
// (Authorize).
type DecryptCapsuleInput struct {
	ProjectID string
	KeyID     string
	// Capsule is the datakey_capsule as sent (base64 text): the custom
	// signature covers it as sent.
	Capsule     string
	Attestation Attestation
	// PublicKey is the public_key member as sent ("" when absent); the
	// custom signature covers it.
	PublicKey string
}

// DecryptDatakeyCapsule opens a capsule and returns its data key (the
// caller's to clear) and the admitted identity (the access point id of a
// Custom access point, the ECS or CCE cluster id otherwise). In order:
// the key must be usable for data keys; the capsule must parse, be sealed
// by KeyID in the project and authenticate (ErrInvalidCapsule); its policy
// must exist (ErrCapsulePolicyGone) and now must lie in its validity
// period (ErrPolicyNotInPeriod); the attestation must identify an access
// point the policy lists (ErrAttestationMissing, ErrAccessPointNotAllowed),
// enabled (ErrAccessPointDisabled), whose proof verifies (see
// SignedString; ErrAttestationSignature, ErrAttestationExpired,
// ErrAttestationUnverifiable). The data key is opened only to
// authenticate the capsule as a whole and is cleared on every refusal.
func (s *Service) DecryptDatakeyCapsule(ctx context.Context, in DecryptCapsuleInput) (dek []byte, instanceID string, err error) {
	raw, err := base64.StdEncoding.DecodeString(in.Capsule)
	if err != nil {
		return nil, "", fmt.Errorf("%w: not base64", ErrInvalidCapsule)
	}
	c, err := capsule.Parse(raw)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %v", ErrInvalidCapsule, err)
	}
	b, err := ciphertext.Parse(c.Sealed)
	if err != nil || b.Kind != ciphertext.KindDataKey {
		return nil, "", fmt.Errorf("%w: sealed data key malformed", ErrInvalidCapsule)
	}
	if b.KeyID != in.KeyID || b.ProjectID != in.ProjectID {
		return nil, "", fmt.Errorf("%w: sealed by another key", ErrInvalidCapsule)
	}
	h, err := s.dataKeyCMK(ctx, in.ProjectID, in.KeyID)
	if err != nil {
		return nil, "", err
	}
	dek, err = openBlob(h, b, c.AAD())
	if err != nil {
		return nil, "", fmt.Errorf("%w: does not authenticate", ErrInvalidCapsule)
	}
	instanceID, err = s.admit(ctx, in, c)
	if err != nil {
		clear(dek)
		return nil, "", err
	}
	return dek, instanceID, nil
}

// admit evaluates the capsule's policy for the request at the service's
// now, and records the use of a stored policy (last_access_time).
func (s *Service) admit(ctx context.Context, in DecryptCapsuleInput, c capsule.Capsule) (string, error) {
	now := s.Now()
	var doc PolicyDocument
	var policyID string
	if c.Kind == capsule.BindPolicyID {
		policyID = string(c.Binding)
	} else {
		var err error
		if doc, err = ParsePolicyDocument(string(c.Binding)); err != nil {
			return "", fmt.Errorf("%w: inline policy: %v", ErrInvalidCapsule, err)
		}
	}
	var instance string
	err := s.store.View(ctx, func(tx store.Tx) error {
		if policyID != "" {
			p, err := keyPolicyOf(tx, in.ProjectID, policyID)
			if errors.Is(err, ErrKeyPolicyNotFound) {
				return ErrCapsulePolicyGone
			}
			if err != nil {
				return err
			}
			doc = p.Doc
		}
		if !doc.inPeriod(now) {
			return ErrPolicyNotInPeriod
		}
		var err error
		instance, err = s.attest(ctx, tx, in, doc, now)
		return err
	})
	if err != nil {
		return "", err
	}
	if policyID != "" {
		// The use is recorded after the decision; a policy deleted
		// meanwhile is no error of this decryption.
		err := s.update(ctx, func(tx store.Tx) error {
			p, err := tx.GetKeyPolicy(in.ProjectID, policyID)
			if err != nil {
				return err
			}
			p.LastAccessAt = now.UTC().Truncate(time.Millisecond)
			return tx.UpdateKeyPolicy(p)
		})
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return "", err
		}
	}
	return instance, nil
}

// attest finds the access point the attestation names among the
// policy's, and verifies its proof.
func (s *Service) attest(ctx context.Context, tx store.Tx, in DecryptCapsuleInput, doc PolicyDocument, now time.Time) (string, error) {
	a := in.Attestation
	switch {
	case a.CustomSignature != "" || a.CustomPublicKey != "":
		pub, err := base64.StdEncoding.DecodeString(a.CustomPublicKey)
		if err != nil || len(pub) == 0 {
			return "", fmt.Errorf("%w: custom_public_key is not base64 of a public key", ErrAccessPointNotAllowed)
		}
		ap, err := s.allowedAccessPoint(tx, in.ProjectID, doc, func(ap AccessPoint) bool {
			return ap.Type == AccessPointCustom && bytes.Equal(ap.PublicKey, pub)
		})
		if err != nil {
			return "", err
		}
		if err := verifyCustom(ap, in, now); err != nil {
			return "", err
		}
		return ap.ID, nil
	case a.ECSSignature != "" || a.ServiceToken != "":
		typ := AccessPointECS
		if a.ServiceToken != "" {
			typ = AccessPointCCE
		}
		if s.attestation == nil {
			return "", ErrAttestationUnverifiable
		}
		// Each listed access point of that type is tried; the verifier
		// says which environment the document proves.
		var last error = ErrAccessPointNotAllowed
		for _, id := range doc.AccessPoints {
			ap, err := tx.GetAccessPoint(in.ProjectID, id)
			if errors.Is(err, store.ErrNotFound) || err == nil && ap.Type != typ {
				continue
			}
			if err != nil {
				return "", err
			}
			if ap.State != AccessPointEnabled {
				last = ErrAccessPointDisabled
				continue
			}
			if err := s.attestation.VerifyAttestation(ctx, ap, a); err != nil {
				last = fmt.Errorf("%w: %v", ErrAttestationSignature, err)
				continue
			}
			if typ == AccessPointCCE {
				return ap.ClusterID, nil
			}
			return ap.Identity, nil
		}
		return "", last
	}
	return "", ErrAttestationMissing
}

// allowedAccessPoint returns the access point of the policy that match
// selects, enabled.
func (s *Service) allowedAccessPoint(tx store.Tx, projectID string, doc PolicyDocument, match func(AccessPoint) bool) (AccessPoint, error) {
	for _, id := range doc.AccessPoints {
		ap, err := tx.GetAccessPoint(projectID, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return AccessPoint{}, err
		}
		if !match(ap) {
			continue
		}
		if ap.State != AccessPointEnabled {
			return AccessPoint{}, ErrAccessPointDisabled
		}
		return ap, nil
	}
	return AccessPoint{}, ErrAccessPointNotAllowed
}

// SignedString is what a Custom access point signs for
// DecryptDatakeyCapsule (kmsd's definition; Huawei publishes none): the
// lines, each ended by "\n",
//
//	KMSD-DATAKEY-CAPSULE-DECRYPT-V1
//	<project_id of the path>
//	<key_id>
//	<hex SHA-256 of datakey_capsule as sent>
//	<hex SHA-256 of public_key as sent, "" when absent hashes as empty>
//	<expire_time as sent>
//
// The signature is ECDSA P-256 over SHA-256 of that string, ASN.1 DER,
// base64 (standard, padded) in custom_signature.
func SignedString(projectID, keyID, capsuleText, publicKey, expireTime string) string {
	c := sha256.Sum256([]byte(capsuleText))
	p := sha256.Sum256([]byte(publicKey))
	return strings.Join([]string{"KMSD-DATAKEY-CAPSULE-DECRYPT-V1", projectID, keyID,
		hex.EncodeToString(c[:]), hex.EncodeToString(p[:]), expireTime}, "\n") + "\n"
}

// verifyCustom checks a Custom access point's signature and its
// expire_time (ISO-8601 yyyy-mm-ddTHH:MM:SSZ, after now and at most
// MaxAttestationLifetime ahead).
func verifyCustom(ap AccessPoint, in DecryptCapsuleInput, now time.Time) error {
	exp, err := time.Parse("2006-01-02T15:04:05Z", in.Attestation.ExpireTime)
	if err != nil || !exp.After(now) || exp.Sub(now) > MaxAttestationLifetime {
		return ErrAttestationExpired
	}
	key, err := x509.ParsePKIXPublicKey(ap.PublicKey)
	if err != nil {
		return fmt.Errorf("access point %s public key: %w", ap.ID, err)
	}
	pub, ok := key.(*ecdsa.PublicKey)
	sig, err := base64.StdEncoding.DecodeString(in.Attestation.CustomSignature)
	if !ok || err != nil {
		return ErrAttestationSignature
	}
	digest := sha256.Sum256([]byte(SignedString(in.ProjectID, in.KeyID, in.Capsule, in.PublicKey, in.Attestation.ExpireTime)))
	if !ecdsa.VerifyASN1(pub, digest[:], sig) {
		return ErrAttestationSignature
	}
	return nil
}

// WrapForPublicKey encrypts a data key with RSAES-OAEP-SHA-256 under the
// caller's RSA public key (PEM, or base64 of DER SubjectPublicKeyInfo),
// the datakey_cipher of the capsule operations.
func WrapForPublicKey(publicKey string, dek []byte) ([]byte, error) {
	der := []byte(nil)
	if blk, _ := pem.Decode([]byte(publicKey)); blk != nil {
		der = blk.Bytes
	} else if b, err := base64.StdEncoding.DecodeString(publicKey); err == nil {
		der = b
	}
	key, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("%w: public_key is not an RSA public key (PEM or base64 DER SubjectPublicKeyInfo)", ErrInvalidParameter)
	}
	pub, ok := key.(*rsa.PublicKey)
	if !ok || pub.N.BitLen() < 2048 {
		return nil, fmt.Errorf("%w: public_key must be an RSA key of at least 2048 bits", ErrInvalidParameter)
	}
	return rsa.EncryptOAEP(sha256.New(), rand.Reader, pub, dek, nil)
}
