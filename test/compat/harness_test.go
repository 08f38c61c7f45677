// Package compat drives a real kmsd server with the official Huawei Cloud
// Go SDK (services/kms/v2). It is its own module so the SDK never enters
// kmsd's runtime dependencies.
package compat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
	kms "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2/model"

	kmsdaudit "github.com/kmsd/kmsd/internal/audit"
	kmsdauth "github.com/kmsd/kmsd/internal/auth"
	kmsdconfig "github.com/kmsd/kmsd/internal/config"
	"github.com/kmsd/kmsd/internal/keyring"
	kmsdkms "github.com/kmsd/kmsd/internal/kms"
	"github.com/kmsd/kmsd/internal/server"
	"github.com/kmsd/kmsd/internal/store"
	"github.com/kmsd/kmsd/internal/store/postgres/pgtest"
)

// syncBuffer collects a server's log for the secret scan.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// allAudit gathers the audit trails of every server the tests start, for
// the same scan as the logs.
var allAudit = &syncBuffer{}

// allLogs gathers the logs of every server the tests start, and secrets
// every string the tests used as a secret; TestMain checks that none of
// the secrets appears in any log.
var (
	allLogs   = &syncBuffer{}
	secretsMu sync.Mutex
	secrets   = map[string]bool{}
)

func addSecret(s string) {
	secretsMu.Lock()
	secrets[s] = true
	secretsMu.Unlock()
}

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.StopShared()
	if code == 0 {
		logs, trails := allLogs.String(), allAudit.String()
		if len(logs) == 0 || len(trails) == 0 {
			fmt.Fprintln(os.Stderr, "secret scan: no server logs or no audit trails were collected")
			code = 1
		}
		for s := range secrets {
			if s == "" {
				continue
			}
			for _, where := range []struct{ name, text string }{{"server log", logs}, {"audit trail", trails}} {
				if strings.Contains(where.text, s) {
					fmt.Fprintf(os.Stderr, "secret scan: a secret used by the tests (%d bytes, starting %q) appears in the %s\n", len(s), s[:min(4, len(s))], where.name)
					code = 1
				}
			}
		}
		if code == 0 {
			fmt.Printf("secret scan: %d secrets, %d bytes of server log, %d bytes of audit trail, none found\n", len(secrets), len(logs), len(trails))
		}
	}
	os.Exit(code)
}

// env is one running kmsd dev server.
type env struct {
	t    *testing.T
	url  string
	srv  *server.Server
	ids  server.DevIdentities
	dir  string
	stop context.CancelFunc
	done chan error
}

type envOptions struct {
	cmkQuota int
	dir      string
	// hsm lists the HSM clusters (PKCS#11 tokens) of dedicated keystores.
	hsm []kmsdconfig.HSMCluster
	// ln, when set, is the listener to serve on (bound by the caller, so
	// that two servers can know each other's address first).
	ln net.Listener
	// configure changes the dev configuration before the server is built
	// (TLS, region, peers); a server with TLS is reached over https.
	configure func(*kmsdconfig.Config)
	// now replaces the key service's clock (kms.Service.Now) before the
	// server serves; nil keeps time.Now.
	now func() time.Time
}

