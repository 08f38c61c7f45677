package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kmsd/kmsd/internal/auth"
	"github.com/kmsd/kmsd/internal/keyring"
	"github.com/kmsd/kmsd/internal/store"
	"github.com/kmsd/kmsd/internal/store/postgres"
	"github.com/kmsd/kmsd/internal/store/postgres/pgtest"
	"github.com/kmsd/kmsd/internal/store/sqlite"
)

// The identities of the root key rotation test.
const (
	rkProject  = "33333333333333333333333333333333"
	rkAdminAK  = "ROTATEADMINAK0000001"
	rkAdminSK  = "RotateAdminSecretKey000000000000000001"
	rkAppAK    = "ROTATEAPPAK000000001"
	rkAppSK    = "RotateAppSecretKey00000000000000000001"
	rkPassword = "rotate-admin-password-1"
)

// rkClient signs requests to one node the way the SDKs sign them.
type rkClient struct {
	endpoint string
	ak, sk   string
	token    string // X-Auth-Token instead of a signature when set
}

func (c rkClient) do(ctx context.Context, method, path, body string) (int, []byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.endpoint+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Content-Type", "application/json;charset=UTF-8")
	req.Header.Set("X-Project-Id", rkProject)
	if c.token != "" {
		req.Header.Set("X-Auth-Token", c.token)
	} else if c.ak != "" {
		if err := auth.SignRequest(req, []byte(body), "SDK-HMAC-SHA256", c.ak, c.sk, time.Now()); err != nil {
			return 0, nil, nil, err
		}
	}
	cl := http.Client{Timeout: 10 * time.Second}
	resp, err := cl.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header, err
}

// kms calls a KMS operation and decodes its answer into out (when not
// nil); any status but want fails the test.
func (c rkClient) kms(t *testing.T, op, body string, out any) {
	t.Helper()
	method, want := "POST", 200
	switch op {
	case "key-spaces", "access-points":
		want = 201
	}
	status, b, _, err := c.do(t.Context(), method, "/v1.0/"+rkProject+"/kms/"+op, body)
	if err != nil || status != want {
		t.Fatalf("%s %s: %d %s %v", op, body, status, b, err)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s: %v in %s", op, err, b)
		}
	}
}

// rkFixture is what the test made before the rotation and checks after.
type rkFixture struct {
	aesKey, rsaKey, importedKey, pendingKey string
	ciphertext, importedCiphertext          string
	message, signature                      string
	pendingToken                            string
	pendingPublic                           *rsa.PublicKey
	accessPoint                             string
	iamToken                                string
}

func rkKeyID(t *testing.T, c rkClient, body string) string {
	t.Helper()
	var v struct {
		KeyInfo struct {
			KeyID string `json:"key_id"`
		} `json:"key_info"`
	}
	c.kms(t, "create-key", body, &v)
	return v.KeyInfo.KeyID
}

func rkImportParams(t *testing.T, c rkClient, keyID string) (string, *rsa.PublicKey) {
	t.Helper()
	var p struct {
		ImportToken string `json:"import_token"`
		PublicKey   string `json:"public_key"`
	}
	c.kms(t, "get-parameters-for-import", `{"key_id":"`+keyID+`","wrapping_algorithm":"RSAES_OAEP_SHA_256"}`, &p)
	der, err := base64.StdEncoding.DecodeString(p.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		t.Fatal(err)
	}
	return p.ImportToken, pub.(*rsa.PublicKey)
}

func rkImport(t *testing.T, c rkClient, keyID, token string, pub *rsa.PublicKey) {
	t.Helper()
	material := make([]byte, 32)
	rand.Read(material)
	wrapped, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, pub, material, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.kms(t, "import-key-material", `{"key_id":"`+keyID+`","import_token":"`+token+`","encrypted_key_material":"`+base64.StdEncoding.EncodeToString(wrapped)+`"}`, nil)
}

func rkEncrypt(t *testing.T, c rkClient, keyID, plain string) string {
	t.Helper()
	var v struct {
		CipherText string `json:"cipher_text"`
	}
	c.kms(t, "encrypt-data", `{"key_id":"`+keyID+`","plain_text":"`+plain+`"}`, &v)
	return v.CipherText
}

