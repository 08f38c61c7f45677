package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kmsd/kmsd/internal/config"
	"github.com/kmsd/kmsd/internal/kms"
	"github.com/kmsd/kmsd/internal/server"
)

// The iam and key commands work on the data directory directly (the store
// allows a running server beside them). When a kmsd serves the directory
// (its kmsd.lock is held), a command that changed something signals it
// (SIGHUP) and waits until it has dropped its key and identity caches, so
// the change is in effect when the command returns.

const keyUsage = `Usage: kmsd key [--config FILE | --data DIR] COMMAND ARGS

  create-default SERVICE --project ID      create the default key SERVICE/default
  create --project ID --alias ALIAS [--spec SPEC] [--usage USAGE] [--description TEXT]
                                           create a key of any spec (also HMAC_*)
  rotate KEY_ID --project ID               rotate an AES_256 or SM4 key now: a new
                                           primary version; old ones still decrypt
  keyspace-create NAME --project ID [--type 1|2|3] [--keystore ID] [--description TEXT]
                                           create a trusted key space
  keyspace-list --project ID               list the project's key spaces
  keyspace-delete KEYSPACE_ID --project ID delete an empty key space

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
	if err := fs.Parse(hoistFlags(args, "config", "data")); err != nil {
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

// hoistFlags moves the flags named (as -name V, --name V or --name=V)
// to the front of args, so that they may come before or after the
// sub-command and its arguments. "--" ends the flags.
func hoistFlags(args []string, names ...string) []string {
	var front, rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i:]...)
			break
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || !slices.Contains(names, name) {
			rest = append(rest, a)
			continue
		}
		front = append(front, a)
		if !hasValue && i+1 < len(args) {
			i++
			front = append(front, args[i])
		}
	}
	return append(front, rest...)
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
	desc := fs.String("description", "", "key or key space description")
	spaceType := fs.String("type", "", "key space type: 1 default, 2 dedicated HSM, 3 external keystore")
	keystore := fs.String("keystore", "", "keystore id of a key space of type 2 or 3")
	positional := 0
	switch rest[0] {
	case "create-default", "rotate", "keyspace-create", "keyspace-delete":
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
	case "keyspace-create":
		ks, err := srv.KMS.CreateKeySpace(ctx, kms.CreateKeySpaceInput{ProjectID: pr.ID, Name: p[0], Type: *spaceType, KeystoreID: *keystore, Description: *desc})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "keyspace_id %s\nkeyspace_name %s\ntype %s\n", ks.ID, ks.Name, ks.Type)
	case "keyspace-list":
		marker := ""
		for {
			spaces, next, err := srv.KMS.ListKeySpaces(ctx, pr.ID, "", kms.Page{Marker: marker, Limit: kms.MaxSpaceListLimit})
			if err != nil {
				return err
			}
			for _, ks := range spaces {
				fmt.Fprintf(stdout, "%s %s type=%s\n", ks.ID, ks.Name, ks.Type)
			}
			if marker = next; marker == "" {
				break
			}
		}
	case "keyspace-delete":
		if err := srv.KMS.DeleteKeySpace(ctx, pr.ID, p[0]); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "deleted key space %s\n", p[0])
	default:
		fmt.Fprint(stderr, keyUsage)
		return fmt.Errorf("unknown key command %q", rest[0])
	}
	return nil
}
