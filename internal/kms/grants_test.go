package kms_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kmsd/kmsd/internal/ciphertext"
	"github.com/kmsd/kmsd/internal/kms"
	"github.com/kmsd/kmsd/internal/store"
)

// A second account with one project, for grants across accounts.
const (
	account2 = "d0000000000000000000000000000002"
	project2 = "22222222222222222222222222222222"
)

// principals are the users of a grants test: dev and bob in the fixture's
// account, eve in account2.
type principals struct {
	dev, bob, eve kms.Caller
}

var userSeq int

// user creates a user of accountID and returns its id.
func (f *fixture) user(t *testing.T, accountID string) string {
	t.Helper()
	userSeq++
	id := fmt.Sprintf("a%031x", userSeq)
	err := f.st.Update(t.Context(), func(tx store.Tx) error {
		return tx.CreateUser(store.User{ID: id, AccountID: accountID, Name: "user-" + id[24:], CreatedAt: time.Now()})
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// grantFixture is a fixture with account2 and the test's principals.
func grantFixture(t *testing.T) (*fixture, principals) {
	t.Helper()
	f := newFixture(t, "", 0)
	err := f.st.Update(t.Context(), func(tx store.Tx) error {
		if err := tx.CreateAccount(store.Account{ID: account2, Name: "second", CreatedAt: time.Now()}); err != nil {
			return err
		}
		return tx.CreateProject(store.Project{ID: project2, AccountID: account2, Name: "p2", CreatedAt: time.Now()})
	})
	if err != nil {
		t.Fatal(err)
	}
	return f, principals{
		dev: kms.Caller{UserID: f.user(t, account), AccountID: account},
		bob: kms.Caller{UserID: f.user(t, account), AccountID: account},
		eve: kms.Caller{UserID: f.user(t, account2), AccountID: account2},
	}
}

func (f *fixture) grant(t *testing.T, in kms.CreateGrantInput) kms.Grant {
	t.Helper()
	if in.ProjectID == "" {
		in.ProjectID = project
	}
	g, err := f.svc.CreateGrant(t.Context(), in)
	if err != nil {
		t.Fatalf("CreateGrant %+v: %v", in, err)
	}
	return g
}

func (f *fixture) setGrantQuota(t *testing.T, projectID string, n int) {
	t.Helper()
	err := f.st.Update(t.Context(), func(tx store.Tx) error {
		p, err := tx.GetProject(projectID)
		if err != nil {
			return err
		}
		p.GrantQuota = n
		return tx.UpdateProject(p)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestCreateGrant(t *testing.T) {
	f, who := grantFixture(t)
	k := f.create(t, "granted", "")
	g := f.grant(t, kms.CreateGrantInput{
		KeyID: k.KeyID, GranteePrincipal: who.eve.UserID,
		Operations:        []string{"encrypt-data", "describe-key", "encrypt-data"},
		Name:              "orders:encrypt",
		RetiringPrincipal: who.bob.UserID, IssuingPrincipal: who.dev.UserID,
	})
	if len(g.GrantID) != 64 || strings.Trim(g.GrantID, "0123456789abcdef") != "" {
		t.Errorf("grant id %q, want 64 lower-case hex digits", g.GrantID)
	}
	want := kms.Grant{
		ProjectID: project, KeyID: k.KeyID, GrantID: g.GrantID, Name: "orders:encrypt",
		GranteePrincipal: who.eve.UserID, GranteePrincipalType: "user",
		Operations:       []string{"encrypt-data", "describe-key"},
		IssuingPrincipal: who.dev.UserID, RetiringPrincipal: who.bob.UserID,
		CreatedAt: f.now.UTC().Truncate(time.Millisecond),
	}
	if d := cmp.Diff(want, g); d != "" {
		t.Errorf("CreateGrant (-want +got):\n%s", d)
	}
	gs, total, err := f.svc.ListGrants(t.Context(), project, k.KeyID, 0, 0)
	if err != nil || total != 1 {
		t.Fatalf("ListGrants: %d grants, %v", total, err)
	}
	if d := cmp.Diff(want, gs[0]); d != "" {
		t.Errorf("listed grant (-want +got):\n%s", d)
	}
	// A domain grant names an account.
	d := f.grant(t, kms.CreateGrantInput{KeyID: k.KeyID, GranteePrincipal: account2, GranteePrincipalType: "domain", Operations: []string{"retire-grant"}})
	if d.GranteePrincipalType != "domain" || d.Name != "" || d.RetiringPrincipal != "" {
		t.Errorf("domain grant %+v", d)
	}
}

func TestCreateGrantErrors(t *testing.T) {
	f, who := grantFixture(t)
	ctx := t.Context()
	k := f.create(t, "granted", "")
	def, err := f.svc.CreateDefaultKey(ctx, project, account, "obs")
	if err != nil {
		t.Fatal(err)
	}
	dying := f.create(t, "dying", "")
	if _, err := f.svc.ScheduleKeyDeletion(ctx, project, dying.KeyID, 7); err != nil {
		t.Fatal(err)
	}
	valid := func(change func(*kms.CreateGrantInput)) kms.CreateGrantInput {
		in := kms.CreateGrantInput{ProjectID: project, KeyID: k.KeyID, GranteePrincipal: who.bob.UserID, Operations: []string{"describe-key"}, IssuingPrincipal: who.dev.UserID}
		change(&in)
		return in
	}
	tests := []struct {
		name   string
		change func(*kms.CreateGrantInput)
		want   error
	}{
		{"malformed key id", func(in *kms.CreateGrantInput) { in.KeyID = "key" }, kms.ErrInvalidKeyID},
		{"missing key", func(in *kms.CreateGrantInput) { in.KeyID = "00000000-0000-4000-8000-000000000000" }, kms.ErrKeyNotFound},
		{"key of another project", func(in *kms.CreateGrantInput) { in.ProjectID = other }, kms.ErrKeyNotFound},
		{"default key", func(in *kms.CreateGrantInput) { in.KeyID = def.KeyID }, kms.ErrDefaultKey},
		{"key pending deletion", func(in *kms.CreateGrantInput) { in.KeyID = dying.KeyID }, kms.ErrKeyPendingDeletion},
		{"no operations", func(in *kms.CreateGrantInput) { in.Operations = nil }, kms.ErrInvalidParameter},
		{"unknown operation", func(in *kms.CreateGrantInput) { in.Operations = []string{"describe-key", "sign"} }, kms.ErrInvalidParameter},
		{"create-grant alone", func(in *kms.CreateGrantInput) { in.Operations = []string{"create-grant"} }, kms.ErrOnlyCreateGrant},
		{"create-grant twice", func(in *kms.CreateGrantInput) { in.Operations = []string{"create-grant", "create-grant"} }, kms.ErrOnlyCreateGrant},
		{"create-grant and more", func(in *kms.CreateGrantInput) { in.Operations = []string{"create-grant", "retire-grant"} }, nil},
		{"grantee charset", func(in *kms.CreateGrantInput) { in.GranteePrincipal = "a-b" }, kms.ErrInvalidPrincipal},
		{"grantee too long", func(in *kms.CreateGrantInput) { in.GranteePrincipal = strings.Repeat("a", 65) }, kms.ErrInvalidPrincipal},
		{"grantee empty", func(in *kms.CreateGrantInput) { in.GranteePrincipal = "" }, kms.ErrInvalidPrincipal},
		{"unknown user", func(in *kms.CreateGrantInput) { in.GranteePrincipal = strings.Repeat("f", 32) }, nil},
		{"account as user", func(in *kms.CreateGrantInput) { in.GranteePrincipal = account2 }, nil},
		{"user as account", func(in *kms.CreateGrantInput) { in.GranteePrincipalType = "domain" }, nil},
		{"account", func(in *kms.CreateGrantInput) { in.GranteePrincipal, in.GranteePrincipalType = account2, "domain" }, nil},
		{"user of another account", func(in *kms.CreateGrantInput) { in.GranteePrincipal = who.eve.UserID }, nil},
		{"unknown type", func(in *kms.CreateGrantInput) { in.GranteePrincipalType = "group" }, kms.ErrInvalidParameter},
		{"name charset", func(in *kms.CreateGrantInput) { in.Name = "a b" }, kms.ErrInvalidAlias},
		{"name too long", func(in *kms.CreateGrantInput) { in.Name = strings.Repeat("n", 256) }, kms.ErrInvalidAlias},
		{"retiring principal charset", func(in *kms.CreateGrantInput) { in.RetiringPrincipal = "x y" }, kms.ErrInvalidPrincipal},
		{"unknown retiring principal", func(in *kms.CreateGrantInput) { in.RetiringPrincipal = strings.Repeat("e", 32) }, nil},
		{"account as retiring principal", func(in *kms.CreateGrantInput) { in.RetiringPrincipal = account2 }, nil},
		{"within the bound", func(in *kms.CreateGrantInput) { in.Bound = []string{"describe-key", "create-grant"} }, nil},
		{"beyond the bound", func(in *kms.CreateGrantInput) {
			in.Operations, in.Bound = []string{"describe-key", "encrypt-data"}, []string{"describe-key", "create-grant"}
		}, kms.ErrNotPermitted},
		{"empty bound", func(in *kms.CreateGrantInput) { in.Bound = []string{} }, kms.ErrNotPermitted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.svc.CreateGrant(ctx, valid(tt.change))
			if !errors.Is(err, tt.want) || tt.want == nil && err != nil {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestGrantLimits(t *testing.T) {
	f, who := grantFixture(t)
	ctx := t.Context()
	k := f.create(t, "limited", "")
	in := kms.CreateGrantInput{KeyID: k.KeyID, GranteePrincipal: who.bob.UserID, Operations: []string{"describe-key"}}
	for range kms.MaxGrantsPerGrantee {
		f.grant(t, in)
	}
	in.ProjectID = project
	if _, err := f.svc.CreateGrant(ctx, in); !errors.Is(err, kms.ErrTooManyGranteeGrants) {
		t.Fatalf("grant %d to one user: got %v, want ErrTooManyGranteeGrants", kms.MaxGrantsPerGrantee+1, err)
	}
	// The limit is per grantee: the account of the same user, another user
	// and the same user on another key are other grantees.
	f.grant(t, kms.CreateGrantInput{KeyID: k.KeyID, GranteePrincipal: account, GranteePrincipalType: "domain", Operations: []string{"describe-key"}})
	f.grant(t, kms.CreateGrantInput{KeyID: k.KeyID, GranteePrincipal: who.eve.UserID, Operations: []string{"describe-key"}})
	k2 := f.create(t, "limited-2", "")
	f.grant(t, kms.CreateGrantInput{KeyID: k2.KeyID, GranteePrincipal: who.bob.UserID, Operations: []string{"describe-key"}})

	qs, err := f.svc.Quotas(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	if want := (kms.Quota{Type: "grant_per_CMK", Used: kms.MaxGrantsPerGrantee + 2, Quota: kms.DefaultGrantQuota}); qs[1] != want {
		t.Errorf("grant_per_CMK quota: got %+v, want %+v", qs[1], want)
	}

	// The key's quota: the project's grant_per_CMK.
	f.setGrantQuota(t, project, kms.MaxGrantsPerGrantee+3)
	f.grant(t, kms.CreateGrantInput{KeyID: k.KeyID, GranteePrincipal: who.dev.UserID, Operations: []string{"describe-key"}})
	_, err = f.svc.CreateGrant(ctx, kms.CreateGrantInput{ProjectID: project, KeyID: k.KeyID, GranteePrincipal: who.dev.UserID, Operations: []string{"describe-key"}})
	if !errors.Is(err, kms.ErrTooManyKeyGrants) {
		t.Fatalf("grant beyond the key's quota: got %v, want ErrTooManyKeyGrants", err)
	}
	qs, err = f.svc.Quotas(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	if want := (kms.Quota{Type: "grant_per_CMK", Used: kms.MaxGrantsPerGrantee + 3, Quota: kms.MaxGrantsPerGrantee + 3}); qs[1] != want {
		t.Errorf("grant_per_CMK quota: got %+v, want %+v", qs[1], want)
	}
	// list-grants pages up to the quota.
	if gs, total, err := f.svc.ListGrants(ctx, project, k.KeyID, 0, kms.MaxGrantsPerGrantee+4); err != nil || len(gs) != total || total != kms.MaxGrantsPerGrantee+3 {
		t.Errorf("limit beyond the quota (clamped to it): %d of %d, %v", len(gs), total, err)
	}
	gs, total, err := f.svc.ListGrants(ctx, project, k.KeyID, 0, 0)
	if err != nil || len(gs) != total || total != kms.MaxGrantsPerGrantee+3 {
		t.Errorf("ListGrants without limit: %d of %d, %v", len(gs), total, err)
	}
}

func TestListGrants(t *testing.T) {
	f, who := grantFixture(t)
	ctx := t.Context()
	k := f.create(t, "listed", "")
	var want []string
	for i := range 7 {
		f.now = f.now.Add(time.Millisecond)
		g := f.grant(t, kms.CreateGrantInput{KeyID: k.KeyID, GranteePrincipal: []string{who.bob.UserID, who.eve.UserID}[i%2], Operations: []string{"describe-key"}})
		want = append(want, g.GrantID)
	}
	var got []string
	for offset := 0; offset < 9; offset += 3 {
		gs, total, err := f.svc.ListGrants(ctx, project, k.KeyID, offset, 3)
		if err != nil || total != 7 {
			t.Fatalf("ListGrants(%d, 3): total %d, %v", offset, total, err)
		}
		for _, g := range gs {
			got = append(got, g.GrantID)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("pages: got %v, want %v (creation order)", got, want)
	}
	for _, tc := range []struct {
		name          string
		project, key  string
		offset, limit int
		want          error
	}{
		{"negative marker", project, k.KeyID, -1, 3, kms.ErrInvalidMarker},
		{"negative limit", project, k.KeyID, 0, -1, kms.ErrInvalidLimit},
		{"malformed key", project, "x", 0, 3, kms.ErrInvalidKeyID},
		{"missing key", project, "00000000-0000-4000-8000-000000000000", 0, 3, kms.ErrKeyNotFound},
		{"another project", other, k.KeyID, 0, 3, kms.ErrKeyNotFound},
	} {
		if _, _, err := f.svc.ListGrants(ctx, tc.project, tc.key, tc.offset, tc.limit); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestRevokeGrant(t *testing.T) {
	f, who := grantFixture(t)
	ctx := t.Context()
	k, k2 := f.create(t, "revoked", ""), f.create(t, "revoked-2", "")
	ko, err := f.svc.CreateKey(ctx, kms.CreateKeyInput{ProjectID: other, AccountID: account, Alias: "other"})
	if err != nil {
		t.Fatal(err)
	}
	g := f.grant(t, kms.CreateGrantInput{KeyID: k.KeyID, GranteePrincipal: who.eve.UserID, Operations: []string{"describe-key"}})
	gOther := f.grant(t, kms.CreateGrantInput{ProjectID: other, KeyID: ko.KeyID, GranteePrincipal: who.eve.UserID, Operations: []string{"describe-key"}})
	use := []kms.GrantUse{{KeyID: k.KeyID, Operation: "describe-key"}}
	if _, ok, err := f.svc.AuthorizeByGrant(ctx, who.eve, use); !ok || err != nil {
		t.Fatalf("grant does not authorize before the revocation: %v %v", ok, err)
	}
	for _, tc := range []struct {
		name              string
		project, key, gid string
		want              error
	}{
		{"malformed grant id", project, k.KeyID, "abc", kms.ErrInvalidGrantID},
		{"unknown grant", project, k.KeyID, strings.Repeat("0", 64), kms.ErrInvalidGrantID},
		{"grant of another key", project, k2.KeyID, g.GrantID, kms.ErrGrantKeyMismatch},
		{"grant of another project", project, k.KeyID, gOther.GrantID, kms.ErrInvalidGrantID},
		{"key of another project", other, k.KeyID, g.GrantID, kms.ErrKeyNotFound},
		{"malformed key", project, "k", g.GrantID, kms.ErrInvalidKeyID},
	} {
		if err := f.svc.RevokeGrant(ctx, tc.project, tc.key, tc.gid); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
	// Upper-case hex names the same grant.
	if err := f.svc.RevokeGrant(ctx, project, k.KeyID, strings.ToUpper(g.GrantID)); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := f.svc.AuthorizeByGrant(ctx, who.eve, use); ok || err != nil {
		t.Errorf("revoked grant still authorizes: %v %v", ok, err)
	}
	if err := f.svc.RevokeGrant(ctx, project, k.KeyID, g.GrantID); !errors.Is(err, kms.ErrInvalidGrantID) {
		t.Errorf("second revocation: got %v, want ErrInvalidGrantID", err)
	}
}

func TestRetireGrant(t *testing.T) {
	f, who := grantFixture(t)
	ctx := t.Context()
	k, k2 := f.create(t, "retired", ""), f.create(t, "retired-2", "")
	stranger := kms.Caller{UserID: f.user(t, account2), AccountID: account2}
	newGrant := func(ops ...string) kms.Grant {
		return f.grant(t, kms.CreateGrantInput{
			KeyID: k.KeyID, GranteePrincipal: who.eve.UserID, Operations: ops,
			IssuingPrincipal: who.dev.UserID, RetiringPrincipal: who.bob.UserID,
		})
	}
	domain := f.grant(t, kms.CreateGrantInput{KeyID: k.KeyID, GranteePrincipal: account2, GranteePrincipalType: "domain", Operations: []string{"retire-grant"}})
	for _, tc := range []struct {
		name   string
		caller kms.Caller
		grant  kms.Grant
		key    string
		want   error
	}{
		{"the retiring principal", who.bob, newGrant("describe-key"), k.KeyID, nil},
		{"the issuing principal", who.dev, newGrant("describe-key"), k.KeyID, nil},
		{"the grantee with retire-grant", who.eve, newGrant("describe-key", "retire-grant"), k.KeyID, nil},
		{"the grantee without retire-grant", who.eve, newGrant("describe-key"), k.KeyID, kms.ErrNotPermitted},
		{"a stranger", stranger, newGrant("describe-key", "retire-grant"), k.KeyID, kms.ErrNotPermitted},
		{"a user of the domain grantee", stranger, domain, k.KeyID, nil},
		{"another key", who.bob, newGrant("describe-key"), k2.KeyID, kms.ErrGrantKeyMismatch},
		{"an unknown grant", who.bob, kms.Grant{GrantID: strings.Repeat("a", 64)}, k.KeyID, kms.ErrInvalidGrantID},
		{"a malformed grant id", who.bob, kms.Grant{GrantID: "g"}, k.KeyID, kms.ErrInvalidGrantID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := f.svc.RetireGrant(ctx, tc.caller, tc.key, tc.grant.GrantID)
			if !errors.Is(err, tc.want) || tc.want == nil && err != nil {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			gs, _, err := f.svc.ListGrants(ctx, project, k.KeyID, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			present := slices.ContainsFunc(gs, func(g kms.Grant) bool { return g.GrantID == tc.grant.GrantID })
			if tc.grant.KeyID != "" && present != (tc.want != nil) {
				t.Errorf("grant present after RetireGrant: %v, want %v", present, tc.want != nil)
			}
		})
	}
}

func TestListRetirableGrants(t *testing.T) {
	f, who := grantFixture(t)
	ctx := t.Context()
	k := f.create(t, "retirable", "")
	ko, err := f.svc.CreateKey(ctx, kms.CreateKeyInput{ProjectID: other, AccountID: account, Alias: "other"})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, key := range []kms.Key{k, ko, k} {
		f.now = f.now.Add(time.Millisecond)
		g := f.grant(t, kms.CreateGrantInput{ProjectID: key.ProjectID, KeyID: key.KeyID, GranteePrincipal: who.eve.UserID, Operations: []string{"describe-key"}, RetiringPrincipal: who.bob.UserID})
		want = append(want, g.GrantID)
	}
	f.grant(t, kms.CreateGrantInput{KeyID: k.KeyID, GranteePrincipal: who.bob.UserID, Operations: []string{"describe-key"}, RetiringPrincipal: who.dev.UserID})
	gs, total, err := f.svc.ListRetirableGrants(ctx, who.bob.UserID, 1, 5)
	if err != nil || total != 3 {
		t.Fatalf("ListRetirableGrants: total %d, %v", total, err)
	}
	var got []string
	for _, g := range gs {
		got = append(got, g.GrantID)
	}
	if !slices.Equal(got, want[1:]) {
		t.Errorf("got %v, want %v", got, want[1:])
	}
	if _, _, err := f.svc.ListRetirableGrants(ctx, who.bob.UserID, 0, 0); !errors.Is(err, kms.ErrInvalidLimit) {
		t.Errorf("limit 0: got %v", err)
	}
	if _, _, err := f.svc.ListRetirableGrants(ctx, who.bob.UserID, -1, 1); !errors.Is(err, kms.ErrInvalidMarker) {
		t.Errorf("marker -1: got %v", err)
	}
}

func TestAuthorizeByGrant(t *testing.T) {
	f, who := grantFixture(t)
	ctx := t.Context()
	k, k2 := f.create(t, "auth-1", ""), f.create(t, "auth-2", "")
	ko, err := f.svc.CreateKey(ctx, kms.CreateKeyInput{ProjectID: other, AccountID: account, Alias: "auth-other"})
	if err != nil {
		t.Fatal(err)
	}
	f.grant(t, kms.CreateGrantInput{KeyID: k.KeyID, GranteePrincipal: who.eve.UserID, Operations: []string{"encrypt-data", "create-grant"}})
	f.grant(t, kms.CreateGrantInput{KeyID: k.KeyID, GranteePrincipal: account2, GranteePrincipalType: "domain", Operations: []string{"describe-key"}})
	f.grant(t, kms.CreateGrantInput{KeyID: k2.KeyID, GranteePrincipal: who.eve.UserID, Operations: []string{"decrypt-data"}})
	f.grant(t, kms.CreateGrantInput{ProjectID: other, KeyID: ko.KeyID, GranteePrincipal: who.eve.UserID, Operations: []string{"encrypt-data"}})
	// A user grant to an id that is an account does not cover the account.
	f.grant(t, kms.CreateGrantInput{KeyID: k2.KeyID, GranteePrincipal: who.bob.UserID, Operations: []string{"encrypt-data"}})
	mateOfEve := kms.Caller{UserID: f.user(t, account2), AccountID: account2}
	use := func(key kms.Key, op string) kms.GrantUse { return kms.GrantUse{KeyID: key.KeyID, Operation: op} }
	for _, tc := range []struct {
		name   string
		caller kms.Caller
		uses   []kms.GrantUse
		ok     bool
		ops    []string
	}{
		{"user grant", who.eve, []kms.GrantUse{use(k, "encrypt-data")}, true, []string{"encrypt-data", "create-grant", "describe-key"}},
		{"domain grant", who.eve, []kms.GrantUse{use(k, "describe-key")}, true, []string{"encrypt-data", "create-grant", "describe-key"}},
		{"domain grant to a mate", mateOfEve, []kms.GrantUse{use(k, "describe-key")}, true, []string{"describe-key"}},
		{"user grant is not the mate's", mateOfEve, []kms.GrantUse{use(k, "encrypt-data")}, false, nil},
		{"operation not granted", who.eve, []kms.GrantUse{use(k, "decrypt-data")}, false, nil},
		{"no grant", who.dev, []kms.GrantUse{use(k, "describe-key")}, false, nil},
		{"two keys of one project", who.eve, []kms.GrantUse{use(k2, "decrypt-data"), use(k, "encrypt-data")}, true, []string{"decrypt-data"}},
		{"two keys, one not granted", who.eve, []kms.GrantUse{use(k2, "decrypt-data"), use(k2, "encrypt-data")}, false, nil},
		{"two projects", who.eve, []kms.GrantUse{use(k, "encrypt-data"), use(ko, "encrypt-data")}, false, nil},
		{"another project", who.eve, []kms.GrantUse{use(ko, "encrypt-data")}, true, []string{"encrypt-data"}},
		{"missing key", who.eve, []kms.GrantUse{{KeyID: "00000000-0000-4000-8000-000000000000", Operation: "encrypt-data"}}, false, nil},
		{"malformed key", who.eve, []kms.GrantUse{{KeyID: "k", Operation: "encrypt-data"}}, false, nil},
		{"no uses", who.eve, nil, false, nil},
		{"no caller", kms.Caller{}, []kms.GrantUse{use(k, "encrypt-data")}, false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, ok, err := f.svc.AuthorizeByGrant(ctx, tc.caller, tc.uses)
			if err != nil || ok != tc.ok {
				t.Fatalf("got %v, %v, want %v", ok, err, tc.ok)
			}
			if !ok {
				return
			}
			if want := tc.uses[0]; a.ProjectID != map[string]string{k.KeyID: project, k2.KeyID: project, ko.KeyID: other}[want.KeyID] {
				t.Errorf("project %s", a.ProjectID)
			}
			slices.Sort(a.Operations)
			slices.Sort(tc.ops)
			if !slices.Equal(a.Operations, tc.ops) {
				t.Errorf("operations %v, want %v", a.Operations, tc.ops)
			}
		})
	}
	// A destroyed key takes its grants with it.
	if _, err := f.svc.ScheduleKeyDeletion(ctx, other, ko.KeyID, 7); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(8 * 24 * time.Hour)
	if _, err := f.svc.DestroyDueKeys(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := f.svc.AuthorizeByGrant(ctx, who.eve, []kms.GrantUse{use(ko, "encrypt-data")}); ok || err != nil {
		t.Errorf("grant on a destroyed key: %v %v", ok, err)
	}
}

func TestCiphertextKeyID(t *testing.T) {
	aead, err := ciphertext.NewAEAD(ciphertext.AES256GCM, bytes.Repeat([]byte{3}, 32))
	if err != nil {
		t.Fatal(err)
	}
	const id = "0b5e4a1c-7d2f-4e3a-9c1b-000000000007"
	b, err := ciphertext.Seal(aead, ciphertext.Blob{Kind: ciphertext.KindData, Algorithm: ciphertext.AES256GCM, KeyVersion: 1, KeyID: id, ProjectID: project}, []byte("p"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := kms.CiphertextKeyID(b.Marshal()); !ok || got != id {
		t.Errorf("CiphertextKeyID: got %q, %v, want %q", got, ok, id)
	}
	for _, raw := range [][]byte{nil, []byte("not a blob"), b.Marshal()[:ciphertext.HeaderSize-1]} {
		if got, ok := kms.CiphertextKeyID(raw); ok {
			t.Errorf("CiphertextKeyID(%x): got %q, want not ok", raw, got)
		}
	}
}
