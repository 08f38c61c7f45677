package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/kmsd/kmsd/internal/iam"
	"github.com/kmsd/kmsd/internal/kms"
)

// iamCommand is one command of kmsd iam. iamCommands is the only list of
// them: the parser, the argument count and the help text all read it.
type iamCommand struct {
	// name is the command's two words.
	name string
	// args name the positional arguments, in order; flags is the usage
	// of the command's flags, which may come before, between or after
	// them. A command without args reads no flags either: words after
	// its name are ignored.
	args  []string
	flags string
	// note is shown after the usage in the help.
	note string
	// done, when set, is printed after the command succeeded: what it
	// changed, a format whose operands are the positional arguments.
	done string
	// run does the command with the positional arguments p.
	run func(c *iamCall, p []string) error
}

// iamCommands returns the commands of kmsd iam, in the order of the help.
func iamCommands() []iamCommand {
	return []iamCommand{
		{name: "account create", args: []string{"NAME"}, flags: "[--id ID]", run: (*iamCall).accountCreate},
		{name: "account list", run: (*iamCall).accountList},
		{name: "account delete", args: []string{"NAME"}, done: "deleted account %s", run: (*iamCall).accountDelete},
		{name: "project create", args: []string{"ACCOUNT", "NAME"}, flags: "[--id ID]", run: (*iamCall).projectCreate},
		{name: "project list", args: []string{"ACCOUNT"}, run: (*iamCall).projectList},
		{name: "project delete", args: []string{"ID"}, done: "deleted project %s", run: (*iamCall).projectDelete},
		{name: "project quota", args: []string{"ID"}, flags: "[--cmk N] [--grants N]", note: "sets the quotas given, keeps the other", run: (*iamCall).projectQuota},
		{name: "user create", args: []string{"ACCOUNT", "NAME"}, flags: "[--password-env VAR] [--policy P]... [--id ID]", run: (*iamCall).userCreate},
		{name: "user list", args: []string{"ACCOUNT"}, run: (*iamCall).userList},
		{name: "user delete", args: []string{"ACCOUNT", "NAME"}, done: "deleted user %s/%s", run: (*iamCall).userDelete},
		{name: "user passwd", args: []string{"ACCOUNT", "NAME"}, flags: "--password-env VAR", done: "set the password of user %s/%s", run: (*iamCall).userPasswd},
		{name: "user disable", args: []string{"ACCOUNT", "NAME"}, done: "disabled user %s/%s", run: (*iamCall).userDisable},
		{name: "user enable", args: []string{"ACCOUNT", "NAME"}, done: "enabled user %s/%s", run: (*iamCall).userEnable},
		{name: "accesskey create", args: []string{"ACCOUNT", "USER"}, note: "prints the SK once", run: (*iamCall).accessKeyCreate},
		{name: "accesskey list", args: []string{"ACCOUNT", "USER"}, run: (*iamCall).accessKeyList},
		{name: "accesskey delete", args: []string{"AK"}, done: "deleted access key %s", run: (*iamCall).accessKeyDelete},
		{name: "accesskey disable", args: []string{"AK"}, done: "disabled access key %s", run: (*iamCall).accessKeyDisable},
		{name: "accesskey enable", args: []string{"AK"}, done: "enabled access key %s", run: (*iamCall).accessKeyEnable},
		{name: "policy put", args: []string{"ACCOUNT", "NAME", "FILE"}, done: "stored policy %[2]s of account %[1]s from %[3]s", run: (*iamCall).policyPut},
		{name: "policy list", args: []string{"ACCOUNT"}, run: (*iamCall).policyList},
		{name: "policy attach", args: []string{"ACCOUNT", "USER", "POLICY"}, done: "attached policy %[3]s to user %[1]s/%[2]s", run: (*iamCall).policyAttach},
		{name: "policy detach", args: []string{"ACCOUNT", "USER", "POLICY"}, done: "detached policy %[3]s from user %[1]s/%[2]s", run: (*iamCall).policyDetach},
	}
}

// iamUsage is the help of kmsd iam, made from the command table.
var iamUsage = func() string {
	var b strings.Builder
	b.WriteString("Usage: kmsd iam [--config FILE | --data DIR] COMMAND ARGS\n\n")
	for _, c := range iamCommands() {
		line := strings.Join(append([]string{c.name}, c.args...), " ")
		if c.flags != "" {
			line += " " + c.flags
		}
		if c.note != "" {
			line = fmt.Sprintf("%-40s (%s)", line, c.note)
		}
		fmt.Fprintf(&b, "  %s\n", line)
	}
	b.WriteString(`
System roles: "KMS Administrator", "KMS CMKFullAccess", "KMS CMKReadOnlyAccess".
Without --config or --data the dev data directory ./.kmsd-dev is used.
These commands change the data directory directly; a kmsd serving it is told
at once (SIGHUP) and sees the change before the command returns.
`)
	return b.String()
}()

