package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/mattn/go-isatty"
)

// kmsOptions holds every flag of the kms commands. The connection flags
// apply to all of them; each command names the others it takes.
type kmsOptions struct {
	endpoint, project, ak, skEnv, profile, profileFile, output string

	key, alias, spec, usage, description, origin string
	algorithm, signature, messageType, aad       string
	grantee, granteeType, operations, name       string
	in, state, sealAlg                           string
	pendingDays, limit, bits, length, interval   int
	base64, raw, noPlaintext, quiet              bool
}

// connectionFlags are the flags every kms command takes.
var connectionFlags = []string{"endpoint", "project", "ak", "sk-env", "profile", "profile-file", "o"}

func (o *kmsOptions) flagSet(stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("kms", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, "kmsd kms help lists the commands and flags\n") }
	fs.StringVar(&o.endpoint, "endpoint", "", "service URL")
	fs.StringVar(&o.project, "project", "", "project id")
	fs.StringVar(&o.ak, "ak", "", "access key")
	fs.StringVar(&o.skEnv, "sk-env", "", "environment variable holding the secret key")
	fs.StringVar(&o.profile, "profile", "", "profile name")
	fs.StringVar(&o.profileFile, "profile-file", "", "profile file")
	fs.StringVar(&o.output, "o", "table", "output: table or json")

	fs.StringVar(&o.key, "key", "", "key id")
	fs.StringVar(&o.alias, "alias", "", "key alias")
	fs.StringVar(&o.spec, "spec", "", "key spec")
	fs.StringVar(&o.usage, "usage", "", "key usage")
	fs.StringVar(&o.description, "description", "", "key description")
	fs.StringVar(&o.origin, "origin", "", "kms or external (import material later)")
	fs.StringVar(&o.algorithm, "algorithm", "", "signing or encryption algorithm")
	fs.StringVar(&o.signature, "signature", "", "base64 signature")
	fs.StringVar(&o.messageType, "message-type", "", "DIGEST or RAW")
	fs.StringVar(&o.aad, "aad", "", "additional authenticated data")
	fs.StringVar(&o.grantee, "grantee", "", "grantee user or account id")
	fs.StringVar(&o.granteeType, "grantee-type", "", "user or domain")
	fs.StringVar(&o.operations, "operations", "", "comma-separated grant operations")
	fs.StringVar(&o.name, "name", "", "grant name")
	fs.StringVar(&o.in, "in", "", "input file (default stdin)")
	fs.StringVar(&o.state, "state", "", "key state filter: 1-5 or a name (enabled, disabled, …)")
	fs.StringVar(&o.sealAlg, "cipher", "AES_256_GCM", "file cipher: AES_256_GCM or SM4_GCM")
	fs.IntVar(&o.pendingDays, "pending-days", 7, "days until deletion (7-1096)")
	fs.IntVar(&o.limit, "limit", 0, "page size (0: every page)")
	fs.IntVar(&o.bits, "bits", 256, "data key or random length in bits")
	fs.IntVar(&o.length, "length", 32, "data key length in bytes")
	fs.IntVar(&o.interval, "interval", 0, "rotation interval in days (30-365)")
	fs.BoolVar(&o.base64, "base64", false, "input or output is base64 text rather than raw bytes")
	fs.BoolVar(&o.raw, "raw", false, "sign or verify the message itself (RAW, < 4096 bytes) instead of its locally computed digest")
	fs.BoolVar(&o.noPlaintext, "no-plaintext", false, "create-datakey without the plaintext")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress bar")
	return fs
}

// kmsCommand is one kms command.
type kmsCommand struct {
	name string
	// args is the usage of the positional arguments; nargs their count
	// (-1: one or more).
	args  string
	nargs int
	// flags are the command's flags beyond connectionFlags.
	flags []string
	help  string
	run   func(e *kmsEnv, args []string) error
}

// check validates the positional arguments and the flags given.
func (c kmsCommand) check(fs *flag.FlagSet, args []string) error {
	switch {
	case c.nargs >= 0 && len(args) != c.nargs:
		return fmt.Errorf("kms %s takes %d argument(s) (%s), got %d", c.name, c.nargs, strings.TrimSpace(c.args), len(args))
	case c.nargs < 0 && len(args) == 0:
		return fmt.Errorf("kms %s needs at least one argument (%s)", c.name, strings.TrimSpace(c.args))
	}
	var bad []string
	fs.Visit(func(f *flag.Flag) {
		if !slices.Contains(connectionFlags, f.Name) && !slices.Contains(c.flags, f.Name) {
			bad = append(bad, "--"+f.Name)
		}
	})
	if len(bad) > 0 {
		return fmt.Errorf("kms %s does not take %s", c.name, strings.Join(bad, ", "))
	}
	return nil
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && isatty.IsTerminal(f.Fd())
}

// moduleVersion is the version of the kmsd module this binary was built
// from: -ldflags "-X main.version=…" when set, else the module version
// that go install records ("(devel)" for a build in a clone).
func moduleVersion() string {
	if version != "dev" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return version
}

// buildInfo is the module version and the VCS revision of the build.
func buildInfo() string {
	s := "kmsd " + moduleVersion()
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return s
	}
	var rev, t, dirty string
	for _, kv := range bi.Settings {
		switch kv.Key {
		case "vcs.revision":
			rev = kv.Value
		case "vcs.time":
			t = kv.Value
		case "vcs.modified":
			if kv.Value == "true" {
				dirty = " (modified)"
			}
		}
	}
	if rev != "" {
		s += " commit " + rev + dirty
		if t != "" {
			s += " " + t
		}
	}
	return s + " " + bi.GoVersion
}
