package kms_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/kmsd/kmsd/internal/kms"
)

// capsuleSetup is a key space with one Custom access point (its private
// key downloaded), a policy admitting it for an hour, and an AES key.
type capsuleSetup struct {
	f      *fixture
	key    kms.Key
	ap     kms.AccessPoint
	priv   *ecdsa.PrivateKey
	policy kms.KeyPolicy
}

func policyJSON(start, end time.Time, aps ...string) string {
	s := `{"version":"1","validity_period":{"start_time":"` + strconv.FormatInt(start.UnixMilli(), 10) +
		`","end_time":"` + strconv.FormatInt(end.UnixMilli(), 10) + `"},"allowed_access_point":[`
	for i, a := range aps {
		if i > 0 {
			s += ","
		}
		s += `"` + a + `"`
	}
	return s + "]}"
}

func newCapsuleSetup(t *testing.T) *capsuleSetup {
	t.Helper()
	f := newFixture(t, "", 100)
	ctx := t.Context()
	ks, err := f.svc.CreateKeySpace(ctx, kms.CreateKeySpaceInput{ProjectID: project, Name: "space"})
	if err != nil {
		t.Fatal(err)
	}
	ap, err := f.svc.CreateAccessPoint(ctx, kms.CreateAccessPointInput{ProjectID: project, KeySpaceID: ks.ID, Name: "ap", Type: kms.AccessPointCustom})
	if err != nil {
		t.Fatal(err)
	}
	_, pemKey, err := f.svc.DownloadAccessPointPrivateKey(ctx, project, ap.ID)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(pemKey)
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.DownloadAccessPointPrivateKey(ctx, project, ap.ID); !errors.Is(err, kms.ErrPrivateKeyDownloaded) {
		t.Fatalf("second download: got %v, want ErrPrivateKeyDownloaded", err)
	}
	p, err := f.svc.CreateKeyPolicy(ctx, kms.CreateKeyPolicyInput{ProjectID: project, KeySpaceID: ks.ID, Name: "p",
		Document: policyJSON(f.now.Add(-time.Minute), f.now.Add(time.Hour), ap.ID)})
	if err != nil {
		t.Fatal(err)
	}
	return &capsuleSetup{f: f, key: f.create(t, "capsule-key", "AES_256"), ap: ap, priv: k.(*ecdsa.PrivateKey), policy: p}
}