// iamCall is one run of an iam command: the service, the output and the
// flags every command shares.
type iamCall struct {
	ctx    context.Context
	s      *iam.Service
	kms    *kms.Service
	out    *tabwriter.Writer
	getenv func(string) string
	fs     *flag.FlagSet

	id          string
	passwordEnv string
	cmk, grants int
	policies    multiFlag
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
	name := rest[0] + " " + rest[1]
	var cmd *iamCommand
	for _, c := range iamCommands() {
		if c.name == name {
			cmd = &c
			break
		}
	}
	if cmd == nil {
		fmt.Fprint(stderr, iamUsage)
		return fmt.Errorf("unknown iam command %q", name)
	}
	c := &iamCall{ctx: ctx, s: srv.IAM, kms: srv.KMS, out: tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0), getenv: getenv}
	defer c.out.Flush()
	c.fs = flag.NewFlagSet("iam", flag.ContinueOnError)
	c.fs.SetOutput(stderr)
	c.fs.StringVar(&c.id, "id", "", "fixed 32-hex id")
	c.fs.StringVar(&c.passwordEnv, "password-env", "", "environment variable holding the password")
	c.fs.IntVar(&c.cmk, "cmk", 0, "CMK quota (0 = server default)")
	c.fs.IntVar(&c.grants, "grants", 0, "grants per key quota (0 = server default)")
	c.fs.Var(&c.policies, "policy", "system role or custom policy to attach (repeatable)")
	var p []string
	if len(cmd.args) > 0 {
		if p, err = subFlags(c.fs, rest[2:], len(cmd.args)); err != nil {
			return err
		}
	}
	if err := cmd.run(c, p); err != nil {
		return err
	}
	if cmd.done != "" {
		args := make([]any, len(p))
		for i, a := range p {
			args[i] = a
		}
		fmt.Fprintf(c.out, cmd.done+"\n", args...)
	}
	return nil
}

// password returns the password named by --password-env, or "" without it.
func (c *iamCall) password() (string, error) {
	if c.passwordEnv == "" {
		return "", nil
	}
	p := c.getenv(c.passwordEnv)
	if p == "" {
		return "", fmt.Errorf("environment variable %s is empty", c.passwordEnv)
	}
	return p, nil
}

// account returns the id of the account named name.
func (c *iamCall) account(name string) (string, error) {
	a, err := c.s.Account(c.ctx, name)
	return a.ID, err
}

// user returns the id of the user named name in the account acct.
func (c *iamCall) user(acct, name string) (string, error) {
	aid, err := c.account(acct)
	if err != nil {
		return "", err
	}
	u, err := c.s.UserByName(c.ctx, aid, name)
	return u.ID, err
}

func (c *iamCall) accountCreate(p []string) error {
	a, err := c.s.CreateAccount(c.ctx, p[0], c.id)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.out, "account\t%s\nid\t%s\n", a.Name, a.ID)
	return nil
}

func (c *iamCall) accountList([]string) error {
	as, err := c.s.Accounts(c.ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(c.out, "NAME\tID")
	for _, a := range as {
		fmt.Fprintf(c.out, "%s\t%s\n", a.Name, a.ID)
	}
	return nil
}

func (c *iamCall) accountDelete(p []string) error {
	aid, err := c.account(p[0])
	if err != nil {
		return err
	}
	return c.s.DeleteAccount(c.ctx, aid)
}

func (c *iamCall) projectCreate(p []string) error {
	aid, err := c.account(p[0])
	if err != nil {
		return err
	}
	pr, err := c.s.CreateProject(c.ctx, aid, p[1], c.id)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.out, "project\t%s\nid\t%s\n", pr.Name, pr.ID)
	return nil
}

func (c *iamCall) projectList(p []string) error {
	aid, err := c.account(p[0])
	if err != nil {
		return err
	}
	ps, err := c.s.ListProjects(c.ctx, aid)
	if err != nil {
		return err
	}
	// The quotas in effect: the project's own, or the server's default
	// where the project sets none (0).
	fmt.Fprintln(c.out, "NAME\tID\tKEYS\tCMK_QUOTA\tGRANT_QUOTA")
	for _, pr := range ps {
		qs, err := c.kms.Quotas(c.ctx, pr.ID)
		if err != nil || len(qs) != 2 {
			return fmt.Errorf("quotas of project %s: %v", pr.ID, err)
		}
		eff := func(own int, q kms.Quota) string {
			if own == 0 {
				return fmt.Sprintf("%d (default)", q.Quota)
			}
			return fmt.Sprint(q.Quota)
		}
		fmt.Fprintf(c.out, "%s\t%s\t%d\t%s\t%s\n", pr.Name, pr.ID, qs[0].Used, eff(pr.CMKQuota, qs[0]), eff(pr.GrantQuota, qs[1]))
	}
	return nil
}

func (c *iamCall) projectDelete(p []string) error { return c.s.DeleteProject(c.ctx, p[0]) }

