package main

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/kmsd/kmsd/internal/server"
)

// TestMain lets the scripts run kmsd itself: "kmsd ARGS" (or "exec kmsd
// ARGS") runs this test binary as the kmsd command.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"kmsd": main})
}

// TestScript runs the command-line scenarios in testdata/script, one
// scenario per file (the shape of filippo.io/age's cmd/age tests). Besides
// kmsd and testscript's own commands, a script has:
//
//	devdata DIR                initialise a dev data directory with the dev identities
//	grab VAR REGEXP            set VAR to REGEXP's first group in the last stdout
//	describekey DIR PROJECT ID print a stored key's primary_version,
//	                           number_of_rotations and last_rotation (set/unset)
//	waitserve DIR              wait for the kmsd serving DIR (started with &)
//	                           and set the variables of its dev.env
//	flipbyte FILE OFFSET       flip the bits of one byte of FILE (negative
//	                           OFFSET: from the end)
//
// Run with -testwork to keep the work directories, and with
// -run TestScript/NAME for one scenario.
func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"devdata":     cmdDevData,
			"grab":        cmdGrab,
			"describekey": cmdDescribeKey,
			"waitserve":   cmdWaitServe,
			"flipbyte":    cmdFlipByte,
		},
		RequireUniqueNames: true,
	})
}

// noEnv is the environment of the in-process commands: the dev defaults,
// whatever the test process's environment holds.
func noEnv(string) string { return "" }

func cmdDevData(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: devdata DIR")
	}
	cfg := server.DevConfig(ts.MkAbs(args[0]), devListen, devCMKQuota)
	if _, err := server.Init(context.Background(), cfg, noEnv); err != nil {
		ts.Fatalf("%v", err)
	}
	srv, err := server.New(context.Background(), cfg, server.Options{})
	ts.Check(err)
	defer srv.Close()
	ts.Check(srv.EnsureDevIdentities(context.Background(), server.DefaultDevIdentities(noEnv)))
}

func cmdGrab(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: grab VAR REGEXP")
	}
	re, err := regexp.Compile("(?m)" + args[1])
	ts.Check(err)
	m := re.FindStringSubmatch(ts.ReadFile("stdout"))
	if len(m) < 2 {
		ts.Fatalf("grab: no match for %q in stdout", args[1])
	}
	ts.Setenv(args[0], m[1])
}

func cmdDescribeKey(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: describekey DIR PROJECT ID")
	}
	srv, err := server.New(context.Background(), server.DevConfig(ts.MkAbs(args[0]), devListen, devCMKQuota), server.Options{})
	ts.Check(err)
	defer srv.Close()
	k, err := srv.KMS.DescribeKey(context.Background(), args[1], args[2])
	ts.Check(err)
	last := "set"
	if k.LastRotation.IsZero() {
		last = "unset"
	}
	fmt.Fprintf(ts.Stdout(), "primary_version %d\nnumber_of_rotations %d\nlast_rotation %s\n", k.PrimaryVersion, k.RotationCount, last)
}
