package storetest

import (
	"testing"
	"time"

	"github.com/kmsd/kmsd/internal/store"
)

func (f *fixture) keystore(p store.Project, alias, cluster string, i int) store.Keystore {
	return store.Keystore{
		ID: f.keyID(), ProjectID: p.ID, AccountID: p.AccountID, Alias: alias, Type: "DHSM",
		HSMClusterID: cluster, State: "enabled", CreatedAt: t0.Add(time.Duration(i) * time.Second),
	}
}

func testKeystores(t *testing.T, f *fixture) {
	a := f.account(t)
	p, q := f.project(t, a.ID), f.project(t, a.ID)
	ks1, ks2 := f.keystore(p, "hsm-a", "token-a", 0), f.keystore(p, "hsm-b", "token-b", 1)
	createAll(t, f, store.Tx.CreateKeystore, ks1, ks2)

	t.Run("Get", func(t *testing.T) {
		f.view(t, func(tx store.Tx) error {
			got, err := tx.GetKeystore(p.ID, ks1.ID)
			diff(t, "GetKeystore", got, ks1)
			return err
		})
	})
	t.Run("Errors", func(t *testing.T) {
		f.runErrCases(t, []errCase{
			{"duplicate id", func(tx store.Tx) error {
				k := f.keystore(p, "hsm-c", "token-c", 2)
				k.ID = ks1.ID
				return tx.CreateKeystore(k)
			}, store.ErrConflict},
			{"duplicate alias", func(tx store.Tx) error { return tx.CreateKeystore(f.keystore(p, "hsm-a", "token-c", 2)) }, store.ErrConflict},
			{"cluster used in another project", func(tx store.Tx) error { return tx.CreateKeystore(f.keystore(q, "hsm-q", "token-a", 2)) }, store.ErrConflict},
			{"same alias in another project", func(tx store.Tx) error { return tx.CreateKeystore(f.keystore(q, "hsm-a", "token-q", 2)) }, nil},
			{"missing project", func(tx store.Tx) error {
				return tx.CreateKeystore(f.keystore(store.Project{ID: f.id(), AccountID: a.ID}, "x", "token-x", 2))
			}, store.ErrNotFound},
			{"get in another project", func(tx store.Tx) error { _, err := tx.GetKeystore(q.ID, ks1.ID); return err }, store.ErrNotFound},
			{"update missing", func(tx store.Tx) error { return tx.UpdateKeystoreState(p.ID, f.keyID(), "disabled") }, store.ErrNotFound},
			{"delete missing", func(tx store.Tx) error { return tx.DeleteKeystore(q.ID, ks1.ID) }, store.ErrNotFound},
		})
	})
	t.Run("List", func(t *testing.T) {
		f.view(t, func(tx store.Tx) error {
			all, n, err := tx.ListKeystores(p.ID, 0, 0)
			if err != nil {
				return err
			}
			diff(t, "ListKeystores", all, []store.Keystore{ks1, ks2})
			if n != 2 {
				t.Errorf("total %d, want 2", n)
			}
			page, n, err := tx.ListKeystores(p.ID, 1, 1)
			diff(t, "ListKeystores page", page, []store.Keystore{ks2})
			if n != 2 {
				t.Errorf("total %d, want 2", n)
			}
			return err
		})
	})
	t.Run("StateCountDelete", func(t *testing.T) {
		f.update(t, func(tx store.Tx) error { return tx.UpdateKeystoreState(p.ID, ks2.ID, "disabled") })
		k := f.key(p, 0)
		k.KeystoreID = ks2.ID
		f.createKeys(t, k)
		f.view(t, func(tx store.Tx) error {
			got, err := tx.GetKeystore(p.ID, ks2.ID)
			if got.State != "disabled" {
				t.Errorf("state %q, want disabled", got.State)
			}
			n, err2 := tx.CountKeystoreKeys(ks2.ID)
			if n != 1 {
				t.Errorf("CountKeystoreKeys %d, want 1", n)
			}
			if err == nil {
				err = err2
			}
			return err
		})
		f.update(t, func(tx store.Tx) error { return tx.DeleteKey(p.ID, k.KeyID) })
		f.update(t, func(tx store.Tx) error { return tx.DeleteKeystore(p.ID, ks2.ID) })
		f.view(t, func(tx store.Tx) error {
			if n, _ := tx.CountKeystoreKeys(ks2.ID); n != 0 {
				t.Errorf("CountKeystoreKeys after DeleteKey %d, want 0", n)
			}
			_, err := tx.GetKeystore(p.ID, ks2.ID)
			checkErr(t, err, store.ErrNotFound)
			return nil
		})
	})
}
