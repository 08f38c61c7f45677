package storetest

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/kmsd/kmsd/internal/store"
)

var byGrantID = cmpopts.SortSlices(func(a, b store.Grant) bool { return a.GrantID < b.GrantID })

// grantOrder is the order of ListGrants: creation time, then grant id.
func grantOrder(a, b store.Grant) int {
	return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.GrantID, b.GrantID))
}

// grantID returns a new 64-hex-digit grant id, unique in the fixture.
func (f *fixture) grantID() string {
	return fmt.Sprintf("%064x", f.n.Add(1))
}

// grant returns (without creating it) a grant on k to the user grantee,
// created i milliseconds after t0.
func (f *fixture) grant(k store.Key, grantee string, i int) store.Grant {
	return store.Grant{
		ProjectID:            k.ProjectID,
		KeyID:                k.KeyID,
		GrantID:              f.grantID(),
		GranteePrincipal:     grantee,
		GranteePrincipalType: store.GranteeUser,
		Operations:           []string{"encrypt-data", "decrypt-data"},
		IssuingPrincipal:     "issuer",
		CreatedAt:            t0.Add(time.Duration(i) * time.Millisecond),
	}
}

// createGrants creates gs in one transaction.
func (f *fixture) createGrants(t *testing.T, gs ...store.Grant) {
	t.Helper()
	createAll(t, f, store.Tx.CreateGrant, gs...)
}

