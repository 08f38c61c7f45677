// Command kmsd is a self-hosted key management service that speaks the
// Huawei Cloud KMS REST API.
//
//	kmsd serve --dev                 run a dev server with documented credentials
//	kmsd init --config FILE          initialise a production data dir and root key
//	kmsd serve --config FILE         run a production server
//	kmsd iam …                       manage accounts, projects, users, access keys, policies
//	kmsd key …                       create default keys and keys of any spec
//	kmsd kms …                       a client of the KMS API, any KMS endpoint
//	kmsd audit verify|tail|export    check and read audit trails offline
//	kmsd backup|restore              archive a whole store; load it into an empty one
//	kmsd rootkey rotate|status       replace the root key while serving
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "kmsd:", err)
	}
	os.Exit(exitCode(err, os.Args[1:]))
}

// exitCode is 0 for success and for help that was asked for (-h, --help,
// help), and 2 for an error or for usage printed because a command was
// incomplete.
func exitCode(err error, args []string) int {
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if errors.Is(err, flag.ErrHelp) {
		for _, a := range args {
			if a == "-h" || a == "-help" || a == "--help" || a == "help" {
				return 0
			}
		}
	}
	return 2
}

const usage = `kmsd — a key management service that speaks the Huawei Cloud KMS API

Usage:
  kmsd serve --dev [--listen ADDR] [--data DIR] [--cmk-quota N] [--log-level L] [--seed FILE] [--console=false] [--audit MODE]
  kmsd serve --config FILE [--listen ADDR] [--log-level L] [--audit MODE]
  kmsd init --config FILE [--create-hsm-key]
  kmsd iam SUBCOMMAND ...   (kmsd iam help)
  kmsd key SUBCOMMAND ...   (kmsd key help)
  kmsd kms COMMAND ...      a client of the KMS API (kmsd kms help)
  kmsd seed export ...      write the data directory's keys as a seed file (kmsd seed help)
  kmsd audit SUBCOMMAND ... check and read audit trails offline (kmsd audit help)
  kmsd backup --config FILE --out FILE     write an online snapshot of the whole store
  kmsd restore --config FILE --in FILE     load a snapshot into an empty store (either backend)
  kmsd rootkey rotate|status --config FILE  re-seal everything under a new root key (kmsd rootkey help)
  kmsd version
`

// run is main without the process: tests call it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return flag.ErrHelp
	}
	switch args[0] {
	case "serve":
		return cmdServe(ctx, args[1:], stdout, stderr, getenv)
	case "init":
		return cmdInit(ctx, args[1:], stdout, stderr, getenv)
	case "iam", "key":
		cmd := cmdIAM
		if args[0] == "key" {
			cmd = cmdKey
		}
		err := cmd(ctx, args[1:], stdout, stderr, getenv)
		if err == nil && changesStore(args) {
			notifyServer(ctx, adminDataDir(args[1:]), stderr)
		}
		return err
	case "seed":
		return cmdSeed(ctx, args[1:], stdout, stderr, getenv)
	case "kms":
		return cmdKMS(ctx, args[1:], stdout, stderr, getenv)
	case "audit":
		return cmdAudit(ctx, args[1:], stdout, stderr)
	case "backup":
		return cmdBackup(ctx, args[1:], stdout, stderr, getenv)
	case "restore":
		return cmdRestore(ctx, args[1:], stdout, stderr, getenv)
	case "rootkey":
		return cmdRootkey(ctx, args[1:], stdout, stderr, getenv)
	case "version":
		fmt.Fprintln(stdout, buildInfo())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"
