package storetest

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/kmsd/kmsd/internal/store"
)

func testTransactions(t *testing.T, f *fixture) {
	t.Run("Rollback", func(t *testing.T) {
		errAbort := errors.New("abort")
		a := store.Account{ID: f.id(), Name: "rolled-back", CreatedAt: t0}
		p := store.Project{ID: f.id(), AccountID: a.ID, Name: "cn-north-4", CreatedAt: t0}
		k := f.key(p, 0)
		err := f.s.Update(t.Context(), func(tx store.Tx) error {
			if err := tx.CreateAccount(a); err != nil {
				return err
			}
			if err := tx.CreateProject(p); err != nil {
				return err
			}
			if err := tx.CreateKey(k); err != nil {
				return err
			}
			if err := tx.PutMeta("rolled-back", []byte{1}); err != nil {
				return err
			}
			return fmt.Errorf("wrapped: %w", errAbort)
		})
		if !errors.Is(err, errAbort) {
			t.Fatalf("Update: got error %v, want the callback's error", err)
		}
		f.runErrCases(t, []errCase{
			{"account", func(tx store.Tx) error {
				_, err := tx.GetAccount(a.ID)
				return err
			}, store.ErrNotFound},
			{"project", func(tx store.Tx) error {
				_, err := tx.GetProject(p.ID)
				return err
			}, store.ErrNotFound},
			{"key", func(tx store.Tx) error {
				_, err := tx.GetKey(p.ID, k.KeyID)
				return err
			}, store.ErrNotFound},
			{"counts", func(tx store.Tx) error {
				_, err := tx.KeyCounts(p.ID)
				return err
			}, store.ErrNotFound},
			{"meta", func(tx store.Tx) error {
				_, err := tx.GetMeta("rolled-back")
				return err
			}, store.ErrNotFound},
		})
	})

	t.Run("ViewSeesCommitted", func(t *testing.T) {
		a := f.account(t)
		p := f.project(t, a.ID)
		k := f.key(p, 0)
		f.createKeys(t, k)
		f.view(t, func(tx store.Tx) error {
			got, err := tx.GetKey(p.ID, k.KeyID)
			if err != nil {
				return err
			}
			diff(t, "GetKey", got, k)
			counts, err := tx.KeyCounts(p.ID)
			diff(t, "KeyCounts", counts, store.KeyCounts{Custom: 1})
			return err
		})
	})

	t.Run("ViewIsReadOnly", func(t *testing.T) {
		a := store.Account{ID: f.id(), Name: "written-in-view", CreatedAt: t0}
		err := f.s.View(t.Context(), func(tx store.Tx) error { return tx.CreateAccount(a) })
		if err == nil {
			t.Errorf("CreateAccount in View: got nil error, want an error")
		}
		err = f.s.View(t.Context(), func(tx store.Tx) error {
			_, err := tx.GetAccount(a.ID)
			return err
		})
		checkErr(t, err, store.ErrNotFound)
	})

	// A method that fails changes nothing, so a callback may handle the
	// error and commit the rest.
	t.Run("FailedCallChangesNothing", func(t *testing.T) {
		a := f.account(t)
		p := f.project(t, a.ID)
		k1, k2 := f.key(p, 0), f.key(p, 1)
		k1.Alias, k2.Alias = "app/taken", "app/taken"
		dupProject := store.Project{ID: p.ID, AccountID: a.ID, Name: "other", CreatedAt: t0}
		f.update(t, func(tx store.Tx) error {
			if err := tx.CreateKey(k1); err != nil {
				return err
			}
			err := tx.CreateKey(k2)
			checkErr(t, err, store.ErrConflict)
			err = tx.CreateProject(dupProject)
			checkErr(t, err, store.ErrConflict)
			err = tx.DeleteKey(p.ID, f.keyID())
			checkErr(t, err, store.ErrNotFound)
			return nil
		})
		diff(t, "KeyCounts", f.counts(t, p.ID), store.KeyCounts{Custom: 1})
		f.view(t, func(tx store.Tx) error {
			_, err := tx.GetKey(p.ID, k2.KeyID)
			checkErr(t, err, store.ErrNotFound)
			got, err := tx.GetProject(p.ID)
			diff(t, "GetProject", got, p)
			return err
		})
	})
}

