package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kmsd/kmsd/internal/server"
)

// kmsd runs the command line in-process and returns what it printed.
func kmsd(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(t.Context(), args, &out, &errOut, func(k string) string { return env[k] })
	return out.String() + errOut.String(), err
}

func mustKmsd(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	out, err := kmsd(t, env, args...)
	if err != nil {
		t.Fatalf("kmsd %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// newDevDataDir initialises a dev data directory the way serve --dev does.
func newDevDataDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cfg := server.DevConfig(dir, devListen, devCMKQuota)
	if _, err := server.InitDataDir(cfg); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(context.Background(), cfg, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if err := srv.EnsureDevIdentities(t.Context(), server.DefaultDevIdentities(func(string) string { return "" })); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestIAMCommands(t *testing.T) {
	dir := newDevDataDir(t)
	env := map[string]string{"PW": "s3cret-password"}
	d := []string{"iam", "--data", dir}
	mustKmsd(t, env, append(d, "account", "create", "acme")...)
	out := mustKmsd(t, env, append(d, "project", "create", "acme", "cn-north-4", "--id", "11112222333344445555666677778888")...)
	if !strings.Contains(out, "11112222333344445555666677778888") {
		t.Errorf("project create printed %q", out)
	}
	mustKmsd(t, env, append(d, "user", "create", "acme", "alice", "--password-env", "PW", "--policy", "KMS CMKReadOnlyAccess")...)
	out = mustKmsd(t, env, append(d, "accesskey", "create", "acme", "alice")...)
	ak := regexp.MustCompile(`(?m)^ak\s+([A-Z0-9]{20})$`).FindStringSubmatch(out)
	sk := regexp.MustCompile(`(?m)^sk\s+([A-Za-z0-9]{40})$`).FindStringSubmatch(out)
	if ak == nil || sk == nil {
		t.Fatalf("accesskey create printed %q", out)
	}
	out = mustKmsd(t, env, append(d, "accesskey", "list", "acme", "alice")...)
	if !strings.Contains(out, ak[1]) || strings.Contains(out, sk[1]) {
		t.Errorf("accesskey list must show the AK and never the SK: %q", out)
	}
	mustKmsd(t, env, append(d, "accesskey", "disable", ak[1])...)
	policy := filepath.Join(t.TempDir(), "p.json")
	if err := os.WriteFile(policy, []byte(`{"Version":"1.1","Statement":[{"Effect":"Allow","Action":["kms:cmk:crypto"]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	mustKmsd(t, env, append(d, "policy", "put", "acme", "crypto", policy)...)
	mustKmsd(t, env, append(d, "policy", "attach", "acme", "alice", "crypto")...)
	out = mustKmsd(t, env, append(d, "user", "list", "acme")...)
	if !strings.Contains(out, "KMS CMKReadOnlyAccess, crypto") {
		t.Errorf("user list: %q", out)
	}
	if _, err := kmsd(t, env, append(d, "policy", "attach", "acme", "alice", "no-such-policy")...); err == nil {
		t.Error("attaching an unknown policy succeeded")
	}
	if err := os.WriteFile(policy, []byte(`{"Version":"1.0","Statement":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := kmsd(t, env, append(d, "policy", "put", "acme", "bad", policy)...); err == nil {
		t.Error("a policy with Version 1.0 was accepted")
	}
	// project quota changes only the quotas it is given.
	const pid = "11112222333344445555666677778888"
	quotas := func() string {
		t.Helper()
		out := mustKmsd(t, env, append(d, "project", "list", "acme")...)
		m := regexp.MustCompile(pid + `\s+(\d+)\s+(\d+)`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("project list printed %q", out)
		}
		return m[1] + "/" + m[2]
	}
	mustKmsd(t, env, append(d, "project", "quota", pid, "--cmk", "7", "--grants", "9")...)
	if got := quotas(); got != "7/9" {
		t.Errorf("after --cmk 7 --grants 9: quotas %s, want 7/9", got)
	}
	mustKmsd(t, env, append(d, "project", "quota", pid, "--cmk", "5")...)
	if got := quotas(); got != "5/9" {
		t.Errorf("after --cmk 5 alone: quotas %s, want 5/9 (grants kept)", got)
	}
	mustKmsd(t, env, append(d, "project", "quota", pid, "--grants", "0")...)
	if got := quotas(); got != "5/0" {
		t.Errorf("after --grants 0 alone: quotas %s, want 5/0", got)
	}
	if _, err := kmsd(t, env, append(d, "project", "quota", pid)...); err == nil {
		t.Error("project quota without --cmk or --grants succeeded")
	}
	out = mustKmsd(t, env, append(d, "account", "list")...)
	for _, want := range []string{"acme", "dev", "dev2"} {
		if !strings.Contains(out, want) {
			t.Errorf("account list lacks %s: %q", want, out)
		}
	}
}

func TestKeyCommands(t *testing.T) {
	dir := newDevDataDir(t)
	ids := server.DefaultDevIdentities(func(string) string { return "" })
	out := mustKmsd(t, nil, "key", "--data", dir, "create-default", "obs", "--project", ids.ProjectID)
	if !strings.Contains(out, "key_alias obs/default") {
		t.Errorf("create-default printed %q", out)
	}
	if _, err := kmsd(t, nil, "key", "--data", dir, "create-default", "obs", "--project", ids.ProjectID); err == nil {
		t.Error("a second obs/default key was created")
	}
	out = mustKmsd(t, nil, "key", "--data", dir, "create", "--project", ids.ProjectID, "--alias", "mac", "--spec", "HMAC_256")
	if !strings.Contains(out, "key_usage GENERATE_VERIFY_MAC") {
		t.Errorf("create HMAC_256 printed %q", out)
	}
}

// TestKeyRotate rotates a key with `kmsd key rotate` and checks the new
// primary version in the printout and in the store, and that keys that
// cannot rotate are refused.
func TestKeyRotate(t *testing.T) {
	dir := newDevDataDir(t)
	ids := server.DefaultDevIdentities(func(string) string { return "" })
	k := []string{"key", "--data", dir}
	out := mustKmsd(t, nil, append(k, "create", "--project", ids.ProjectID, "--alias", "rot", "--spec", "SM4")...)
	m := regexp.MustCompile(`(?m)^key_id (\S+)$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("create printed %q", out)
	}
	id := m[1]
	for _, want := range []string{"primary_version 2\nnumber_of_rotations 1", "primary_version 3\nnumber_of_rotations 2"} {
		out := mustKmsd(t, nil, append(k, "rotate", id, "--project", ids.ProjectID)...)
		if !strings.Contains(out, "key_id "+id+"\n"+want) {
			t.Errorf("rotate printed %q, want %q", out, want)
		}
	}
	srv, err := server.New(t.Context(), server.DevConfig(dir, devListen, devCMKQuota), server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := srv.KMS.DescribeKey(t.Context(), ids.ProjectID, id)
	srv.Close()
	if err != nil {
		t.Fatal(err)
	}
	if got.PrimaryVersion != 3 || got.RotationCount != 2 || got.LastRotation.IsZero() {
		t.Errorf("stored key: primary version %d, %d rotations, last %v; want 3, 2, set", got.PrimaryVersion, got.RotationCount, got.LastRotation)
	}
	out = mustKmsd(t, nil, append(k, "create", "--project", ids.ProjectID, "--alias", "ec", "--spec", "EC_P256")...)
	ec := regexp.MustCompile(`(?m)^key_id (\S+)$`).FindStringSubmatch(out)
	if ec == nil {
		t.Fatalf("create printed %q", out)
	}
	for name, args := range map[string][]string{
		"EC key":      {"rotate", ec[1], "--project", ids.ProjectID},
		"unknown key": {"rotate", "00000000-0000-4000-8000-000000000000", "--project", ids.ProjectID},
		"no key id":   {"rotate", "--project", ids.ProjectID},
		"no project":  {"rotate", id},
	} {
		if out, err := kmsd(t, nil, append(k, args...)...); err == nil {
			t.Errorf("%s: rotate succeeded: %q", name, out)
		}
	}
}

func TestInitAndConfig(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "kmsd.yaml")
	cfg := "listen: 127.0.0.1:0\ndata_dir: data\nroot_key:\n  passphrase_env: KMSD_PASS\n"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"KMSD_PASS": "correct horse battery staple"}
	out := mustKmsd(t, env, "init", "--config", cfgPath)
	if !strings.Contains(out, "passphrase parameters") || !strings.Contains(out, "database") {
		t.Errorf("init printed %q", out)
	}
	// A second init keeps what exists; a wrong passphrase is refused.
	mustKmsd(t, env, "init", "--config", cfgPath)
	if _, err := kmsd(t, map[string]string{"KMSD_PASS": "wrong"}, "init", "--config", cfgPath); err == nil {
		t.Error("init accepted a wrong passphrase")
	}
	// The admin commands work without the server's TLS key, which the
	// operator running them may not be able to read.
	if err := os.WriteFile(cfgPath, []byte(cfg+"tls: {cert_file: missing.crt, key_file: missing.key}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustKmsd(t, env, "iam", "--config", cfgPath, "account", "list")
	if err := os.WriteFile(cfgPath, []byte(cfg+"unknown_key: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := kmsd(t, env, "init", "--config", cfgPath); err == nil || !strings.Contains(err.Error(), "unknown_key") {
		t.Errorf("unknown config key: got %v, want an error naming it", err)
	}
}

// TestServeRefuses checks that serve stops before serving when something
// is wrong, with an error that says what to do about it.
func TestServeRefuses(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	dir := t.TempDir()
	file := filepath.Join(dir, "a-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "kmsd.yaml")
	if err := os.WriteFile(cfgPath, []byte("listen: "+taken.Addr().String()+"\ndata_dir: data\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustKmsd(t, nil, "init", "--config", cfgPath)
	existing := newDevDataDir(t)
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want []string // in the error
	}{
		{"dev port taken", []string{"serve", "--dev", "--data", filepath.Join(dir, "dev"), "--listen", taken.Addr().String()}, nil,
			[]string{taken.Addr().String(), "--listen ADDR", "127.0.0.1:0"}},
		{"config port taken", []string{"serve", "--config", cfgPath}, nil,
			[]string{taken.Addr().String(), "--listen ADDR", "listen in " + cfgPath}},
		{"dev data dir is a file", []string{"serve", "--dev", "--data", file, "--listen", "127.0.0.1:0"}, nil,
			[]string{file, "--data DIR"}},
		{"--data with --config", []string{"serve", "--config", cfgPath, "--data", dir}, nil,
			[]string{"--data", "data_dir"}},
		{"--cmk-quota with --config", []string{"serve", "--config", cfgPath, "--cmk-quota", "5"}, nil,
			[]string{"--cmk-quota", "quotas.cmk"}},
		{"dev off loopback", []string{"serve", "--dev", "--data", filepath.Join(dir, "dev2"), "--listen", "0.0.0.0:0"}, nil,
			[]string{"0.0.0.0:0", "loopback", "--config"}},
		{"dev quota below 1", []string{"serve", "--dev", "--data", filepath.Join(dir, "dev2"), "--cmk-quota", "0"}, nil,
			[]string{"--cmk-quota"}},
		{"bad log level", []string{"serve", "--dev", "--data", filepath.Join(dir, "dev2"), "--log-level", "loud"}, nil,
			[]string{"--log-level"}},
		// An existing data directory holds the default dev identities.
		{"dev project id changed", []string{"serve", "--dev", "--data", existing, "--listen", "127.0.0.1:0"},
			map[string]string{"KMSD_DEV_PROJECT_ID": "11112222333344445555666677778888"},
			[]string{"0123456789abcdef0123456789abcdef", "11112222333344445555666677778888", "KMSD_DEV_", "--data DIR", "cannot change in an existing"}},
		{"dev project id malformed", []string{"serve", "--dev", "--data", filepath.Join(dir, "dev3"), "--listen", "127.0.0.1:0"},
			map[string]string{"KMSD_DEV_PROJECT_ID": "my-project"},
			[]string{"KMSD_DEV_PROJECT_ID", "my-project", "32 hex digits"}},
		{"unexpected argument", []string{"serve", "--dev", "--data", filepath.Join(dir, "dev3"), "extra"}, nil,
			[]string{"unexpected argument"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := kmsd(t, tt.env, tt.args...)
			if err == nil {
				t.Fatalf("serve succeeded: %s", out)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("got error %q, want it to contain %q", err, w)
				}
			}
			if tt.name != "dev project id changed" && strings.Contains(err.Error(), "cannot change in an existing") {
				t.Errorf("error %q speaks of an existing data directory", err)
			}
		})
	}
	// A start that failed left no new files behind.
	for _, d := range []string{"dev", "dev2", "dev3"} {
		if _, err := os.Stat(filepath.Join(dir, d)); !os.IsNotExist(err) {
			t.Errorf("a failed start left %s behind (%v)", d, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "data", lockName)); !os.IsNotExist(err) {
		t.Errorf("a failed production start left its lock file (%v)", err)
	}
}

// TestHelpMatchesDocs checks that docs/configuration.md shows the commands
// and flags that kmsd's help shows, so neither drifts.
func TestHelpMatchesDocs(t *testing.T) {
	b, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for name, help := range map[string]string{"iam": iamUsage, "key": keyUsage} {
		// The commands: the usage text between its first two blank lines.
		commands := strings.Split(help, "\n\n")[1]
		if !strings.Contains(doc, commands) {
			t.Errorf("docs/configuration.md lacks the %s commands of kmsd %s help:\n%s", name, name, commands)
		}
	}
	for _, line := range strings.Split(usage, "\n") {
		if strings.HasPrefix(line, "  kmsd serve") && !strings.Contains(doc, "`"+strings.TrimSpace(line)+"`") {
			t.Errorf("docs/configuration.md lacks `%s`", strings.TrimSpace(line))
		}
	}
}

func TestExitCode(t *testing.T) {
	tests := []struct {
		args []string
		want int
	}{
		{[]string{"version"}, 0},
		{[]string{"--help"}, 0},
		{[]string{"serve", "--help"}, 0},
		{[]string{"serve", "-h"}, 0},
		{[]string{"iam", "help"}, 0},
		{[]string{"key", "--data", "/nonexistent", "help"}, 0},
		{nil, 2},
		{[]string{"iam"}, 2},
		{[]string{"no-such-command"}, 2},
		{[]string{"serve", "--no-such-flag"}, 2},
	}
	for _, tt := range tests {
		var out, errOut strings.Builder
		err := run(t.Context(), tt.args, &out, &errOut, func(string) string { return "" })
		if got := exitCode(err, tt.args); got != tt.want {
			t.Errorf("kmsd %q: exit %d (err %v), want %d", tt.args, got, err, tt.want)
		}
	}
}
