package api_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/kmsd/kmsd/internal/api"
)

// TestCompatibilityDoc keeps docs/compatibility.md true: every operation of
// the route table has exactly one row with its method and path, marked
// "supported" exactly when it has a handler.
func TestCompatibilityDoc(t *testing.T) {
	b, err := os.ReadFile("../../docs/compatibility.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| (\\w+) \\| (GET|POST|PUT|DELETE) \\| `([^`]+)` \\| [^|]* \\| ([^|]+) \\|$")
	rows := map[string][]string{}
	for _, m := range row.FindAllStringSubmatch(string(b), -1) {
		if _, dup := rows[m[1]]; dup {
			t.Errorf("%s has two rows", m[1])
		}
		rows[m[1]] = m[2:]
	}
	n := 0
	for _, o := range api.Operations() {
		if strings.HasPrefix(o.Pattern, "/v3/") {
			continue
		}
		n++
		r, ok := rows[o.Name]
		if !ok {
			t.Errorf("%s has no row", o.Name)
			continue
		}
		if r[0] != o.Method || r[1] != o.Pattern {
			t.Errorf("%s: doc says %s %s, table says %s %s", o.Name, r[0], r[1], o.Method, o.Pattern)
		}
		if supported := strings.HasPrefix(r[2], "supported"); supported != o.Implemented {
			t.Errorf("%s: doc status %q, implemented %v", o.Name, r[2], o.Implemented)
		}
	}
	if len(rows) != n {
		t.Errorf("doc has %d operation rows, table has %d operations", len(rows), n)
	}
}