func (s *capsuleSetup) decryptInput(t *testing.T, capsuleText string) kms.DecryptCapsuleInput {
	exp := s.f.now.Add(5 * time.Minute).UTC().Format("2006-01-02T15:04:05Z")
	digest := sha256.Sum256([]byte(kms.SignedString(project, s.key.KeyID, capsuleText, "", exp)))
	sig, err := ecdsa.SignASN1(rand.Reader, s.priv, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := x509.MarshalPKIXPublicKey(&s.priv.PublicKey)
	return kms.DecryptCapsuleInput{ProjectID: project, KeyID: s.key.KeyID, Capsule: capsuleText, Attestation: kms.Attestation{
		CustomSignature: base64.StdEncoding.EncodeToString(sig), CustomPublicKey: base64.StdEncoding.EncodeToString(pub), ExpireTime: exp}}
}

// TestCapsuleEveryByte changes each byte of a capsule in turn; every
// change is refused, and the unchanged capsule opens.
func TestCapsuleEveryByte(t *testing.T) {
	s := newCapsuleSetup(t)
	ctx := t.Context()
	for _, in := range []kms.CreateCapsuleInput{
		{ProjectID: project, KeyID: s.key.KeyID, DataKeyLength: "256", PolicyID: s.policy.ID},
		{ProjectID: project, KeyID: s.key.KeyID, DataKeyLength: "128", InlinePolicy: policyJSON(s.f.now, s.f.now.Add(time.Hour), s.ap.ID)},
	} {
		dek, raw, err := s.f.svc.CreateDatakeyCapsule(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		text := base64.StdEncoding.EncodeToString(raw)
		got, inst, err := s.f.svc.DecryptDatakeyCapsule(ctx, s.decryptInput(t, text))
		if err != nil || string(got) != string(dek) || inst != s.ap.ID {
			t.Fatalf("unchanged capsule: instance %q, err %v, data key equal %v", inst, err, string(got) == string(dek))
		}
		for i := range raw {
			mod := append([]byte(nil), raw...)
			mod[i] ^= 0x80
			text := base64.StdEncoding.EncodeToString(mod)
			if _, _, err := s.f.svc.DecryptDatakeyCapsule(ctx, s.decryptInput(t, text)); !errors.Is(err, kms.ErrInvalidCapsule) {
				t.Fatalf("byte %d of %d changed: got %v, want ErrInvalidCapsule", i, len(raw), err)
			}
		}
	}
}

// TestCapsuleRotatedKey opens a capsule after its key rotated.
func TestCapsuleRotatedKey(t *testing.T) {
	s := newCapsuleSetup(t)
	ctx := t.Context()
	dek, raw, err := s.f.svc.CreateDatakeyCapsule(ctx, kms.CreateCapsuleInput{ProjectID: project, KeyID: s.key.KeyID, DataKeyLength: "SM4", PolicyID: s.policy.ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.f.svc.RotateKey(ctx, project, s.key.KeyID); err != nil {
		t.Fatal(err)
	}
	got, _, err := s.f.svc.DecryptDatakeyCapsule(ctx, s.decryptInput(t, base64.StdEncoding.EncodeToString(raw)))
	if err != nil || string(got) != string(dek) || len(got) != 16 {
		t.Fatalf("after rotation: %d bytes, %v", len(got), err)
	}
}

// stubVerifier admits the ECS environment whose document is "good".
type stubVerifier struct{}

func (stubVerifier) VerifyAttestation(_ context.Context, ap kms.AccessPoint, doc kms.Attestation) error {
	if doc.ECSSignature == "good:"+ap.Identity {
		return nil
	}
	return errors.New("not this environment")
}

// TestCapsuleECSVerifier shows the pluggable verifier: without one an ECS
// attestation is refused; with one, it decides.
func TestCapsuleECSVerifier(t *testing.T) {
	s := newCapsuleSetup(t)
	ctx := t.Context()
	ks, _, err := s.f.svc.ListKeySpaces(ctx, project, "", kms.Page{})
	if err != nil || len(ks) != 1 {
		t.Fatal(err)
	}
	ecs, err := s.f.svc.CreateAccessPoint(ctx, kms.CreateAccessPointInput{ProjectID: project, KeySpaceID: ks[0].ID, Name: "ecs", Type: kms.AccessPointECS, Identity: "ecs-7"})
	if err != nil {
		t.Fatal(err)
	}
	_, raw, err := s.f.svc.CreateDatakeyCapsule(ctx, kms.CreateCapsuleInput{ProjectID: project, KeyID: s.key.KeyID, DataKeyLength: "256",
		InlinePolicy: policyJSON(s.f.now, s.f.now.Add(time.Hour), ecs.ID)})
	if err != nil {
		t.Fatal(err)
	}
	in := kms.DecryptCapsuleInput{ProjectID: project, KeyID: s.key.KeyID, Capsule: base64.StdEncoding.EncodeToString(raw),
		Attestation: kms.Attestation{ECSSignature: "good:ecs-7"}}
	if _, _, err := s.f.svc.DecryptDatakeyCapsule(ctx, in); !errors.Is(err, kms.ErrAttestationUnverifiable) {
		t.Fatalf("no verifier: got %v, want ErrAttestationUnverifiable", err)
	}
	s.f.svc.SetAttestationVerifier(stubVerifier{})
	if _, inst, err := s.f.svc.DecryptDatakeyCapsule(ctx, in); err != nil || inst != "ecs-7" {
		t.Fatalf("verified ECS: instance %q, %v", inst, err)
	}
	in.Attestation.ECSSignature = "good:ecs-8"
	if _, _, err := s.f.svc.DecryptDatakeyCapsule(ctx, in); !errors.Is(err, kms.ErrAttestationSignature) {
		t.Fatalf("unverified ECS: got %v, want ErrAttestationSignature", err)
	}
}

// TestSignedString pins the string a Custom access point signs.
func TestSignedString(t *testing.T) {
	got := kms.SignedString("p", "k", "", "", "2026-01-01T00:00:00Z")
	const empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	want := "KMSD-DATAKEY-CAPSULE-DECRYPT-V1\np\nk\n" + empty + "\n" + empty + "\n2026-01-01T00:00:00Z\n"
	if got != want {
		t.Errorf("SignedString = %q, want %q", got, want)
	}
}

func TestParsePolicyDocument(t *testing.T) {
	const ap = "018f3c2a-7b1d-7e4f-9a2b-3c4d5e6f7a8b"
	ok := []string{
		`{"version":"1","validity_period":{"start_time":"1","end_time":"2"},"allowed_access_point":["` + ap + `"]}`,
		`{"version":"1","validityPeriod":{"startTime":1,"endTime":"2026-01-01T00:00:00Z"},"allowedAccessPoint":["` + ap + `"]}`,
		`{"version":"1","validity_period":{"start_time":"1","end_time":"2"},"allowed_data_security_zone":["z"]}`,
	}
	for _, doc := range ok {
		d, err := kms.ParsePolicyDocument(doc)
		if err != nil {
			t.Errorf("%s: %v", doc, err)
			continue
		}
		again, err := kms.ParsePolicyDocument(string(d.Canonical()))
		if err != nil || string(again.Canonical()) != string(d.Canonical()) {
			t.Errorf("canonical form %s does not round-trip: %v", d.Canonical(), err)
		}
	}
	bad := []string{
		``, `[]`, `{"version":"1"}`, `{"version":1,"validity_period":{"start_time":"1","end_time":"2"},"allowed_data_security_zone":["z"]}`,
		`{"version":"2","validity_period":{"start_time":"1","end_time":"2"},"allowed_data_security_zone":["z"]}`,
		`{"version":"1","validity_period":{"start_time":"2","end_time":"1"},"allowed_data_security_zone":["z"]}`,
		`{"version":"1","validity_period":{"start_time":"1","end_time":"2","x":1},"allowed_data_security_zone":["z"]}`,
		`{"version":"1","validity_period":{"start_time":"1","end_time":"2"},"allowed_data_security_zone":["z","z"]}`,
		`{"version":"1","validity_period":{"start_time":"1","end_time":"2"},"allowed_access_point":["not-a-uuid"]}`,
		`{"version":"1","version":"1","validity_period":{"start_time":"1","end_time":"2"},"allowed_data_security_zone":["z"]}`,
		`{"version":"1","validity_period":{"start_time":"1","end_time":"2"},"allowed_data_security_zone":["z"]} {}`,
		`{"version":"1","validity_period":{"start_time":"-1","end_time":"2"},"allowed_data_security_zone":["z"]}`,
	}
	for _, doc := range bad {
		if _, err := kms.ParsePolicyDocument(doc); !errors.Is(err, kms.ErrInvalidPolicyDocument) {
			t.Errorf("%q: got %v, want ErrInvalidPolicyDocument", doc, err)
		}
	}
}

// FuzzParsePolicyDocument checks that the parser never panics and that
// an accepted document's canonical form is a fixed point.
func FuzzParsePolicyDocument(f *testing.F) {
	f.Add(`{"version":"1","validity_period":{"start_time":"1","end_time":"2"},"allowed_data_security_zone":["z"]}`)
	f.Add(`{"version":"1","validityPeriod":{"startTime":1,"endTime":"2026-01-01T00:00:00Z"},"allowedAccessPoint":["018f3c2a-7b1d-7e4f-9a2b-3c4d5e6f7a8b"]}`)
	f.Add(`{`)
	f.Fuzz(func(t *testing.T, doc string) {
		d, err := kms.ParsePolicyDocument(doc)
		if err != nil {
			return
		}
		again, err := kms.ParsePolicyDocument(string(d.Canonical()))
		if err != nil || string(again.Canonical()) != string(d.Canonical()) {
			t.Fatalf("canonical form %s: %v", d.Canonical(), err)
		}
	})
}
