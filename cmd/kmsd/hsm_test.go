package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmsd/kmsd/internal/hsm/softhsm"
)

// writeHSMConfig writes a configuration whose root key the SoftHSM2 token
// "root" keeps.
func writeHSMConfig(t *testing.T, module, pinFile string) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "kmsd.yaml")
	y := fmt.Sprintf("data_dir: data\nroot_key:\n  source: pkcs11\n  module: %s\n  token_label: root\n  pin_file: %s\n  key_label: kmsd-root\n", module, pinFile)
	if err := os.WriteFile(path, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestInitHSM runs kmsd init against a SoftHSM2 token: without
// --create-hsm-key it names the flag, with it it creates the token key and
// the wrapped root key, and a second run keeps them.
func TestInitHSM(t *testing.T) {
	tokens := softhsm.New(t, "root")
	cfg := writeHSMConfig(t, tokens.Module, tokens.PINFile)
	if out, err := kmsd(t, nil, "init", "--config", cfg); err == nil || !strings.Contains(err.Error(), "--create-hsm-key") {
		t.Fatalf("init without the token key: %v\n%s", err, out)
	}
	out := mustKmsd(t, nil, "init", "--config", cfg, "--create-hsm-key")
	if !strings.Contains(out, `created the root key, encrypted by the key "kmsd-root" of token "root"`) || !strings.Contains(out, "root key check value stored") {
		t.Errorf("init --create-hsm-key printed %q", out)
	}
	if out := mustKmsd(t, nil, "init", "--config", cfg); !strings.Contains(out, "exists; kept") {
		t.Errorf("second init printed %q", out)
	}
}

// TestNoCgoNamesMissingPKCS11 builds kmsd with CGO_ENABLED=0 and checks
// that a PKCS#11 root key is refused with a message naming the missing
// support.
func TestNoCgoNamesMissingPKCS11(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the CGO_ENABLED=0 build in -short mode")
	}
	bin := filepath.Join(t.TempDir(), "kmsd")
	build := exec.CommandContext(t.Context(), "go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build: %v\n%s", err, out)
	}
	pin := filepath.Join(t.TempDir(), "pin")
	if err := os.WriteFile(pin, []byte("1234\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := writeHSMConfig(t, "/usr/lib/softhsm/libsofthsm2.so", pin)
	out, err := exec.CommandContext(t.Context(), bin, "init", "--config", cfg).CombinedOutput()
	if err == nil {
		t.Fatalf("init with a PKCS#11 root key succeeded without cgo:\n%s", out)
	}
	if !strings.Contains(string(out), "built without PKCS#11 support (CGO_ENABLED=0)") {
		t.Errorf("init printed %q, want it to name the missing PKCS#11 support", out)
	}
}
