package kms_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"

	"github.com/kmsd/kmsd/internal/keyring"
	"github.com/kmsd/kmsd/internal/kms"
	"github.com/kmsd/kmsd/internal/store"
	"github.com/kmsd/kmsd/internal/store/postgres"
	"github.com/kmsd/kmsd/internal/store/postgres/pgtest"
	"github.com/kmsd/kmsd/internal/store/sqlite"
)

const (
	account = "d0000000000000000000000000000001"
	project = "0123456789abcdef0123456789abcdef"
	other   = "fedcba9876543210fedcba9876543210"
)

type fixture struct {
	svc  *kms.Service
	st   store.Store
	kr   *keyring.Keyring
	path string
	now  time.Time
}

func newFixture(t testing.TB, path string, quota int) *fixture {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "kmsd.db")
	}
	st, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	kr, err := keyring.New(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	err = st.Update(t.Context(), func(tx store.Tx) error {
		if _, err := tx.GetAccount(account); err == nil {
			return nil
		}
		if err := tx.CreateAccount(store.Account{ID: account, Name: "dev", CreatedAt: time.Now()}); err != nil {
			return err
		}
		for _, p := range []string{project, other} {
			if err := tx.CreateProject(store.Project{ID: p, AccountID: account, Name: "p" + p[:4], CreatedAt: time.Now()}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{st: st, kr: kr, path: path, now: time.Now()}
	f.svc = kms.New(st, kr, kms.Config{Region: "cn-north-4", CMKQuota: quota}, nil)
	f.svc.Now = func() time.Time { return f.now }
	return f
}

func (f *fixture) create(t *testing.T, alias, spec string) kms.Key {
	t.Helper()
	k, err := f.svc.CreateKey(t.Context(), kms.CreateKeyInput{ProjectID: project, AccountID: account, Alias: alias, Spec: spec})
	if err != nil {
		t.Fatalf("create %s: %v", spec, err)
	}
	return k
}

func (f *fixture) count(t *testing.T) int {
	t.Helper()
	n, err := f.svc.InstanceCount(t.Context(), project)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestMaterialSealedAndBound opens each key's stored material with the
// keyring under its own binding, checks it is a usable key of its spec,
// that it does not open under another key's binding, and that the
// database file never holds it in the clear.
func TestMaterialSealedAndBound(t *testing.T) {
	f := newFixture(t, "", 0)
	specs := []string{"AES_256", "SM4", "RSA_2048", "EC_P256", "EC_P384", "SECP256K1", "SM2", "HMAC_256", "HMAC_384", "HMAC_512", "HMAC_SM3"}
	wantLen := map[string]int{"AES_256": 32, "SM4": 16, "SECP256K1": 32, "HMAC_256": 32, "HMAC_384": 48, "HMAC_512": 64, "HMAC_SM3": 32}
	var materials [][]byte
	var keys []kms.Key
	for _, spec := range specs {
		keys = append(keys, f.create(t, "m-"+spec, spec))
	}
	for i, k := range keys {
		var v store.KeyVersion
		err := f.st.View(t.Context(), func(tx store.Tx) error {
			var err error
			v, err = tx.GetKeyVersion(project, k.KeyID, 1)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		b := keyring.Binding{Purpose: kms.PurposeKeyMaterial, ProjectID: project, KeyID: k.KeyID, Version: 1}
		m, err := f.kr.Open(b, v.Sealed)
		if err != nil {
			t.Fatalf("%s: open: %v", k.Spec, err)
		}
		materials = append(materials, m)
		if n, ok := wantLen[k.Spec]; ok && len(m) != n {
			t.Errorf("%s: material is %d bytes, want %d", k.Spec, len(m), n)
		}
		switch k.Spec {
		case "RSA_2048", "EC_P256", "EC_P384", "SM2":
			priv, err := smx509.ParsePKCS8PrivateKey(m)
			if err != nil {
				t.Fatalf("%s: PKCS#8: %v", k.Spec, err)
			}
			switch p := priv.(type) {
			case *rsa.PrivateKey:
				if p.N.BitLen() != 2048 {
					t.Errorf("RSA key of %d bits", p.N.BitLen())
				}
			case *ecdsa.PrivateKey:
				if want := map[string]int{"EC_P256": 256, "EC_P384": 384}[k.Spec]; p.Curve.Params().BitSize != want {
					t.Errorf("%s: curve of %d bits", k.Spec, p.Curve.Params().BitSize)
				}
			case *sm2.PrivateKey:
			default:
				t.Errorf("%s: unexpected key type %T", k.Spec, priv)
			}
		}
		// The sealed blob does not open as another key's or version's.
		other := keys[(i+1)%len(keys)].KeyID
		for _, wrong := range []keyring.Binding{
			{Purpose: kms.PurposeKeyMaterial, ProjectID: project, KeyID: other, Version: 1},
			{Purpose: kms.PurposeKeyMaterial, ProjectID: project, KeyID: k.KeyID, Version: 2},
			{Purpose: kms.PurposeKeyMaterial, ProjectID: "ffffffffffffffffffffffffffffffff", KeyID: k.KeyID, Version: 1},
		} {
			if _, err := f.kr.Open(wrong, v.Sealed); !errors.Is(err, keyring.ErrOpen) {
				t.Errorf("%s: opened under %+v", k.Spec, wrong)
			}
		}
	}
	f.st.Close()
	var db []byte
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(f.path + suffix)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		db = append(db, b...)
	}
	if len(db) == 0 {
		t.Fatal("database files are empty")
	}
	for i, m := range materials {
		// Any 16-byte window of the material would betray it.
		if bytes.Contains(db, m[:16]) || bytes.Contains(db, m[len(m)-16:]) {
			t.Errorf("%s material appears in the database file", specs[i])
		}
	}
}

func TestLifecycle(t *testing.T) {
	f := newFixture(t, "", 0)
	ctx := t.Context()
	k := f.create(t, "life", "")
	if k.Spec != "AES_256" || k.Usage != kms.UsageEncryptDecrypt || k.State != kms.StateEnabled {
		t.Fatalf("created %+v", k)
	}
	steps := []struct {
		name    string
		do      func() (kms.Key, error)
		state   kms.KeyState
		wantErr error
	}{
		{"enable enabled", func() (kms.Key, error) { return f.svc.EnableKey(ctx, project, k.KeyID) }, 0, kms.ErrKeyNotDisabled},
		{"disable", func() (kms.Key, error) { return f.svc.DisableKey(ctx, project, k.KeyID) }, kms.StateDisabled, nil},
		{"disable disabled", func() (kms.Key, error) { return f.svc.DisableKey(ctx, project, k.KeyID) }, 0, kms.ErrKeyNotEnabled},
		{"enable", func() (kms.Key, error) { return f.svc.EnableKey(ctx, project, k.KeyID) }, kms.StateEnabled, nil},
		{"schedule 6 days", func() (kms.Key, error) { return f.svc.ScheduleKeyDeletion(ctx, project, k.KeyID, 6) }, 0, kms.ErrInvalidPendingDays},
		{"schedule", func() (kms.Key, error) { return f.svc.ScheduleKeyDeletion(ctx, project, k.KeyID, 7) }, kms.StatePendingDeletion, nil},
		{"schedule again", func() (kms.Key, error) { return f.svc.ScheduleKeyDeletion(ctx, project, k.KeyID, 7) }, 0, kms.ErrAlreadyPendingDeletion},
		{"enable pending", func() (kms.Key, error) { return f.svc.EnableKey(ctx, project, k.KeyID) }, 0, kms.ErrKeyPendingDeletion},
		{"alias pending", func() (kms.Key, error) { return f.svc.UpdateKeyAlias(ctx, project, k.KeyID, "x") }, 0, kms.ErrKeyPendingDeletion},
		{"cancel", func() (kms.Key, error) { return f.svc.CancelKeyDeletion(ctx, project, k.KeyID) }, kms.StateDisabled, nil},
		{"cancel again", func() (kms.Key, error) { return f.svc.CancelKeyDeletion(ctx, project, k.KeyID) }, 0, kms.ErrNotPendingDeletion},
		{"other project", func() (kms.Key, error) { return f.svc.DisableKey(ctx, other, k.KeyID) }, 0, kms.ErrKeyNotFound},
	}
	for _, s := range steps {
		got, err := s.do()
		if s.wantErr != nil {
			if !errors.Is(err, s.wantErr) {
				t.Fatalf("%s: got %v, want %v", s.name, err, s.wantErr)
			}
			continue
		}
		if err != nil || got.State != s.state {
			t.Fatalf("%s: got state %q, %v; want %q", s.name, got.State, err, s.state)
		}
	}
}

// TestDeletionJob destroys due keys with an injected clock, across a
// restart of the store, and keeps the instance count exact.
func TestDeletionJob(t *testing.T) {
	f := newFixture(t, "", 0)
	ctx := t.Context()
	a := f.create(t, "a", "")
	b := f.create(t, "b", "")
	if _, err := f.svc.CreateDefaultKey(ctx, project, account, "obs"); err != nil {
		t.Fatal(err)
	}
	if got := f.count(t); got != 2 {
		t.Fatalf("count %d, want 2 (default keys are not counted)", got)
	}
	if _, err := f.svc.ScheduleKeyDeletion(ctx, project, a.KeyID, 7); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ScheduleKeyDeletion(ctx, project, b.KeyID, 30); err != nil {
		t.Fatal(err)
	}
	// Restart: a new service over the reopened database.
	f.st.Close()
	f = newFixture(t, f.path, 0)
	f.now = time.Now().Add(7*24*time.Hour - time.Minute)
	if n, err := f.svc.DestroyDueKeys(ctx); err != nil || n != 0 {
		t.Fatalf("before the date: destroyed %d, %v", n, err)
	}
	f.now = time.Now().Add(7*24*time.Hour + time.Minute)
	if n, err := f.svc.DestroyDueKeys(ctx); err != nil || n != 1 {
		t.Fatalf("after 7 days: destroyed %d, %v; want 1", n, err)
	}
	if _, err := f.svc.DescribeKey(ctx, project, a.KeyID); !errors.Is(err, kms.ErrKeyNotFound) {
		t.Errorf("destroyed key: got %v, want not found", err)
	}
	if got := f.count(t); got != 1 {
		t.Errorf("count %d after destruction, want 1", got)
	}
	err := f.st.View(ctx, func(tx store.Tx) error {
		vs, err := tx.ListKeyVersions(project, a.KeyID)
		if len(vs) != 0 {
			t.Errorf("%d versions survive destruction", len(vs))
		}
		return err
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	// The job loop runs until its context ends.
	f.now = time.Now().Add(31 * 24 * time.Hour)
	jctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { f.svc.RunDeletionJob(jctx, time.Hour); close(done) }()
	for f.count(t) != 0 {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
}

func TestQuota(t *testing.T) {
	f := newFixture(t, "", 2)
	ctx := t.Context()
	f.create(t, "q1", "")
	k := f.create(t, "q2", "")
	if _, err := f.svc.CreateKey(ctx, kms.CreateKeyInput{ProjectID: project, AccountID: account, Alias: "q3"}); !errors.Is(err, kms.ErrTooManyKeys) {
		t.Fatalf("third key: got %v, want ErrTooManyKeys", err)
	}
	// Default keys are outside the quota; other projects have their own.
	if _, err := f.svc.CreateDefaultKey(ctx, project, account, "evs"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CreateKey(ctx, kms.CreateKeyInput{ProjectID: other, AccountID: account, Alias: "q3"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ScheduleKeyDeletion(ctx, project, k.KeyID, 7); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CreateKey(ctx, kms.CreateKeyInput{ProjectID: project, AccountID: account, Alias: "q3"}); !errors.Is(err, kms.ErrTooManyKeys) {
		t.Fatalf("pending-deletion keys still count: got %v", err)
	}
	f.now = time.Now().Add(8 * 24 * time.Hour)
	if _, err := f.svc.DestroyDueKeys(ctx); err != nil {
		t.Fatal(err)
	}
	f.create(t, "q3", "")
	qs, err := f.svc.Quotas(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	if qs[0].Type != "CMK" || qs[0].Used != 2 || qs[0].Quota != 2 {
		t.Errorf("quotas %+v", qs)
	}
}

func TestAliasRules(t *testing.T) {
	f := newFixture(t, "", 0)
	ctx := t.Context()
	k := f.create(t, "taken", "")
	tests := []struct {
		alias string
		want  error
	}{
		{"", kms.ErrInvalidAlias},
		{"has space", kms.ErrInvalidAlias},
		{"svc/default", kms.ErrInvalidAlias},
		{string(bytes.Repeat([]byte("a"), 256)), kms.ErrInvalidAlias},
		{string(bytes.Repeat([]byte("a"), 255)), nil},
		{"taken", kms.ErrDuplicateAlias},
		{"ok:a/b_c-d", nil},
	}
	for _, tt := range tests {
		_, err := f.svc.CreateKey(ctx, kms.CreateKeyInput{ProjectID: project, AccountID: account, Alias: tt.alias})
		if !errors.Is(err, tt.want) && !(tt.want == nil && err == nil) {
			t.Errorf("create %q: got %v, want %v", tt.alias, err, tt.want)
		}
	}
	d, err := f.svc.CreateDefaultKey(ctx, project, account, "rds")
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range []func() (kms.Key, error){
		func() (kms.Key, error) { return f.svc.DisableKey(ctx, project, d.KeyID) },
		func() (kms.Key, error) { return f.svc.ScheduleKeyDeletion(ctx, project, d.KeyID, 7) },
		func() (kms.Key, error) { return f.svc.UpdateKeyAlias(ctx, project, d.KeyID, "z") },
		func() (kms.Key, error) { return f.svc.UpdateKeyDescription(ctx, project, d.KeyID, "z") },
	} {
		if _, err := fn(); !errors.Is(err, kms.ErrDefaultKey) {
			t.Errorf("default key change: got %v, want ErrDefaultKey", err)
		}
	}
	if _, err := f.svc.UpdateKeyAlias(ctx, project, k.KeyID, "ok:a/b_c-d"); !errors.Is(err, kms.ErrDuplicateAlias) {
		t.Errorf("rename onto a taken alias: got %v", err)
	}
}

// BenchmarkInstanceCount shows that the seed operation reads a maintained
// counter: its cost does not grow with the number of keys.
func BenchmarkInstanceCount(b *testing.B) {
	for _, n := range []int{10, 5000} {
		b.Run(map[int]string{10: "keys=10", 5000: "keys=5000"}[n], func(b *testing.B) {
			st, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "kmsd.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			err = st.Update(b.Context(), func(tx store.Tx) error {
				if err := tx.CreateAccount(store.Account{ID: account, Name: "dev", CreatedAt: time.Now()}); err != nil {
					return err
				}
				if err := tx.CreateProject(store.Project{ID: project, AccountID: account, Name: "p", CreatedAt: time.Now()}); err != nil {
					return err
				}
				for i := range n {
					k := store.Key{ProjectID: project, KeyID: keyID(i), AccountID: account, Spec: "AES_256", Usage: kms.UsageEncryptDecrypt, Origin: "kms", State: store.StateEnabled, CreatedAt: time.Now()}
					if err := tx.CreateKey(k); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			kr, _ := keyring.New(bytes.Repeat([]byte{1}, 32))
			svc := kms.New(st, kr, kms.Config{}, nil)
			b.ResetTimer()
			for b.Loop() {
				if _, err := svc.InstanceCount(b.Context(), project); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func keyID(i int) string {
	const hex = "0123456789abcdef"
	b := []byte("00000000-0000-4000-8000-000000000000")
	for p := len(b) - 1; i > 0; p-- {
		b[p] = hex[i%16]
		i /= 16
	}
	return string(b)
}

// BenchmarkCreateKey creates AES_256 keys from 8 and from 32 goroutines
// on a SQLite store and on a PostgreSQL one (a throwaway server; skipped
// when PostgreSQL is not installed): the keys per second of create-key
// below HTTP, and the store's batching factor (writes/group).
func BenchmarkCreateKey(b *testing.B) {
	backends := []struct {
		name string
		open func(b *testing.B) store.Store
	}{
		{"sqlite", func(b *testing.B) store.Store {
			st, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "kmsd.db"))
			if err != nil {
				b.Fatal(err)
			}
			return st
		}},
		{"postgres", func(b *testing.B) store.Store {
			st, err := postgres.Open(b.Context(), pgtest.NewDatabase(b), postgres.Options{})
			if err != nil {
				b.Fatal(err)
			}
			return st
		}},
	}
	for _, be := range backends {
		for _, clients := range []int{8, 32} {
			b.Run(fmt.Sprintf("%s/clients=%d", be.name, clients), func(b *testing.B) {
				st := be.open(b)
				defer st.Close()
				benchmarkCreateKey(b, st, clients)
			})
		}
	}
}

func benchmarkCreateKey(b *testing.B, st store.Store, clients int) {
	err := st.Update(b.Context(), func(tx store.Tx) error {
		if err := tx.CreateAccount(store.Account{ID: account, Name: "dev", CreatedAt: time.Now()}); err != nil {
			return err
		}
		return tx.CreateProject(store.Project{ID: project, AccountID: account, Name: "p", CMKQuota: 1 << 30, CreatedAt: time.Now()})
	})
	if err != nil {
		b.Fatal(err)
	}
	kr, _ := keyring.New(bytes.Repeat([]byte{1}, 32))
	svc := kms.New(st, kr, kms.Config{}, nil)
	b.SetParallelism(max(1, clients/runtime.GOMAXPROCS(0)))
	gc, _ := store.As[store.GroupCommitter](st)
	g0, w0 := gc.CommitGroups()
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			alias := fmt.Sprintf("bench-%d", n.Add(1))
			if _, err := svc.CreateKey(b.Context(), kms.CreateKeyInput{ProjectID: project, AccountID: account, Alias: alias, Spec: "AES_256"}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "keys/s")
	if g, w := gc.CommitGroups(); g > g0 {
		b.ReportMetric(float64(w-w0)/float64(g-g0), "writes/group")
	}
}
