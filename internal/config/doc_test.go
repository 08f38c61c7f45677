package config

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

// docExample returns the n-th ```yaml block of docs/configuration.md.
func docExample(t *testing.T, n int) string {
	t.Helper()
	b, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(b), -1)
	if len(blocks) <= n {
		t.Fatalf("docs/configuration.md has %d yaml blocks, want more than %d", len(blocks), n)
	}
	return blocks[n][1]
}

// TestDocExample parses the example configuration of
// docs/configuration.md as written, and checks that it shows every key
// that Config has, so the document stays complete and true.
func TestDocExample(t *testing.T) {
	doc := docExample(t, 0)
	c, err := Parse(strings.NewReader(doc), "/etc/kmsd")
	if err != nil {
		t.Fatalf("the documented example does not parse: %v", err)
	}
	if c.Listen != "0.0.0.0:8443" || c.TLS.CertFile != "/etc/kmsd/tls.crt" || c.DataDir != "/var/lib/kmsd" ||
		c.RootKey.File != "/var/lib/kmsd/root.key" || c.Quotas.CMK != DefaultCMKQuota || c.Tokens.TTL.Duration != DefaultTokenTTL ||
		c.Bootstrap != "/etc/kmsd/identities.yaml" || c.RotationCheckInterval.Duration != time.Minute {
		t.Errorf("the documented example parsed as %+v", c)
	}
	for _, key := range yamlKeys(reflect.TypeFor[Config](), "") {
		// A key shows as "key:" on its own line, indented by its depth,
		// possibly commented out (the alternative root key sources).
		last := key[strings.LastIndex(key, ".")+1:]
		if !regexp.MustCompile(`(?m)^[ #]*` + regexp.QuoteMeta(last) + `:`).MatchString(doc) {
			t.Errorf("the documented example lacks %s", key)
		}
	}
}

// yamlKeys lists the dotted yaml keys of the struct type t.
func yamlKeys(t reflect.Type, prefix string) []string {
	var keys []string
	for f := range t.Fields() {
		name := strings.Split(f.Tag.Get("yaml"), ",")[0]
		if name == "" || name == "-" {
			continue
		}
		if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeFor[Duration]() {
			keys = append(keys, yamlKeys(f.Type, prefix+name+".")...)
			continue
		}
		keys = append(keys, prefix+name)
	}
	return keys
}

// TestDocClusterExample parses the two-node PostgreSQL example of
// docs/configuration.md (its third yaml block, after the bootstrap file).
func TestDocClusterExample(t *testing.T) {
	c, err := Parse(strings.NewReader(docExample(t, 2)), "/etc/kmsd")
	if err != nil {
		t.Fatalf("the documented cluster example does not parse: %v", err)
	}
	if c.Database.Driver != DriverPostgres || c.Database.DSNFile != "/run/secrets/kmsd-dsn" || c.Database.MaxConns != 16 {
		t.Errorf("the documented cluster example parsed as %+v", c.Database)
	}
}
