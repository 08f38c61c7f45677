package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/kmsd/kmsd/internal/store"
)

// Sort options for lists whose order the contract leaves open.
var (
	byAccountID = cmpopts.SortSlices(func(a, b store.Account) bool { return a.ID < b.ID })
	byProjectID = cmpopts.SortSlices(func(a, b store.Project) bool { return a.ID < b.ID })
	byUserID    = cmpopts.SortSlices(func(a, b store.User) bool { return a.ID < b.ID })
	byAK        = cmpopts.SortSlices(func(a, b store.AccessKey) bool { return a.AK < b.AK })
	byName      = cmpopts.SortSlices(func(a, b store.Policy) bool { return a.Name < b.Name })
)

func testAccounts(t *testing.T, f *fixture) {
	a1 := store.Account{ID: f.id(), Name: "alpha", CreatedAt: t0}
	a2 := store.Account{ID: f.id(), Name: "beta", CreatedAt: t0.Add(time.Second)}
	f.update(t, func(tx store.Tx) error {
		if err := tx.CreateAccount(a1); err != nil {
			return err
		}
		return tx.CreateAccount(a2)
	})

	t.Run("Get", func(t *testing.T) {
		f.view(t, func(tx store.Tx) error {
			got, err := tx.GetAccount(a1.ID)
			if err != nil {
				return err
			}
			diff(t, "GetAccount", got, a1)
			got, err = tx.GetAccountByName("beta")
			if err != nil {
				return err
			}
			diff(t, "GetAccountByName", got, a2)
			list, err := tx.ListAccounts()
			diff(t, "ListAccounts", list, []store.Account{a1, a2}, byAccountID)
			return err
		})
	})

	t.Run("Errors", func(t *testing.T) {
		missing := f.id()
		f.runErrCases(t, []errCase{
			{"duplicate id", func(tx store.Tx) error {
				return tx.CreateAccount(store.Account{ID: a1.ID, Name: "gamma", CreatedAt: t0})
			}, store.ErrConflict},
			{"duplicate name", func(tx store.Tx) error {
				return tx.CreateAccount(store.Account{ID: f.id(), Name: "alpha", CreatedAt: t0})
			}, store.ErrConflict},
			{"get missing", func(tx store.Tx) error {
				_, err := tx.GetAccount(missing)
				return err
			}, store.ErrNotFound},
			{"get missing name", func(tx store.Tx) error {
				_, err := tx.GetAccountByName("gamma")
				return err
			}, store.ErrNotFound},
			{"delete missing", func(tx store.Tx) error { return tx.DeleteAccount(missing) }, store.ErrNotFound},
		})
	})

	t.Run("Delete", func(t *testing.T) {
		f.update(t, func(tx store.Tx) error { return tx.DeleteAccount(a2.ID) })
		f.view(t, func(tx store.Tx) error {
			_, err := tx.GetAccount(a2.ID)
			checkErr(t, err, store.ErrNotFound)
			list, err := tx.ListAccounts()
			diff(t, "ListAccounts", list, []store.Account{a1})
			return err
		})
	})
}