// start runs a dev server on 127.0.0.1:0 in-process, exactly as
// `kmsd serve --dev` builds it, and stops it when the test ends.
func start(t *testing.T, opts ...envOptions) *env {
	t.Helper()
	o := envOptions{cmkQuota: 100000}
	if len(opts) > 0 {
		o = opts[0]
		if o.cmkQuota == 0 {
			o.cmkQuota = 100000
		}
	}
	if o.dir == "" {
		o.dir = t.TempDir()
	}
	cfg := server.DevConfig(o.dir, "127.0.0.1:0", o.cmkQuota)
	useClusterStore(t, &cfg)
	cfg.HSMClusters = o.hsm
	if o.configure != nil {
		o.configure(&cfg)
	}
	if _, err := server.Init(t.Context(), cfg, nil); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewJSONHandler(allLogs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, cfg, server.Options{Logger: log, Getenv: func(string) string { return "" }})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if o.now != nil {
		srv.KMS.Now = o.now
	}
	ids := server.DefaultDevIdentities(func(string) string { return "" })
	for _, s := range []string{ids.AdminSK, ids.ReaderSK, ids.Admin2SK, ids.AdminPassword, ids.Admin2Password} {
		addSecret(s)
	}
	if err := srv.EnsureDevIdentities(ctx, ids); err != nil {
		cancel()
		t.Fatal(err)
	}
	ln := o.ln
	if ln == nil {
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			cancel()
			t.Fatal(err)
		}
	}
	scheme := "http://"
	if cfg.TLS.CertFile != "" {
		scheme = "https://"
	}
	e := &env{t: t, url: scheme + ln.Addr().String(), srv: srv, ids: ids, dir: o.dir, stop: cancel, done: make(chan error, 1)}
	go func() { e.done <- srv.Serve(ctx, ln) }()
	t.Cleanup(e.close)
	if clusterMode() {
		e.url = startPeer(t, ctx, cancel, cfg, log, e.url, o.now)
	}
	return e
}

func (e *env) close() {
	if e.stop == nil {
		return
	}
	e.stop()
	if err := <-e.done; err != nil {
		e.t.Errorf("serve: %v", err)
	}
	e.srv.Close()
	e.stop = nil
	e.collectAudit()
}

// auditDir is the server's audit chain (dev mode's node id is "dev").
func (e *env) auditDir() string { return filepath.Join(e.dir, "audit", "dev") }

// collectAudit verifies the stopped server's audit trail and keeps its
// bytes for TestMain's secret scan.
func (e *env) collectAudit() {
	rep, err := kmsdaudit.Verify(e.auditDir(), nil)
	if err != nil {
		e.t.Errorf("audit verify: %v", err)
		return
	}
	if !rep.OK() || rep.Unsigned != 0 {
		e.t.Errorf("audit trail of a cleanly stopped server: problem %v, truncated %v, %d unsigned", rep.Problem, rep.Truncated, rep.Unsigned)
	}
	segs, _ := kmsdaudit.Segments(e.auditDir())
	for _, p := range segs {
		b, err := os.ReadFile(p)
		if err != nil {
			e.t.Error(err)
		}
		allAudit.Write(b)
	}
}

// client returns an official SDK KMS client for ak/sk addressing project.
func (e *env) client(ak, sk, project string) *kms.KmsClient {
	hc := config.DefaultHttpConfig()
	if strings.HasPrefix(e.url, "https://") {
		// The tests' servers have certificates of a throwaway CA.
		hc = hc.WithIgnoreSSLVerification(true)
	}
	return e.clientWith(ak, sk, project, hc)
}

// clientWith is client with an explicit HTTP configuration (for example
// another signing algorithm).
func (e *env) clientWith(ak, sk, project string, httpConfig *config.HttpConfig) *kms.KmsClient {
	cred, err := basic.NewCredentialsBuilder().WithAk(ak).WithSk(sk).WithProjectId(project).SafeBuild()
	if err != nil {
		e.t.Fatal(err)
	}
	hc, err := kms.KmsClientBuilder().WithEndpoints([]string{e.url}).WithCredential(cred).
		WithHttpConfig(httpConfig).SafeBuild()
	if err != nil {
		e.t.Fatal(err)
	}
	return kms.NewKmsClient(hc)
}

func (e *env) admin() *kms.KmsClient { return e.client(e.ids.AdminAK, e.ids.AdminSK, e.ids.ProjectID) }

func (e *env) reader() *kms.KmsClient {
	return e.client(e.ids.ReaderAK, e.ids.ReaderSK, e.ids.ProjectID)
}

func (e *env) admin2() *kms.KmsClient {
	return e.client(e.ids.Admin2AK, e.ids.Admin2SK, e.ids.Project2ID)
}

