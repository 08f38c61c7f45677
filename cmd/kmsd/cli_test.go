package main

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
