package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/kmsd/kmsd/internal/config"
	"github.com/kmsd/kmsd/internal/kms"
	"github.com/kmsd/kmsd/internal/server"
)

// The iam and key commands work on the data directory directly (the store
// allows a running server beside them). When a kmsd serves the directory
// (its kmsd.lock is held), a command that changed something signals it
// (SIGHUP) and waits until it has dropped its key and identity caches, so
// the change is in effect when the command returns.

const iamUsage = `Usage: kmsd iam [--config FILE | --data DIR] COMMAND ARGS

  account create NAME [--id ID]          account list           account delete NAME
  project create ACCOUNT NAME [--id ID]  project list ACCOUNT   project delete ID
  project quota ID --cmk N --grants N
  user create ACCOUNT NAME [--password-env VAR] [--policy P]... [--id ID]
  user list ACCOUNT                      user delete ACCOUNT NAME
  user passwd ACCOUNT NAME --password-env VAR
  user disable ACCOUNT NAME              user enable ACCOUNT NAME
  accesskey create ACCOUNT USER          (prints the SK once)
  accesskey list ACCOUNT USER            accesskey delete AK
  accesskey disable AK                   accesskey enable AK
  policy put ACCOUNT NAME FILE           policy list ACCOUNT
  policy attach ACCOUNT USER POLICY      policy detach ACCOUNT USER POLICY

System roles: "KMS Administrator", "KMS CMKFullAccess", "KMS CMKReadOnlyAccess".
Without --config or --data the dev data directory ./.kmsd-dev is used.
These commands change the data directory directly; a kmsd serving it is told
at once (SIGHUP) and sees the change before the command returns.
`

const keyUsage = `Usage: kmsd key [--config FILE | --data DIR] COMMAND ARGS

  create-default SERVICE --project ID      create the default key SERVICE/default
  create --project ID --alias ALIAS [--spec SPEC] [--usage USAGE] [--description TEXT]
                                           create a key of any spec (also HMAC_*)
  rotate KEY_ID --project ID               rotate an AES_256 or SM4 key now: a new
                                           primary version; old ones still decrypt

These commands change the data directory directly; a kmsd serving it is told
at once (SIGHUP) and sees the change before the command returns. kmsd kms is
the client of a running server's API.
`

// adminFlags parses the data-directory flags shared by iam and key and
// returns the remaining arguments.
func openAdmin(ctx context.Context, name string, args []string, stderr io.Writer, getenv func(string) string, usageText string) (*server.Server, []string, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usageText) }
	cfgPath := fs.String("config", "", "configuration file")
	data := fs.String("data", "", "dev data directory")
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	if fs.NArg() == 0 || fs.Arg(0) == "help" {
		fmt.Fprint(stderr, usageText)
		return nil, nil, flag.ErrHelp
	}
	var cfg config.Config
	var err error
	if *cfgPath != "" {
		if cfg, err = config.Load(*cfgPath); err != nil {
			return nil, nil, err
		}
		// The admin commands serve nothing and apply no bootstrap: they
		// need neither the TLS key nor the bootstrap's secrets.
		cfg.Bootstrap = ""
		cfg.TLS = config.TLS{}
	} else {
		if *data == "" {
			*data = devDataDir
		}
		abs, err := filepath.Abs(*data)
		if err != nil {
			return nil, nil, err
		}
		cfg = server.DevConfig(abs, devListen, devCMKQuota)
		if _, err := os.Stat(cfg.RootKey.File); err != nil {
			return nil, nil, fmt.Errorf("no data directory at %s (start kmsd serve --dev once, or pass --config): %w", abs, err)
		}
	}
	srv, err := server.New(ctx, cfg, server.Options{Getenv: getenv})
	if err != nil {
		return nil, nil, err
	}
	return srv, fs.Args(), nil
}