func testCascades(t *testing.T, f *fixture) {
	a, other := f.account(t), f.account(t)
	p1, p2 := f.project(t, a.ID), f.project(t, a.ID)
	otherProject := f.project(t, other.ID)
	u := store.User{ID: f.id(), AccountID: a.ID, Name: "alice", CreatedAt: t0}
	ak := store.AccessKey{AK: "HPUACASCADE000000001", UserID: u.ID, SealedSK: []byte{1}, CreatedAt: t0}
	pol := store.Policy{AccountID: a.ID, Name: "kms-read", Document: []byte(`{}`), CreatedAt: t0}
	k1, k2 := f.key(p1, 0), f.key(p2, 1)
	k2.Alias, k2.Default = "kms/default", true
	otherKey := f.key(otherProject, 0)
	f.update(t, func(tx store.Tx) error {
		for _, err := range []error{
			tx.CreateUser(u),
			tx.CreateAccessKey(ak),
			tx.PutPolicy(pol),
			tx.CreateKey(k1),
			tx.CreateKey(k2),
			tx.CreateKey(otherKey),
			tx.PutKeyVersion(store.KeyVersion{ProjectID: p1.ID, KeyID: k1.KeyID, Version: 1, Sealed: []byte{1}, CreatedAt: t0}),
		} {
			if err != nil {
				return err
			}
		}
		return nil
	})

	refused := []errCase{
		{"delete account", func(tx store.Tx) error { return tx.DeleteAccount(a.ID) }, store.ErrConflict},
		{"delete project", func(tx store.Tx) error { return tx.DeleteProject(p2.ID) }, store.ErrConflict},
	}
	t.Run("RefusedWithKeys", func(t *testing.T) {
		f.runErrCases(t, refused)
		// Only the default key of p2 is left: still refused.
		f.update(t, func(tx store.Tx) error { return tx.DeleteKey(p1.ID, k1.KeyID) })
		f.runErrCases(t, refused)
		f.view(t, func(tx store.Tx) error {
			for _, err := range []error{
				func() error { _, err := tx.GetUser(u.ID); return err }(),
				func() error { _, err := tx.GetAccessKey(ak.AK); return err }(),
				func() error { _, err := tx.GetPolicy(a.ID, pol.Name); return err }(),
				func() error { _, err := tx.GetProject(p1.ID); return err }(),
			} {
				if err != nil {
					t.Errorf("after refused delete: %v", err)
				}
			}
			return nil
		})
	})

	t.Run("DeleteProject", func(t *testing.T) {
		f.update(t, func(tx store.Tx) error { return tx.DeleteProject(p1.ID) })
		checkErr(t, f.s.View(t.Context(), func(tx store.Tx) error {
			_, err := tx.GetProject(p1.ID)
			return err
		}), store.ErrNotFound)
	})

	t.Run("DeleteAccount", func(t *testing.T) {
		f.update(t, func(tx store.Tx) error {
			if err := tx.DeleteKey(p2.ID, k2.KeyID); err != nil {
				return err
			}
			return tx.DeleteAccount(a.ID)
		})
		f.runErrCases(t, []errCase{
			{"account", func(tx store.Tx) error { _, err := tx.GetAccount(a.ID); return err }, store.ErrNotFound},
			{"project", func(tx store.Tx) error { _, err := tx.GetProject(p2.ID); return err }, store.ErrNotFound},
			{"project counts", func(tx store.Tx) error { _, err := tx.KeyCounts(p2.ID); return err }, store.ErrNotFound},
			{"user", func(tx store.Tx) error { _, err := tx.GetUser(u.ID); return err }, store.ErrNotFound},
			{"access key", func(tx store.Tx) error { _, err := tx.GetAccessKey(ak.AK); return err }, store.ErrNotFound},
			{"policy", func(tx store.Tx) error { _, err := tx.GetPolicy(a.ID, pol.Name); return err }, store.ErrNotFound},
		})
		f.view(t, func(tx store.Tx) error {
			for _, list := range []func() (int, error){
				func() (int, error) { l, err := tx.ListProjects(a.ID); return len(l), err },
				func() (int, error) { l, err := tx.ListUsers(a.ID); return len(l), err },
				func() (int, error) { l, err := tx.ListPolicies(a.ID); return len(l), err },
			} {
				if n, err := list(); err != nil || n != 0 {
					t.Errorf("list after DeleteAccount: got %d rows, error %v; want none", n, err)
				}
			}
			// The other account is untouched.
			got, err := tx.GetKey(otherProject.ID, otherKey.KeyID)
			diff(t, "GetKey of other account", got, otherKey)
			return err
		})
	})
}

