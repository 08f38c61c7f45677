// Package storetest is the conformance suite of the store contract. Every
// backend's tests call [Run]; a backend is done when the suite passes,
// including under the race detector.
//
// The suite checks only what package store promises, plus the rules every
// backend must agree on for kmsd to behave the same on each of them:
//
//   - times keep millisecond precision;
//   - a missing parent row (account, user, project, key) makes a create fail
//     with [store.ErrNotFound];
//   - a Tx method that fails changes nothing, so the transaction can still
//     be committed;
//   - a stored key version is never overwritten: putting it again fails
//     with [store.ErrConflict];
//   - key aliases and alias names share one namespace per project, also
//     within one transaction and between concurrent writers;
//   - DeleteKey takes the key's versions, grants, aliases, tags and import
//     tokens with it;
//   - View sees one consistent snapshot.
//
// Orders that the contract leaves open (lists of accounts, users, access
// keys, policies and key versions, GrantsFor, KeysDueForDeletion,
// KeysDueForRotation and KeysWithExpiredMaterial) are not checked.
package storetest

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/kmsd/kmsd/internal/store"
)

// Run runs the conformance suite against the backend that open creates.
//
// open must return a new, empty store each time it is called and arrange
// for the store to be closed when t ends (t.Cleanup). Run calls it once per
// top-level subtest, from parallel subtests.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, f *fixture)
	}{
		{"Accounts", testAccounts},
		{"Projects", testProjects},
		{"Users", testUsers},
		{"AccessKeys", testAccessKeys},
		{"Policies", testPolicies},
		{"Meta", testMeta},
		{"Keystores", testKeystores},
		{"KeyRegions", testKeyRegions},
		{"Keys", testKeys},
		{"KeyVersions", testKeyVersions},
		{"ListKeys", testListKeys},
		{"KeyCounts", testKeyCounts},
		{"KeysDueForDeletion", testKeysDueForDeletion},
		{"RotationFields", testRotationFields},
		{"KeysDueForRotation", testKeysDueForRotation},
		{"KeysWithExpiredMaterial", testKeysWithExpiredMaterial},
		{"ImportTokens", testImportTokens},
		{"MaterialFingerprint", testMaterialFingerprint},
		{"Grants", testGrants},
		{"Aliases", testAliases},
		{"AliasNamespace", testAliasNamespace},
		{"Tags", testTags},
		{"KeySpaces", testKeySpaces},
		{"FindKeysByTags", testFindKeysByTags},
		{"Dump", testDump},
		{"Transactions", testTransactions},
		{"Cascades", testCascades},
		{"DeleteKeyCascade", testDeleteKeyCascade},
		{"ConcurrentWriters", testConcurrentWriters},
		{"ConcurrentKeyManagement", testConcurrentKeyManagement},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, &fixture{s: open(t)})
		})
	}
}

// t0 is the base of all times in the suite. It has millisecond precision
// on purpose: the contract keeps no more.
var t0 = time.Date(2026, time.March, 14, 15, 9, 26, 535_000_000, time.UTC)

// opts compares store values: times at millisecond precision, and nil
// equal to empty for slices.
var opts = cmp.Options{
	cmp.Comparer(func(a, b time.Time) bool { return a.UnixMilli() == b.UnixMilli() }),
	cmpopts.EquateEmpty(),
}

// fixture is the store under test with helpers that fail the test on
// unexpected errors. Its methods must be called from the test goroutine.
type fixture struct {
	s store.Store
	n atomic.Uint64
}

// id returns a new 32-hex-digit id, unique in the fixture.
func (f *fixture) id() string {
	return fmt.Sprintf("%032x", f.n.Add(1))
}

// keyID returns a new lower-case UUID, unique in the fixture.
func (f *fixture) keyID() string {
	return fmt.Sprintf("0b5e4a1c-7d2f-4e3a-9c1b-%012x", f.n.Add(1))
}

