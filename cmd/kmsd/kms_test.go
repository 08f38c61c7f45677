package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kmsd/kmsd/internal/server"
)

// newDevDataDir initialises a dev data directory the way serve --dev does.
func newDevDataDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cfg := server.DevConfig(dir, devListen, devCMKQuota)
	if _, err := server.Init(t.Context(), cfg, noEnv); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(t.Context(), cfg, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if err := srv.EnsureDevIdentities(t.Context(), server.DefaultDevIdentities(noEnv)); err != nil {
		t.Fatal(err)
	}
	return dir
}

// devServer starts a dev server of its own data directory on a loopback
// port and returns the environment of its dev.env.
func devServer(t *testing.T) map[string]string {
	t.Helper()
	dir := newDevDataDir(t)
	cfg := server.DevConfig(dir, "127.0.0.1:0", devCMKQuota)
	srv, err := server.New(t.Context(), cfg, server.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("Serve did not return")
		}
		srv.Close()
	})
	return parseEnv(t, server.DevEnv(server.DefaultDevIdentities(func(string) string { return "" }), "http://"+ln.Addr().String()))
}

// parseEnv reads the export lines of a dev.env.
func parseEnv(t *testing.T, s string) map[string]string {
	t.Helper()
	env := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimPrefix(sc.Text(), "export "), "=")
		if ok {
			env[k] = v
		}
	}
	return env
}

// kmsRun runs kmsd kms with stdin and returns stdout, stderr and the exit
// code main would give.
func kmsRun(t *testing.T, env map[string]string, stdin []byte, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := runKMS(t.Context(), args, bytes.NewReader(stdin), &out, &errOut, func(k string) string { return env[k] }, false)
	if err != nil {
		errOut.WriteString("kmsd: " + err.Error() + "\n")
	}
	return out.String(), errOut.String(), exitCode(err, args)
}