// startReaders starts n readers, each running check in a View over and
// over, until the returned stop is called; stop waits for them. A View that
// fails fails the test and ends its reader.
func (f *fixture) startReaders(t *testing.T, n int, check func(store.Tx) error) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for {
				if err := f.s.View(t.Context(), check); err != nil {
					t.Errorf("reader: %v", err)
					return
				}
				select {
				case <-done:
					return
				default:
				}
			}
		})
	}
	return func() {
		close(done)
		wg.Wait()
	}
}

// testConcurrentWriters runs many writers and readers at once. Writers must
// all succeed (a backend retries or serializes internally; "database is
// locked" must not reach the caller), and every reader must see a
// consistent snapshot in which the maintained count equals the listed keys.
func testConcurrentWriters(t *testing.T, f *fixture) {
	const writers, perWriter, readers = 8, 25, 4
	a := f.account(t)
	p := f.project(t, a.ID)

	keys := make([][]store.Key, writers)
	for w := range keys {
		for i := range perWriter {
			keys[w] = append(keys[w], f.key(p, w*perWriter+i))
		}
	}

	ctx := t.Context()
	stopReaders := f.startReaders(t, readers, func(tx store.Tx) error {
		c, err := tx.KeyCounts(p.ID)
		if err != nil {
			return err
		}
		_, total, err := tx.ListKeys(p.ID, store.KeyFilter{}, 0, 1)
		if err != nil {
			return err
		}
		if c.Custom != total {
			t.Errorf("in one View: KeyCounts.Custom = %d, ListKeys total = %d", c.Custom, total)
		}
		return nil
	})

	var writerWG sync.WaitGroup
	for w := range writers {
		writerWG.Go(func() {
			for _, k := range keys[w] {
				if err := f.s.Update(ctx, func(tx store.Tx) error { return tx.CreateKey(k) }); err != nil {
					t.Errorf("writer %d: CreateKey: %v", w, err)
					return
				}
			}
		})
	}
	writerWG.Wait()
	stopReaders()

	var got []store.Key
	var total int
	f.view(t, func(tx store.Tx) (err error) {
		got, total, err = tx.ListKeys(p.ID, store.KeyFilter{}, 0, writers*perWriter+1)
		return err
	})
	if total != writers*perWriter {
		t.Errorf("ListKeys total: got %d, want %d", total, writers*perWriter)
	}
	var want []store.Key
	for _, ks := range keys {
		want = append(want, ks...)
	}
	diff(t, "keys written concurrently", got, want, byKeyID)
	diff(t, "KeyCounts", f.counts(t, p.ID), store.KeyCounts{Custom: writers * perWriter})
}

