package kms_test

import (
	"encoding/base64"
	"errors"
	"slices"
	"testing"

	"github.com/kmsd/kmsd/internal/kms"
)

// TestAuthorize checks the one authorization decision of a request: in
// which project it is served, whether by grant, and when it is refused.
func TestAuthorize(t *testing.T) {
	f, who := grantFixture(t)
	ctx := t.Context()
	own := f.create(t, "access-own", "")
	theirs, err := f.svc.CreateKey(ctx, kms.CreateKeyInput{ProjectID: project2, AccountID: account2, Alias: "access-theirs"})
	if err != nil {
		t.Fatal(err)
	}
	g := f.grant(t, kms.CreateGrantInput{ProjectID: project2, KeyID: theirs.KeyID, GranteePrincipal: who.dev.UserID, Operations: []string{"encrypt-data", "decrypt-data"}})
	ct, err := f.svc.Encrypt(ctx, project2, theirs.KeyID, []byte("x"), nil, "")
	if err != nil {
		t.Fatal(err)
	}
	ctText := base64.StdEncoding.EncodeToString(ct)
	use := func(id, op string) []kms.KeyUse { return []kms.KeyUse{{KeyID: id, Operation: op}} }
	for _, tc := range []struct {
		name    string
		policy  kms.Policy
		keys    []kms.KeyUse
		project string
		grant   bool
		err     error
		keyIDs  []string
	}{
		{"IAM, own key", kms.PolicyAllow, use(own.KeyID, "encrypt-data"), project, false, nil, []string{own.KeyID}},
		{"IAM, no keys", kms.PolicyAllow, nil, project, false, nil, nil},
		{"IAM, granted key elsewhere", kms.PolicyAllow, use(theirs.KeyID, "encrypt-data"), project2, true, nil, []string{theirs.KeyID}},
		{"IAM, ungranted operation elsewhere", kms.PolicyAllow, use(theirs.KeyID, "describe-key"), project, false, nil, []string{theirs.KeyID}},
		{"IAM, missing key", kms.PolicyAllow, use("00000000-0000-4000-8000-000000000000", "encrypt-data"), project, false, nil, []string{"00000000-0000-4000-8000-000000000000"}},
		{"IAM, ciphertext of a granted key", kms.PolicyAllow, []kms.KeyUse{{Ciphertext: ctText, Operation: "decrypt-data"}}, project2, true, nil, []string{theirs.KeyID}},
		{"grant only", kms.PolicyDeny, use(theirs.KeyID, "decrypt-data"), project2, true, nil, []string{theirs.KeyID}},
		{"neither", kms.PolicyDeny, use(own.KeyID, "encrypt-data"), project, false, kms.ErrAccessDenied, []string{own.KeyID}},
		{"no grant operation", kms.PolicyDeny, use(theirs.KeyID, ""), project, false, kms.ErrAccessDenied, []string{theirs.KeyID}},
		{"explicit deny beats a grant", kms.PolicyExplicitDeny, use(theirs.KeyID, "encrypt-data"), project, false, kms.ErrAccessDenied, []string{theirs.KeyID}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var a kms.Access
			err := f.svc.Authorize(ctx, kms.AccessRequest{
				UserID: who.dev.UserID, AccountID: who.dev.AccountID, ProjectID: project,
				Action: "kms:cmk:crypto", Policy: tc.policy, Keys: tc.keys,
			}, &a)
			if !errors.Is(err, tc.err) {
				t.Fatalf("got %v, want %v", err, tc.err)
			}
			if a.ProjectID != tc.project || a.ByGrant() != tc.grant {
				t.Errorf("got project %s, by grant %v; want %s, %v", a.ProjectID, a.ByGrant(), tc.project, tc.grant)
			}
			if a.UserID != who.dev.UserID || a.CallerProjectID != project || a.Action != "kms:cmk:crypto" {
				t.Errorf("got %+v", a)
			}
			if !slices.Equal(a.KeyIDs, tc.keyIDs) {
				t.Errorf("key ids %v, want %v", a.KeyIDs, tc.keyIDs)
			}
			if a.ByGrant() && !slices.Equal(a.Grant.GrantIDs, []string{g.GrantID}) {
				t.Errorf("grant ids %v, want %s", a.Grant.GrantIDs, g.GrantID)
			}
		})
	}
}

// BenchmarkAuthorizeOwnKey measures the decision of the hot path: the
// caller's own key, allowed by IAM, in the cache of opened keys.
//
//	go test -run XXX -bench AuthorizeOwnKey ./internal/kms/
func BenchmarkAuthorizeOwnKey(b *testing.B) {
	f := newFixture(b, "", 0)
	k, err := f.svc.CreateKey(b.Context(), kms.CreateKeyInput{ProjectID: project, AccountID: account, Alias: "bench-own"})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := f.svc.Encrypt(b.Context(), project, k.KeyID, []byte("x"), nil, ""); err != nil {
		b.Fatal(err) // opens the key into the cache
	}
	req := kms.AccessRequest{UserID: "u", AccountID: account, ProjectID: project, Action: "kms:cmk:crypto",
		Policy: kms.PolicyAllow, Keys: []kms.KeyUse{{KeyID: k.KeyID, Operation: kms.OpEncryptData}}}
	var a kms.Access
	b.ReportAllocs()
	for b.Loop() {
		if err := f.svc.Authorize(b.Context(), req, &a); err != nil || a.ProjectID != project {
			b.Fatal(err)
		}
	}
}