// wantError checks that err is the SDK's view of a Huawei error with the
// given status and code, carrying the server's request id.
func wantError(t *testing.T, err error, status int, code string) {
	t.Helper()
	var se *sdkerr.ServiceResponseError
	if !errors.As(err, &se) {
		t.Fatalf("got error %v, want a service error %d %s", err, status, code)
	}
	if se.StatusCode != status || se.ErrorCode != code {
		t.Fatalf("got %d %s (%s), want %d %s", se.StatusCode, se.ErrorCode, se.ErrorMessage, status, code)
	}
	if se.RequestId == "" {
		t.Errorf("error %s carries no X-Request-Id", code)
	}
}

func ptr[T any](v T) *T { return &v }

// sdkUserAgent is the User-Agent of raw requests, shaped like the SDK's
// (reference auth.md §2); it is signed like every header the SDK sets.
const sdkUserAgent = "huaweicloud-usdk-go/3.0; kmsd-compat"

// projectPath returns the path of a /v1.0/{project_id}/kms operation of the
// first dev account, e.g. projectPath("describe-key").
func (e *env) projectPath(op string) string {
	return "/v1.0/" + e.ids.ProjectID + "/kms/" + op
}

// newRawRequest returns an unsigned request with the headers the SDK sends
// on every call: User-Agent, Content-Type and, for project paths, the
// X-Project-Id of the path.
func newRawRequest(t *testing.T, e *env, method, path string, body []byte) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	r, err := http.NewRequestWithContext(t.Context(), method, e.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("User-Agent", sdkUserAgent)
	r.Header.Set("Content-Type", "application/json;charset=UTF-8")
	if segs := strings.Split(path, "/"); len(segs) > 2 && (segs[1] == "v1.0" || segs[1] == "v2") {
		r.Header.Set("X-Project-Id", segs[2])
	}
	return r
}

// signRaw signs r, whose body is body, with ak/sk as the SDK would at now.
func signRaw(t *testing.T, r *http.Request, body []byte, alg, ak, sk string, now time.Time) {
	t.Helper()
	if err := kmsdauth.SignRequest(r, body, alg, ak, sk, now); err != nil {
		t.Fatal(err)
	}
}

// send sends r and returns the status, headers and body of the answer.
func send(t *testing.T, r *http.Request) (int, http.Header, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// rawCall sends one request signed with SDK-HMAC-SHA256 for ak/sk, with the
// User-Agent and X-Project-Id headers the SDK sets. A nil body sends none.
func rawCall(t *testing.T, e *env, method, path string, body []byte, ak, sk string) (status int, header http.Header, respBody []byte) {
	t.Helper()
	r := newRawRequest(t, e, method, path, body)
	signRaw(t, r, body, kmsdauth.AlgHMACSHA256, ak, sk, time.Now())
	return send(t, r)
}

// wantRawError checks a raw error answer: the status, a JSON body of the
// service shape {"error":{"error_code","error_msg"},"error_code","error_msg"} or of the gateway
// shape {"error_code","error_msg","request_id"} (reference errors.md §1)
// carrying code, and an X-Request-Id header (equal to the gateway body's
// request_id).
func wantRawError(t *testing.T, status int, header http.Header, body []byte, wantStatus int, wantCode string) {
	t.Helper()
	if status != wantStatus {
		t.Fatalf("got status %d (body %s), want %d %s", status, body, wantStatus, wantCode)
	}
	if ct := header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("got Content-Type %q, want application/json", ct)
	}
	rid := header.Get("X-Request-Id")
	if rid == "" {
		t.Errorf("error %s carries no X-Request-Id", wantCode)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("error body %q is not a JSON object: %v", body, err)
	}
	if _, service := m["error"]; !service { // gateway shape
		code := m["error_code"]
		if code != wantCode {
			t.Errorf("got error_code %v, want %s", code, wantCode)
		}
		if msg, _ := m["error_msg"].(string); msg == "" {
			t.Errorf("gateway error %s has no error_msg", wantCode)
		}
		if m["request_id"] != rid {
			t.Errorf("got request_id %v, want the X-Request-Id %q", m["request_id"], rid)
		}
		return
	}
	inner, ok := m["error"].(map[string]any)
	if !ok {
		t.Fatalf("error body %s has neither error_code nor an error object", body)
	}
	// The code and message are repeated at the top level, where the
	// Node.js SDK reads them (docs/compatibility.md "error shapes").
	if m["error_code"] != inner["error_code"] || m["error_msg"] != inner["error_msg"] {
		t.Errorf("error body %s: top-level error_code/error_msg differ from the error object's", body)
	}
	if inner["error_code"] != wantCode {
		t.Errorf("got error.error_code %v, want %s", inner["error_code"], wantCode)
	}
	if msg, _ := inner["error_msg"].(string); msg == "" {
		t.Errorf("service error %s has no error_msg", wantCode)
	}
}