// update runs fn in an Update and fails the test when it returns an error.
func (f *fixture) update(t *testing.T, fn func(store.Tx) error) {
	t.Helper()
	if err := f.s.Update(t.Context(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// view runs fn in a View and fails the test when it returns an error.
func (f *fixture) view(t *testing.T, fn func(store.Tx) error) {
	t.Helper()
	if err := f.s.View(t.Context(), fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

// account creates and returns a new account.
func (f *fixture) account(t *testing.T) store.Account {
	t.Helper()
	id := f.id()
	a := store.Account{ID: id, Name: "account-" + id[24:], CreatedAt: t0}
	f.update(t, func(tx store.Tx) error { return tx.CreateAccount(a) })
	return a
}

// project creates and returns a new project of the account.
func (f *fixture) project(t *testing.T, accountID string) store.Project {
	t.Helper()
	id := f.id()
	p := store.Project{ID: id, AccountID: accountID, Name: "region-" + id[24:], CreatedAt: t0}
	f.update(t, func(tx store.Tx) error { return tx.CreateProject(p) })
	return p
}

// key returns (without creating it) an enabled AES key of the project
// created i milliseconds after t0.
func (f *fixture) key(p store.Project, i int) store.Key {
	return store.Key{
		ProjectID:           p.ID,
		KeyID:               f.keyID(),
		AccountID:           p.AccountID,
		Spec:                "AES_256",
		Usage:               "ENCRYPT_DECRYPT",
		Origin:              "kms",
		State:               store.StateEnabled,
		EnterpriseProjectID: "0",
		PrimaryVersion:      1,
		CreatedAt:           t0.Add(time.Duration(i) * time.Millisecond),
	}
}

// createAll creates xs in one transaction with create, a Tx method such
// as store.Tx.CreateKey.
func createAll[T any](t *testing.T, f *fixture, create func(store.Tx, T) error, xs ...T) {
	t.Helper()
	f.update(t, func(tx store.Tx) error {
		for _, x := range xs {
			if err := create(tx, x); err != nil {
				return err
			}
		}
		return nil
	})
}

// createKeys creates ks in one transaction.
func (f *fixture) createKeys(t *testing.T, ks ...store.Key) {
	t.Helper()
	createAll(t, f, store.Tx.CreateKey, ks...)
}

// getKey reads one key and fails the test when that fails.
func (f *fixture) getKey(t *testing.T, projectID, keyID string) store.Key {
	t.Helper()
	var k store.Key
	f.view(t, func(tx store.Tx) (err error) {
		k, err = tx.GetKey(projectID, keyID)
		return err
	})
	return k
}

// counts reads a project's key counts and fails the test when that fails.
func (f *fixture) counts(t *testing.T, projectID string) store.KeyCounts {
	t.Helper()
	var c store.KeyCounts
	f.view(t, func(tx store.Tx) (err error) {
		c, err = tx.KeyCounts(projectID)
		return err
	})
	return c
}

// errCase is an operation that must fail with want (or succeed when want
// is nil). It runs in its own Update, which it rolls back when it fails.
type errCase struct {
	name string
	op   func(store.Tx) error
	want error
}

func (f *fixture) runErrCases(t *testing.T, cases []errCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := f.s.Update(t.Context(), tc.op)
			checkErr(t, err, tc.want)
		})
	}
}

// checkErr fails the test unless err matches want by errors.Is; a nil want
// requires a nil err.
func checkErr(t *testing.T, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Fatalf("got error %v, want nil", err)
	case want != nil && !errors.Is(err, want):
		t.Fatalf("got error %v, want %v", err, want)
	}
}

// diff fails the test when got differs from want, compared with opts and
// extra.
func diff(t *testing.T, what string, got, want any, extra ...cmp.Option) {
	t.Helper()
	if d := cmp.Diff(want, got, opts, cmp.Options(extra)); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, d)
	}
}