func testProjects(t *testing.T, f *fixture) {
	a, b := f.account(t), f.account(t)
	p1 := store.Project{ID: f.id(), AccountID: a.ID, Name: "cn-north-4", CreatedAt: t0}
	p2 := store.Project{ID: f.id(), AccountID: a.ID, Name: "cn-east-3", CMKQuota: 10, GrantQuota: 20, CreatedAt: t0.Add(time.Hour)}
	p3 := store.Project{ID: f.id(), AccountID: b.ID, Name: "cn-north-4", CreatedAt: t0}
	f.update(t, func(tx store.Tx) error {
		for _, p := range []store.Project{p1, p2, p3} {
			if err := tx.CreateProject(p); err != nil {
				return err
			}
		}
		return nil
	})

	t.Run("Get", func(t *testing.T) {
		f.view(t, func(tx store.Tx) error {
			got, err := tx.GetProject(p2.ID)
			if err != nil {
				return err
			}
			diff(t, "GetProject", got, p2)
			got, err = tx.GetProjectByName(b.ID, "cn-north-4")
			if err != nil {
				return err
			}
			diff(t, "GetProjectByName", got, p3)
			list, err := tx.ListProjects(a.ID)
			if err != nil {
				return err
			}
			diff(t, "ListProjects", list, []store.Project{p1, p2}, byProjectID)
			counts, err := tx.KeyCounts(p1.ID)
			diff(t, "KeyCounts of a new project", counts, store.KeyCounts{})
			return err
		})
	})

	t.Run("Update", func(t *testing.T) {
		want := p1
		want.Name, want.CMKQuota, want.GrantQuota = "ap-southeast-1", 5, 7
		f.update(t, func(tx store.Tx) error { return tx.UpdateProject(want) })
		f.view(t, func(tx store.Tx) error {
			got, err := tx.GetProject(p1.ID)
			diff(t, "GetProject", got, want)
			return err
		})
		p1 = want
	})

	t.Run("Errors", func(t *testing.T) {
		missing := f.id()
		f.runErrCases(t, []errCase{
			{"duplicate id", func(tx store.Tx) error {
				return tx.CreateProject(store.Project{ID: p1.ID, AccountID: a.ID, Name: "other", CreatedAt: t0})
			}, store.ErrConflict},
			{"duplicate name in account", func(tx store.Tx) error {
				return tx.CreateProject(store.Project{ID: f.id(), AccountID: a.ID, Name: "cn-east-3", CreatedAt: t0})
			}, store.ErrConflict},
			{"rename to taken name", func(tx store.Tx) error {
				p := p1
				p.Name = p2.Name
				return tx.UpdateProject(p)
			}, store.ErrConflict},
			{"missing account", func(tx store.Tx) error {
				return tx.CreateProject(store.Project{ID: f.id(), AccountID: missing, Name: "x", CreatedAt: t0})
			}, store.ErrNotFound},
			{"get missing", func(tx store.Tx) error {
				_, err := tx.GetProject(missing)
				return err
			}, store.ErrNotFound},
			{"get by name in other account", func(tx store.Tx) error {
				_, err := tx.GetProjectByName(b.ID, "cn-east-3")
				return err
			}, store.ErrNotFound},
			{"update missing", func(tx store.Tx) error {
				return tx.UpdateProject(store.Project{ID: missing, AccountID: a.ID, Name: "x"})
			}, store.ErrNotFound},
			{"delete missing", func(tx store.Tx) error { return tx.DeleteProject(missing) }, store.ErrNotFound},
			{"counts of missing", func(tx store.Tx) error {
				_, err := tx.KeyCounts(missing)
				return err
			}, store.ErrNotFound},
		})
	})

	t.Run("Delete", func(t *testing.T) {
		f.update(t, func(tx store.Tx) error { return tx.DeleteProject(p2.ID) })
		f.view(t, func(tx store.Tx) error {
			_, err := tx.GetProject(p2.ID)
			checkErr(t, err, store.ErrNotFound)
			_, err = tx.KeyCounts(p2.ID)
			checkErr(t, err, store.ErrNotFound)
			list, err := tx.ListProjects(a.ID)
			diff(t, "ListProjects", list, []store.Project{p1})
			return err
		})
	})
}