// projectQuota sets the quotas given; a flag not given keeps the
// project's current value.
func (c *iamCall) projectQuota(p []string) error {
	set := map[string]bool{}
	c.fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["cmk"] && !set["grants"] {
		return errors.New("project quota: give --cmk N, --grants N or both (0 = the server's default)")
	}
	cur, err := c.s.Project(c.ctx, p[0])
	if err != nil {
		return err
	}
	if !set["cmk"] {
		c.cmk = cur.CMKQuota
	}
	if !set["grants"] {
		c.grants = cur.GrantQuota
	}
	if err := c.s.SetProjectQuotas(c.ctx, p[0], c.cmk, c.grants); err != nil {
		return err
	}
	fmt.Fprintf(c.out, "project %s: cmk quota %d, grant quota %d (0: the server's default)\n", p[0], c.cmk, c.grants)
	return nil
}

func (c *iamCall) userCreate(p []string) error {
	aid, err := c.account(p[0])
	if err != nil {
		return err
	}
	pw, err := c.password()
	if err != nil {
		return err
	}
	u, err := c.s.CreateUser(c.ctx, aid, p[1], c.id, pw, c.policies)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.out, "user\t%s\nid\t%s\npolicies\t%s\n", u.Name, u.ID, strings.Join(u.Policies, ", "))
	return nil
}

func (c *iamCall) userList(p []string) error {
	aid, err := c.account(p[0])
	if err != nil {
		return err
	}
	us, err := c.s.ListUsers(c.ctx, aid)
	if err != nil {
		return err
	}
	fmt.Fprintln(c.out, "NAME\tID\tDISABLED\tPOLICIES")
	for _, u := range us {
		fmt.Fprintf(c.out, "%s\t%s\t%v\t%s\n", u.Name, u.ID, u.Disabled, strings.Join(u.Policies, ", "))
	}
	return nil
}

func (c *iamCall) userDelete(p []string) error {
	uid, err := c.user(p[0], p[1])
	if err != nil {
		return err
	}
	return c.s.DeleteUser(c.ctx, uid)
}

func (c *iamCall) userPasswd(p []string) error {
	uid, err := c.user(p[0], p[1])
	if err != nil {
		return err
	}
	pw, err := c.password()
	if err != nil {
		return err
	}
	if pw == "" {
		return errors.New("user passwd: --password-env VAR is required")
	}
	return c.s.SetPassword(c.ctx, uid, pw)
}

func (c *iamCall) userDisable(p []string) error { return c.setUserDisabled(p, true) }
func (c *iamCall) userEnable(p []string) error  { return c.setUserDisabled(p, false) }

func (c *iamCall) setUserDisabled(p []string, disabled bool) error {
	uid, err := c.user(p[0], p[1])
	if err != nil {
		return err
	}
	return c.s.SetUserDisabled(c.ctx, uid, disabled)
}

func (c *iamCall) accessKeyCreate(p []string) error {
	uid, err := c.user(p[0], p[1])
	if err != nil {
		return err
	}
	ak, sk, err := c.s.CreateAccessKey(c.ctx, uid, "", "")
	if err != nil {
		return err
	}
	fmt.Fprintf(c.out, "ak\t%s\nsk\t%s\n", ak, sk)
	fmt.Fprintln(c.out, "(the SK is shown only now; it is stored sealed)")
	return nil
}

func (c *iamCall) accessKeyList(p []string) error {
	uid, err := c.user(p[0], p[1])
	if err != nil {
		return err
	}
	ks, err := c.s.ListAccessKeys(c.ctx, uid)
	if err != nil {
		return err
	}
	fmt.Fprintln(c.out, "AK\tDISABLED\tCREATED")
	for _, k := range ks {
		fmt.Fprintf(c.out, "%s\t%v\t%s\n", k.AK, k.Disabled, k.CreatedAt.Format("2006-01-02T15:04:05Z"))
	}
	return nil
}

func (c *iamCall) accessKeyDelete(p []string) error { return c.s.DeleteAccessKey(c.ctx, p[0]) }
func (c *iamCall) accessKeyDisable(p []string) error {
	return c.s.SetAccessKeyDisabled(c.ctx, p[0], true)
}
func (c *iamCall) accessKeyEnable(p []string) error {
	return c.s.SetAccessKeyDisabled(c.ctx, p[0], false)
}

func (c *iamCall) policyPut(p []string) error {
	aid, err := c.account(p[0])
	if err != nil {
		return err
	}
	doc, err := os.ReadFile(p[2])
	if err != nil {
		return err
	}
	return c.s.PutPolicy(c.ctx, aid, p[1], doc)
}

func (c *iamCall) policyList(p []string) error {
	aid, err := c.account(p[0])
	if err != nil {
		return err
	}
	ps, err := c.s.ListPolicies(c.ctx, aid)
	if err != nil {
		return err
	}
	fmt.Fprintln(c.out, "NAME\tDOCUMENT")
	for _, pol := range ps {
		fmt.Fprintf(c.out, "%s\t%s\n", pol.Name, pol.Document)
	}
	return nil
}

func (c *iamCall) policyAttach(p []string) error {
	uid, err := c.user(p[0], p[1])
	if err != nil {
		return err
	}
	return c.s.AttachPolicy(c.ctx, uid, p[2])
}

func (c *iamCall) policyDetach(p []string) error {
	uid, err := c.user(p[0], p[1])
	if err != nil {
		return err
	}
	return c.s.DetachPolicy(c.ctx, uid, p[2])
}