// subFlags parses the flags of one subcommand, which may come after its
// positional arguments.
func subFlags(fs *flag.FlagSet, args []string, positional int) ([]string, error) {
	var pos []string
	for len(args) > 0 {
		if strings.HasPrefix(args[0], "-") {
			if err := fs.Parse(args); err != nil {
				return nil, err
			}
			args = fs.Args()
			continue
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	if len(pos) != positional {
		return nil, fmt.Errorf("want %d arguments, got %d", positional, len(pos))
	}
	return pos, nil
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// iamArgs is the number of positional arguments of each iam command.
// "account list" takes neither arguments nor flags: its words are not
// parsed.
var iamArgs = map[string]int{
	"account create": 1, "account list": 0, "account delete": 1,
	"project create": 2, "project list": 1, "project delete": 1, "project quota": 1,
	"user create": 2, "user list": 1,
	"user delete": 2, "user disable": 2, "user enable": 2, "user passwd": 2,
	"accesskey create": 2, "accesskey list": 2,
	"accesskey delete": 1, "accesskey disable": 1, "accesskey enable": 1,
	"policy put": 3, "policy list": 1, "policy attach": 3, "policy detach": 3,
}

func cmdIAM(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	srv, rest, err := openAdmin(ctx, "iam", args, stderr, getenv, iamUsage)
	if err != nil {
		return err
	}
	defer srv.Close()
	if len(rest) < 2 {
		fmt.Fprint(stderr, iamUsage)
		return flag.ErrHelp
	}
	s := srv.IAM
	fs := flag.NewFlagSet("iam", flag.ContinueOnError)
	fs.SetOutput(stderr)
	id := fs.String("id", "", "fixed 32-hex id")
	passwordEnv := fs.String("password-env", "", "environment variable holding the password")
	cmk := fs.Int("cmk", 0, "CMK quota (0 = server default)")
	grants := fs.Int("grants", 0, "grants per key quota (0 = server default)")
	var policies multiFlag
	fs.Var(&policies, "policy", "system role or custom policy to attach (repeatable)")
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	defer tw.Flush()

	password := func() (string, error) {
		if *passwordEnv == "" {
			return "", nil
		}
		p := getenv(*passwordEnv)
		if p == "" {
			return "", fmt.Errorf("environment variable %s is empty", *passwordEnv)
		}
		return p, nil
	}
	account := func(name string) (string, error) {
		a, err := s.Account(ctx, name)
		return a.ID, err
	}
	user := func(acct, name string) (string, error) {
		aid, err := account(acct)
		if err != nil {
			return "", err
		}
		u, err := s.UserByName(ctx, aid, name)
		return u.ID, err
	}

	cmd := rest[0] + " " + rest[1]
	n, ok := iamArgs[cmd]
	if !ok {
		fmt.Fprint(stderr, iamUsage)
		return fmt.Errorf("unknown iam command %q", cmd)
	}
	var p []string
	if n > 0 {
		if p, err = subFlags(fs, rest[2:], n); err != nil {
			return err
		}
	}
	switch cmd {
	case "account create":
		a, err := s.CreateAccount(ctx, p[0], *id)
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "account\t%s\nid\t%s\n", a.Name, a.ID)
	case "account list":
		as, err := s.Accounts(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintln(tw, "NAME\tID")
		for _, a := range as {
			fmt.Fprintf(tw, "%s\t%s\n", a.Name, a.ID)
		}
	case "account delete":
		aid, err := account(p[0])
		if err != nil {
			return err
		}
		return s.DeleteAccount(ctx, aid)
	case "project create":
		aid, err := account(p[0])
		if err != nil {
			return err
		}
		pr, err := s.CreateProject(ctx, aid, p[1], *id)
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "project\t%s\nid\t%s\n", pr.Name, pr.ID)
	case "project list":
		aid, err := account(p[0])
		if err != nil {
			return err
		}
		ps, err := s.ListProjects(ctx, aid)
		if err != nil {
			return err
		}
		fmt.Fprintln(tw, "NAME\tID\tCMK_QUOTA\tGRANT_QUOTA")
		for _, pr := range ps {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\n", pr.Name, pr.ID, pr.CMKQuota, pr.GrantQuota)
		}
	case "project delete":
		return s.DeleteProject(ctx, p[0])
	case "project quota":
		// A flag not given keeps the project's current value.
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if !set["cmk"] && !set["grants"] {
			return errors.New("project quota: give --cmk N, --grants N or both (0 = the server's default)")
		}
		cur, err := s.Project(ctx, p[0])
		if err != nil {
			return err
		}
		if !set["cmk"] {
			*cmk = cur.CMKQuota
		}
		if !set["grants"] {
			*grants = cur.GrantQuota
		}
		return s.SetProjectQuotas(ctx, p[0], *cmk, *grants)
	case "user create":
		aid, err := account(p[0])
		if err != nil {
			return err
		}
		pw, err := password()
		if err != nil {
			return err
		}
		u, err := s.CreateUser(ctx, aid, p[1], *id, pw, policies)
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "user\t%s\nid\t%s\npolicies\t%s\n", u.Name, u.ID, strings.Join(u.Policies, ", "))
	case "user list":
		aid, err := account(p[0])
		if err != nil {
			return err
		}
		us, err := s.ListUsers(ctx, aid)
		if err != nil {
			return err
		}
		fmt.Fprintln(tw, "NAME\tID\tDISABLED\tPOLICIES")
		for _, u := range us {
			fmt.Fprintf(tw, "%s\t%s\t%v\t%s\n", u.Name, u.ID, u.Disabled, strings.Join(u.Policies, ", "))
		}
	case "user delete", "user disable", "user enable", "user passwd":
		uid, err := user(p[0], p[1])
		if err != nil {
			return err
		}
		switch rest[1] {
		case "delete":
			return s.DeleteUser(ctx, uid)
		case "disable", "enable":
			return s.SetUserDisabled(ctx, uid, rest[1] == "disable")
		default:
			pw, err := password()
			if err != nil {
				return err
			}
			if pw == "" {
				return errors.New("user passwd: --password-env VAR is required")
			}
			return s.SetPassword(ctx, uid, pw)
		}
	case "accesskey create", "accesskey list":
		uid, err := user(p[0], p[1])
		if err != nil {
			return err
		}
		if rest[1] == "create" {
			ak, sk, err := s.CreateAccessKey(ctx, uid, "", "")
			if err != nil {
				return err
			}
			fmt.Fprintf(tw, "ak\t%s\nsk\t%s\n", ak, sk)
			fmt.Fprintln(tw, "(the SK is shown only now; it is stored sealed)")
			return nil
		}
		ks, err := s.ListAccessKeys(ctx, uid)
		if err != nil {
			return err
		}
		fmt.Fprintln(tw, "AK\tDISABLED\tCREATED")
		for _, k := range ks {
			fmt.Fprintf(tw, "%s\t%v\t%s\n", k.AK, k.Disabled, k.CreatedAt.Format("2006-01-02T15:04:05Z"))
		}
	case "accesskey delete", "accesskey disable", "accesskey enable":
		if rest[1] == "delete" {
			return s.DeleteAccessKey(ctx, p[0])
		}
		return s.SetAccessKeyDisabled(ctx, p[0], rest[1] == "disable")
	case "policy put":
		aid, err := account(p[0])
		if err != nil {
			return err
		}
		doc, err := os.ReadFile(p[2])
		if err != nil {
			return err
		}
		return s.PutPolicy(ctx, aid, p[1], doc)
	case "policy list":
		aid, err := account(p[0])
		if err != nil {
			return err
		}
		ps, err := s.ListPolicies(ctx, aid)
		if err != nil {
			return err
		}
		fmt.Fprintln(tw, "NAME\tDOCUMENT")
		for _, pol := range ps {
			fmt.Fprintf(tw, "%s\t%s\n", pol.Name, pol.Document)
		}
	case "policy attach", "policy detach":
		uid, err := user(p[0], p[1])
		if err != nil {
			return err
		}
		if rest[1] == "attach" {
			return s.AttachPolicy(ctx, uid, p[2])
		}
		return s.DetachPolicy(ctx, uid, p[2])
	}
	return nil
}

func cmdKey(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	srv, rest, err := openAdmin(ctx, "key", args, stderr, getenv, keyUsage)
	if err != nil {
		return err
	}
	defer srv.Close()
	fs := flag.NewFlagSet("key", flag.ContinueOnError)
	fs.SetOutput(stderr)
	project := fs.String("project", "", "project id")
	alias := fs.String("alias", "", "key alias")
	spec := fs.String("spec", "AES_256", "key spec: "+strings.Join(kms.KeySpecs(), ", "))
	usage := fs.String("usage", "", "key usage (default: the spec's)")
	desc := fs.String("description", "", "key description")
	positional := 0
	if rest[0] == "create-default" || rest[0] == "rotate" {
		positional = 1
	}
	p, err := subFlags(fs, rest[1:], positional)
	if err != nil {
		return err
	}
	if *project == "" {
		return errors.New("--project ID is required")
	}
	pr, err := srv.IAM.Project(ctx, *project)
	if err != nil {
		return err
	}
	switch rest[0] {
	case "create-default":
		k, err := srv.KMS.CreateDefaultKey(ctx, pr.ID, pr.AccountID, p[0])
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "key_id %s\nkey_alias %s\n", k.KeyID, k.Alias)
	case "create":
		k, err := srv.KMS.CreateKey(ctx, kms.CreateKeyInput{ProjectID: pr.ID, AccountID: pr.AccountID, Alias: *alias, Spec: *spec, Usage: *usage, Description: *desc})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "key_id %s\nkey_alias %s\nkey_spec %s\nkey_usage %s\n", k.KeyID, k.Alias, k.Spec, k.Usage)
	case "rotate":
		k, err := srv.KMS.RotateKey(ctx, pr.ID, p[0])
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "key_id %s\nprimary_version %d\nnumber_of_rotations %d\n", k.KeyID, k.PrimaryVersion, k.RotationCount)
	default:
		fmt.Fprint(stderr, keyUsage)
		return fmt.Errorf("unknown key command %q", rest[0])
	}
	return nil
}