func testUsers(t *testing.T, f *fixture) {
	a, b := f.account(t), f.account(t)
	u1 := store.User{ID: f.id(), AccountID: a.ID, Name: "alice", CreatedAt: t0}
	u2 := store.User{
		ID:           f.id(),
		AccountID:    a.ID,
		Name:         "bob",
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
		Policies:     []string{"KMS Administrator", "custom \"quoted\" policy", "策略"},
		Disabled:     true,
		CreatedAt:    t0.Add(time.Minute),
	}
	u3 := store.User{ID: f.id(), AccountID: b.ID, Name: "alice", Policies: []string{"KMS CMKFullAccess"}, CreatedAt: t0}
	f.update(t, func(tx store.Tx) error {
		for _, u := range []store.User{u1, u2, u3} {
			if err := tx.CreateUser(u); err != nil {
				return err
			}
		}
		return nil
	})

	t.Run("Get", func(t *testing.T) {
		f.view(t, func(tx store.Tx) error {
			for _, want := range []store.User{u1, u2, u3} {
				got, err := tx.GetUser(want.ID)
				if err != nil {
					return err
				}
				diff(t, "GetUser", got, want)
			}
			got, err := tx.GetUserByName(b.ID, "alice")
			if err != nil {
				return err
			}
			diff(t, "GetUserByName", got, u3)
			list, err := tx.ListUsers(a.ID)
			diff(t, "ListUsers", list, []store.User{u1, u2}, byUserID)
			return err
		})
	})

	t.Run("Update", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			edit func(*store.User)
		}{
			{"policies and flags", func(u *store.User) {
				u.Name = "alice2"
				u.PasswordHash = "$argon2id$v=19$m=65536,t=3,p=4$bmV3c2FsdA$bmV3aGFzaA"
				u.Policies = []string{"KMS CMKFullAccess", "KMS CMKReadOnlyAccess"}
				u.Disabled = true
			}},
			{"clear", func(u *store.User) {
				u.PasswordHash = ""
				u.Policies = nil
				u.Disabled = false
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				want := u1
				tc.edit(&want)
				f.update(t, func(tx store.Tx) error { return tx.UpdateUser(want) })
				f.view(t, func(tx store.Tx) error {
					got, err := tx.GetUser(u1.ID)
					diff(t, "GetUser", got, want)
					return err
				})
				u1 = want
			})
		}
	})

	t.Run("Errors", func(t *testing.T) {
		missing := f.id()
		f.runErrCases(t, []errCase{
			{"duplicate id", func(tx store.Tx) error {
				return tx.CreateUser(store.User{ID: u2.ID, AccountID: a.ID, Name: "carol", CreatedAt: t0})
			}, store.ErrConflict},
			{"duplicate name in account", func(tx store.Tx) error {
				return tx.CreateUser(store.User{ID: f.id(), AccountID: a.ID, Name: "bob", CreatedAt: t0})
			}, store.ErrConflict},
			{"rename to taken name", func(tx store.Tx) error {
				u := u1
				u.Name = "bob"
				return tx.UpdateUser(u)
			}, store.ErrConflict},
			{"missing account", func(tx store.Tx) error {
				return tx.CreateUser(store.User{ID: f.id(), AccountID: missing, Name: "dave", CreatedAt: t0})
			}, store.ErrNotFound},
			{"get missing", func(tx store.Tx) error {
				_, err := tx.GetUser(missing)
				return err
			}, store.ErrNotFound},
			{"get by name in other account", func(tx store.Tx) error {
				_, err := tx.GetUserByName(b.ID, "bob")
				return err
			}, store.ErrNotFound},
			{"update missing", func(tx store.Tx) error {
				return tx.UpdateUser(store.User{ID: missing, AccountID: a.ID, Name: "erin"})
			}, store.ErrNotFound},
			{"delete missing", func(tx store.Tx) error { return tx.DeleteUser(missing) }, store.ErrNotFound},
		})
	})

	t.Run("DeleteRemovesAccessKeys", func(t *testing.T) {
		ak := store.AccessKey{AK: "AKDELETEDWITHUSER000", UserID: u2.ID, SealedSK: []byte{1}, CreatedAt: t0}
		f.update(t, func(tx store.Tx) error { return tx.CreateAccessKey(ak) })
		f.update(t, func(tx store.Tx) error { return tx.DeleteUser(u2.ID) })
		f.view(t, func(tx store.Tx) error {
			_, err := tx.GetUser(u2.ID)
			checkErr(t, err, store.ErrNotFound)
			_, err = tx.GetAccessKey(ak.AK)
			checkErr(t, err, store.ErrNotFound)
			list, err := tx.ListAccessKeys(u2.ID)
			diff(t, "ListAccessKeys", list, []store.AccessKey(nil))
			return err
		})
	})
}