func rkDecrypt(t *testing.T, c rkClient, ct string) string {
	t.Helper()
	var v struct {
		PlainText string `json:"plain_text"`
	}
	c.kms(t, "decrypt-data", `{"cipher_text":"`+ct+`"}`, &v)
	return v.PlainText
}

// makeFixture creates, on a node of generation 1, an item of every sealed
// kind and the outputs to check later.
func makeFixture(t *testing.T, c rkClient) rkFixture {
	var f rkFixture
	f.aesKey = rkKeyID(t, c, `{"key_alias":"rk-aes"}`)
	f.ciphertext = rkEncrypt(t, c, f.aesKey, "before the rotation")
	f.rsaKey = rkKeyID(t, c, `{"key_alias":"rk-rsa","key_spec":"RSA_2048","key_usage":"SIGN_VERIFY"}`)
	f.message = base64.StdEncoding.EncodeToString([]byte("signed before the rotation"))
	var sig struct {
		Signature string `json:"signature"`
	}
	c.kms(t, "sign", `{"key_id":"`+f.rsaKey+`","message":"`+f.message+`","signing_algorithm":"RSASSA_PSS_SHA_256","message_type":"RAW"}`, &sig)
	f.signature = sig.Signature
	f.importedKey = rkKeyID(t, c, `{"key_alias":"rk-imported","origin":"external"}`)
	tok, pub := rkImportParams(t, c, f.importedKey)
	rkImport(t, c, f.importedKey, tok, pub)
	f.importedCiphertext = rkEncrypt(t, c, f.importedKey, "imported before the rotation")
	// An import token that is used only after the rotation: its private
	// key is re-sealed, its HMAC still verifies.
	f.pendingKey = rkKeyID(t, c, `{"key_alias":"rk-pending","origin":"external"}`)
	f.pendingToken, f.pendingPublic = rkImportParams(t, c, f.pendingKey)
	var ks struct {
		KeyspaceID string `json:"keyspace_id"`
	}
	c.kms(t, "key-spaces", `{"keyspace_name":"rk-space"}`, &ks)
	var ap struct {
		AccessPointID string `json:"access_point_id"`
	}
	c.kms(t, "access-points", `{"keyspace_id":"`+ks.KeyspaceID+`","access_point_name":"rk-ap","type":3}`, &ap)
	f.accessPoint = ap.AccessPointID
	// Many keys, so that the rotation runs long enough to be killed.
	for i := range 120 {
		rkKeyID(t, c, fmt.Sprintf(`{"key_alias":"rk-bulk-%d"}`, i))
	}
	body := `{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"admin","password":"` + rkPassword + `","domain":{"name":"rotation"}}}},"scope":{"project":{"id":"` + rkProject + `"}}}}`
	status, b, h, err := rkClient{endpoint: c.endpoint}.do(t.Context(), "POST", "/v3/auth/tokens", body)
	if err != nil || status != 201 || h.Get("X-Subject-Token") == "" {
		t.Fatalf("IAM token: %d %s %v", status, b, err)
	}
	f.iamToken = h.Get("X-Subject-Token")
	return f
}