// testDeleteKeyCascade checks that DeleteKey removes everything a key owns
// (versions, grants, aliases, tags, import tokens) and nothing of another
// key, and that a key created again under the same id starts empty.
func testDeleteKeyCascade(t *testing.T, f *fixture) {
	a := f.account(t)
	p := f.project(t, a.ID)
	k, other := f.key(p, 0), f.key(p, 1)
	f.createKeys(t, k, other)
	retirer, grantee := f.id(), f.id()

	type owned struct {
		grant store.Grant
		alias store.Alias
		token store.ImportToken
	}
	own := func(k store.Key, name string) owned {
		g := f.grant(k, grantee, 0)
		g.RetiringPrincipal = retirer
		o := owned{
			grant: g,
			alias: alias(k, name, 0),
			token: store.ImportToken{ProjectID: p.ID, KeyID: k.KeyID, TokenID: f.id(),
				WrappingAlgorithm: "RSAES_OAEP_SHA_256", WrappingKeySpec: "RSA_2048",
				SealedPrivateKey: []byte{1}, ExpiresAt: t0.Add(day), CreatedAt: t0},
		}
		f.update(t, func(tx store.Tx) error {
			for _, err := range []error{
				tx.PutKeyVersion(store.KeyVersion{ProjectID: p.ID, KeyID: k.KeyID, Version: 1, Sealed: []byte{1}, CreatedAt: t0}),
				tx.CreateGrant(o.grant),
				tx.CreateAlias(o.alias),
				tx.PutTag(p.ID, k.KeyID, "env", name),
				tx.PutImportToken(o.token),
			} {
				if err != nil {
					return err
				}
			}
			return nil
		})
		return o
	}
	gone, kept := own(k, "alias/gone"), own(other, "alias/kept")

	f.update(t, func(tx store.Tx) error { return tx.DeleteKey(p.ID, k.KeyID) })

	f.runErrCases(t, []errCase{
		{"grant", func(tx store.Tx) error {
			_, err := tx.GetGrant(p.ID, k.KeyID, gone.grant.GrantID)
			return err
		}, store.ErrNotFound},
		{"alias", func(tx store.Tx) error {
			_, err := tx.GetAlias(p.ID, gone.alias.Alias)
			return err
		}, store.ErrNotFound},
		{"import token", func(tx store.Tx) error {
			_, err := tx.GetImportToken(p.ID, k.KeyID, gone.token.TokenID)
			return err
		}, store.ErrNotFound},
		{"other key's grant", func(tx store.Tx) error {
			_, err := tx.GetGrant(p.ID, other.KeyID, kept.grant.GrantID)
			return err
		}, nil},
		{"other key's alias", func(tx store.Tx) error {
			_, err := tx.GetAlias(p.ID, kept.alias.Alias)
			return err
		}, nil},
		{"other key's import token", func(tx store.Tx) error {
			_, err := tx.GetImportToken(p.ID, other.KeyID, kept.token.TokenID)
			return err
		}, nil},
	})
	f.view(t, func(tx store.Tx) error {
		grants, total, err := tx.ListGrantsByRetiringPrincipal(retirer, 0, 10)
		if err != nil {
			return err
		}
		if total != 1 {
			t.Errorf("ListGrantsByRetiringPrincipal total: got %d, want 1", total)
		}
		diff(t, "ListGrantsByRetiringPrincipal", grants, []store.Grant{kept.grant})
		grants, err = tx.GrantsFor(grantee, "", p.ID, k.KeyID)
		if err != nil {
			return err
		}
		diff(t, "GrantsFor of the deleted key", grants, []store.Grant(nil))
		aliases, err := tx.ListAliases(p.ID, "", "", 0)
		if err != nil {
			return err
		}
		diff(t, "ListAliases", aliases, []store.Alias{kept.alias})
		tags, err := tx.ListProjectTags(p.ID)
		diff(t, "ListProjectTags", tags, []store.TagValues{{Key: "env", Values: []string{"alias/kept"}}})
		return err
	})

	// A key created again under the same id starts without anything, and
	// the freed alias name can be taken again.
	f.createKeys(t, k)
	f.view(t, func(tx store.Tx) error {
		n, err := tx.CountGrants(p.ID, k.KeyID)
		if err != nil {
			return err
		}
		tags, err := tx.ListKeyTags(p.ID, k.KeyID)
		if err != nil {
			return err
		}
		m := len(tags)
		vs, err := tx.ListKeyVersions(p.ID, k.KeyID)
		if err != nil {
			return err
		}
		as, err := tx.ListAliases(p.ID, k.KeyID, "", 0)
		if n != 0 || m != 0 || len(vs) != 0 || len(as) != 0 {
			t.Errorf("re-created key: %d grants, %d tags, %d versions, %d aliases; want none", n, m, len(vs), len(as))
		}
		return err
	})
	f.createAliases(t, alias(k, gone.alias.Alias, 1))
}

