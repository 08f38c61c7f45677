// Package softhsm sets up SoftHSM2 tokens for tests: a configuration and
// a token directory in a temporary directory, named to the library by
// SOFTHSM2_CONF. Tests skip with a message when SoftHSM2 (Debian package
// softhsm2, which scripts/test.sh installs) or PKCS#11 support is absent.
package softhsm

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/kmsd/kmsd/internal/hsm"
)

// PIN is the user PIN of every test token.
const PIN = "1234"

// modulePaths are where Debian and other distributions put the library.
var modulePaths = []string{
	"/usr/lib/softhsm/libsofthsm2.so",
	"/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/local/lib/softhsm/libsofthsm2.so",
}

// Tokens is a SoftHSM2 set-up with initialised tokens.
type Tokens struct {
	// Module is the path of libsofthsm2.so.
	Module string
	// PINFile holds PIN.
	PINFile string
	// Dir is the temporary directory of the configuration and tokens.
	Dir string
}

// Module returns the path of the SoftHSM2 library, or "" when absent.
func Module() string {
	for _, p := range modulePaths {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// New initialises one token per label in a fresh temporary directory and
// points SOFTHSM2_CONF at it for the rest of the test (t.Setenv, so the
// test must not be parallel). It skips the test when SoftHSM2 or PKCS#11
// support is missing.
func New(t testing.TB, labels ...string) Tokens {
	t.Helper()
	if !hsm.Supported {
		t.Skip("skipping: this build has no PKCS#11 support (CGO_ENABLED=0)")
	}
	mod := Module()
	util, err := exec.LookPath("softhsm2-util")
	if mod == "" || err != nil {
		t.Skip("skipping: SoftHSM2 is not installed (apt-get install softhsm2; scripts/test.sh installs it)")
	}
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	if err := os.Mkdir(tokens, 0o700); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	body := fmt.Sprintf("directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n", tokens)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOFTHSM2_CONF", conf)
	for _, l := range labels {
		out, err := exec.Command(util, "--init-token", "--free", "--label", l, "--so-pin", "12345678", "--pin", PIN).CombinedOutput()
		if err != nil {
			t.Fatalf("softhsm2-util --init-token %s: %v\n%s", l, err, out)
		}
	}
	pinFile := filepath.Join(dir, "pin")
	if err := os.WriteFile(pinFile, []byte(PIN+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return Tokens{Module: mod, PINFile: pinFile, Dir: dir}
}
