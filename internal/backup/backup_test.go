package backup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/kmsd/kmsd/internal/keyring"
	"github.com/kmsd/kmsd/internal/store"
	"github.com/kmsd/kmsd/internal/store/postgres"
	"github.com/kmsd/kmsd/internal/store/postgres/pgtest"
	"github.com/kmsd/kmsd/internal/store/sqlite"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// t0 has millisecond precision, which every backend keeps.
var t0 = time.Date(2026, time.March, 14, 15, 9, 26, 535_000_000, time.UTC)

func testKeyring(t testing.TB, b byte) *keyring.Keyring {
	t.Helper()
	kr, err := keyring.New(bytes.Repeat([]byte{b}, keyring.RootKeySize))
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func openSQLite(t testing.TB) store.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "kmsd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openPostgres(t testing.TB) store.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), pgtest.NewDatabase(t), postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var backends = map[string]func(testing.TB) store.Store{"sqlite": openSQLite, "postgres": openPostgres}

// populate fills st with n keys per project of two projects and one row
// or more of every other kind, all fields set, deterministically.
func populate(t testing.TB, st store.Store, kr *keyring.Keyring, n int) {
	t.Helper()
	at := t0
	id := func(prefix string, i int) string { return fmt.Sprintf("%s%028x", prefix, i) }
	uuid := func(i int) string { return fmt.Sprintf("0b5e4a1c-7d2f-4e3a-9c1b-%012x", i) }
	err := st.Update(t.Context(), func(tx store.Tx) error {
		for a := range 2 {
			acct := store.Account{ID: id("acc0", a), Name: fmt.Sprintf("account-%d", a), CreatedAt: at}
			proj := store.Project{ID: id("prj0", a), AccountID: acct.ID, Name: "cn-north-4", CMKQuota: 5000 + a, GrantQuota: 7, CreatedAt: at}
			user := store.User{ID: id("usr0", a), AccountID: acct.ID, Name: "admin", PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
				Policies: []string{"KMS Administrator", "custom"}, Disabled: a == 1, CreatedAt: at}
			ks := store.Keystore{ID: uuid(9000 + a), ProjectID: proj.ID, AccountID: acct.ID, Alias: "hsm", Type: "DHSM",
				HSMClusterID: fmt.Sprintf("token-%d", a), ClusterID: "c", State: "1", CreatedAt: at}
			space := store.KeySpace{ProjectID: proj.ID, ID: uuid(8000 + a), Name: "space", Type: "2", KeystoreID: ks.ID, Description: "d", CreatedAt: at}
			for _, err := range []error{
				tx.CreateAccount(acct), tx.CreateProject(proj), tx.CreateUser(user),
				tx.CreateAccessKey(store.AccessKey{AK: fmt.Sprintf("AK%018d", a), UserID: user.ID, SealedSK: []byte{1, 2, byte(a)}, Disabled: a == 1, CreatedAt: at}),
				tx.PutPolicy(store.Policy{AccountID: acct.ID, Name: "custom", Document: []byte(`{"Version":"1.1","Statement":[]}`), CreatedAt: at}),
				tx.CreateKeystore(ks), tx.CreateKeySpace(space),
			} {
				if err != nil {
					return err
				}
			}
			for i := range n {
				k := store.Key{ProjectID: proj.ID, KeyID: uuid(a*1_000_000 + i), AccountID: acct.ID, Alias: fmt.Sprintf("key-%d", i),
					Description: "d", Spec: "AES_256", Usage: "ENCRYPT_DECRYPT", Origin: store.OriginKMS, State: store.StateEnabled,
					EnterpriseProjectID: "0", PrimaryVersion: 1, CreatedAt: at.Add(time.Duration(i) * time.Millisecond), Revision: int64(i % 5)}
				switch i % 4 {
				case 1:
					k.RotationEnabled, k.RotationInterval, k.LastRotation, k.RotationCount, k.PrimaryVersion = true, 30, at, 1, 2
				case 2:
					k.Origin, k.State, k.DeletionDate = store.OriginExternal, store.StatePendingDeletion, at.Add(7*24*time.Hour)
					k.MaterialExpiresAt, k.MaterialFingerprint = at.Add(time.Hour), []byte{9, byte(i)}
				case 3:
					k.Default, k.Alias, k.KeystoreID = i == 3, "", ks.ID
				}
				if err := tx.CreateKey(k); err != nil {
					return err
				}
				for v := 1; v <= k.PrimaryVersion; v++ {
					if err := tx.PutKeyVersion(store.KeyVersion{ProjectID: proj.ID, KeyID: k.KeyID, Version: v, Sealed: bytes.Repeat([]byte{byte(v)}, 60), CreatedAt: at}); err != nil {
						return err
					}
				}
				if i%10 == 0 {
					g := store.Grant{ProjectID: proj.ID, KeyID: k.KeyID, GrantID: id("grant0000", a*1_000_000+i) + id("", i)[:28] + "0000",
						Name: "g", GranteePrincipal: user.ID, GranteePrincipalType: store.GranteeUser,
						Operations: []string{"encrypt-data", "decrypt-data"}, IssuingPrincipal: user.ID, RetiringPrincipal: user.ID, CreatedAt: at}
					for _, err := range []error{
						tx.CreateGrant(g),
						tx.CreateAlias(store.Alias{ProjectID: proj.ID, Alias: fmt.Sprintf("alias/k%d", i), KeyID: k.KeyID, CreatedAt: at, UpdatedAt: at.Add(time.Second)}),
						tx.PutTag(proj.ID, k.KeyID, "env", "prod"), tx.PutTag(proj.ID, k.KeyID, "team", ""),
						tx.PutImportToken(store.ImportToken{ProjectID: proj.ID, KeyID: k.KeyID, TokenID: id("tok00", a*1_000_000+i), WrappingAlgorithm: "RSAES_OAEP_SHA_256",
							WrappingKeySpec: "RSA_2048", SealedPrivateKey: []byte{4, 5}, ExpiresAt: at.Add(24 * time.Hour), CreatedAt: at}),
						tx.PutKeyRegion(store.KeyRegion{ProjectID: proj.ID, KeyID: k.KeyID, PrimaryRegion: "cn-north-4", MaterialProjectID: proj.ID,
							Replicas: []store.KeyReplica{{Region: "ap-southeast-1", ProjectID: id("rep0", i)}, {Region: "cn-east-3", ProjectID: id("rep1", i)}}}),
					} {
						if err != nil {
							return err
						}
					}
				}
			}
			ap := store.AccessPoint{ProjectID: proj.ID, KeySpaceID: space.ID, ID: uuid(7000 + a), Name: "ap", Type: 3, State: 1, Identity: "i",
				ClusterID: "c", Description: "d", PublicKey: []byte{1}, SealedPrivateKey: []byte{2}, CreatedBy: user.ID, CreatedAt: at, UpdatedAt: at}
			kp := store.KeyPolicy{ProjectID: proj.ID, KeySpaceID: space.ID, ID: uuid(6000 + a), Name: "kp", Document: []byte(`{}`), Description: "d",
				CreatedBy: user.ID, CreatedAt: at, UpdatedAt: at, LastAccessAt: at.Add(time.Minute)}
			if err := tx.CreateAccessPoint(ap); err != nil {
				return err
			}
			if err := tx.CreateKeyPolicy(kp); err != nil {
				return err
			}
		}
		if err := tx.PutMeta("root_key_check", kr.CheckValue()); err != nil {
			return err
		}
		return tx.PutMeta("format", []byte{1})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// dump reads every row of st into memory, in archive order.
func dump(t testing.TB, st store.Store) []any {
	t.Helper()
	var out []any
	err := st.View(t.Context(), func(tx store.Tx) error {
		return eachRow(tx.(store.Dumper), func(v any) error { out = append(out, v); return nil })
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func storeCounts(t testing.TB, st store.Store) store.DumpCounts {
	t.Helper()
	var c store.DumpCounts
	err := st.View(t.Context(), func(tx store.Tx) (err error) {
		c, err = tx.(store.Dumper).DumpCounts()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var cmpOpts = cmp.Options{
	cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) }),
	cmpopts.EquateEmpty(),
}

func archive(t testing.TB, st store.Store, kr *keyring.Keyring) []byte {
	t.Helper()
	var buf bytes.Buffer
	var last int64
	h, err := Write(t.Context(), st, kr, &buf, Options{Version: "test", Backend: "sqlite",
		Now: func() time.Time { return t0 }, Progress: func(done, total int64) { last = done }})
	if err != nil {
		t.Fatal(err)
	}
	if c := h.Counts; last != c.Keys+c.KeyVersions+c.Accounts+c.Projects+c.Users+c.AccessKeys+c.Policies+
		c.Keystores+c.KeySpaces+c.KeyRegions+c.Grants+c.Aliases+c.Tags+c.ImportTokens+c.AccessPoints+c.KeyPolicies+c.Meta {
		t.Errorf("the last progress report says %d records", last)
	}
	return buf.Bytes()
}

func opener(b []byte) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
}

// TestRoundTrip backs up a store of each backend and restores it into
// each: the restored store holds the same rows, field for field, and the
// same maintained counters.
func TestRoundTrip(t *testing.T) {
	kr := testKeyring(t, 1)
	for _, from := range []string{"sqlite", "postgres"} {
		for _, to := range []string{"sqlite", "postgres"} {
			t.Run(from+"-to-"+to, func(t *testing.T) {
				src := backends[from](t)
				populate(t, src, kr, 40)
				b := archive(t, src, kr)
				dst := backends[to](t)
				h, err := Restore(t.Context(), dst, kr, opener(b), RestoreOptions{})
				if err != nil {
					t.Fatalf("Restore: %v", err)
				}
				if h.Counts != storeCounts(t, src) || !h.Created.Equal(t0) || h.Version != "test" {
					t.Errorf("header %+v", h)
				}
				if d := cmp.Diff(dump(t, src), dump(t, dst), cmpOpts); d != "" {
					t.Errorf("restored store differs (-source +restored):\n%s", d)
				}
				for _, p := range []string{fmt.Sprintf("prj0%028x", 0), fmt.Sprintf("prj0%028x", 1)} {
					var want, got store.KeyCounts
					var wantN, gotN int
					for st, c := range map[store.Store]*store.KeyCounts{src: &want, dst: &got} {
						n := &wantN
						if st == dst {
							n = &gotN
						}
						st.View(t.Context(), func(tx store.Tx) (err error) {
							if *c, err = tx.KeyCounts(p); err != nil {
								return err
							}
							_, *n, err = tx.ListKeys(p, store.KeyFilter{State: store.StateEnabled}, 0, 1)
							return err
						})
					}
					if want != got || wantN != gotN || want.Custom == 0 {
						t.Errorf("project %s: counts %+v, list total %d after the restore; %+v, %d before", p, got, gotN, want, wantN)
					}
				}
				// A second archive of the restored store is the same bytes:
				// nothing was lost or changed on the way.
				if b2 := archive(t, dst, kr); !bytes.Equal(b, b2) {
					t.Errorf("the archive of the restored store differs from the original (%d and %d bytes)", len(b), len(b2))
				}
			})
		}
	}
}

// TestRestoreRefuses checks that a wrong root key, a damaged archive and a
// store that is not empty are refused, and that nothing is written.
func TestRestoreRefuses(t *testing.T) {
	kr := testKeyring(t, 1)
	src := openSQLite(t)
	populate(t, src, kr, 12)
	good := archive(t, src, kr)

	// Record boundaries, to reorder records.
	var starts []int
	for off := len(magic) + 1; off < len(good); {
		starts = append(starts, off)
		n, w := uvarintAt(good[off+1:])
		off += 1 + w + int(n) + tagSize
	}
	swapped := append([]byte(nil), good[:starts[3]]...)
	swapped = append(swapped, good[starts[4]:starts[5]]...)
	swapped = append(swapped, good[starts[3]:starts[4]]...)
	swapped = append(swapped, good[starts[5]:]...)
	flip := func(i int) []byte { b := append([]byte(nil), good...); b[i] ^= 0x01; return b }

	cases := []struct {
		name string
		b    []byte
		kr   *keyring.Keyring
		want error
	}{
		{"wrong root key", good, testKeyring(t, 2), ErrWrongRootKey},
		{"empty", nil, kr, ErrNotArchive},
		{"other file", []byte("SQLite format 3\x00...."), kr, ErrNotArchive},
		{"future version", append(append([]byte(magic), 0x02), good[len(magic)+1:]...), kr, ErrVersion},
		{"truncated in the header", good[:20], kr, ErrCorrupt},
		{"truncated in a record", good[:len(good)/2], kr, ErrCorrupt},
		{"truncated before the trailer", good[:starts[len(starts)-1]], kr, ErrCorrupt},
		{"truncated in the trailer tag", good[:len(good)-1], kr, ErrCorrupt},
		{"trailing bytes", append(append([]byte(nil), good...), 0), kr, ErrCorrupt},
		{"edited header", flip(starts[0] + 5), kr, ErrCorrupt},
		{"edited record", flip(len(good) / 2), kr, ErrCorrupt},
		{"edited tag", flip(starts[2] - 1), kr, ErrCorrupt},
		{"edited trailer", flip(len(good) - tagSize - 2), kr, ErrCorrupt},
		{"records swapped", swapped, kr, ErrCorrupt},
		{"record removed", append(append([]byte(nil), good[:starts[3]]...), good[starts[4]:]...), kr, ErrCorrupt},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dst := openSQLite(t)
			_, err := Restore(t.Context(), dst, tc.kr, opener(tc.b), RestoreOptions{})
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if c := storeCounts(t, dst); c != (store.DumpCounts{}) {
				t.Errorf("the refused restore wrote %+v", c)
			}
		})
	}

	// An archive that passes the verification and is damaged when it is
	// read again for writing: the one transaction is rolled back.
	for name, open := range backends {
		t.Run("damaged during the write on "+name, func(t *testing.T) {
			dst := open(t)
			calls := 0
			_, err := Restore(t.Context(), dst, kr, func() (io.ReadCloser, error) {
				calls++
				if calls == 1 {
					return io.NopCloser(bytes.NewReader(good)), nil
				}
				return io.NopCloser(bytes.NewReader(good[:len(good)-10])), nil
			}, RestoreOptions{})
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("got %v, want ErrCorrupt", err)
			}
			if c := storeCounts(t, dst); c != (store.DumpCounts{}) {
				t.Errorf("the failed restore left %+v", c)
			}
		})
	}

	t.Run("store not empty", func(t *testing.T) {
		before := dump(t, src)
		_, err := Restore(t.Context(), src, kr, opener(good), RestoreOptions{})
		if !errors.Is(err, ErrNotEmpty) {
			t.Fatalf("got %v, want ErrNotEmpty", err)
		}
		if d := cmp.Diff(before, dump(t, src), cmpOpts); d != "" {
			t.Errorf("the refused restore changed the store:\n%s", d)
		}
	})
	t.Run("store of another root key", func(t *testing.T) {
		dst := openSQLite(t)
		dst.Update(t.Context(), func(tx store.Tx) error { return tx.PutMeta(rootCheckMeta, testKeyring(t, 3).CheckValue()) })
		if _, err := Restore(t.Context(), dst, kr, opener(good), RestoreOptions{}); !errors.Is(err, ErrNotEmpty) {
			t.Fatalf("got %v, want ErrNotEmpty", err)
		}
	})
}

func uvarintAt(b []byte) (uint64, int) {
	var c codec
	c.dec, c.buf = true, b
	var v uint64
	c.uvarint(&v)
	return v, len(b) - len(c.buf)
}

// TestBackupWhileWriting backs up a store while another goroutine keeps
// creating keys: the archive is one snapshot, so it restores (its counts
// and rows agree) whatever the writer did meanwhile.
func TestBackupWhileWriting(t *testing.T) {
	kr := testKeyring(t, 1)
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			src := open(t)
			populate(t, src, kr, 200)
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan int)
			go func() {
				n := 0
				for ctx.Err() == nil {
					k := store.Key{ProjectID: fmt.Sprintf("prj0%028x", 0), KeyID: fmt.Sprintf("1b5e4a1c-7d2f-4e3a-9c1b-%012x", n),
						AccountID: fmt.Sprintf("acc0%028x", 0), Spec: "AES_256", Usage: "ENCRYPT_DECRYPT", Origin: store.OriginKMS,
						State: store.StateEnabled, PrimaryVersion: 1, CreatedAt: t0}
					err := src.Update(ctx, func(tx store.Tx) error {
						if err := tx.CreateKey(k); err != nil {
							return err
						}
						return tx.PutKeyVersion(store.KeyVersion{ProjectID: k.ProjectID, KeyID: k.KeyID, Version: 1, Sealed: []byte{1}, CreatedAt: t0})
					})
					if err == nil {
						n++
					}
				}
				done <- n
			}()
			var b []byte
			for range 3 {
				b = archive(t, src, kr)
			}
			cancel()
			n := <-done
			dst := openSQLite(t)
			h, err := Restore(t.Context(), dst, kr, opener(b), RestoreOptions{})
			if err != nil {
				t.Fatalf("Restore: %v", err)
			}
			if h.Counts.Keys != h.Counts.KeyVersions-100 { // keys with i%4 == 1 have two versions
				t.Errorf("archive of %d keys and %d versions: not one snapshot", h.Counts.Keys, h.Counts.KeyVersions)
			}
			t.Logf("%d keys created during the backups; the last archive holds %d keys", n, h.Counts.Keys)
		})
	}
}

