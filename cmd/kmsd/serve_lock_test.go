package main

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmsd/kmsd/internal/ciphertext"
	"github.com/kmsd/kmsd/internal/server"
)

// devEnvOf returns the environment of a running dev server's dev.env.
func devEnvOf(t *testing.T, dir string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "dev.env"))
	if err != nil {
		t.Fatal(err)
	}
	return parseEnv(t, string(b))
}

// TestAdminSeenAtOnce: a second serve on a served data directory refuses,
// naming the first, and leaves dev.env alone; the admin commands' changes
// are in effect for the running server when they return.
func TestAdminSeenAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the kmsd binary")
	}
	bin := buildKmsd(t)
	dir := t.TempDir()
	p := startKmsd(t, bin, dir)
	envBefore, err := os.ReadFile(filepath.Join(dir, "dev.env"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := kmsd(t, nil, "serve", "--dev", "--data", dir, "--listen", "127.0.0.1:0")
	if err == nil || !strings.Contains(err.Error(), p.endpoint) || !strings.Contains(err.Error(), "pid") {
		t.Errorf("second serve: %v %s; want a refusal naming %s", err, out, p.endpoint)
	}
	if envAfter, _ := os.ReadFile(filepath.Join(dir, "dev.env")); string(envAfter) != string(envBefore) {
		t.Error("a refused second serve rewrote dev.env")
	}
	env := devEnvOf(t, dir)
	ids := server.DefaultDevIdentities(func(string) string { return "" })

	// key rotate: the next encryption uses the new version at once
	// (the server had version 1 cached).
	id := createKeyID(t, env, "--alias", "rotate-now")
	version := func() uint32 {
		t.Helper()
		ct := strings.TrimSpace(mustKMS(t, env, []byte("x"), "encrypt", "--key", id))
		raw, err := base64.StdEncoding.DecodeString(ct)
		if err != nil {
			t.Fatal(err)
		}
		b, err := ciphertext.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		return b.KeyVersion
	}
	if v := version(); v != 1 {
		t.Fatalf("first version %d", v)
	}
	out = mustKmsd(t, nil, "key", "--data", dir, "rotate", id, "--project", ids.ProjectID)
	if !strings.Contains(out, "sees the change now") {
		t.Errorf("key rotate did not report the server's acknowledgement: %q", out)
	}
	if v := version(); v != 2 {
		t.Errorf("encrypt right after key rotate used version %d, want 2", v)
	}
	// iam: a disabled access key is refused at once (it was cached).
	reader := with(with(env, "CLOUD_SDK_AK", env["KMSD_DEV_READER_AK"]), "CLOUD_SDK_SK", env["KMSD_DEV_READER_SK"])
	mustKMS(t, reader, nil, "instances")
	mustKmsd(t, nil, "iam", "--data", dir, "accesskey", "disable", env["KMSD_DEV_READER_AK"])
	if _, errOut, code := kmsRun(t, reader, nil, "instances"); code != exitService || !strings.Contains(errOut, "APIGW.0301") {
		t.Errorf("the disabled AK right after iam accesskey disable: exit %d %q", code, errOut)
	}
}

// TestSeedTwoServers: two dev servers started with --seed on the example
// file, each with its own data directory and root key; a ciphertext the
// first makes decrypts on the second.
func TestSeedTwoServers(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the kmsd binary")
	}
	bin := buildKmsd(t)
	example, err := filepath.Abs("../../examples/seed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	da, db := t.TempDir(), t.TempDir()
	startKmsd(t, bin, da, "--seed", example)
	startKmsd(t, bin, db, "--seed", example)
	ea, eb := devEnvOf(t, da), devEnvOf(t, db)
	ct := mustKMS(t, ea, []byte("checked-in fixture"), "encrypt", "--key", "5eed0001-0000-4000-8000-000000000001")
	if got := mustKMS(t, eb, []byte(ct), "decrypt"); got != "checked-in fixture" {
		t.Errorf("the second server decrypted %q", got)
	}
	sig := strings.TrimSpace(mustKMS(t, ea, []byte("signed"), "sign", "--key", "5eed0001-0000-4000-8000-000000000003", "--algorithm", "ECDSA_SHA_256"))
	mustKMS(t, eb, []byte("signed"), "verify", "--key", "5eed0001-0000-4000-8000-000000000003", "--algorithm", "ECDSA_SHA_256", "--signature", sig)
	out := mustKMS(t, eb, nil, "list-aliases", "--key", "5eed0001-0000-4000-8000-000000000001")
	if !strings.Contains(out, "alias/payments") {
		t.Errorf("list-aliases on the second server:\n%s", out)
	}
}
