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

// TestAdminSeenAtOnce: the admin commands' changes are in effect for the
// running server when they return (testdata/script/serve_locked.txtar
// covers the lock itself).
func TestAdminSeenAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the kmsd binary")
	}
	bin := buildKmsd(t)
	dir := t.TempDir()
	startKmsd(t, bin, dir)
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
	out := mustKmsd(t, nil, "key", "--data", dir, "rotate", id, "--project", ids.ProjectID)
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