// checkFixture checks, on a node that has only the new root key, that
// everything made before the rotation still works.
func checkFixture(t *testing.T, c rkClient, f rkFixture) {
	if got := rkDecrypt(t, c, f.ciphertext); got != "before the rotation" {
		t.Errorf("decrypt of a ciphertext from before: %q", got)
	}
	if got := rkDecrypt(t, c, f.importedCiphertext); got != "imported before the rotation" {
		t.Errorf("decrypt with imported material from before: %q", got)
	}
	var v struct {
		SignatureValid string `json:"signature_valid"`
	}
	c.kms(t, "verify", `{"key_id":"`+f.rsaKey+`","message":"`+f.message+`","signature":"`+f.signature+`","signing_algorithm":"RSASSA_PSS_SHA_256","message_type":"RAW"}`, &v)
	if v.SignatureValid != "true" {
		t.Errorf("verify of a signature from before: %q", v.SignatureValid)
	}
	// The import token issued before the rotation still imports.
	rkImport(t, c, f.pendingKey, f.pendingToken, f.pendingPublic)
	rkEncrypt(t, c, f.pendingKey, "x")
	// The access point's private key, sealed before, downloads once.
	status, b, _, err := c.do(t.Context(), "POST", "/v1.0/"+rkProject+"/kms/access-points/"+f.accessPoint+"/get-privatekey", "")
	if err != nil || status != 200 || !strings.Contains(string(b), "PRIVATE KEY") {
		t.Errorf("get-privatekey of an access point from before: %d %.200s %v", status, b, err)
	}
	// Both access keys authenticate; the token from before verifies.
	app := rkClient{endpoint: c.endpoint, ak: rkAppAK, sk: rkAppSK}
	app.kms(t, "describe-key", `{"key_id":"`+f.aesKey+`"}`, nil)
	tok := rkClient{endpoint: c.endpoint, token: f.iamToken}
	tok.kms(t, "describe-key", `{"key_id":"`+f.aesKey+`"}`, nil)
}

// rkSetup is a data directory with configurations for each step.
type rkSetup struct {
	dir, bin         string
	env              []string
	v1, v2, v3       string // root.key; root-2.key with root.key previous; root-2.key only
	openStore        func(t *testing.T) store.Store
	sqlitePath, desc string
}