// TestSameRoot checks the comparison of the configured root key with a
// store's check value, before and after a root key rotation (format 2
// names the newest generation).
func TestSameRoot(t *testing.T) {
	a, b := bytes.Repeat([]byte{1}, keyring.RootKeySize), bytes.Repeat([]byte{2}, keyring.RootKeySize)
	ka, kb := testKeyring(t, 1), testKeyring(t, 2)
	rotated, err := keyring.NewGenerations(2, keyring.Generation{Number: 1, Root: a}, keyring.Generation{Number: 2, Root: b})
	if err != nil {
		t.Fatal(err)
	}
	v2 := rotated.CheckValue()
	if v2[0] != 0x02 {
		t.Fatalf("check value of generation 2: %x", v2)
	}
	for _, tc := range []struct {
		kr     *keyring.Keyring
		stored []byte
		want   bool
	}{
		{ka, ka.CheckValue(), true}, {kb, ka.CheckValue(), false},
		{kb, v2, true}, {ka, v2, false}, {ka, []byte{0x02, 0, 0}, false},
	} {
		if got := sameRoot(tc.kr, tc.stored); got != tc.want {
			t.Errorf("sameRoot(%x…): %v, want %v", tc.stored[:3], got, tc.want)
		}
	}
	// A backup with a root key that is not the store's is refused.
	st := openSQLite(t)
	populate(t, st, ka, 1)
	if _, err := Write(t.Context(), st, kb, io.Discard, Options{}); !errors.Is(err, ErrWrongRootKey) {
		t.Errorf("Write with another root key: %v, want ErrWrongRootKey", err)
	}
}