func testAccessKeys(t *testing.T, f *fixture) {
	a := f.account(t)
	u1 := store.User{ID: f.id(), AccountID: a.ID, Name: "alice", CreatedAt: t0}
	u2 := store.User{ID: f.id(), AccountID: a.ID, Name: "bob", CreatedAt: t0}
	sealed := make([]byte, 256)
	for i := range sealed {
		sealed[i] = byte(i) // every byte value, NUL included
	}
	k1 := store.AccessKey{AK: "HPUAAAAAAAAAAAAAAAA1", UserID: u1.ID, SealedSK: sealed, CreatedAt: t0}
	k2 := store.AccessKey{AK: "HPUAAAAAAAAAAAAAAAA2", UserID: u1.ID, SealedSK: []byte("sealed-2"), Disabled: true, CreatedAt: t0.Add(time.Second)}
	k3 := store.AccessKey{AK: "HPUAAAAAAAAAAAAAAAA3", UserID: u2.ID, SealedSK: []byte("sealed-3"), CreatedAt: t0}
	f.update(t, func(tx store.Tx) error {
		for _, u := range []store.User{u1, u2} {
			if err := tx.CreateUser(u); err != nil {
				return err
			}
		}
		for _, k := range []store.AccessKey{k1, k2, k3} {
			if err := tx.CreateAccessKey(k); err != nil {
				return err
			}
		}
		return nil
	})

	t.Run("Get", func(t *testing.T) {
		f.view(t, func(tx store.Tx) error {
			for _, want := range []store.AccessKey{k1, k2, k3} {
				got, err := tx.GetAccessKey(want.AK)
				if err != nil {
					return err
				}
				diff(t, "GetAccessKey", got, want)
			}
			list, err := tx.ListAccessKeys(u1.ID)
			diff(t, "ListAccessKeys", list, []store.AccessKey{k1, k2}, byAK)
			return err
		})
	})

	t.Run("Update", func(t *testing.T) {
		want := k1
		want.SealedSK = []byte("resealed")
		want.Disabled = true
		f.update(t, func(tx store.Tx) error { return tx.UpdateAccessKey(want) })
		f.view(t, func(tx store.Tx) error {
			got, err := tx.GetAccessKey(k1.AK)
			diff(t, "GetAccessKey", got, want)
			return err
		})
		k1 = want
	})

	t.Run("Errors", func(t *testing.T) {
		f.runErrCases(t, []errCase{
			{"duplicate AK of another user", func(tx store.Tx) error {
				return tx.CreateAccessKey(store.AccessKey{AK: k1.AK, UserID: u2.ID, SealedSK: []byte{1}, CreatedAt: t0})
			}, store.ErrConflict},
			{"missing user", func(tx store.Tx) error {
				return tx.CreateAccessKey(store.AccessKey{AK: "HPUAAAAAAAAAAAAAAAA9", UserID: f.id(), SealedSK: []byte{1}, CreatedAt: t0})
			}, store.ErrNotFound},
			{"get missing", func(tx store.Tx) error {
				_, err := tx.GetAccessKey("HPUAAAAAAAAAAAAAAAA9")
				return err
			}, store.ErrNotFound},
			{"update missing", func(tx store.Tx) error {
				return tx.UpdateAccessKey(store.AccessKey{AK: "HPUAAAAAAAAAAAAAAAA9", UserID: u1.ID, SealedSK: []byte{1}})
			}, store.ErrNotFound},
			{"delete missing", func(tx store.Tx) error { return tx.DeleteAccessKey("HPUAAAAAAAAAAAAAAAA9") }, store.ErrNotFound},
		})
	})

	t.Run("Delete", func(t *testing.T) {
		f.update(t, func(tx store.Tx) error { return tx.DeleteAccessKey(k2.AK) })
		f.view(t, func(tx store.Tx) error {
			_, err := tx.GetAccessKey(k2.AK)
			checkErr(t, err, store.ErrNotFound)
			list, err := tx.ListAccessKeys(u1.ID)
			diff(t, "ListAccessKeys", list, []store.AccessKey{k1})
			return err
		})
	})
}

