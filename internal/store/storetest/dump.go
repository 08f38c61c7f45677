package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/kmsd/kmsd/internal/store"
)

// dumped is everything a Dumper visited.
type dumped struct {
	Accounts     []store.Account
	Projects     []store.Project
	Users        []store.User
	AccessKeys   []store.AccessKey
	Policies     []store.Policy
	Keystores    []store.Keystore
	KeySpaces    []store.KeySpace
	Keys         []store.Key
	KeyVersions  []store.KeyVersion
	KeyRegions   []store.KeyRegion
	Grants       []store.Grant
	Aliases      []store.Alias
	Tags         []store.KeyTag
	ImportTokens []store.ImportToken
	AccessPoints []store.AccessPoint
	KeyPolicies  []store.KeyPolicy
	Meta         []store.Meta
}

func collect[T any](dst *[]T) func(T) error {
	return func(v T) error { *dst = append(*dst, v); return nil }
}

// dumpAll visits every row of tx's snapshot with the Dumper of tx.
func dumpAll(t *testing.T, tx store.Tx) (dumped, store.DumpCounts) {
	t.Helper()
	d, ok := tx.(store.Dumper)
	if !ok {
		t.Fatalf("the Tx of the backend (%T) is not a store.Dumper", tx)
	}
	var out dumped
	for _, err := range []error{
		d.EachAccount(collect(&out.Accounts)), d.EachProject(collect(&out.Projects)),
		d.EachUser(collect(&out.Users)), d.EachAccessKey(collect(&out.AccessKeys)),
		d.EachPolicy(collect(&out.Policies)), d.EachKeystore(collect(&out.Keystores)),
		d.EachKeySpace(collect(&out.KeySpaces)), d.EachKey(collect(&out.Keys)),
		d.EachKeyVersion(collect(&out.KeyVersions)), d.EachKeyRegion(collect(&out.KeyRegions)),
		d.EachGrant(collect(&out.Grants)), d.EachAlias(collect(&out.Aliases)),
		d.EachTag(collect(&out.Tags)), d.EachImportToken(collect(&out.ImportTokens)),
		d.EachAccessPoint(collect(&out.AccessPoints)), d.EachKeyPolicy(collect(&out.KeyPolicies)),
		d.EachMeta(collect(&out.Meta)),
	} {
		if err != nil {
			t.Fatalf("Dumper: %v", err)
		}
	}
	c, err := d.DumpCounts()
	if err != nil {
		t.Fatalf("DumpCounts: %v", err)
	}
	return out, c
}