// sdkError returns err as the SDK's service error, failing the test if it
// is not one.
func sdkError(t *testing.T, err error) *sdkerr.ServiceResponseError {
	t.Helper()
	var se *sdkerr.ServiceResponseError
	if !errors.As(err, &se) {
		t.Fatalf("got error %v, want a service error", err)
	}
	return se
}

var aliasSeq atomic.Int64

// newAlias returns a key alias no other key of the test run has.
func newAlias() string { return fmt.Sprintf("compat-key-%d", aliasSeq.Add(1)) }

// createKey creates a key with body (a fresh alias when body.KeyAlias is
// empty) and returns its id.
func createKey(t *testing.T, c *kms.KmsClient, body model.CreateKeyRequestBody) string {
	t.Helper()
	if body.KeyAlias == "" {
		body.KeyAlias = newAlias()
	}
	resp, err := c.CreateKey(&model.CreateKeyRequest{Body: &body})
	if err != nil {
		t.Fatalf("CreateKey %s: %v", body, err)
	}
	if resp.KeyInfo == nil || resp.KeyInfo.KeyId == nil || *resp.KeyInfo.KeyId == "" {
		t.Fatalf("CreateKey answered %v, want a key_info.key_id", resp)
	}
	return *resp.KeyInfo.KeyId
}

// newKey creates an AES_256 key with a fresh alias.
func newKey(t *testing.T, c *kms.KmsClient) string {
	t.Helper()
	return createKey(t, c, model.CreateKeyRequestBody{})
}

// describe returns the KeyDetails of a key.
func describe(t *testing.T, c *kms.KmsClient, keyID string) model.KeyDetails {
	t.Helper()
	resp, err := c.ListKeyDetail(&model.ListKeyDetailRequest{Body: &model.OperateKeyRequestBody{KeyId: keyID}})
	if err != nil {
		t.Fatalf("ListKeyDetail %s: %v", keyID, err)
	}
	if resp.KeyInfo == nil {
		t.Fatalf("ListKeyDetail %s answered no key_info", keyID)
	}
	return *resp.KeyInfo
}

// instances returns ShowUserInstances' instance_num.
func instances(t *testing.T, c *kms.KmsClient) int32 {
	t.Helper()
	resp, err := c.ShowUserInstances(&model.ShowUserInstancesRequest{})
	if err != nil {
		t.Fatalf("ShowUserInstances: %v", err)
	}
	if resp.InstanceNum == nil {
		t.Fatal("ShowUserInstances answered no instance_num")
	}
	return *resp.InstanceNum
}

// val returns *p, or "<absent>" for nil, so a missing field fails an
// equality check with a readable message.
func val(p *string) string {
	if p == nil {
		return "<absent>"
	}
	return *p
}

// enumValue returns the value of an SDK enum pointer, or "<absent>".
func enumValue[E interface{ Value() string }](p *E) string {
	if p == nil {
		return "<absent>"
	}
	return (*p).Value()
}