func newRKSetup(t *testing.T, driver string) *rkSetup {
	s := &rkSetup{dir: t.TempDir(), bin: buildKmsd(t), desc: driver}
	database := "database: {path: " + filepath.Join(s.dir, "kmsd.db") + "}"
	s.sqlitePath = filepath.Join(s.dir, "kmsd.db")
	s.env = []string{"RK_ADMIN_SK=" + rkAdminSK, "RK_APP_SK=" + rkAppSK, "RK_PASSWORD=" + rkPassword}
	s.openStore = func(t *testing.T) store.Store {
		st, err := sqlite.Open(t.Context(), s.sqlitePath)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	if driver == "postgres" {
		pg, err := pgtest.Start()
		if errors.Is(err, pgtest.ErrNotInstalled) {
			t.Skip(err)
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pg.Stop)
		dsn, err := pg.CreateDatabase(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		database = "database: {driver: postgres, dsn_env: RK_DSN}"
		s.env = append(s.env, "RK_DSN="+dsn)
		s.openStore = func(t *testing.T) store.Store {
			st, err := postgres.Open(t.Context(), dsn, postgres.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return st
		}
	}
	boot := `accounts:
  - name: rotation
    projects: [{name: cn-north-4, id: ` + rkProject + `}]
    users:
      - name: admin
        password_env: RK_PASSWORD
        policies: ["KMS Administrator"]
        access_keys: [{ak: ` + rkAdminAK + `, sk_env: RK_ADMIN_SK}]
      - name: app
        policies: ["KMS Administrator"]
        access_keys: [{ak: ` + rkAppAK + `, sk_env: RK_APP_SK}]
`
	write := func(name, body string) string {
		p := filepath.Join(s.dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("identities.yaml", boot)
	common := fmt.Sprintf("listen: 127.0.0.1:0\ndata_dir: %s\nbootstrap: identities.yaml\nquotas: {cmk: 100000}\n%s\nnode_id: node1\nthrottle: {enabled: false}\n", s.dir, database)
	s.v1 = write("v1.yaml", common+"root_key: {file: root.key}\n")
	s.v2 = write("v2.yaml", common+"root_key: {file: root-2.key}\nprevious_root_keys: [{file: root.key}]\n")
	s.v3 = write("v3.yaml", common+"root_key: {file: root-2.key}\n")
	return s
}

// kmsd runs the kmsd binary to completion.
func (s *rkSetup) kmsd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), s.bin, args...)
	cmd.Env = append(os.Environ(), s.env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// rotationProgress reads the progress record of the rotation from the
// store, as the rotate process left it.
func (s *rkSetup) rotationProgress(t *testing.T, st store.Store) (walked int, target uint32) {
	t.Helper()
	var b []byte
	err := st.View(t.Context(), func(tx store.Tx) (err error) {
		b, err = tx.GetMeta("root_key_rotation")
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return 0, 0
	}
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Walked int    `json:"walked"`
		Target uint32 `json:"target"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	return p.Walked, p.Target
}

func TestRootKeyRotate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the kmsd binary")
	}
	testRootKeyRotate(t, "sqlite")
}

func TestRootKeyRotatePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the kmsd binary")
	}
	testRootKeyRotate(t, "postgres")
}

// testRootKeyRotate: a node of generation 1 makes items of every sealed
// kind; a second root key is added and the node restarted with both;
// kmsd rootkey rotate runs under a load on the node and is killed with
// SIGKILL mid-way; a start with only the new key is then refused, naming
// the generation and its count; the rerun resumes and reports done; a
// node with only the new root key serves everything made before and
// during the rotation, and one with only the old key is refused.
func testRootKeyRotate(t *testing.T, driver string) {
	s := newRKSetup(t, driver)
	if err := keyring.CreateRootKeyFile(filepath.Join(s.dir, "root.key")); err != nil {
		t.Fatal(err)
	}
	n1 := startNode(t, s.bin, s.v1, s.env)
	admin := rkClient{endpoint: n1.endpoint, ak: rkAdminAK, sk: rkAdminSK}
	f := makeFixture(t, admin)
	n1.cmd.Process.Signal(syscall.SIGTERM)
	n1.cmd.Wait()

	// The new root key: init creates it and registers generation 2.
	if out, err := s.kmsd(t, "init", "--config", s.v2); err != nil || !strings.Contains(out, "created root key file") {
		t.Fatalf("kmsd init with the new root key: %v\n%s", err, out)
	}
	n2 := startNode(t, s.bin, s.v2, s.env)
	c2 := rkClient{endpoint: n2.endpoint, ak: rkAdminAK, sk: rkAdminSK}
	if out, err := s.kmsd(t, "rootkey", "status", "--config", s.v2); err != nil || !strings.Contains(out, "generation 1 active (sealing)") || !strings.Contains(out, "generation 2 active: 0 items") {
		t.Fatalf("rootkey status before the rotation: %v\n%s", err, out)
	}

	// A load on the node while the rotation runs: every answer must be
	// right, and what it makes must survive the rotation.
	type made struct{ ct, plain string }
	var mu sync.Mutex
	var during []made
	var loadKeys []string
	loadCtx, stopLoad := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	loadErr := make(chan error, 4)
	for w := range 2 {
		wg.Go(func() {
			for i := 0; loadCtx.Err() == nil; i++ {
				plain := fmt.Sprintf("during-%d-%d", w, i)
				var v struct {
					CipherText string `json:"cipher_text"`
				}
				status, b, _, err := c2.do(loadCtx, "POST", "/v1.0/"+rkProject+"/kms/encrypt-data", `{"key_id":"`+f.aesKey+`","plain_text":"`+plain+`"}`)
				if loadCtx.Err() != nil {
					return
				}
				if err != nil || status != 200 || json.Unmarshal(b, &v) != nil {
					loadErr <- fmt.Errorf("encrypt-data during the rotation: %d %s %v", status, b, err)
					return
				}
				status, b, _, err = c2.do(loadCtx, "POST", "/v1.0/"+rkProject+"/kms/decrypt-data", `{"cipher_text":"`+v.CipherText+`"}`)
				if loadCtx.Err() != nil {
					return
				}
				if err != nil || status != 200 || !strings.Contains(string(b), plain) {
					loadErr <- fmt.Errorf("decrypt-data during the rotation: %d %s %v", status, b, err)
					return
				}
				status, b, _, err = c2.do(loadCtx, "POST", "/v1.0/"+rkProject+"/kms/create-key", fmt.Sprintf(`{"key_alias":"during-%d-%d"}`, w, i))
				if loadCtx.Err() != nil {
					return
				}
				var k struct {
					KeyInfo struct {
						KeyID string `json:"key_id"`
					} `json:"key_info"`
				}
				if err != nil || status != 200 || json.Unmarshal(b, &k) != nil {
					loadErr <- fmt.Errorf("create-key during the rotation: %d %s %v", status, b, err)
					return
				}
				mu.Lock()
				during = append(during, made{v.CipherText, plain})
				loadKeys = append(loadKeys, k.KeyInfo.KeyID)
				mu.Unlock()
			}
		})
	}

	// The rotation, killed with SIGKILL once it has walked some items.
	rot := exec.Command(s.bin, "rootkey", "rotate", "--config", s.v2, "--batch", "5", "--pause", "30ms")
	rot.Env = append(os.Environ(), s.env...)
	if err := rot.Start(); err != nil {
		t.Fatal(err)
	}
	st := s.openStore(t)
	deadline := time.Now().Add(60 * time.Second)
	for {
		if n, target := s.rotationProgress(t, st); target == 2 && n >= 40 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the rotation did not get under way within 60s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := rot.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := rot.Wait(); err == nil {
		t.Fatal("the rotation finished before it was killed; the test needs it mid-way")
	}
	walked, _ := s.rotationProgress(t, st)
	st.Close()
	t.Logf("%s: rotation killed after %d items", driver, walked)

	// Mid-way, a node with only the new root key is refused, with the
	// generation and the count of what it still seals.
	if out, err := s.kmsd(t, "rootkey", "status", "--config", s.v3); err == nil || !strings.Contains(out, "sealed by root key generation 1") || !strings.Contains(out, "holds ") {
		t.Errorf("a start without generation 1 mid-way: %v\n%s", err, out)
	}
	if out, err := s.kmsd(t, "rootkey", "status", "--config", s.v2); err != nil || !strings.Contains(out, "generation 2 active (sealing)") || !strings.Contains(out, "rotation to generation 2 under way") {
		t.Errorf("rootkey status mid-way: %v\n%s", err, out)
	}

	// The rerun resumes and finishes while the load goes on.
	out, err := s.kmsd(t, "rootkey", "rotate", "--config", s.v2, "--batch", "20")
	if err != nil || !strings.Contains(out, "resumed a rotation") || !strings.Contains(out, "retired root key generation 1") || !strings.Contains(out, "done:") {
		t.Fatalf("rootkey rotate, resumed: %v\n%s", err, out)
	}
	t.Logf("%s: kmsd rootkey rotate (resumed):\n%s", driver, out)
	stopLoad()
	wg.Wait()
	close(loadErr)
	for err := range loadErr {
		t.Error(err)
	}
	if len(during) == 0 {
		t.Error("the load made nothing during the rotation")
	}
	t.Logf("%s: %d encryptions and key creations during the rotation", driver, len(during))
	if out, err := s.kmsd(t, "rootkey", "status", "--config", s.v2); err != nil || !strings.Contains(out, "generation 1 retired: 0 items") {
		t.Errorf("rootkey status after the rotation: %v\n%s", err, out)
	}
	n2.cmd.Process.Signal(syscall.SIGTERM)
	n2.cmd.Wait()

	// Only the new root key: everything from before and during serves.
	// The node's audit trail is on (audit.mode required by default), so
	// the start also opens its checkpoint signing key, sealed by
	// generation 1 at first and re-sealed when n2 started with both keys.
	n3 := startNode(t, s.bin, s.v3, s.env)
	c3 := rkClient{endpoint: n3.endpoint, ak: rkAdminAK, sk: rkAdminSK}
	checkFixture(t, c3, f)
	for _, m := range during {
		if got := rkDecrypt(t, c3, m.ct); got != m.plain {
			t.Fatalf("decrypt of a ciphertext made during the rotation: %q, want %q", got, m.plain)
		}
	}
	for _, id := range loadKeys {
		rkEncrypt(t, c3, id, "after")
	}
	rkEncrypt(t, c3, rkKeyID(t, c3, `{"key_alias":"rk-after"}`), "after")
	n3.cmd.Process.Signal(syscall.SIGTERM)
	n3.cmd.Wait()

	// Only the old root key: refused, naming the generation.
	if out, err := s.kmsd(t, "rootkey", "status", "--config", s.v1); err == nil || !strings.Contains(out, "root key generation 2") {
		t.Errorf("a start with only the old root key: %v\n%s", err, out)
	}
}