func mustKMS(t *testing.T, env map[string]string, stdin []byte, args ...string) string {
	t.Helper()
	out, errOut, code := kmsRun(t, env, stdin, args...)
	if code != 0 {
		t.Fatalf("kmsd kms %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

var keyIDRe = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

func createKeyID(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	out := mustKMS(t, env, nil, append([]string{"create-key"}, args...)...)
	id := keyIDRe.FindString(out)
	if id == "" {
		t.Fatalf("create-key printed no key id: %q", out)
	}
	return id
}

// TestKMSCrypto encrypts, decrypts, makes data keys and signs with the
// CLI, and checks signatures with Go's own crypto.
func TestKMSCrypto(t *testing.T) {
	env := devServer(t)
	id := createKeyID(t, env, "--alias", "cli-crypto")
	ct := mustKMS(t, env, []byte("hello, kmsd"), "encrypt", "--key", id)
	if got := mustKMS(t, env, []byte(ct), "decrypt"); got != "hello, kmsd" {
		t.Errorf("decrypt: %q", got)
	}
	if got := mustKMS(t, env, []byte(ct), "decrypt", "--base64"); strings.TrimSpace(got) != base64.StdEncoding.EncodeToString([]byte("hello, kmsd")) {
		t.Errorf("decrypt --base64: %q", got)
	}
	_, errOut, code := kmsRun(t, env, []byte{0xff, 0xfe}, "encrypt", "--key", id)
	if code != exitUsage || !strings.Contains(errOut, "encrypt-file") {
		t.Errorf("binary input: exit %d %q", code, errOut)
	}
	out := mustKMS(t, env, nil, "create-datakey", "--key", id, "--bits", "256")
	pt := regexp.MustCompile(`plain_text\s+([0-9a-fA-F]{64})\b`).FindStringSubmatch(out)
	dct := regexp.MustCompile(`cipher_text\s+([0-9a-fA-F]+)`).FindStringSubmatch(out)
	if pt == nil || dct == nil {
		t.Fatalf("create-datakey:\n%s", out)
	}
	out = mustKMS(t, env, nil, "decrypt-datakey", dct[1], "--key", id, "--length", "32")
	if !strings.Contains(strings.ToLower(out), strings.ToLower(pt[1])) {
		t.Errorf("decrypt-datakey did not give back %s:\n%s", pt[1], out)
	}
	if out := mustKMS(t, env, nil, "gen-random", "--bits", "128"); !regexp.MustCompile(`random_data\s+[0-9a-fA-F]{32}\b`).MatchString(out) {
		t.Errorf("gen-random: %q", out)
	}

	// Sign a large input by its local digest; verify with Go's crypto.
	ec := createKeyID(t, env, "--alias", "cli-ec", "--spec", "EC_P256", "--usage", "SIGN_VERIFY")
	big := bytes.Repeat([]byte("large input "), 100000)
	in := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(in, big, 0o600); err != nil {
		t.Fatal(err)
	}
	sig := strings.TrimSpace(mustKMS(t, env, nil, "sign", "--key", ec, "--algorithm", "ECDSA_SHA_256", "--in", in))
	pemText := mustKMS(t, env, nil, "get-publickey", ec)
	block, _ := pem.Decode([]byte(pemText))
	if block == nil || block.Type != "PUBLIC KEY" {
		t.Fatalf("get-publickey: %q", pemText)
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	der, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		t.Fatal(err)
	}
	d := sha256.Sum256(big)
	if !ecdsa.VerifyASN1(pub.(*ecdsa.PublicKey), d[:], der) {
		t.Error("the CLI's signature does not verify with crypto/ecdsa")
	}
	mustKMS(t, env, nil, "verify", "--key", ec, "--algorithm", "ECDSA_SHA_256", "--in", in, "--signature", sig)
	_, _, code = kmsRun(t, env, []byte("other input"), "verify", "--key", ec, "--algorithm", "ECDSA_SHA_256", "--signature", sig)
	if code != exitInvalid {
		t.Errorf("verify of other input: exit %d, want %d", code, exitInvalid)
	}
	// SM2: the digest SM3(Z_A‖M) is computed locally as well.
	sm := createKeyID(t, env, "--alias", "cli-sm2", "--spec", "SM2", "--usage", "SIGN_VERIFY")
	sig = strings.TrimSpace(mustKMS(t, env, big, "sign", "--key", sm, "--algorithm", "SM2DSA_SM3"))
	mustKMS(t, env, big, "verify", "--key", sm, "--algorithm", "SM2DSA_SM3", "--signature", sig)
	sig = strings.TrimSpace(mustKMS(t, env, []byte("short"), "sign", "--key", sm, "--algorithm", "SM2DSA_SM3", "--raw"))
	mustKMS(t, env, []byte("short"), "verify", "--key", sm, "--algorithm", "SM2DSA_SM3", "--signature", sig)
}

// TestKMSUsage checks the exit codes of bad command lines, bad
// credentials and an unreachable server.
func TestKMSUsage(t *testing.T) {
	env := devServer(t)
	tests := []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string
	}{
		{"unknown command", env, []string{"frobnicate"}, exitUsage, "unknown kms command"},
		{"wrong arity", env, []string{"describe-key"}, exitUsage, "takes 1 argument"},
		{"foreign flag", env, []string{"describe-key", "x", "--bits", "8"}, exitUsage, "does not take --bits"},
		{"no endpoint", map[string]string{"CLOUD_SDK_AK": "a", "CLOUD_SDK_SK": "b", "CLOUD_SDK_PROJECT_ID": "c"}, []string{"instances"}, exitUsage, "no endpoint"},
		{"not found", env, []string{"describe-key", "00000000-0000-0000-0000-000000000000"}, exitService, "KMS.0207"},
		{"bad key id", env, []string{"describe-key", "nope"}, exitService, "KMS.0205"},
		{"wrong sk", with(env, "CLOUD_SDK_SK", strings.Repeat("x", 40)), []string{"instances"}, exitService, "APIGW.0301"},
		{"unreachable", with(env, "KMSD_ENDPOINT", "http://127.0.0.1:1"), []string{"instances"}, exitUnreachable, "cannot reach"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := kmsRun(t, tt.env, nil, tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, errOut, tt.code, tt.want)
			}
		})
	}
	// The profile file supplies what the environment does not; flags win.
	dir := t.TempDir()
	pf := filepath.Join(dir, "profiles.yaml")
	prof := "profiles:\n  dev:\n    endpoint: " + env["KMSD_ENDPOINT"] + "\n    project_id: " + env["CLOUD_SDK_PROJECT_ID"] + "\n    ak: " + env["CLOUD_SDK_AK"] + "\n    sk_env: DEV_SK\n"
	if err := os.WriteFile(pf, []byte(prof), 0o600); err != nil {
		t.Fatal(err)
	}
	penv := map[string]string{"DEV_SK": env["CLOUD_SDK_SK"], "KMSD_PROFILE_FILE": pf}
	mustKMS(t, penv, nil, "instances", "--profile", "dev")
	if _, errOut, code := kmsRun(t, penv, nil, "instances", "--profile", "dev", "--endpoint", "http://127.0.0.1:1"); code != exitUnreachable {
		t.Errorf("--endpoint did not override the profile: exit %d %q", code, errOut)
	}
	if _, errOut, code := kmsRun(t, penv, nil, "instances", "--profile", "nope"); code != exitUsage || !strings.Contains(errOut, `no profile "nope"`) {
		t.Errorf("unknown profile: exit %d %q", code, errOut)
	}
	if err := errors.Unwrap(nil); err != nil {
		t.Fatal(err)
	}
}