// serverMaterial opens a key's raw version-1 material from the dev
// server's data directory, as serverPrivateKey does for asymmetric keys.
func serverMaterial(t *testing.T, e *env, keyID string) []byte {
	t.Helper()
	root, err := keyring.LoadRootKeyFile(filepath.Join(e.dir, "root.key"))
	if err != nil {
		t.Fatal(err)
	}
	kr, err := keyring.New(root)
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t, e.dir)
	var v store.KeyVersion
	err = st.View(t.Context(), func(tx store.Tx) error {
		var err error
		v, err = tx.GetKeyVersion(e.ids.ProjectID, keyID, 1)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	m, err := kr.Open(keyring.Binding{Purpose: kmsdkms.PurposeKeyMaterial, ProjectID: e.ids.ProjectID, KeyID: keyID, Version: 1}, v.Sealed)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// jsonInt is n as a JSON number.
func jsonInt(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// rawAnswer sends a raw signed POST to the project's operation op as the
// admin of the first account and checks the answer: a JSON object with
// 200 when status is 200 (rawOK), else the error status and code
// (rawErr).
func rawAnswer(t *testing.T, e *env, op, body string, status int, code string) map[string]any {
	t.Helper()
	if status != 200 {
		rawErr(t, e, op, body+"\n", status, code)
		return nil
	}
	return rawOK(t, e, "POST", e.projectPath(op), body)
}

// jsonObj encodes members as a JSON object, in a stable order.
func jsonObj(members ...any) string {
	var sb strings.Builder
	sb.WriteByte('{')
	for i := 0; i+1 < len(members); i += 2 {
		if i > 0 {
			sb.WriteByte(',')
		}
		k, _ := json.Marshal(members[i])
		v := members[i+1]
		var vb []byte
		if raw, ok := v.(json.RawMessage); ok {
			vb = raw
		} else {
			vb, _ = json.Marshal(v)
		}
		sb.Write(k)
		sb.WriteByte(':')
		sb.Write(vb)
	}
	sb.WriteByte('}')
	return sb.String()
}

// validSequence is a valid 36-character sequence.
const validSequence = "919c82d4-8046-4722-9094-35c3c6524cff"

// rawOK sends a signed raw request as the admin and returns the decoded
// JSON object of a 200 answer.
func rawOK(t *testing.T, e *env, method, path, body string) map[string]any {
	t.Helper()
	var b []byte
	if body != "" {
		b = []byte(body + "\n")
	}
	status, _, resp := rawCall(t, e, method, path, b, e.ids.AdminAK, e.ids.AdminSK)
	if status != 200 {
		t.Fatalf("%s %s %s: got %d %s, want 200", method, path, body, status, resp)
	}
	var m map[string]any
	if err := json.Unmarshal(resp, &m); err != nil {
		t.Fatalf("%s %s: answer %q is not a JSON object: %v", method, path, resp, err)
	}
	return m
}

// rawErr sends a signed raw request as the admin and checks its error.
func rawErr(t *testing.T, e *env, op, body string, status int, code string) {
	t.Helper()
	var b []byte
	if body != "\x00" {
		b = []byte(body)
	}
	st, h, resp := rawCall(t, e, "POST", e.projectPath(op), b, e.ids.AdminAK, e.ids.AdminSK)
	wantRawError(t, st, h, resp, status, code)
}

// wantStrings checks that every named member of obj is a JSON string.
func wantStrings(t *testing.T, what string, obj map[string]any, names ...string) {
	t.Helper()
	for _, n := range names {
		v, ok := obj[n]
		if !ok {
			t.Errorf("%s: member %s is missing", what, n)
			continue
		}
		if _, ok := v.(string); !ok {
			t.Errorf("%s: got %s = %#v, want a JSON string", what, n, v)
		}
	}
}

func ptrString(v any) *string {
	s, ok := v.(string)
	if !ok {
		return nil
	}
	return &s
}

// val32 returns *p as text, or "<absent>".
func val32(p *int32) string {
	if p == nil {
		return "<absent>"
	}
	return strconv.Itoa(int(*p))
}

// rawCase is one raw request and the error it must get.
type rawCase struct {
	name, method, path, body string
	status                   int
	code                     string
}

func runRawCases(t *testing.T, e *env, cases []rawCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var body []byte
			if tc.body != "" {
				body = []byte(tc.body + "\n")
			}
			status, h, b := rawCall(t, e, tc.method, tc.path, body, e.ids.AdminAK, e.ids.AdminSK)
			wantRawError(t, status, h, b, tc.status, tc.code)
		})
	}
}

