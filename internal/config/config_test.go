package config

import (
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		wantErr string
		check   func(t *testing.T, c Config)
	}{
		{name: "defaults", yaml: "data_dir: /var/lib/kmsd\n", check: func(t *testing.T, c Config) {
			if c.Listen != DefaultListen || c.Region != DefaultRegion || c.Quotas.CMK != 20 || c.Quotas.GrantPerCMK != 100 {
				t.Errorf("defaults: %+v", c)
			}
			if c.Tokens.TTL.Duration != 24*time.Hour || c.Log.Format != "json" {
				t.Errorf("defaults: %+v", c)
			}
			if c.Database.Path != "/var/lib/kmsd/kmsd.db" || c.RootKey.File != "/var/lib/kmsd/root.key" {
				t.Errorf("derived paths: %+v", c)
			}
		}},
		{name: "relative paths", yaml: "data_dir: data\ntls: {cert_file: c.pem, key_file: k.pem}\nlisten: 0.0.0.0:8443\n", check: func(t *testing.T, c Config) {
			if c.DataDir != "/etc/kmsd/data" || c.TLS.CertFile != "/etc/kmsd/c.pem" {
				t.Errorf("paths not resolved against the file's directory: %+v", c)
			}
		}},
		{name: "passphrase source", yaml: "data_dir: /d\nroot_key: {passphrase_env: P}\n", check: func(t *testing.T, c Config) {
			if c.RootKey.File != "" || c.PassphraseParamsPath() != "/d/root-key.params.json" {
				t.Errorf("%+v", c.RootKey)
			}
		}},
		{name: "unknown key", yaml: "data_dir: /d\nlisten_addr: x\n", wantErr: "listen_addr"},
		{name: "unknown nested key", yaml: "data_dir: /d\ntls: {cert: x}\n", wantErr: "cert"},
		{name: "no data dir", yaml: "listen: 127.0.0.1:1\n", wantErr: "data_dir is required"},
		{name: "plain http off loopback", yaml: "data_dir: /d\nlisten: 0.0.0.0:8080\n", wantErr: "refusing plain HTTP"},
		{name: "plain http allowed", yaml: "data_dir: /d\nlisten: 0.0.0.0:8080\nallow_insecure_http: true\n"},
		{name: "plain http on ::1", yaml: "data_dir: /d\nlisten: '[::1]:8080'\n"},
		{name: "half tls", yaml: "data_dir: /d\ntls: {cert_file: c}\n", wantErr: "go together"},
		{name: "two root key sources", yaml: "data_dir: /d\nroot_key: {file: k, passphrase_env: P}\n", wantErr: "exactly one"},
		{name: "bad ttl", yaml: "data_dir: /d\ntokens: {ttl: 10s}\n", wantErr: "tokens.ttl"},
		{name: "unparsable ttl", yaml: "data_dir: /d\ntokens: {ttl: soon}\n", wantErr: "invalid duration"},
		{name: "bad level", yaml: "data_dir: /d\nlog: {level: loud}\n", wantErr: "log.level"},
		{name: "bad quota", yaml: "data_dir: /d\nquotas: {cmk: 0}\n", wantErr: "quotas"},
		{name: "bad driver", yaml: "data_dir: /d\ndatabase: {driver: mysql}\n", wantErr: "only sqlite"},
		{name: "wrong type", yaml: "data_dir: /d\nquotas: {cmk: many}\n", wantErr: "cannot unmarshal"},
		{name: "rotation check interval", yaml: "data_dir: /d\nrotation_check_interval: 10m\n", check: func(t *testing.T, c Config) {
			if c.RotationCheckInterval.Duration != 10*time.Minute {
				t.Errorf("got rotation_check_interval %v, want 10m", c.RotationCheckInterval.Duration)
			}
			if d := Default().RotationCheckInterval.Duration; d != DefaultRotation {
				t.Errorf("got default rotation_check_interval %v, want %v", d, DefaultRotation)
			}
		}},
		{name: "console", yaml: "data_dir: /d\nconsole: {enabled: true, path: /ui/kms}\n", check: func(t *testing.T, c Config) {
			if !c.Console.Enabled || c.Console.Path != "/ui/kms" {
				t.Errorf("got console %+v, want enabled at /ui/kms", c.Console)
			}
		}},
		{name: "console off by default", yaml: "data_dir: /d\n", check: func(t *testing.T, c Config) {
			if c.Console.Enabled || c.Console.Path != DefaultConsole {
				t.Errorf("got console %+v, want off at %s", c.Console, DefaultConsole)
			}
		}},
		{name: "console at the root", yaml: "data_dir: /d\nconsole: {path: /}\n", wantErr: "console.path"},
		{name: "console under the API", yaml: "data_dir: /d\nconsole: {path: /v1.0/ui}\n", wantErr: "console.path"},
		{name: "console path relative", yaml: "data_dir: /d\nconsole: {path: console}\n", wantErr: "console.path"},
		{name: "rotation check interval too short", yaml: "data_dir: /d\nrotation_check_interval: 10ms\n", wantErr: "rotation_check_interval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse(strings.NewReader(tt.yaml), "/etc/kmsd")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}
