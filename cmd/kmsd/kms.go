package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"go.yaml.in/yaml/v3"

	"github.com/kmsd/kmsd/internal/client"
)

// Exit codes of kmsd, which scripts can rely on (docs/cli.md).
const (
	exitOK = 0
	// exitService: the service answered an error (its Huawei code and
	// message are printed).
	exitService = 1
	// exitUsage: bad command line, configuration or local input.
	exitUsage = 2
	// exitUnreachable: the service could not be reached.
	exitUnreachable = 3
	// exitInvalid: a signature did not verify, or an envelope file is
	// truncated, reordered or tampered with.
	exitInvalid = 4
)

// exitError carries the exit code of an error.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// errInvalid is a failed verification (exitInvalid).
var errInvalid = errors.New("verification failed")

const kmsUsage = `Usage: kmsd kms COMMAND [ARGS] [FLAGS]

A client of the KMS wire API: it signs requests the Huawei way
(SDK-HMAC-SHA256), so it works against kmsd and against Huawei Cloud KMS.
Flags may come before or after the command and its arguments.

Connection (flags override the environment, which overrides the profile):
  --endpoint URL      KMSD_ENDPOINT (written to dev.env by serve --dev)
  --project ID        CLOUD_SDK_PROJECT_ID (or HUAWEICLOUD_SDK_PROJECT_ID)
  --ak AK             CLOUD_SDK_AK (or HUAWEICLOUD_SDK_AK)
  --sk-env VAR        read the SK from VAR instead of CLOUD_SDK_SK (or HUAWEICLOUD_SDK_SK)
  --profile NAME      a profile of the profile file (KMSD_PROFILE; "default" if present)
  --profile-file F    KMSD_PROFILE_FILE, default $XDG_CONFIG_HOME/kmsd/profiles.yaml
  -o table|json       human table (default) or the API's raw JSON answer

Commands:
%s
Exit codes: 0 success; 1 the service answered an error (its code and
message are printed); 2 bad usage or local input; 3 the service could not
be reached; 4 a signature did not verify or an envelope file failed its
integrity check.
`

// kmsEnv is what a kms command runs with.
type kmsEnv struct {
	ctx    context.Context
	c      *client.Client
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	json   bool
	// tty reports whether stderr is a terminal (progress bars).
	tty bool
	o   *kmsOptions
}

func cmdKMS(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	return runKMS(ctx, args, os.Stdin, stdout, stderr, getenv, isTerminal(stderr))
}

func kmsHelp() string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	for _, c := range kmsCommands {
		fmt.Fprintf(tw, "  %s %s\t%s\n", c.name, c.args, c.help)
	}
	tw.Flush()
	return fmt.Sprintf(kmsUsage, b.String())
}

func runKMS(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string, tty bool) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, kmsHelp())
		if len(args) == 0 {
			return flag.ErrHelp
		}
		return nil
	}
	o := &kmsOptions{}
	fs := o.flagSet(stderr)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return usageErr(err)
	}
	if len(pos) == 0 {
		fmt.Fprint(stderr, kmsHelp())
		return flag.ErrHelp
	}
	i := slices.IndexFunc(kmsCommands, func(c kmsCommand) bool { return c.name == pos[0] })
	if i < 0 {
		return usageErr(fmt.Errorf("unknown kms command %q (kmsd kms help lists them)", pos[0]))
	}
	cmd := kmsCommands[i]
	pos = pos[1:]
	if err := cmd.check(fs, pos); err != nil {
		return usageErr(err)
	}
	if o.output != "table" && o.output != "json" {
		return usageErr(fmt.Errorf("-o %q: want table or json", o.output))
	}
	cfg, err := o.clientConfig(getenv)
	if err != nil {
		return usageErr(err)
	}
	c, err := client.New(cfg)
	if err != nil {
		return usageErr(fmt.Errorf("%w; set it in the environment (source the dev server's dev.env), a flag or a profile", err))
	}
	e := &kmsEnv{ctx: ctx, c: c, stdin: stdin, stdout: stdout, stderr: stderr, json: o.output == "json", tty: tty, o: o}
	err = cmd.run(e, pos)
	if client.IsCode(err, "KMS.0321") {
		// Huawei's message speaks of X-Auth-Token even to AK/SK callers.
		err = fmt.Errorf("%w\nthe project %s is not this access key's project: check --project or CLOUD_SDK_PROJECT_ID", err, cfg.ProjectID)
	}
	return classify(err)
}

