package storetest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kmsd/kmsd/internal/store"
)

// alias returns (without creating it) the alias name of k, created i
// milliseconds after t0.
func alias(k store.Key, name string, i int) store.Alias {
	at := t0.Add(time.Duration(i) * time.Millisecond)
	return store.Alias{ProjectID: k.ProjectID, Alias: name, KeyID: k.KeyID, CreatedAt: at, UpdatedAt: at}
}

// createAliases creates as in one transaction.
func (f *fixture) createAliases(t *testing.T, as ...store.Alias) {
	t.Helper()
	createAll(t, f, store.Tx.CreateAlias, as...)
}

// listAliases returns one page of ListAliases and fails the test on an
// error.
func (f *fixture) listAliases(t *testing.T, projectID, keyID, after string, limit int) []store.Alias {
	t.Helper()
	var as []store.Alias
	f.view(t, func(tx store.Tx) (err error) {
		as, err = tx.ListAliases(projectID, keyID, after, limit)
		return err
	})
	return as
}

func testAliases(t *testing.T, f *fixture) {
	a := f.account(t)
	p, q := f.project(t, a.ID), f.project(t, a.ID)
	k1, k2 := f.key(p, 0), f.key(p, 1)
	kq := f.key(q, 0)
	f.createKeys(t, k1, k2, kq)

	orders := alias(k1, "alias/orders", 0)
	orders.UpdatedAt = t0.Add(time.Hour)
	f.createAliases(t, orders)

	t.Run("Get", func(t *testing.T) {
		f.view(t, func(tx store.Tx) error {
			got, err := tx.GetAlias(p.ID, orders.Alias)
			diff(t, "GetAlias", got, orders)
			return err
		})
	})

	t.Run("Errors", func(t *testing.T) {
		f.runErrCases(t, []errCase{
			{"duplicate name", func(tx store.Tx) error { return tx.CreateAlias(alias(k2, orders.Alias, 0)) }, store.ErrConflict},
			{"duplicate name on the same key", func(tx store.Tx) error { return tx.CreateAlias(alias(k1, orders.Alias, 0)) }, store.ErrConflict},
			{"same name in another project", func(tx store.Tx) error { return tx.CreateAlias(alias(kq, orders.Alias, 0)) }, nil},
			{"names are case-sensitive", func(tx store.Tx) error { return tx.CreateAlias(alias(k2, "alias/ORDERS", 0)) }, nil},
			{"missing key", func(tx store.Tx) error {
				a := alias(k1, "alias/x", 0)
				a.KeyID = f.keyID()
				return tx.CreateAlias(a)
			}, store.ErrNotFound},
			{"second alias of the key", func(tx store.Tx) error { return tx.CreateAlias(alias(k1, "alias/y", 0)) }, nil},
			{"key of another project", func(tx store.Tx) error {
				a := alias(kq, "alias/z", 0)
				a.ProjectID = p.ID
				return tx.CreateAlias(a)
			}, store.ErrNotFound},
			{"get in another project", func(tx store.Tx) error {
				_, err := tx.GetAlias(q.ID, "alias/none")
				return err
			}, store.ErrNotFound},
			{"get missing", func(tx store.Tx) error {
				_, err := tx.GetAlias(p.ID, "alias/none")
				return err
			}, store.ErrNotFound},
			{"update missing", func(tx store.Tx) error { return tx.UpdateAlias(alias(k2, "alias/none", 5)) }, store.ErrNotFound},
			{"update to missing key", func(tx store.Tx) error {
				a := alias(k2, orders.Alias, 5)
				a.KeyID = f.keyID()
				return tx.UpdateAlias(a)
			}, store.ErrNotFound},
			{"update to key of another project", func(tx store.Tx) error {
				a := alias(kq, orders.Alias, 5)
				a.ProjectID = p.ID
				return tx.UpdateAlias(a)
			}, store.ErrNotFound},
			{"delete missing", func(tx store.Tx) error { return tx.DeleteAlias(p.ID, "alias/none") }, store.ErrNotFound},
			{"delete in another project", func(tx store.Tx) error { return tx.DeleteAlias(q.ID, "alias/ORDERS") }, store.ErrNotFound},
		})
		f.view(t, func(tx store.Tx) error {
			got, err := tx.GetAlias(p.ID, orders.Alias)
			diff(t, "GetAlias after refused changes", got, orders)
			return err
		})
	})

	t.Run("Pages", func(t *testing.T) {
		pp := f.project(t, a.ID)
		ka, kb := f.key(pp, 0), f.key(pp, 1)
		f.createKeys(t, ka, kb)
		// 13 aliases, every third on kb, created in shuffled order; names
		// whose creation order differs from their name order.
		var all []store.Alias
		for i := range 13 {
			k := ka
			if i%3 == 0 {
				k = kb
			}
			all = append(all, alias(k, fmt.Sprintf("alias/%02d", (i*5)%13), 12-i))
		}
		shuffled := slices.Clone(all)
		rand.New(rand.NewPCG(5, 6)).Shuffle(len(shuffled), func(i, j int) {
			shuffled[i], shuffled[j] = shuffled[j], shuffled[i]
		})
		f.createAliases(t, shuffled...)
		f.createAliases(t, alias(kq, "alias/00", 0), alias(kq, "alias/99", 0)) // another project's
		slices.SortFunc(all, func(a, b store.Alias) int { return strings.Compare(a.Alias, b.Alias) })

		// pages walks ListAliases with the marker, limit at a time, and
		// returns the concatenated pages and their sizes.
		pages := func(keyID string, limit int) ([]store.Alias, []int) {
			var got []store.Alias
			var sizes []int
			after := ""
			for range 20 {
				page := f.listAliases(t, pp.ID, keyID, after, limit)
				sizes = append(sizes, len(page))
				got = append(got, page...)
				if len(page) < limit {
					break
				}
				after = page[len(page)-1].Alias
			}
			return got, sizes
		}

		got, sizes := pages("", 5)
		diff(t, "pages of ListAliases", got, all)
		diff(t, "page sizes of ListAliases", sizes, []int{5, 5, 3})

		var ofKB []store.Alias
		for _, a := range all {
			if a.KeyID == kb.KeyID {
				ofKB = append(ofKB, a)
			}
		}
		got, sizes = pages(kb.KeyID, 2)
		diff(t, "pages of ListAliases of one key", got, ofKB)
		diff(t, "page sizes of ListAliases of one key", sizes, []int{2, 2, 1})

		diff(t, "ListAliases without limit", f.listAliases(t, pp.ID, "", "", 0), all)
		diff(t, "ListAliases after a marker that is no alias", f.listAliases(t, pp.ID, "", "alias/055", 3), all[6:9])
		diff(t, "ListAliases after the last", f.listAliases(t, pp.ID, "", all[len(all)-1].Alias, 3), []store.Alias(nil))
		diff(t, "ListAliases of a missing key", f.listAliases(t, pp.ID, f.keyID(), "", 3), []store.Alias(nil))
		diff(t, "ListAliases of a key of another project", f.listAliases(t, pp.ID, kq.KeyID, "", 3), []store.Alias(nil))
	})

	t.Run("Update", func(t *testing.T) {
		moved := orders
		moved.KeyID = k2.KeyID
		moved.UpdatedAt = t0.Add(2 * time.Hour)
		moved.CreatedAt = t0.Add(99 * time.Hour) // ignored: CreatedAt stays
		f.update(t, func(tx store.Tx) error { return tx.UpdateAlias(moved) })
		want := moved
		want.CreatedAt = orders.CreatedAt
		f.view(t, func(tx store.Tx) error {
			got, err := tx.GetAlias(p.ID, orders.Alias)
			diff(t, "GetAlias after UpdateAlias", got, want)
			return err
		})
		diff(t, "ListAliases of the old key", f.listAliases(t, p.ID, k1.KeyID, "", 0), []store.Alias{alias(k1, "alias/y", 0)})
		if got := f.listAliases(t, p.ID, k2.KeyID, "", 0); !slices.ContainsFunc(got, func(a store.Alias) bool { return a.Alias == orders.Alias }) {
			t.Errorf("ListAliases of the new key: %v lacks %s", got, orders.Alias)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		f.update(t, func(tx store.Tx) error { return tx.DeleteAlias(p.ID, orders.Alias) })
		f.runErrCases(t, []errCase{
			{"get", func(tx store.Tx) error {
				_, err := tx.GetAlias(p.ID, orders.Alias)
				return err
			}, store.ErrNotFound},
			{"delete again", func(tx store.Tx) error { return tx.DeleteAlias(p.ID, orders.Alias) }, store.ErrNotFound},
			// The name is free again.
			{"create again", func(tx store.Tx) error { return tx.CreateAlias(alias(k1, orders.Alias, 0)) }, nil},
		})
		f.view(t, func(tx store.Tx) error {
			got, err := tx.GetAlias(q.ID, orders.Alias)
			diff(t, "alias of the same name in another project", got, alias(kq, orders.Alias, 0))
			return err
		})
	})
}

// testAliasNamespace checks that Key.Alias and Alias rows share one
// namespace per project.
func testAliasNamespace(t *testing.T, f *fixture) {
	a := f.account(t)
	p, q := f.project(t, a.ID), f.project(t, a.ID)
	named := f.key(p, 0)
	named.Alias = "app/key-alias"
	plain := f.key(p, 1)
	f.createKeys(t, named, plain)
	f.createAliases(t, alias(plain, "app/extra", 0))

	withAlias := func(k store.Key, name string) store.Key {
		k.Alias = name
		return k
	}
	t.Run("Refused", func(t *testing.T) {
		namedNow, plainNow := f.getKey(t, p.ID, named.KeyID), f.getKey(t, p.ID, plain.KeyID)
		f.runErrCases(t, []errCase{
			{"CreateAlias of a key alias", func(tx store.Tx) error { return tx.CreateAlias(alias(plain, named.Alias, 0)) }, store.ErrConflict},
			{"CreateAlias of a key's own alias", func(tx store.Tx) error { return tx.CreateAlias(alias(named, named.Alias, 0)) }, store.ErrConflict},
			{"CreateKey with an alias name", func(tx store.Tx) error { return tx.CreateKey(withAlias(f.key(p, 2), "app/extra")) }, store.ErrConflict},
			{"UpdateKey to an alias name", func(tx store.Tx) error {
				return tx.UpdateKey(withAlias(namedNow, "app/extra"))
			}, store.ErrConflict},
			{"UpdateKey to its own alias name", func(tx store.Tx) error {
				return tx.UpdateKey(withAlias(plainNow, "app/extra"))
			}, store.ErrConflict},
			{"in one transaction: CreateAlias, then CreateKey", func(tx store.Tx) error {
				if err := tx.CreateAlias(alias(plain, "app/fresh", 0)); err != nil {
					t.Fatalf("CreateAlias: %v", err)
				}
				return tx.CreateKey(withAlias(f.key(p, 2), "app/fresh"))
			}, store.ErrConflict},
			{"in one transaction: CreateKey, then CreateAlias", func(tx store.Tx) error {
				if err := tx.CreateKey(withAlias(f.key(p, 2), "app/fresh")); err != nil {
					t.Fatalf("CreateKey: %v", err)
				}
				return tx.CreateAlias(alias(plain, "app/fresh", 0))
			}, store.ErrConflict},
		})
		f.view(t, func(tx store.Tx) error {
			_, err := tx.GetAlias(p.ID, "app/fresh")
			checkErr(t, err, store.ErrNotFound)
			_, err = tx.GetKeyByAlias(p.ID, "app/fresh")
			checkErr(t, err, store.ErrNotFound)
			got, err := tx.GetKey(p.ID, plain.KeyID)
			if got.Alias != "" {
				t.Errorf("alias of the key after refused UpdateKey: got %q, want none", got.Alias)
			}
			return err
		})
	})

	t.Run("Allowed", func(t *testing.T) {
		f.runErrCases(t, []errCase{
			{"UpdateKey keeping its alias", func(tx store.Tx) error {
				k := f.getKeyIn(t, tx, p.ID, named.KeyID)
				k.Description = "still app/key-alias"
				return tx.UpdateKey(k)
			}, nil},
			{"CreateKey with the name in another project", func(tx store.Tx) error { return tx.CreateKey(withAlias(f.key(q, 0), "app/extra")) }, nil},
			{"CreateAlias of the name in another project", func(tx store.Tx) error {
				k := f.key(q, 1)
				if err := tx.CreateKey(k); err != nil {
					return err
				}
				return tx.CreateAlias(alias(k, named.Alias, 0))
			}, nil},
			{"GetKeyByAlias ignores aliases", func(tx store.Tx) error {
				_, err := tx.GetKeyByAlias(p.ID, "app/extra")
				return err
			}, store.ErrNotFound},
			{"GetAlias ignores key aliases", func(tx store.Tx) error {
				_, err := tx.GetAlias(p.ID, named.Alias)
				return err
			}, store.ErrNotFound},
		})
	})

	t.Run("Freed", func(t *testing.T) {
		// Moving the key alias away frees its name for an alias, and
		// deleting the alias frees its name for a key alias.
		f.update(t, func(tx store.Tx) error {
			if err := tx.UpdateKey(withAlias(f.getKeyIn(t, tx, p.ID, named.KeyID), "app/renamed")); err != nil {
				return err
			}
			if err := tx.CreateAlias(alias(plain, "app/key-alias", 0)); err != nil {
				return err
			}
			if err := tx.DeleteAlias(p.ID, "app/extra"); err != nil {
				return err
			}
			return tx.UpdateKey(withAlias(f.getKeyIn(t, tx, p.ID, plain.KeyID), "app/extra"))
		})
		f.view(t, func(tx store.Tx) error {
			got, err := tx.GetKeyByAlias(p.ID, "app/extra")
			if err != nil {
				return err
			}
			if got.KeyID != plain.KeyID {
				t.Errorf("GetKeyByAlias(app/extra): got key %s, want %s", got.KeyID, plain.KeyID)
			}
			al, err := tx.GetAlias(p.ID, "app/key-alias")
			if al.KeyID != plain.KeyID {
				t.Errorf("GetAlias(app/key-alias): got key %s, want %s", al.KeyID, plain.KeyID)
			}
			return err
		})
	})

	// A refused call changes nothing, so the transaction may go on.
	t.Run("FailedCallChangesNothing", func(t *testing.T) {
		k := f.key(p, 5)
		f.update(t, func(tx store.Tx) error {
			checkErr(t, tx.CreateAlias(alias(plain, "app/renamed", 0)), store.ErrConflict)
			checkErr(t, tx.CreateKey(withAlias(k, "app/key-alias")), store.ErrConflict)
			return tx.CreateKey(withAlias(k, "app/five"))
		})
		diff(t, "GetKey", f.getKey(t, p.ID, k.KeyID), withAlias(k, "app/five"))
	})
}

// getKeyIn reads one key inside tx and fails the test when that fails.
func (f *fixture) getKeyIn(t *testing.T, tx store.Tx, projectID, keyID string) store.Key {
	t.Helper()
	k, err := tx.GetKey(projectID, keyID)
	if err != nil {
		t.Fatalf("GetKey: %v", err)
	}
	return k
}