func with(env map[string]string, k, v string) map[string]string {
	m := map[string]string{}
	for a, b := range env {
		m[a] = b
	}
	m[k] = v
	return m
}

// TestCLIDoc checks that docs/cli.md shows every kms command.
func TestCLIDoc(t *testing.T) {
	b, err := os.ReadFile("../../docs/cli.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range kmsCommands {
		if !strings.Contains(string(b), "`kmsd kms "+c.name) {
			t.Errorf("docs/cli.md lacks kmsd kms %s", c.name)
		}
	}
}

// TestKMSPaging checks that list-keys and list-grants follow next_marker
// until truncated is "false", against a stand-in for a service with small
// pages.
func TestKMSPaging(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req map[string]string
		json.NewDecoder(r.Body).Decode(&req)
		item := map[string]string{"list-keys": `{"key_id":"k%s","key_alias":"a%s","key_state":"2"}`, "list-grants": `{"grant_id":"g%s","name":"n%s"}`}[path.Base(r.URL.Path)]
		list := map[string]string{"list-keys": "key_details", "list-grants": "grants"}[path.Base(r.URL.Path)]
		if req["marker"] == "" {
			fmt.Fprintf(w, `{"%s":[`+item+`],"next_marker":"1","truncated":"true"}`, list, "0", "0")
			return
		}
		fmt.Fprintf(w, `{"%s":[`+item+`],"next_marker":"","truncated":"false"}`, list, req["marker"], req["marker"])
	}))
	defer srv.Close()
	env := map[string]string{"KMSD_ENDPOINT": srv.URL, "CLOUD_SDK_AK": "AK", "CLOUD_SDK_SK": "SK", "CLOUD_SDK_PROJECT_ID": "p"}
	if out := mustKMS(t, env, nil, "list-keys"); !strings.Contains(out, "k0") || !strings.Contains(out, "k1") {
		t.Errorf("list-keys did not read both pages:\n%s", out)
	}
	if out := mustKMS(t, env, nil, "list-grants", "key"); !strings.Contains(out, "g0") || !strings.Contains(out, "g1") {
		t.Errorf("list-grants did not read both pages:\n%s", out)
	}
	if out := mustKMS(t, env, nil, "list-keys", "--limit", "1"); strings.Contains(out, "k1") {
		t.Errorf("list-keys --limit 1 read a second page:\n%s", out)
	}
}