// classify gives err its exit code.
func classify(err error) error {
	var ee *exitError
	var ce *client.Error
	var ue *url.Error
	switch {
	case err == nil, errors.As(err, &ee):
		return err
	case errors.As(err, &ce):
		return &exitError{exitService, err}
	case errors.Is(err, errInvalid):
		return &exitError{exitInvalid, err}
	case errors.As(err, &ue):
		return &exitError{exitUnreachable, err}
	}
	return &exitError{exitUsage, err}
}

func usageErr(err error) error { return &exitError{exitUsage, err} }

// parseInterleaved parses fs from args in which flags and positional
// arguments may be mixed, and returns the positional arguments. "--"
// ends the flags.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for len(args) > 0 {
		a := args[0]
		switch {
		case a == "--":
			return append(pos, args[1:]...), nil
		case len(a) > 1 && a[0] == '-':
			if err := fs.Parse(args); err != nil {
				return nil, err
			}
			args = fs.Args()
		default:
			pos = append(pos, a)
			args = args[1:]
		}
	}
	return pos, nil
}

// profile is one entry of the profile file.
type profile struct {
	Endpoint  string `yaml:"endpoint"`
	ProjectID string `yaml:"project_id"`
	AK        string `yaml:"ak"`
	// SKEnv names the environment variable that holds the SK; SK holds it
	// in the file itself, which must then be private to its owner.
	SKEnv string `yaml:"sk_env"`
	SK    string `yaml:"sk"`
}

// loadProfile reads profile name from path. A missing file is no error
// when the profile was not asked for (explicit false).
func loadProfile(path, name string, explicit bool) (profile, error) {
	f, err := os.Open(path)
	if err != nil {
		if !explicit && errors.Is(err, os.ErrNotExist) {
			return profile{}, nil
		}
		return profile{}, fmt.Errorf("profile file: %w", err)
	}
	defer f.Close()
	var file struct {
		Profiles map[string]profile `yaml:"profiles"`
	}
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	if err := dec.Decode(&file); err != nil && !errors.Is(err, io.EOF) {
		return profile{}, fmt.Errorf("profile file %s: %w", path, err)
	}
	p, ok := file.Profiles[name]
	if !ok {
		if explicit {
			return profile{}, fmt.Errorf("profile file %s has no profile %q", path, name)
		}
		return profile{}, nil
	}
	if p.SK != "" {
		if st, err := f.Stat(); err == nil && st.Mode().Perm()&0o077 != 0 {
			return profile{}, fmt.Errorf("profile file %s holds an sk but is readable by others (mode %v); chmod 600 it or use sk_env", path, st.Mode().Perm())
		}
	}
	return p, nil
}