// jsonTypes returns the JSON type of each member of a JSON object body.
func jsonTypes(t *testing.T, body []byte) map[string]string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("body %s is not a JSON object: %v", body, err)
	}
	out := map[string]string{}
	for k, v := range m {
		switch v[0] {
		case '"':
			out[k] = "string"
		case 't', 'f':
			out[k] = "boolean"
		case '[':
			out[k] = "array"
		case '{':
			out[k] = "object"
		case 'n':
			out[k] = "null"
		default:
			out[k] = "number"
		}
	}
	return out
}

// createKeyIn creates a key of spec and usage ("" for the spec's default)
// in project with a raw signed create-key request as ak/sk, for the specs
// and usages the SDK's CreateKey enums lack (HMAC_*, KEY_AGREEMENT) and
// for other accounts' projects.
func createKeyIn(t *testing.T, e *env, ak, sk, project, spec, usage string) string {
	t.Helper()
	body := `{"key_alias":"` + newAlias() + `","key_spec":"` + spec + `"`
	if usage != "" {
		body += `,"key_usage":"` + usage + `"`
	}
	body += "}\n"
	status, _, b := rawCall(t, e, "POST", "/v1.0/"+project+"/kms/create-key", []byte(body), ak, sk)
	var v struct {
		KeyInfo struct {
			KeyID string `json:"key_id"`
		} `json:"key_info"`
	}
	if err := json.Unmarshal(b, &v); status != 200 || err != nil || v.KeyInfo.KeyID == "" {
		t.Fatalf("create-key %s %s: %d %s", spec, usage, status, b)
	}
	return v.KeyInfo.KeyID
}

// createKeyRaw is createKeyIn as the administrator of the first account.
func createKeyRaw(t *testing.T, e *env, spec, usage string) string {
	t.Helper()
	return createKeyIn(t, e, e.ids.AdminAK, e.ids.AdminSK, e.ids.ProjectID, spec, usage)
}

// rawStatus sends a signed raw request as the admin of the first account
// to the project's operation op, checks the answer's status and returns
// its body.
func rawStatus(t *testing.T, e *env, method, op, body string, wantStatus int) []byte {
	t.Helper()
	var b []byte
	if body != "" {
		b = []byte(body + "\n")
	}
	status, _, resp := rawCall(t, e, method, e.projectPath(op), b, e.ids.AdminAK, e.ids.AdminSK)
	if status != wantStatus {
		t.Fatalf("%s %s: %d %s, want %d", method, op, status, resp, wantStatus)
	}
	return resp
}

// isoOp is one operation on the first account's key, for checkIsolation.
type isoOp struct {
	name  string
	write bool
	call  func(c *kms.KmsClient) error
}

// checkIsolation calls each operation as the second account (404
// KMS.0207, never data) and as the read-only user (403 KMS.0307 for every
// change; reads allowed).
func checkIsolation(t *testing.T, e *env, ops []isoOp) {
	t.Helper()
	for _, o := range ops {
		t.Run("other account/"+o.name, func(t *testing.T) {
			wantError(t, o.call(e.admin2()), 404, "KMS.0207")
		})
	}
	for _, o := range ops {
		t.Run("reader/"+o.name, func(t *testing.T) {
			err := o.call(e.reader())
			if o.write {
				wantError(t, err, 403, "KMS.0307")
			} else if err != nil {
				t.Errorf("reader %s: %v", o.name, err)
			}
		})
	}
}