func testPolicies(t *testing.T, f *fixture) {
	a, b := f.account(t), f.account(t)
	p1 := store.Policy{AccountID: a.ID, Name: "kms-read", Document: []byte(`{"Version":"1.1","Statement":[]}`), CreatedAt: t0}
	p2 := store.Policy{AccountID: a.ID, Name: "kms-write", Document: []byte(`{"Version":"1.1"}`), CreatedAt: t0}
	p3 := store.Policy{AccountID: b.ID, Name: "kms-read", Document: []byte(`{}`), CreatedAt: t0}
	f.update(t, func(tx store.Tx) error {
		for _, p := range []store.Policy{p1, p2, p3} {
			if err := tx.PutPolicy(p); err != nil {
				return err
			}
		}
		return nil
	})

	t.Run("Get", func(t *testing.T) {
		f.view(t, func(tx store.Tx) error {
			for _, want := range []store.Policy{p1, p2, p3} {
				got, err := tx.GetPolicy(want.AccountID, want.Name)
				if err != nil {
					return err
				}
				diff(t, "GetPolicy", got, want)
			}
			list, err := tx.ListPolicies(a.ID)
			diff(t, "ListPolicies", list, []store.Policy{p1, p2}, byName)
			return err
		})
	})

	t.Run("PutReplaces", func(t *testing.T) {
		want := p1
		want.Document = []byte(`{"Version":"1.1","Statement":[{"Effect":"Allow"}]}`)
		want.CreatedAt = t0.Add(time.Hour)
		f.update(t, func(tx store.Tx) error { return tx.PutPolicy(want) })
		f.view(t, func(tx store.Tx) error {
			got, err := tx.GetPolicy(a.ID, p1.Name)
			diff(t, "GetPolicy", got, want)
			return err
		})
	})

	t.Run("Errors", func(t *testing.T) {
		f.runErrCases(t, []errCase{
			{"missing account", func(tx store.Tx) error {
				return tx.PutPolicy(store.Policy{AccountID: f.id(), Name: "x", Document: []byte(`{}`), CreatedAt: t0})
			}, store.ErrNotFound},
			{"get in other account", func(tx store.Tx) error {
				_, err := tx.GetPolicy(b.ID, "kms-write")
				return err
			}, store.ErrNotFound},
			{"delete missing", func(tx store.Tx) error { return tx.DeletePolicy(b.ID, "kms-write") }, store.ErrNotFound},
		})
	})

	t.Run("Delete", func(t *testing.T) {
		f.update(t, func(tx store.Tx) error { return tx.DeletePolicy(a.ID, p2.Name) })
		f.view(t, func(tx store.Tx) error {
			_, err := tx.GetPolicy(a.ID, p2.Name)
			checkErr(t, err, store.ErrNotFound)
			got, err := tx.GetPolicy(b.ID, p3.Name)
			diff(t, "GetPolicy of other account", got, p3)
			return err
		})
	})
}

func testMeta(t *testing.T, f *fixture) {
	err := f.s.View(t.Context(), func(tx store.Tx) error {
		_, err := tx.GetMeta("format")
		return err
	})
	checkErr(t, err, store.ErrNotFound)

	for _, tc := range []struct {
		name  string
		value []byte
	}{
		{"first", []byte{1}},
		{"replace", []byte("binary\x00value\xff")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.update(t, func(tx store.Tx) error { return tx.PutMeta("format", tc.value) })
			f.view(t, func(tx store.Tx) error {
				got, err := tx.GetMeta("format")
				diff(t, "GetMeta", got, tc.value)
				return err
			})
		})
	}
}