// clientConfig resolves the connection settings: flags, then the
// environment, then the profile.
func (o *kmsOptions) clientConfig(getenv func(string) string) (client.Config, error) {
	first := func(vs ...string) string {
		for _, v := range vs {
			if v != "" {
				return v
			}
		}
		return ""
	}
	name := first(o.profile, getenv("KMSD_PROFILE"))
	path := first(o.profileFile, getenv("KMSD_PROFILE_FILE"))
	if path == "" {
		dir := first(getenv("XDG_CONFIG_HOME"))
		if dir == "" {
			if home := getenv("HOME"); home != "" {
				dir = filepath.Join(home, ".config")
			}
		}
		if dir != "" {
			path = filepath.Join(dir, "kmsd", "profiles.yaml")
		}
	}
	var p profile
	if path != "" {
		var err error
		if p, err = loadProfile(path, first(name, "default"), name != ""); err != nil {
			return client.Config{}, err
		}
	} else if name != "" {
		return client.Config{}, errors.New("--profile given but no profile file (set --profile-file or HOME)")
	}
	sk := first(getenv("CLOUD_SDK_SK"), getenv("HUAWEICLOUD_SDK_SK"))
	if o.skEnv != "" {
		if sk = getenv(o.skEnv); sk == "" {
			return client.Config{}, fmt.Errorf("--sk-env %s: the variable is empty", o.skEnv)
		}
	}
	if sk == "" && p.SKEnv != "" {
		sk = getenv(p.SKEnv)
	}
	return client.Config{
		Endpoint:  first(o.endpoint, getenv("KMSD_ENDPOINT"), p.Endpoint),
		ProjectID: first(o.project, getenv("CLOUD_SDK_PROJECT_ID"), getenv("HUAWEICLOUD_SDK_PROJECT_ID"), p.ProjectID),
		AK:        first(o.ak, getenv("CLOUD_SDK_AK"), getenv("HUAWEICLOUD_SDK_AK"), p.AK),
		SK:        first(sk, p.SK),
		UserAgent: "kmsd-cli/" + moduleVersion(),
	}, nil
}

// printJSON writes a raw API answer, indented, for -o json.
func printJSON(w io.Writer, raw []byte) error {
	if len(bytes.TrimSpace(raw)) == 0 {
		_, err := fmt.Fprintln(w, "{}")
		return err
	}
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		_, err := fmt.Fprintf(w, "%s\n", raw)
		return err
	}
	b.WriteByte('\n')
	_, err := w.Write(b.Bytes())
	return err
}

// printFields writes the members of a JSON object as a two-column table,
// in the order the service sent them; the members of nested objects are
// named parent.member, arrays are joined with commas.
func printFields(w io.Writer, raw []byte) error {
	var fields [][2]string
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := flatten(dec, "", &fields); err != nil {
		return fmt.Errorf("undecodable answer: %w", err)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, f := range fields {
		fmt.Fprintf(tw, "%s\t%s\n", f[0], f[1])
	}
	return tw.Flush()
}

func flatten(dec *json.Decoder, prefix string, out *[][2]string) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return err
				}
				name := k.(string)
				if prefix != "" {
					name = prefix + "." + name
				}
				if err := flatten(dec, name, out); err != nil {
					return err
				}
			}
			_, err = dec.Token()
			return err
		case '[':
			var items []string
			for dec.More() {
				var v any
				if err := dec.Decode(&v); err != nil {
					return err
				}
				if s, ok := v.(string); ok {
					items = append(items, s)
				} else {
					b, _ := json.Marshal(v)
					items = append(items, string(b))
				}
			}
			*out = append(*out, [2]string{prefix, strings.Join(items, ", ")})
			_, err = dec.Token()
			return err
		}
	case nil:
		*out = append(*out, [2]string{prefix, ""})
	default:
		*out = append(*out, [2]string{prefix, fmt.Sprint(t)})
	}
	return nil
}

// show prints an answer: raw JSON with -o json, fields otherwise.
func (e *kmsEnv) show(raw []byte) error {
	if e.json {
		return printJSON(e.stdout, raw)
	}
	return printFields(e.stdout, raw)
}

// post calls a POST operation with body and shows its answer.
func (e *kmsEnv) post(op string, body any) error {
	raw, err := e.c.Call(e.ctx, "POST", op, nil, body)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(raw)) == 0 && !e.json {
		// An operation that answers nothing still says what it did.
		id, _ := body.(map[string]string)["key_id"]
		_, err := fmt.Fprintf(e.stdout, "%s: done for key %s\n", op, id)
		return err
	}
	return e.show(raw)
}