// testConcurrentKeyManagement races writers on grants and alias names.
// Every grant must be written, readers must see the grant count agree with
// the list in one snapshot, and each contested alias name must go to
// exactly one writer, the others getting ErrConflict.
func testConcurrentKeyManagement(t *testing.T, f *fixture) {
	const writers, perWriter, names, readers = 8, 10, 10, 4
	a := f.account(t)
	p := f.project(t, a.ID)
	k := f.key(p, 0)
	targets := make([]store.Key, writers)
	for w := range targets {
		targets[w] = f.key(p, 1+w)
	}
	f.createKeys(t, append([]store.Key{k}, targets...)...)

	grants := make([][]store.Grant, writers)
	for w := range grants {
		for i := range perWriter {
			grants[w] = append(grants[w], f.grant(k, fmt.Sprintf("user%d", w), i))
		}
	}

	ctx := t.Context()
	stopReaders := f.startReaders(t, readers, func(tx store.Tx) error {
		n, err := tx.CountGrants(p.ID, k.KeyID)
		if err != nil {
			return err
		}
		list, total, err := tx.ListGrants(p.ID, k.KeyID, 0, 0)
		if err != nil {
			return err
		}
		if n != total || len(list) != total {
			t.Errorf("in one View: CountGrants = %d, ListGrants total = %d, listed %d", n, total, len(list))
		}
		return nil
	})

	var won [names]atomic.Int32
	var writerWG sync.WaitGroup
	for w := range writers {
		writerWG.Go(func() {
			for i, g := range grants[w] {
				if err := f.s.Update(ctx, func(tx store.Tx) error { return tx.CreateGrant(g) }); err != nil {
					t.Errorf("writer %d: CreateGrant: %v", w, err)
					return
				}
				if i >= names {
					continue
				}
				name := fmt.Sprintf("race/%02d", i)
				err := f.s.Update(ctx, func(tx store.Tx) error { return tx.CreateAlias(alias(targets[w], name, i)) })
				switch {
				case err == nil:
					won[i].Add(1)
				case !errors.Is(err, store.ErrConflict):
					t.Errorf("writer %d: CreateAlias(%s): got %v, want nil or ErrConflict", w, name, err)
				}
			}
		})
	}
	writerWG.Wait()
	stopReaders()

	for i := range names {
		if n := won[i].Load(); n != 1 {
			t.Errorf("alias race/%02d: %d writers created it, want 1", i, n)
		}
	}
	var want []store.Grant
	for _, gs := range grants {
		want = append(want, gs...)
	}
	f.view(t, func(tx store.Tx) error {
		got, total, err := tx.ListGrants(p.ID, k.KeyID, 0, 0)
		if err != nil {
			return err
		}
		if total != writers*perWriter {
			t.Errorf("ListGrants total: got %d, want %d", total, writers*perWriter)
		}
		diff(t, "grants written concurrently", got, want, byGrantID)
		as, err := tx.ListAliases(p.ID, "", "", 0)
		if len(as) != names {
			t.Errorf("ListAliases: got %d aliases, want %d", len(as), names)
		}
		return err
	})
}
