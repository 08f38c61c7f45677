package kms_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kmsd/kmsd/internal/kms"
)

// aliasNames lists the aliases of the project (of keyID when not empty)
// page by page of limit.
func (f *fixture) aliasNames(t *testing.T, keyID string, limit int) []string {
	t.Helper()
	var names []string
	marker := ""
	for range 1000 {
		as, next, err := f.svc.ListAliases(t.Context(), kms.ListAliasesInput{ProjectID: project, KeyID: keyID, Marker: marker, Limit: limit})
		if err != nil {
			t.Fatalf("ListAliases: %v", err)
		}
		if len(as) > limit {
			t.Fatalf("page of %d aliases, limit %d", len(as), limit)
		}
		for _, a := range as {
			names = append(names, a.Name)
		}
		if next == "" {
			return names
		}
		if next != as[len(as)-1].Name {
			t.Fatalf("next marker %q, want the page's last alias %q", next, as[len(as)-1].Name)
		}
		marker = next
	}
	t.Fatal("ListAliases does not end")
	return nil
}

func TestCreateAlias(t *testing.T) {
	f := newFixture(t, "", 0)
	ctx := t.Context()
	k := f.create(t, "named", "")
	a, err := f.svc.CreateAlias(ctx, project, k.KeyID, "orders/prod")
	if err != nil {
		t.Fatal(err)
	}
	now := f.now.UTC().Truncate(time.Millisecond)
	want := kms.Alias{ProjectID: project, Name: "orders/prod", KeyID: k.KeyID, AccountID: account, CreatedAt: now, UpdatedAt: now}
	if a != want {
		t.Errorf("CreateAlias: got %+v, want %+v", a, want)
	}
	if urn := f.svc.URN(a); urn != "kms:cn-north-4:"+account+":alias:orders/prod" {
		t.Errorf("URN %q", urn)
	}
	// describe-key keeps the key_alias.
	if d, err := f.svc.DescribeKey(ctx, project, k.KeyID); err != nil || d.Alias != "named" {
		t.Errorf("key alias after CreateAlias: %q, %v", d.Alias, err)
	}

	def, err := f.svc.CreateDefaultKey(ctx, project, account, "evs")
	if err != nil {
		t.Fatal(err)
	}
	dying := f.create(t, "dying", "")
	if _, err := f.svc.ScheduleKeyDeletion(ctx, project, dying.KeyID, 7); err != nil {
		t.Fatal(err)
	}
	ko, err := f.svc.CreateKey(ctx, kms.CreateKeyInput{ProjectID: other, AccountID: account, Alias: "other"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, project, key, alias string
		want                      error
	}{
		{"taken by an alias", project, k.KeyID, "orders/prod", kms.ErrDuplicateAlias},
		{"taken by a key alias", project, k.KeyID, "dying", kms.ErrDuplicateAlias},
		{"its own key alias", project, k.KeyID, "named", kms.ErrDuplicateAlias},
		{"charset", project, k.KeyID, "a b", kms.ErrInvalidAlias},
		{"empty", project, k.KeyID, "", kms.ErrInvalidAlias},
		{"too long", project, k.KeyID, strings.Repeat("a", 256), kms.ErrInvalidAlias},
		{"reserved suffix", project, k.KeyID, "app/default", kms.ErrInvalidAlias},
		{"default key", project, def.KeyID, "for-default", kms.ErrDefaultKey},
		{"key pending deletion", project, dying.KeyID, "for-dying", kms.ErrKeyPendingDeletion},
		{"malformed key", project, "k", "x", kms.ErrInvalidKeyID},
		{"missing key", project, "00000000-0000-4000-8000-000000000000", "x", kms.ErrKeyNotFound},
		{"key of another project", project, ko.KeyID, "x", kms.ErrKeyNotFound},
		{"same name in another project", other, ko.KeyID, "orders/prod", nil},
		{"255 characters", project, k.KeyID, strings.Repeat("a", 255), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.CreateAlias(ctx, tc.project, tc.key, tc.alias)
			if !errors.Is(err, tc.want) || tc.want == nil && err != nil {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
	// The namespace holds the other way round too.
	if _, err := f.svc.UpdateKeyAlias(ctx, project, dying.KeyID, "orders/prod"); !errors.Is(err, kms.ErrKeyPendingDeletion) {
		t.Errorf("rename of a dying key: %v", err)
	}
	if _, err := f.svc.UpdateKeyAlias(ctx, project, k.KeyID, "orders/prod"); !errors.Is(err, kms.ErrDuplicateAlias) {
		t.Errorf("key alias onto an alias: got %v, want ErrDuplicateAlias", err)
	}
	if _, err := f.svc.CreateKey(ctx, kms.CreateKeyInput{ProjectID: project, AccountID: account, Alias: "orders/prod"}); !errors.Is(err, kms.ErrDuplicateAlias) {
		t.Errorf("new key with an alias's name: got %v, want ErrDuplicateAlias", err)
	}
}

func TestAliasLimit(t *testing.T) {
	f := newFixture(t, "", 0)
	ctx := t.Context()
	k, k2 := f.create(t, "many", ""), f.create(t, "few", "")
	for i := range kms.MaxAliasesPerKey {
		if _, err := f.svc.CreateAlias(ctx, project, k.KeyID, fmt.Sprintf("many-%03d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.svc.CreateAlias(ctx, project, k.KeyID, "one-more"); !errors.Is(err, kms.ErrTooManyAliases) {
		t.Fatalf("alias %d: got %v, want ErrTooManyAliases", kms.MaxAliasesPerKey+1, err)
	}
	if _, err := f.svc.CreateAlias(ctx, project, k2.KeyID, "few-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AssociateAlias(ctx, project, "few-1", k.KeyID); !errors.Is(err, kms.ErrTooManyAliases) {
		t.Errorf("move onto a full key: got %v, want ErrTooManyAliases", err)
	}
	// Re-associating an alias with its own full key is no new alias.
	if _, err := f.svc.AssociateAlias(ctx, project, "many-000", k.KeyID); err != nil {
		t.Errorf("re-associate on a full key: %v", err)
	}
	if got := f.aliasNames(t, k.KeyID, kms.MaxAliasPage); len(got) != kms.MaxAliasesPerKey {
		t.Errorf("one page holds %d aliases of the key, want %d", len(got), kms.MaxAliasesPerKey)
	}
}

func TestAssociateAlias(t *testing.T) {
	f := newFixture(t, "", 0)
	ctx := t.Context()
	from, to := f.create(t, "from", ""), f.create(t, "to", "")
	created, err := f.svc.CreateAlias(ctx, project, from.KeyID, "app/current")
	if err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(time.Minute)
	a, err := f.svc.AssociateAlias(ctx, project, "app/current", to.KeyID)
	if err != nil {
		t.Fatal(err)
	}
	if a.KeyID != to.KeyID || !a.CreatedAt.Equal(created.CreatedAt) || !a.UpdatedAt.Equal(f.now.UTC().Truncate(time.Millisecond)) || a.AccountID != account {
		t.Errorf("AssociateAlias: got %+v", a)
	}
	if got := f.aliasNames(t, to.KeyID, 10); !slices.Equal(got, []string{"app/current"}) {
		t.Errorf("aliases of the target: %v", got)
	}
	if got := f.aliasNames(t, from.KeyID, 10); len(got) != 0 {
		t.Errorf("aliases of the source: %v", got)
	}
	def, err := f.svc.CreateDefaultKey(ctx, project, account, "obs")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, alias, key string
		want             error
	}{
		{"a key alias", "from", to.KeyID, kms.ErrAliasNotFound},
		{"no alias", "nothing", to.KeyID, kms.ErrAliasNotFound},
		{"bad name", "a b", to.KeyID, kms.ErrInvalidAlias},
		{"default key", "app/current", def.KeyID, kms.ErrDefaultKey},
		{"missing key", "app/current", "00000000-0000-4000-8000-000000000000", kms.ErrKeyNotFound},
		{"malformed key", "app/current", "k", kms.ErrInvalidKeyID},
	} {
		if _, err := f.svc.AssociateAlias(ctx, project, tc.alias, tc.key); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
	// An alias of another project is none of this one's.
	otherKey, err := f.svc.CreateKey(ctx, kms.CreateKeyInput{ProjectID: other, AccountID: account, Alias: "other-key"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AssociateAlias(ctx, other, "app/current", otherKey.KeyID); !errors.Is(err, kms.ErrAliasNotFound) {
		t.Errorf("alias of another project: got %v", err)
	}
	// Another project's key is a missing key, checked before the alias,
	// so a caller of another project learns nothing from the answer.
	for _, alias := range []string{"app/current", "nothing"} {
		if _, err := f.svc.AssociateAlias(ctx, other, alias, to.KeyID); !errors.Is(err, kms.ErrKeyNotFound) {
			t.Errorf("%s onto another project's key: got %v, want %v", alias, err, kms.ErrKeyNotFound)
		}
	}
}

func TestDeleteAliases(t *testing.T) {
	f := newFixture(t, "", 0)
	ctx := t.Context()
	k, k2 := f.create(t, "owner", ""), f.create(t, "owner-2", "")
	for _, n := range []string{"a", "b", "c"} {
		if _, err := f.svc.CreateAlias(ctx, project, k.KeyID, n); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.svc.CreateAlias(ctx, project, k2.KeyID, "z"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		key     string
		aliases []string
		want    error
	}{
		{"another key's alias", k.KeyID, []string{"a", "z"}, kms.ErrAliasNotFound},
		{"a key alias", k.KeyID, []string{"a", "owner"}, kms.ErrAliasNotFound},
		{"no such alias", k.KeyID, []string{"b", "y"}, kms.ErrAliasNotFound},
		{"none", k.KeyID, nil, kms.ErrInvalidParameter},
		{"too many", k.KeyID, make([]string, kms.MaxAliasesPerDelete+1), kms.ErrInvalidParameter},
		{"missing key", "00000000-0000-4000-8000-000000000000", []string{"a"}, kms.ErrKeyNotFound},
		{"malformed key", "k", []string{"a"}, kms.ErrInvalidKeyID},
	} {
		if err := f.svc.DeleteAliases(ctx, project, tc.key, tc.aliases); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
	// A refused deletion removes nothing.
	if got := f.aliasNames(t, "", 10); !slices.Equal(got, []string{"a", "b", "c", "z"}) {
		t.Fatalf("aliases after refused deletions: %v", got)
	}
	if err := f.svc.DeleteAliases(ctx, project, k.KeyID, []string{"c", "a", "c"}); err != nil {
		t.Fatal(err)
	}
	if got := f.aliasNames(t, "", 10); !slices.Equal(got, []string{"b", "z"}) {
		t.Errorf("aliases after deletion: %v", got)
	}
	// The name is free again, for a key alias too.
	if _, err := f.svc.UpdateKeyAlias(ctx, project, k2.KeyID, "a"); err != nil {
		t.Errorf("reuse of a deleted alias: %v", err)
	}
}

func TestListAliases(t *testing.T) {
	f := newFixture(t, "", 0)
	ctx := t.Context()
	k, k2 := f.create(t, "list-1", ""), f.create(t, "list-2", "")
	var all, of1 []string
	for i := range 11 {
		name := fmt.Sprintf("alias-%02d", i)
		key := k
		if i%3 == 0 {
			key = k2
		} else {
			of1 = append(of1, name)
		}
		all = append(all, name)
		if _, err := f.svc.CreateAlias(ctx, project, key.KeyID, name); err != nil {
			t.Fatal(err)
		}
	}
	for _, limit := range []int{1, 4, 11, 100} {
		if got := f.aliasNames(t, "", limit); !slices.Equal(got, all) {
			t.Errorf("pages of %d: %v, want %v", limit, got, all)
		}
		if got := f.aliasNames(t, k.KeyID, limit); !slices.Equal(got, of1) {
			t.Errorf("pages of %d of one key: %v, want %v", limit, got, of1)
		}
	}
	// A marker that is no alias starts after where it would sort.
	as, _, err := f.svc.ListAliases(ctx, kms.ListAliasesInput{ProjectID: project, Marker: "alias-04x", Limit: 2})
	if err != nil || len(as) != 2 || as[0].Name != "alias-05" || as[1].Name != "alias-06" {
		t.Errorf("after a foreign marker: %+v, %v", as, err)
	}
	// Another project sees none of them.
	if as, _, err := f.svc.ListAliases(ctx, kms.ListAliasesInput{ProjectID: other}); err != nil || len(as) != 0 {
		t.Errorf("another project: %d aliases, %v", len(as), err)
	}
	for _, tc := range []struct {
		name string
		in   kms.ListAliasesInput
		want error
	}{
		{"limit 101", kms.ListAliasesInput{ProjectID: project, Limit: 101}, kms.ErrInvalidLimit},
		{"limit -1", kms.ListAliasesInput{ProjectID: project, Limit: -1}, kms.ErrInvalidLimit},
		{"malformed key", kms.ListAliasesInput{ProjectID: project, KeyID: "k"}, kms.ErrInvalidKeyID},
		{"missing key", kms.ListAliasesInput{ProjectID: project, KeyID: "00000000-0000-4000-8000-000000000000"}, kms.ErrKeyNotFound},
		{"key of another project", kms.ListAliasesInput{ProjectID: other, KeyID: k.KeyID}, kms.ErrKeyNotFound},
	} {
		if _, _, err := f.svc.ListAliases(ctx, tc.in); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
}

// TestAliasProjectLimit checks the bound on a project's aliases (issue
// 10), with a small quota in place of MaxAliasesPerProject.
func TestAliasProjectLimit(t *testing.T) {
	f := newFixture(t, "", 0)
	f.svc = kms.New(f.st, f.kr, kms.Config{Region: "cn-north-4", AliasQuota: 3}, nil)
	ctx := t.Context()
	k, k2 := f.create(t, "one", ""), f.create(t, "two", "")
	for i, key := range []kms.Key{k, k2, k} {
		if _, err := f.svc.CreateAlias(ctx, project, key.KeyID, fmt.Sprintf("p-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.svc.CreateAlias(ctx, project, k2.KeyID, "p-3"); !errors.Is(err, kms.ErrTooManyAliases) {
		t.Fatalf("alias 4 of a project limited to 3: got %v, want ErrTooManyAliases", err)
	}
	// Moving an alias adds none; another project has its own count.
	if _, err := f.svc.AssociateAlias(ctx, project, "p-0", k2.KeyID); err != nil {
		t.Errorf("move within a full project: %v", err)
	}
	// Deleting one makes room.
	if err := f.svc.DeleteAliases(ctx, project, k2.KeyID, []string{"p-0"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CreateAlias(ctx, project, k2.KeyID, "p-3"); err != nil {
		t.Errorf("after a delete: %v", err)
	}
}
