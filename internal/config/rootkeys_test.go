package config

import (
	"strings"
	"testing"
)

// TestPreviousRootKeys: previous_root_keys take every source root_key
// takes, resolve relative paths, and must each name one.
func TestPreviousRootKeys(t *testing.T) {
	c, err := Parse(strings.NewReader(`data_dir: /var/lib/kmsd
root_key: {passphrase_env: NEW, params_file: root-key-2.params.json}
previous_root_keys:
  - file: root.key
  - passphrase_file: old.pass
  - {source: pkcs11, module: /m.so, token_label: t, pin_file: pin, key_label: k, wrapped_key_file: old.pkcs11}
`), "/etc/kmsd")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.PassphraseParamsPath(); got != "/etc/kmsd/root-key-2.params.json" {
		t.Errorf("PassphraseParamsPath: %q", got)
	}
	p := c.PreviousRootKeys
	if len(p) != 3 || p[0].File != "/etc/kmsd/root.key" || p[1].PassphraseFile != "/etc/kmsd/old.pass" || p[2].PinFile != "/etc/kmsd/pin" {
		t.Fatalf("previous_root_keys: %+v", p)
	}
	if got := c.WithRootKey(p[2]).WrappedRootKeyPath(); got != "/etc/kmsd/old.pkcs11" {
		t.Errorf("WrappedRootKeyPath of the previous pkcs11 key: %q", got)
	}
	if got := c.WithRootKey(p[1]).PassphraseParamsPath(); got != "/var/lib/kmsd/root-key.params.json" {
		t.Errorf("PassphraseParamsPath of a previous passphrase key without params_file: %q", got)
	}
	for _, tt := range []struct{ yaml, want string }{
		{"previous_root_keys: [{}]", "previous_root_keys[0]: name its source"},
		{"previous_root_keys: [{file: a, passphrase_env: B}]", "previous_root_keys[0]: set exactly one of"},
		{"previous_root_keys: [{source: pkcs11}]", "previous_root_keys[0]: source pkcs11 needs"},
		{"previous_root_keys: [{file: a, params_file: p}]", "previous_root_keys[0]: params_file is for a passphrase root key"},
		{"root_key: {file: a, wrapped_key_file: w}", "root_key: module, token_label, pin_file, key_label and wrapped_key_file need source: pkcs11"},
	} {
		_, err := Parse(strings.NewReader("data_dir: /d\n"+tt.yaml+"\n"), "/etc/kmsd")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want %q", tt.yaml, err, tt.want)
		}
	}
}