func testGrants(t *testing.T, f *fixture) {
	a := f.account(t)
	p, q := f.project(t, a.ID), f.project(t, a.ID)
	k, other := f.key(p, 0), f.key(p, 1)
	kq := f.key(q, 0)
	f.createKeys(t, k, other, kq)

	full := store.Grant{
		ProjectID:            p.ID,
		KeyID:                k.KeyID,
		GrantID:              f.grantID(),
		Name:                 "orders-app:decrypt",
		GranteePrincipal:     f.id(),
		GranteePrincipalType: store.GranteeUser,
		Operations:           []string{"describe-key", "encrypt-data", "decrypt-data", "retire-grant"},
		IssuingPrincipal:     f.id(),
		RetiringPrincipal:    f.id(),
		CreatedAt:            t0,
	}
	domain := f.grant(k, a.ID, 1)
	domain.GranteePrincipalType = store.GranteeDomain
	domain.Operations = nil
	f.createGrants(t, full, domain)

	t.Run("Get", func(t *testing.T) {
		f.view(t, func(tx store.Tx) error {
			for _, want := range []store.Grant{full, domain} {
				got, err := tx.GetGrant(p.ID, k.KeyID, want.GrantID)
				if err != nil {
					return err
				}
				diff(t, "GetGrant", got, want)
			}
			for _, want := range []store.Grant{full, domain} {
				got, err := tx.GetGrantByID(want.GrantID)
				if err != nil {
					return err
				}
				diff(t, "GetGrantByID", got, want)
			}
			n, err := tx.CountGrants(p.ID, k.KeyID)
			if n != 2 {
				t.Errorf("CountGrants: got %d, want 2", n)
			}
			return err
		})
	})

	t.Run("Errors", func(t *testing.T) {
		onKey := func(g store.Grant, k store.Key) store.Grant {
			g.ProjectID, g.KeyID = k.ProjectID, k.KeyID
			return g
		}
		f.runErrCases(t, []errCase{
			{"duplicate id", func(tx store.Tx) error { return tx.CreateGrant(full) }, store.ErrConflict},
			{"duplicate id on another key", func(tx store.Tx) error { return tx.CreateGrant(onKey(full, other)) }, store.ErrConflict},
			{"duplicate id in another project", func(tx store.Tx) error { return tx.CreateGrant(onKey(full, kq)) }, store.ErrConflict},
			{"missing key", func(tx store.Tx) error {
				g := f.grant(k, "u", 0)
				g.KeyID = f.keyID()
				return tx.CreateGrant(g)
			}, store.ErrNotFound},
			{"key of another project", func(tx store.Tx) error {
				g := f.grant(k, "u", 0)
				g.ProjectID = q.ID
				return tx.CreateGrant(g)
			}, store.ErrNotFound},
			{"get on another key", func(tx store.Tx) error {
				_, err := tx.GetGrant(p.ID, other.KeyID, full.GrantID)
				return err
			}, store.ErrNotFound},
			{"get in another project", func(tx store.Tx) error {
				_, err := tx.GetGrant(q.ID, k.KeyID, full.GrantID)
				return err
			}, store.ErrNotFound},
			{"get missing", func(tx store.Tx) error {
				_, err := tx.GetGrant(p.ID, k.KeyID, f.grantID())
				return err
			}, store.ErrNotFound},
			{"get by id missing", func(tx store.Tx) error {
				_, err := tx.GetGrantByID(f.grantID())
				return err
			}, store.ErrNotFound},
			{"delete on another key", func(tx store.Tx) error { return tx.DeleteGrant(p.ID, other.KeyID, full.GrantID) }, store.ErrNotFound},
			{"delete missing", func(tx store.Tx) error { return tx.DeleteGrant(p.ID, k.KeyID, f.grantID()) }, store.ErrNotFound},
			{"list of missing key", func(tx store.Tx) error {
				_, _, err := tx.ListGrants(p.ID, f.keyID(), 0, 10)
				return err
			}, store.ErrNotFound},
			{"list of key in another project", func(tx store.Tx) error {
				_, _, err := tx.ListGrants(q.ID, k.KeyID, 0, 10)
				return err
			}, store.ErrNotFound},
			{"count of missing key", func(tx store.Tx) error {
				_, err := tx.CountGrants(p.ID, f.keyID())
				return err
			}, store.ErrNotFound},
		})
		f.view(t, func(tx store.Tx) error {
			got, err := tx.GetGrant(p.ID, k.KeyID, full.GrantID)
			diff(t, "GetGrant after refused duplicates", got, full)
			return err
		})
	})

	t.Run("Pages", func(t *testing.T) {
		paged := f.key(p, 2)
		f.createKeys(t, paged)
		// 23 grants over 5 creation times, so that the grant id breaks
		// ties, created in shuffled order.
		var grants []store.Grant
		for i := range 23 {
			grants = append(grants, f.grant(paged, fmt.Sprintf("user%d", i), i%5))
		}
		shuffled := slices.Clone(grants)
		rand.New(rand.NewPCG(3, 4)).Shuffle(len(shuffled), func(i, j int) {
			shuffled[i], shuffled[j] = shuffled[j], shuffled[i]
		})
		f.createGrants(t, shuffled...)
		f.createGrants(t, f.grant(other, "user0", 0)) // another key's grant
		slices.SortFunc(grants, grantOrder)

		var all []store.Grant
		for _, tc := range []struct{ offset, limit, n int }{
			{0, 10, 10}, {10, 10, 10}, {20, 10, 3}, {23, 10, 0},
		} {
			var page []store.Grant
			var total int
			f.view(t, func(tx store.Tx) (err error) {
				page, total, err = tx.ListGrants(p.ID, paged.KeyID, tc.offset, tc.limit)
				return err
			})
			if len(page) != tc.n || total != len(grants) {
				t.Errorf("ListGrants(offset %d, limit %d): got %d grants of %d, want %d of %d",
					tc.offset, tc.limit, len(page), total, tc.n, len(grants))
			}
			all = append(all, page...)
		}
		diff(t, "pages of ListGrants", all, grants)
		f.view(t, func(tx store.Tx) error {
			got, total, err := tx.ListGrants(p.ID, paged.KeyID, 0, 0)
			if total != len(grants) {
				t.Errorf("ListGrants without limit: total %d, want %d", total, len(grants))
			}
			diff(t, "ListGrants without limit", got, grants)
			n, err2 := tx.CountGrants(p.ID, paged.KeyID)
			if n != len(grants) {
				t.Errorf("CountGrants: got %d, want %d", n, len(grants))
			}
			return cmp.Or(err, err2)
		})
	})

	t.Run("RetiringPrincipal", func(t *testing.T) {
		retirer := f.id()
		var want []store.Grant
		for i, key := range []store.Key{k, other, kq, k, kq, other, k} {
			g := f.grant(key, "grantee", 100+i%3)
			g.RetiringPrincipal = retirer
			want = append(want, g)
		}
		notMine := f.grant(k, "grantee", 100)
		notMine.RetiringPrincipal = f.id()
		f.createGrants(t, append(slices.Clone(want), notMine)...)
		slices.SortFunc(want, grantOrder)

		var all []store.Grant
		for offset := 0; offset < len(want)+3; offset += 3 {
			var page []store.Grant
			var total int
			f.view(t, func(tx store.Tx) (err error) {
				page, total, err = tx.ListGrantsByRetiringPrincipal(retirer, offset, 3)
				return err
			})
			if total != len(want) {
				t.Errorf("ListGrantsByRetiringPrincipal(offset %d): total %d, want %d", offset, total, len(want))
			}
			all = append(all, page...)
		}
		diff(t, "pages of ListGrantsByRetiringPrincipal", all, want)

		f.view(t, func(tx store.Tx) error {
			got, total, err := tx.ListGrantsByRetiringPrincipal("", 0, 100)
			if len(got) != 0 || total != 0 {
				t.Errorf("ListGrantsByRetiringPrincipal(\"\"): got %d grants of %d, want none", len(got), total)
			}
			return err
		})
	})

	t.Run("GrantsFor", func(t *testing.T) {
		key := f.key(p, 3)
		f.createKeys(t, key)
		user, account := f.id(), f.id()
		toUser := f.grant(key, user, 0)
		toAccount := f.grant(key, account, 1)
		toAccount.GranteePrincipalType = store.GranteeDomain
		toUser2 := f.grant(key, user, 2)
		toUser2.Operations = []string{"describe-key"}
		// The same ids with the other principal type are other grantees.
		userAsDomain := f.grant(key, user, 3)
		userAsDomain.GranteePrincipalType = store.GranteeDomain
		accountAsUser := f.grant(key, account, 4)
		toOtherUser := f.grant(key, f.id(), 5)
		otherKey := f.grant(other, user, 6)
		f.createGrants(t, toUser, toAccount, toUser2, userAsDomain, accountAsUser, toOtherUser, otherKey)

		for _, tc := range []struct {
			name          string
			user, account string
			keyID         string
			want          []store.Grant
		}{
			{"user and account", user, account, key.KeyID, []store.Grant{toUser, toAccount, toUser2}},
			{"user only", user, "", key.KeyID, []store.Grant{toUser, toUser2}},
			{"account only", "", account, key.KeyID, []store.Grant{toAccount}},
			{"neither", "", "", key.KeyID, nil},
			{"stranger", f.id(), f.id(), key.KeyID, nil},
			{"other key", user, account, other.KeyID, []store.Grant{otherKey}},
			{"missing key", user, account, f.keyID(), nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				f.view(t, func(tx store.Tx) error {
					got, err := tx.GrantsFor(tc.user, tc.account, p.ID, tc.keyID)
					diff(t, "GrantsFor", got, tc.want, byGrantID)
					return err
				})
			})
		}
		f.view(t, func(tx store.Tx) error {
			got, err := tx.GrantsFor(user, account, q.ID, key.KeyID)
			diff(t, "GrantsFor in another project", got, []store.Grant(nil))
			return err
		})
	})

	t.Run("MaxGrantsPerKey", func(t *testing.T) {
		// A project of its own, so the other subtests' grants do not count.
		r := f.project(t, a.ID)
		empty := f.project(t, a.ID)
		k1, k2, k3 := f.key(r, 0), f.key(r, 1), f.key(r, 2)
		f.createKeys(t, k1, k2, k3)
		maxGrants := func(projectID string) int {
			var n int
			f.view(t, func(tx store.Tx) (err error) {
				n, err = tx.MaxGrantsPerKey(projectID)
				return err
			})
			return n
		}
		if n := maxGrants(r.ID); n != 0 {
			t.Errorf("MaxGrantsPerKey without grants: got %d, want 0", n)
		}
		f.createGrants(t, f.grant(k1, "u", 0), f.grant(k2, "u", 1), f.grant(k2, "v", 2), f.grant(k2, "w", 3), f.grant(k3, "u", 4))
		// Another project's busier key does not count.
		f.createGrants(t, f.grant(kq, "u", 0), f.grant(kq, "v", 1), f.grant(kq, "w", 2), f.grant(kq, "x", 3))
		if n := maxGrants(r.ID); n != 3 {
			t.Errorf("MaxGrantsPerKey: got %d, want 3", n)
		}
		if n := maxGrants(empty.ID); n != 0 {
			t.Errorf("MaxGrantsPerKey of a project without keys: got %d, want 0", n)
		}
		if n := maxGrants(f.id()); n != 0 {
			t.Errorf("MaxGrantsPerKey of a missing project: got %d, want 0", n)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		key := f.key(p, 4)
		f.createKeys(t, key)
		g1, g2 := f.grant(key, "u1", 0), f.grant(key, "u2", 1)
		f.createGrants(t, g1, g2)
		f.update(t, func(tx store.Tx) error { return tx.DeleteGrant(p.ID, key.KeyID, g1.GrantID) })
		f.view(t, func(tx store.Tx) error {
			_, err := tx.GetGrant(p.ID, key.KeyID, g1.GrantID)
			checkErr(t, err, store.ErrNotFound)
			list, total, err := tx.ListGrants(p.ID, key.KeyID, 0, 10)
			if total != 1 {
				t.Errorf("ListGrants total after DeleteGrant: got %d, want 1", total)
			}
			diff(t, "ListGrants after DeleteGrant", list, []store.Grant{g2})
			return err
		})
		f.runErrCases(t, []errCase{
			{"delete again", func(tx store.Tx) error { return tx.DeleteGrant(p.ID, key.KeyID, g1.GrantID) }, store.ErrNotFound},
		})
	})
}
