package compat

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	kms "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2/model"

	"github.com/kmsd/kmsd/internal/backup"
	"github.com/kmsd/kmsd/internal/config"
	"github.com/kmsd/kmsd/internal/keyring"
	"github.com/kmsd/kmsd/internal/server"
	"github.com/kmsd/kmsd/internal/store"
	"github.com/kmsd/kmsd/internal/store/postgres/pgtest"
)

// backendConfig returns a function that puts the dev configuration of a
// server on the named store: a new PostgreSQL database of the tests'
// throwaway server, or the SQLite file of the data directory.
func backendConfig(t *testing.T, driver string) func(*config.Config) {
	dsn := ""
	if driver == config.DriverPostgres {
		dsn = pgtest.NewDatabase(t) // skips the test when PostgreSQL is absent
	}
	return func(cfg *config.Config) {
		cfg.Database = config.Database{Driver: config.DriverSQLite, Path: filepath.Join(cfg.DataDir, "kmsd.db")}
		if driver == config.DriverPostgres {
			cfg.Database = config.Database{Driver: config.DriverPostgres, DSN: dsn, StatementTimeout: config.Duration{Duration: config.DefaultStatementTimeout}}
		}
	}
}

// devStore opens, beside a running server, the store and the keyring of
// the dev data directory dir configured by configure.
func devStore(t *testing.T, dir string, configure func(*config.Config)) (store.Store, *keyring.Keyring) {
	t.Helper()
	cfg := server.DevConfig(dir, "127.0.0.1:0", 0)
	configure(&cfg)
	root, err := server.LoadRootKey(cfg, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	kr, err := keyring.New(root)
	if err != nil {
		t.Fatal(err)
	}
	st, err := server.OpenStore(t.Context(), cfg, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, kr
}

// TestBackupRestoreAcrossBackends fills a server with keys of every kind
// and what they made (ciphertexts, signatures, MACs), backs its store up
// while a writer keeps creating keys, restores the archive into the other
// backend, and starts a server there with the same root key: every
// ciphertext decrypts, every signature and MAC verifies, the keys keep
// their state, rotation, grants, aliases and tags, and the instance count
// and the list-keys total are those of the snapshot.
func TestBackupRestoreAcrossBackends(t *testing.T) {
	for _, dir := range []struct{ from, to string }{{"sqlite", "postgres"}, {"postgres", "sqlite"}} {
		t.Run(dir.from+"-to-"+dir.to, func(t *testing.T) {
			t.Parallel()
			fromCfg, toCfg := backendConfig(t, dir.from), backendConfig(t, dir.to)
			a := start(t, envOptions{configure: fromCfg})
			c := a.admin()
			specs := model.GetCreateKeyRequestBodyKeySpecEnum()

			type sealed struct{ keyID, ct, plain string }
			var cts []sealed
			aes := cryptoKey(t, c, specs.AES_256, "")
			sm4 := cryptoKey(t, c, specs.SM4, "")
			for _, k := range []string{aes, sm4} {
				p := secretText(t, "backup")
				cts = append(cts, sealed{k, encryptData(t, c, k, p, nil), p})
			}
			// Rotation on, and a rotation: the old ciphertext needs version 1.
			if _, err := c.EnableKeyRotation(&model.EnableKeyRotationRequest{Body: &model.OperateKeyRequestBody{KeyId: aes}}); err != nil {
				t.Fatal(err)
			}
			// An imported key.
			imported := importKey(t, c, specs.AES_256)
			if err := importFresh(t, c, imported, "RSAES_OAEP_SHA_256", newMaterial(t, 32), nil); err != nil {
				t.Fatal(err)
			}
			p := secretText(t, "imported")
			cts = append(cts, sealed{imported, encryptData(t, c, imported, p, nil), p})
			// A data key.
			dk, err := c.CreateDatakey(&model.CreateDatakeyRequest{Body: &model.CreateDatakeyRequestBody{KeyId: aes, DatakeyLength: ptr("256")}})
			if err != nil {
				t.Fatal(err)
			}
			addSecret(val(dk.PlainText))

			msg := []byte("kmsd backup: signed before, verified after")
			type signed struct {
				keyID, alg string
				sig        []byte
			}
			var sigs []signed
			for spec, alg := range map[model.CreateKeyRequestBodyKeySpec]string{specs.RSA_2048: "RSASSA_PSS_SHA_256", specs.EC_P256: "ECDSA_SHA_256"} {
				k := cryptoKey(t, c, spec, "SIGN_VERIFY")
				sig, err := sign(t, c, k, alg, "RAW", msg)
				if err != nil {
					t.Fatal(err)
				}
				sigs = append(sigs, signed{k, alg, sig})
			}
			hmacKey := createKeyRaw(t, a, "HMAC_256", "GENERATE_VERIFY_MAC")
			mac, err := generateMAC(t, c, hmacKey, "HMAC_SHA_256", msg)
			if err != nil {
				t.Fatal(err)
			}
			// A grant, an alias, tags, a key pending deletion.
			g, err := c.CreateGrant(&model.CreateGrantRequest{Body: &model.CreateGrantRequestBody{KeyId: aes, GranteePrincipal: a.ids.ReaderID, Operations: []string{"encrypt-data", "decrypt-data"}}})
			if err != nil {
				t.Fatal(err)
			}
			alias := "alias/" + newExtraAlias()
			if _, err := createAlias(c, aes, alias); err != nil {
				t.Fatal(err)
			}
			if err := createTag(c, aes, model.TagItem{Key: "env", Value: ptr("prod")}); err != nil {
				t.Fatal(err)
			}
			pending := newKey(t, c)
			if _, err := c.DeleteKey(&model.DeleteKeyRequest{Body: &model.ScheduleKeyDeletionRequestBody{KeyId: pending, PendingDays: "7"}}); err != nil {
				t.Fatal(err)
			}

			// The backup, while a writer creates keys.
			var wg sync.WaitGroup
			stop := make(chan struct{})
			var written []string
			started := make(chan struct{})
			var once sync.Once
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer once.Do(func() { close(started) }) // also when the writer fails
				for {
					select {
					case <-stop:
						return
					default:
					}
					resp, err := c.CreateKey(&model.CreateKeyRequest{Body: &model.CreateKeyRequestBody{KeyAlias: newAlias()}})
					if err != nil {
						t.Errorf("CreateKey during the backup: %v", err)
						return
					}
					if written = append(written, *resp.KeyInfo.KeyId); len(written) == 3 {
						once.Do(func() { close(started) })
					}
				}
			}()
			<-started
			st, kr := devStore(t, a.dir, fromCfg)
			var archive bytes.Buffer
			h, err := backup.Write(t.Context(), st, kr, &archive, backup.Options{Version: "compat", Backend: dir.from})
			close(stop)
			wg.Wait()
			if err != nil {
				t.Fatalf("backup: %v", err)
			}
			if bytes.Contains(archive.Bytes(), []byte(p)) {
				t.Fatal("the archive holds a plaintext")
			}
			aInstances := instances(t, c)
			aTotal := listTotal(t, c)

			// The restore into the other backend, with the same root key.
			bDir := t.TempDir()
			rootKey, err := os.ReadFile(filepath.Join(a.dir, "root.key"))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(bDir, "root.key"), rootKey, 0o600); err != nil {
				t.Fatal(err)
			}
			bst, bkr := devStore(t, bDir, toCfg)
			if _, err := backup.Restore(t.Context(), bst, bkr, func() (io.ReadCloser, error) {
				return io.NopCloser(bytes.NewReader(archive.Bytes())), nil
			}, backup.RestoreOptions{}); err != nil {
				t.Fatalf("restore: %v", err)
			}
			bst.Close()
			b := start(t, envOptions{dir: bDir, configure: toCfg})
			bc := b.admin()

			// The writer's keys in the snapshot are a prefix of those it
			// created: one snapshot, taken at one point.
			missing := 0
			for _, id := range written {
				if _, err := bc.ListGrants(&model.ListGrantsRequest{Body: &model.ListGrantsRequestBody{KeyId: id}}); err != nil {
					missing++
				} else if missing > 0 {
					t.Fatalf("key %s is in the snapshot after a key created before it that is not", id)
				}
			}
			if got := instances(t, bc); got != aInstances-int32(missing) || int64(got) > h.Counts.Keys {
				t.Errorf("user-instances after the restore: %d; %d before less %d keys created after the snapshot", got, aInstances, missing)
			}
			if got := listTotal(t, bc); got != aTotal-missing {
				t.Errorf("list-keys total after the restore: %d; %d before less %d", got, aTotal, missing)
			}
			t.Logf("%d keys created during the backup, %d of them after the snapshot; archive of %d keys, %d bytes", len(written), missing, h.Counts.Keys, archive.Len())

			for _, s := range cts {
				resp, err := decryptData(bc, s.ct, nil, nil)
				if err != nil || val(resp.PlainText) != s.plain {
					t.Errorf("decrypt a ciphertext of %s after the restore: %v", s.keyID, err)
				}
			}
			if resp, err := bc.DecryptDatakey(&model.DecryptDatakeyRequest{Body: &model.DecryptDatakeyRequestBody{KeyId: aes, CipherText: val(dk.CipherText), DatakeyCipherLength: "32"}}); err != nil || val(resp.DataKey) != val(dk.PlainText) {
				t.Errorf("decrypt-datakey after the restore: %v", err)
			}
			for _, s := range sigs {
				if ok, err := validate(t, bc, s.keyID, s.alg, "RAW", msg, s.sig); err != nil || ok != "true" {
					t.Errorf("verify a signature of %s after the restore: %q, %v", s.keyID, ok, err)
				}
				if !verifyLocal(parseSPKI(t, publicKeyDER(t, bc, s.keyID)), s.alg, digestFor(t, s.alg, parseSPKI(t, publicKeyDER(t, bc, s.keyID)), msg), s.sig) {
					t.Errorf("the public key of %s after the restore does not verify its signature", s.keyID)
				}
			}
			if ok, err := verifyMAC(t, bc, hmacKey, "HMAC_SHA_256", msg, mac); err != nil || !ok {
				t.Errorf("verify the MAC after the restore: %v, %v", ok, err)
			}
			if got, err := generateMAC(t, bc, hmacKey, "HMAC_SHA_256", msg); err != nil || got != mac {
				t.Errorf("the MAC after the restore differs: %v", err)
			}
			if d := describe(t, bc, pending); val(d.KeyState) != statePendingDeletion {
				t.Errorf("the key pending deletion is %s after the restore", val(d.KeyState))
			}
			if d := describe(t, bc, imported); enumValue(d.Origin) != "external" || val(d.KeyState) != stateEnabled {
				t.Errorf("the imported key is %s, %s after the restore", enumValue(d.Origin), val(d.KeyState))
			}
			if rs, err := bc.ShowKeyRotationStatus(&model.ShowKeyRotationStatusRequest{Body: &model.OperateKeyRequestBody{KeyId: aes}}); err != nil || rs.KeyRotationEnabled == nil || !*rs.KeyRotationEnabled {
				t.Errorf("rotation of the AES key after the restore: %v", err)
			}
			if gs, err := bc.ListGrants(&model.ListGrantsRequest{Body: &model.ListGrantsRequestBody{KeyId: aes}}); err != nil || gs.Grants == nil || len(*gs.Grants) != 1 || val((*gs.Grants)[0].GrantId) != val(g.GrantId) {
				t.Errorf("grants of the AES key after the restore: %v", err)
			}
			if names, _ := listAliasPages(t, bc, aes, 10); !slices.Contains(names, alias) {
				t.Errorf("aliases of the AES key after the restore: %v, want %s among them", names, alias)
			}
			if got := keyTags(t, bc, aes); len(got) != 1 || got[0] != (tag{"env", "prod"}) {
				t.Errorf("tags of the AES key after the restore: %v", got)
			}
			// The restored server writes: a new key counts.
			newKey(t, bc)
			if got := instances(t, bc); got != aInstances-int32(missing)+1 {
				t.Errorf("user-instances after a create on the restored server: %d", got)
			}
		})
	}
}

// listTotal returns list-keys' total over every state and spec.
func listTotal(t *testing.T, c *kms.KmsClient) int {
	t.Helper()
	all := model.GetListKeysRequestBodyKeySpecEnum().ALL
	resp := listKeys(t, c, model.ListKeysRequestBody{KeySpec: &all, Limit: ptr("1")})
	if resp.Total == nil {
		t.Fatal("ListKeys answered no total")
	}
	return int(*resp.Total)
}