// testDump checks the optional store.Dumper: every row of every table with
// every field, counts that match, one snapshot in View, and a stable order.
func testDump(t *testing.T, f *fixture) {
	var want dumped
	at := t0.Add(time.Hour)
	for range 2 {
		a := f.account(t)
		want.Accounts = append(want.Accounts, a)
		p := store.Project{ID: f.id(), AccountID: a.ID, Name: "cn-north-4", CMKQuota: 7, GrantQuota: 3, CreatedAt: at}
		createAll(t, f, store.Tx.CreateProject, p)
		want.Projects = append(want.Projects, p)
		u := store.User{ID: f.id(), AccountID: a.ID, Name: "admin", PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
			Policies: []string{"KMS Administrator"}, Disabled: true, CreatedAt: at}
		createAll(t, f, store.Tx.CreateUser, u)
		want.Users = append(want.Users, u)
		ak := store.AccessKey{AK: "AK" + f.id()[14:], UserID: u.ID, SealedSK: []byte{1, 2, 3}, Disabled: true, CreatedAt: at}
		createAll(t, f, store.Tx.CreateAccessKey, ak)
		want.AccessKeys = append(want.AccessKeys, ak)
		pol := store.Policy{AccountID: a.ID, Name: "custom", Document: []byte(`{"Version":"1.1"}`), CreatedAt: at}
		createAll(t, f, store.Tx.PutPolicy, pol)
		want.Policies = append(want.Policies, pol)

		ks := f.keystore(p, "hsm-"+p.ID[28:], "token-"+p.ID[28:], 1)
		createAll(t, f, store.Tx.CreateKeystore, ks)
		want.Keystores = append(want.Keystores, ks)
		space := store.KeySpace{ProjectID: p.ID, ID: f.spaceID(), Name: "space", Type: "2", KeystoreID: ks.ID, Description: "d", CreatedAt: at}
		createAll(t, f, store.Tx.CreateKeySpace, space)
		want.KeySpaces = append(want.KeySpaces, space)

		k1 := f.key(p, 1)
		k1.Alias, k1.Description, k1.KeystoreID = "alias-1", "first", ks.ID
		k1.RotationEnabled, k1.RotationInterval, k1.LastRotation, k1.RotationCount = true, 30, at, 2
		k2 := f.key(p, 2)
		k2.Origin, k2.State, k2.PrimaryVersion = store.OriginExternal, store.StatePendingDeletion, 1
		k2.DeletionDate, k2.MaterialExpiresAt, k2.MaterialFingerprint = at.Add(24*time.Hour), at.Add(48*time.Hour), []byte{9, 9}
		k3 := f.key(p, 3)
		k3.Default, k3.Alias = true, "kms/default"
		f.createKeys(t, k1, k2, k3)
		k1.Revision = f.getKey(t, p.ID, k1.KeyID).Revision
		k1.Description = "updated"
		f.update(t, func(tx store.Tx) error { return tx.UpdateKey(k1) })
		k1 = f.getKey(t, p.ID, k1.KeyID)
		k2, k3 = f.getKey(t, p.ID, k2.KeyID), f.getKey(t, p.ID, k3.KeyID)
		want.Keys = append(want.Keys, k1, k2, k3)
		for _, k := range []store.Key{k1, k2} {
			for v := 1; v <= 2; v++ {
				kv := store.KeyVersion{ProjectID: p.ID, KeyID: k.KeyID, Version: v, Sealed: []byte{byte(v), 7}, CreatedAt: at}
				createAll(t, f, store.Tx.PutKeyVersion, kv)
				want.KeyVersions = append(want.KeyVersions, kv)
			}
		}
		r1 := store.KeyRegion{ProjectID: p.ID, KeyID: k1.KeyID, PrimaryRegion: "cn-north-4", MaterialProjectID: p.ID,
			Replicas: []store.KeyReplica{{Region: "ap-southeast-1", ProjectID: f.id()}, {Region: "cn-east-3", ProjectID: f.id()}}}
		r2 := store.KeyRegion{ProjectID: p.ID, KeyID: k2.KeyID, PrimaryRegion: "cn-east-3", MaterialProjectID: f.id()}
		createAll(t, f, store.Tx.PutKeyRegion, r1, r2)
		want.KeyRegions = append(want.KeyRegions, r1, r2)
		g := store.Grant{ProjectID: p.ID, KeyID: k1.KeyID, GrantID: f.id() + f.id(), Name: "g", GranteePrincipal: u.ID,
			GranteePrincipalType: store.GranteeUser, Operations: []string{"encrypt-data", "decrypt-data"},
			IssuingPrincipal: u.ID, RetiringPrincipal: u.ID, CreatedAt: at}
		createAll(t, f, store.Tx.CreateGrant, g)
		want.Grants = append(want.Grants, g)
		al := store.Alias{ProjectID: p.ID, Alias: "alias/extra", KeyID: k1.KeyID, CreatedAt: at, UpdatedAt: at.Add(time.Second)}
		createAll(t, f, store.Tx.CreateAlias, al)
		want.Aliases = append(want.Aliases, al)
		tags := []store.KeyTag{{ProjectID: p.ID, KeyID: k1.KeyID, Tag: store.Tag{Key: "env", Value: "prod"}},
			{ProjectID: p.ID, KeyID: k1.KeyID, Tag: store.Tag{Key: "team", Value: ""}}}
		createAll(t, f, func(tx store.Tx, kt store.KeyTag) error { return tx.PutTag(kt.ProjectID, kt.KeyID, kt.Key, kt.Value) }, tags...)
		want.Tags = append(want.Tags, tags...)
		tok := store.ImportToken{ProjectID: p.ID, KeyID: k2.KeyID, TokenID: f.id(), WrappingAlgorithm: "RSAES_OAEP_SHA_256",
			WrappingKeySpec: "RSA_2048", SealedPrivateKey: []byte{4, 5}, ExpiresAt: at.Add(time.Hour), CreatedAt: at}
		createAll(t, f, store.Tx.PutImportToken, tok)
		want.ImportTokens = append(want.ImportTokens, tok)
		ap := store.AccessPoint{ProjectID: p.ID, KeySpaceID: space.ID, ID: f.spaceID(), Name: "ap", Type: 3, State: 1,
			Identity: "id", ClusterID: "c", Description: "d", PublicKey: []byte{1}, SealedPrivateKey: []byte{2},
			CreatedBy: u.ID, CreatedAt: at, UpdatedAt: at.Add(time.Second)}
		ap2 := ap
		ap2.ID, ap2.Name, ap2.SealedPrivateKey = f.spaceID(), "ap2", nil
		createAll(t, f, store.Tx.CreateAccessPoint, ap, ap2)
		want.AccessPoints = append(want.AccessPoints, ap, ap2)
		kp := store.KeyPolicy{ProjectID: p.ID, KeySpaceID: space.ID, ID: f.spaceID(), Name: "kp", Document: []byte(`{}`),
			Description: "d", CreatedBy: u.ID, CreatedAt: at, UpdatedAt: at, LastAccessAt: at.Add(time.Minute)}
		createAll(t, f, store.Tx.CreateKeyPolicy, kp)
		want.KeyPolicies = append(want.KeyPolicies, kp)
	}
	metas := []store.Meta{{Name: "dump-a", Value: []byte{1}}, {Name: "dump-b", Value: []byte("b")}}
	createAll(t, f, func(tx store.Tx, m store.Meta) error { return tx.PutMeta(m.Name, m.Value) }, metas...)
	want.Meta = metas

	// The ids of the fixture sort in the order they were made, in any
	// collation, so want is in primary-key order.
	var first dumped
	f.view(t, func(tx store.Tx) error {
		got, c := dumpAll(t, tx)
		first = got
		diff(t, "dump", got, want)
		wantCounts := store.DumpCounts{Accounts: 2, Projects: 2, Users: 2, AccessKeys: 2, Policies: 2, Keystores: 2,
			KeySpaces: 2, Keys: 6, KeyVersions: 8, KeyRegions: 4, Grants: 2, Aliases: 2, Tags: 4, ImportTokens: 2,
			AccessPoints: 4, KeyPolicies: 2, Meta: 2}
		diff(t, "DumpCounts", c, wantCounts)
		return nil
	})

	t.Run("Snapshot", func(t *testing.T) {
		// Rows committed while a View runs are not in its dump.
		f.view(t, func(tx store.Tx) error {
			before, _ := dumpAll(t, tx)
			p := want.Projects[0]
			k := f.key(p, 9)
			f.createKeys(t, k)
			createAll(t, f, store.Tx.PutKeyVersion, store.KeyVersion{ProjectID: p.ID, KeyID: k.KeyID, Version: 1, Sealed: []byte{1}, CreatedAt: at})
			after, c := dumpAll(t, tx)
			diff(t, "dump after a concurrent commit", after, before)
			if c.Keys != 6 || c.KeyVersions != 8 {
				t.Errorf("DumpCounts after a concurrent commit: %d keys, %d versions; want 6, 8", c.Keys, c.KeyVersions)
			}
			// Two dumps of one snapshot are identical, order included.
			diff(t, "second dump of the snapshot", after, first)
			return nil
		})
		f.view(t, func(tx store.Tx) error {
			_, c := dumpAll(t, tx)
			if c.Keys != 7 || c.KeyVersions != 9 {
				t.Errorf("DumpCounts in a new View: %d keys, %d versions; want 7, 9", c.Keys, c.KeyVersions)
			}
			return nil
		})
	})

	t.Run("BulkLoad", func(t *testing.T) {
		l, ok := store.As[store.BulkLoader](f.s)
		if !ok {
			t.Skip("the backend has no BulkLoader")
		}
		p := want.Projects[1]
		k := f.key(p, 20)
		// A failure rolls back everything the function did.
		none := func(store.Tx) error { return nil }
		err := l.Load(t.Context(), func(tx store.Tx) error {
			if err := tx.CreateKey(k); err != nil {
				return err
			}
			return tx.CreateKey(k) // a duplicate id
		}, none)
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("Load with a duplicate key: got %v, want ErrConflict", err)
		}
		if c := f.counts(t, p.ID); c.Custom != 2 || c.Default != 1 {
			t.Errorf("counts after a failed Load: %+v", c)
		}
		errCheck := errors.New("check refused")
		var inCheck store.KeyCounts
		err = l.Load(t.Context(), func(tx store.Tx) error { return tx.CreateKey(k) }, func(tx store.Tx) (err error) {
			inCheck, err = tx.KeyCounts(p.ID)
			if err == nil {
				err = errCheck
			}
			return err
		})
		if !errors.Is(err, errCheck) || inCheck.Custom != 3 || inCheck.Default != 1 {
			t.Fatalf("Load refused by its check: %v, counts in the check %+v, want 3 custom keys and 1 default", err, inCheck)
		}
		if c := f.counts(t, p.ID); c.Custom != 2 {
			t.Errorf("counts after a Load its check refused: %+v", c)
		}
		if err := l.Load(t.Context(), func(tx store.Tx) error { return tx.CreateKey(k) }, none); err != nil {
			t.Fatalf("Load: %v", err)
		}
		if got := f.getKey(t, p.ID, k.KeyID); got.KeyID != k.KeyID {
			t.Errorf("the loaded key reads back as %+v", got)
		}
		if c := f.counts(t, p.ID); c.Custom != 3 {
			t.Errorf("counts after Load: %+v", c)
		}
	})
}
