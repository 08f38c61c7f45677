// Package internal_test holds the import-graph rule of kmsd (house rule 1):
// dependencies point inward, and the low layers stay small.
package internal_test

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/kmsd/kmsd/"

// rules lists, for each package, the kmsd packages and third-party module
// prefixes it may import (directly or not). The standard library is always
// allowed except where forbidden names it.
var rules = []struct {
	pkg       string
	kmsd      []string // allowed kmsd packages
	external  []string // allowed third-party import-path prefixes
	forbidden []string // forbidden standard packages
	notDirect []string // kmsd packages it may reach only through another
}{
	{pkg: "internal/keyring", external: []string{"golang.org/x/crypto/", "golang.org/x/sys/"}, forbidden: []string{"net/http", "database/sql"}},
	{pkg: "internal/region", kmsd: []string{"internal/kms", "internal/keyring", "internal/store", "internal/ciphertext", "internal/capsule"}, external: []string{"github.com/emmansun/gmsm", "github.com/decred/dcrd/dcrec/secp256k1", "golang.org/x/crypto/", "golang.org/x/sys/"}, forbidden: []string{"database/sql"}},
	{pkg: "internal/hsm", external: []string{"github.com/miekg/pkcs11"}, forbidden: []string{"net/http", "database/sql"}},
	{pkg: "internal/ciphertext", external: []string{"github.com/emmansun/gmsm"}, forbidden: []string{"net/http", "database/sql"}},
	{pkg: "internal/audit", kmsd: []string{"internal/keyring"}, external: []string{"golang.org/x/crypto/", "golang.org/x/sys/"}, forbidden: []string{"net/http", "database/sql"}},
	{pkg: "internal/metrics", kmsd: []string{"internal/audit", "internal/kms", "internal/keyring", "internal/store", "internal/ciphertext", "internal/capsule"}, external: []string{"github.com/prometheus/", "github.com/beorn7/perks", "github.com/cespare/xxhash", "github.com/munnerz/goautoneg", "google.golang.org/protobuf/", "github.com/emmansun/gmsm", "github.com/decred/dcrd/dcrec/secp256k1", "golang.org/x/crypto/", "golang.org/x/sys/"}},
	{pkg: "internal/logging", forbidden: []string{"net/http", "database/sql"}},
	{pkg: "internal/throttle", forbidden: []string{"net/http", "database/sql"}},
	{pkg: "internal/capsule", forbidden: []string{"net/http", "database/sql"}},
	{pkg: "internal/store", forbidden: []string{"net/http"}},
	{pkg: "internal/store/group", forbidden: []string{"net/http", "database/sql"}},
	{pkg: "internal/backup", kmsd: []string{"internal/keyring", "internal/store"}, external: []string{"golang.org/x/crypto/", "golang.org/x/sys/"}, forbidden: []string{"net/http", "database/sql"}},
	{pkg: "internal/store/postgres", kmsd: []string{"internal/store"}, external: []string{"github.com/jackc/", "golang.org/x/sync/", "golang.org/x/text/"}, forbidden: []string{"net/http"}},
	{pkg: "internal/auth", external: []string{"github.com/emmansun/gmsm", "golang.org/x/crypto/", "golang.org/x/sys/"}, forbidden: []string{"database/sql"}},
	{pkg: "internal/kms", kmsd: []string{"internal/keyring", "internal/store", "internal/ciphertext", "internal/capsule"}, external: []string{"github.com/emmansun/gmsm", "github.com/decred/dcrd/dcrec/secp256k1", "golang.org/x/crypto/", "golang.org/x/sys/"}, forbidden: []string{"net/http", "database/sql"}},
	{pkg: "internal/iam", kmsd: []string{"internal/auth", "internal/keyring", "internal/store"}, external: []string{"github.com/emmansun/gmsm", "golang.org/x/crypto/", "golang.org/x/sys/", "go.yaml.in/yaml/v3"}, forbidden: []string{"database/sql"}},
	{pkg: "internal/api", notDirect: []string{"internal/store"}, kmsd: []string{"internal/audit", "internal/throttle", "internal/logging", "internal/auth", "internal/iam", "internal/kms", "internal/keyring", "internal/store", "internal/ciphertext", "internal/capsule"}, external: []string{"github.com/emmansun/gmsm", "github.com/decred/dcrd/dcrec/secp256k1", "golang.org/x/crypto/", "golang.org/x/sys/", "go.yaml.in/yaml/v3"}, forbidden: []string{"database/sql"}},
	{pkg: "internal/envelope", external: []string{"github.com/emmansun/gmsm", "golang.org/x/sys/"}, forbidden: []string{"net/http", "database/sql"}},
	{pkg: "internal/seed", kmsd: []string{"internal/auth", "internal/iam", "internal/kms", "internal/keyring", "internal/store", "internal/ciphertext", "internal/capsule"}, external: []string{"github.com/emmansun/gmsm", "github.com/decred/dcrd/dcrec/secp256k1", "golang.org/x/crypto/", "golang.org/x/sys/", "go.yaml.in/yaml/v3"}, forbidden: []string{"database/sql"}},
	{pkg: "internal/client", kmsd: []string{"internal/auth"}, external: []string{"github.com/emmansun/gmsm", "golang.org/x/crypto/", "golang.org/x/sys/"}, forbidden: []string{"database/sql"}},
	{pkg: "internal/console", notDirect: []string{"internal/store", "internal/kms"}, kmsd: []string{"internal/auth", "internal/iam", "internal/client", "internal/keyring", "internal/store", "internal/audit"}, external: []string{"github.com/emmansun/gmsm", "golang.org/x/crypto/", "golang.org/x/sys/", "go.yaml.in/yaml/v3"}, forbidden: []string{"database/sql"}},
}

func TestImportGraph(t *testing.T) {
	for _, r := range rules {
		t.Run(r.pkg, func(t *testing.T) {
			out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}|{{.ImportPath}}", module+r.pkg).Output()
			if err != nil {
				t.Fatalf("go list: %v", err)
			}
			direct, err := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, module+r.pkg).Output()
			if err != nil {
				t.Fatalf("go list: %v", err)
			}
			for _, imp := range strings.Split(string(direct), "\n") {
				for _, nd := range r.notDirect {
					if imp == module+nd {
						t.Errorf("%s imports %s directly", r.pkg, nd)
					}
				}
			}
			for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				nonStd, path, _ := strings.Cut(line, "|")
				for _, f := range r.forbidden {
					if path == f {
						t.Errorf("%s depends on %s", r.pkg, f)
					}
				}
				if nonStd == "" || path == module+r.pkg {
					continue
				}
				if !allowed(path, r.pkg, r.kmsd, r.external) {
					t.Errorf("%s depends on %s", r.pkg, path)
				}
			}
		})
	}
}

func allowed(path, self string, kmsd, external []string) bool {
	if rest, ok := strings.CutPrefix(path, module); ok {
		if strings.HasPrefix(rest, self+"/") {
			return true
		}
		for _, k := range kmsd {
			if rest == k || strings.HasPrefix(rest, k+"/") {
				return true
			}
		}
		return false
	}
	for _, e := range external {
		if strings.HasPrefix(path, e) || path == strings.TrimSuffix(e, "/") {
			return true
		}
	}
	return false
}
