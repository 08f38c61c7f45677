package storetest

import (
	"testing"

	"github.com/kmsd/kmsd/internal/store"
)

func testKeyRegions(t *testing.T, f *fixture) {
	a := f.account(t)
	p := f.project(t, a.ID)
	k := f.key(p, 0)
	f.createKeys(t, k)
	r := store.KeyRegion{ProjectID: p.ID, KeyID: k.KeyID, PrimaryRegion: "cn-north-4", MaterialProjectID: p.ID,
		Replicas: []store.KeyReplica{{Region: "cn-east-3", ProjectID: f.id()}, {Region: "ap-southeast-1", ProjectID: f.id()}}}
	f.runErrCases(t, []errCase{
		{"single-region key", func(tx store.Tx) error { _, err := tx.GetKeyRegion(p.ID, k.KeyID); return err }, store.ErrNotFound},
		{"missing key", func(tx store.Tx) error {
			m := r
			m.KeyID = f.keyID()
			return tx.PutKeyRegion(m)
		}, store.ErrNotFound},
	})
	f.update(t, func(tx store.Tx) error { return tx.PutKeyRegion(r) })
	want := r
	want.Replicas = []store.KeyReplica{r.Replicas[1], r.Replicas[0]} // region order
	f.view(t, func(tx store.Tx) error {
		got, err := tx.GetKeyRegion(p.ID, k.KeyID)
		diff(t, "GetKeyRegion", got, want)
		return err
	})
	moved := store.KeyRegion{ProjectID: p.ID, KeyID: k.KeyID, PrimaryRegion: "cn-east-3", MaterialProjectID: p.ID}
	f.update(t, func(tx store.Tx) error { return tx.PutKeyRegion(moved) })
	f.view(t, func(tx store.Tx) error {
		got, err := tx.GetKeyRegion(p.ID, k.KeyID)
		diff(t, "GetKeyRegion after a second put", got, moved)
		return err
	})
	f.update(t, func(tx store.Tx) error { return tx.DeleteKey(p.ID, k.KeyID) })
	f.view(t, func(tx store.Tx) error {
		_, err := tx.GetKeyRegion(p.ID, k.KeyID)
		checkErr(t, err, store.ErrNotFound)
		return nil
	})
}
