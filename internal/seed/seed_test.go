package seed_test

import (
	"context"
	"encoding/base64"
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/kmsd/kmsd/internal/kms"
	"github.com/kmsd/kmsd/internal/seed"
	"github.com/kmsd/kmsd/internal/server"
)

const example = "../../examples/seed.yaml"

var noEnv = func(string) string { return "" }

// devServer opens a fresh dev data directory (its own root key).
func devServer(t *testing.T) *server.Server {
	t.Helper()
	cfg := server.DevConfig(t.TempDir(), "127.0.0.1:0", 1000)
	if _, err := server.Init(t.Context(), cfg, noEnv); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(context.Background(), cfg, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if err := srv.EnsureDevIdentities(t.Context(), server.DefaultDevIdentities(noEnv)); err != nil {
		t.Fatal(err)
	}
	return srv
}

func services(srv *server.Server) seed.Services { return seed.Services{KMS: srv.KMS, IAM: srv.IAM} }

func load(t *testing.T, path string) *seed.File {
	t.Helper()
	f, err := seed.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func apply(t *testing.T, srv *server.Server, f *seed.File) seed.Report {
	t.Helper()
	rep, err := seed.Apply(t.Context(), services(srv), f, noEnv)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	return rep
}

const devProject = "0123456789abcdef0123456789abcdef"

// TestTwoServersOneFile: a ciphertext made by one server seeded from the
// example decrypts on another seeded from the same file, for every key
// with fixed material; applying the file again changes nothing.
func TestTwoServersOneFile(t *testing.T) {
	f := load(t, example)
	a, b := devServer(t), devServer(t)
	ra := apply(t, a, f)
	apply(t, b, f)
	if ra.Keys != 7 || len(ra.Changes) == 0 {
		t.Errorf("first apply: %d keys, %d changes", ra.Keys, len(ra.Changes))
	}
	for _, k := range []struct{ project, id string }{
		{devProject, "5eed0001-0000-4000-8000-000000000001"},
		{devProject, "5eed0001-0000-4000-8000-000000000002"},
		{devProject, "5eed0001-0000-4000-8000-000000000005"},
		{"5eed0000000000000000000000000002", "5eed0002-0000-4000-8000-000000000001"},
	} {
		ct, err := a.KMS.Encrypt(t.Context(), k.project, k.id, []byte("fixture"), nil, "")
		if err != nil {
			t.Fatalf("encrypt with %s: %v", k.id, err)
		}
		id, pt, err := b.KMS.Decrypt(t.Context(), k.project, ct, nil, "", "")
		if err != nil || id != k.id || string(pt) != "fixture" {
			t.Errorf("key %s: the other server decrypted %q as %s: %v", k.id, pt, id, err)
		}
	}
	// Signatures of the fixed EC key verify on the other server.
	pa, err := a.KMS.PublicKey(t.Context(), devProject, "5eed0001-0000-4000-8000-000000000003")
	if err != nil {
		t.Fatal(err)
	}
	pb, _ := b.KMS.PublicKey(t.Context(), devProject, "5eed0001-0000-4000-8000-000000000003")
	if string(pa) != string(pb) {
		t.Error("the seeded EC key has different public keys on the two servers")
	}
	// The key without material has the same id, its own material.
	if _, err := b.KMS.DescribeKey(t.Context(), devProject, "5eed0001-0000-4000-8000-000000000006"); err != nil {
		t.Error(err)
	}
	if again := apply(t, a, f); len(again.Changes) != 0 {
		t.Errorf("the same file again changed %q", again.Changes)
	}
	k, _ := a.KMS.DescribeKey(t.Context(), devProject, "5eed0001-0000-4000-8000-000000000006")
	if k.State != kms.StateDisabled {
		t.Errorf("seeded-disabled is in state %s", k.State)
	}
	k, _ = a.KMS.DescribeKey(t.Context(), devProject, "5eed0001-0000-4000-8000-000000000005")
	if k.Origin != "external" || k.State != kms.StateEnabled {
		t.Errorf("seeded-imported: origin %s state %s", k.Origin, k.State)
	}
}

// TestChangedFile applies a difference, then refuses one that cannot be
// applied without changing anything.
func TestChangedFile(t *testing.T) {
	srv := devServer(t)
	f := load(t, example)
	apply(t, srv, f)
	// Drift made through the API is undone by the next start.
	const id = "5eed0001-0000-4000-8000-000000000001"
	if _, err := srv.KMS.DisableKey(t.Context(), devProject, id); err != nil {
		t.Fatal(err)
	}
	if err := srv.KMS.DeleteTags(t.Context(), devProject, id, []string{"env"}); err != nil {
		t.Fatal(err)
	}
	key := &f.Projects[0].Keys[0]
	key.Description = "changed"
	key.Aliases = []string{"alias/payments-v2"}
	delete(key.Tags, "team")
	key.Tags["env"] = "staging"
	key.Grants = nil
	rep := apply(t, srv, f)
	got := strings.Join(rep.Changes, "\n")
	for _, want := range []string{"description updated", "enabled", "alias alias/payments-v2 added", "aliases alias/payments removed", "tag(s) set", "tags team removed", "revoked"} {
		if !strings.Contains(got, want) {
			t.Errorf("changes lack %q:\n%s", want, got)
		}
	}
	k, _ := srv.KMS.DescribeKey(t.Context(), devProject, id)
	if k.Description != "changed" || k.State != kms.StateEnabled {
		t.Errorf("key after the changed file: %+v", k)
	}
	if again := apply(t, srv, f); len(again.Changes) != 0 {
		t.Errorf("the changed file again changed %q", again.Changes)
	}
	// What cannot change is refused, and nothing else is applied.
	for name, change := range map[string]func(k *seed.Key){
		"spec":     func(k *seed.Key) { k.Spec = "SM4"; k.Material = "" },
		"material": func(k *seed.Key) { k.Material = "hex:" + strings.Repeat("00", 32) },
		"origin":   func(k *seed.Key) { k.Origin = "external" },
	} {
		t.Run(name, func(t *testing.T) {
			g := load(t, example)
			g.Projects[0].Keys[1].Description = "must not be applied"
			change(&g.Projects[0].Keys[0])
			_, err := seed.Apply(t.Context(), services(srv), g, noEnv)
			if !errors.Is(err, seed.ErrRefused) || !strings.Contains(err.Error(), id) {
				t.Fatalf("got %v, want ErrRefused naming %s", err, id)
			}
			k, _ := srv.KMS.DescribeKey(t.Context(), devProject, "5eed0001-0000-4000-8000-000000000002")
			if k.Description == "must not be applied" {
				t.Error("a refused file was partly applied")
			}
		})
	}
}

// TestExport: export with material, apply to a fresh server, and the
// ciphertexts of the first decrypt on it; without material, none leaks.
func TestExport(t *testing.T) {
	a := devServer(t)
	apply(t, a, load(t, example))
	ct, err := a.KMS.Encrypt(t.Context(), devProject, "5eed0001-0000-4000-8000-000000000004", []byte("x"), nil, "")
	if err == nil {
		t.Fatalf("an HMAC key encrypted: %x", ct)
	}
	ct, err = a.KMS.Encrypt(t.Context(), devProject, "5eed0001-0000-4000-8000-000000000006", []byte("generated material"), nil, "")
	if err != nil {
		// seeded-disabled is disabled: enable it first.
		if _, err := a.KMS.EnableKey(t.Context(), devProject, "5eed0001-0000-4000-8000-000000000006"); err != nil {
			t.Fatal(err)
		}
		if ct, err = a.KMS.Encrypt(t.Context(), devProject, "5eed0001-0000-4000-8000-000000000006", []byte("generated material"), nil, ""); err != nil {
			t.Fatal(err)
		}
	}
	f, warnings, err := seed.Export(t.Context(), services(a), []string{devProject}, true)
	if err != nil || len(warnings) != 0 {
		t.Fatalf("Export: %v %q", err, warnings)
	}
	out, err := f.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	g, err := seed.Parse(strings.NewReader(string(out)))
	if err != nil {
		t.Fatalf("the export does not parse: %v\n%s", err, out)
	}
	b := devServer(t)
	apply(t, b, g)
	if _, pt, err := b.KMS.Decrypt(t.Context(), devProject, ct, nil, "", ""); err != nil || string(pt) != "generated material" {
		t.Errorf("decrypt on the server seeded from the export: %q %v", pt, err)
	}
	if again := apply(t, a, g); len(again.Changes) != 0 {
		t.Errorf("the export applied to its own server changed %q", again.Changes)
	}
	f, _, err = seed.Export(t.Context(), services(a), []string{devProject}, false)
	if err != nil {
		t.Fatal(err)
	}
	out, _ = f.Marshal()
	if regexp.MustCompile(`(?m)^\s+material:|PRIVATE KEY|ac93cef1`).Match(out) {
		t.Errorf("an export without material holds material:\n%s", out)
	}
}

func TestParseRefuses(t *testing.T) {
	tests := map[string]string{
		"empty":           "",
		"version":         "version: 2\n",
		"unknown key":     "version: 1\nkeys: []\n",
		"no id":           "version: 1\nprojects: [{id: p, keys: [{alias: a}]}]\n",
		"no alias":        "version: 1\nprojects: [{id: p, keys: [{id: k}]}]\n",
		"state":           "version: 1\nprojects: [{id: p, keys: [{id: k, alias: a, state: gone}]}]\n",
		"origin":          "version: 1\nprojects: [{id: p, keys: [{id: k, alias: a, origin: hsm}]}]\n",
		"material":        "version: 1\nprojects: [{id: p, keys: [{id: k, alias: a, material: 'plain'}]}]\n",
		"bad hex":         "version: 1\nprojects: [{id: p, keys: [{id: k, alias: a, material: 'hex:zz'}]}]\n",
		"duplicate key":   "version: 1\nprojects: [{id: p, keys: [{id: k, alias: a}, {id: k, alias: b}]}]\n",
		"grant":           "version: 1\nprojects: [{id: p, keys: [{id: k, alias: a, grants: [{grantee: g}]}]}]\n",
		"external+state":  "version: 1\nprojects: [{id: p, keys: [{id: k, alias: a, origin: external, state: enabled}]}]\n",
		"duplicate proj":  "version: 1\nprojects: [{id: p}, {id: p}]\n",
		"PEM public key":  "version: 1\nprojects: [{id: p, keys: [{id: k, alias: a, material: \"-----BEGIN PUBLIC KEY-----\\nAAAA\\n-----END PUBLIC KEY-----\\n\"}]}]\n",
		"material length": "",
	}
	delete(tests, "material length")
	for name, text := range tests {
		if _, err := seed.Parse(strings.NewReader(text)); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
	// Material of the wrong size for the spec is refused when applied,
	// without the material in the message.
	srv := devServer(t)
	f, err := seed.Parse(strings.NewReader("version: 1\nprojects: [{id: " + devProject + ", keys: [{id: 5eed0009-0000-4000-8000-000000000001, alias: short, material: 'hex:abcdef'}]}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := seed.Apply(t.Context(), services(srv), f, noEnv); err == nil || strings.Contains(err.Error(), "abcdef") {
		t.Errorf("short material: %v", err)
	}
}

// TestDocExample keeps docs/seed.md's example the example file.
func TestDocExample(t *testing.T) {
	doc, err := os.ReadFile("../../docs/seed.md")
	if err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "```yaml\n"+string(file)+"```") {
		t.Error("docs/seed.md does not show examples/seed.yaml as it is")
	}
}

// TestCheckedInCiphertext is the feature's known answer: a ciphertext made
// once by a server seeded from the example, checked into testdata,
// decrypts on a fresh server seeded from the same file.
func TestCheckedInCiphertext(t *testing.T) {
	b, err := os.ReadFile("testdata/seeded-aes.ct")
	if err != nil {
		t.Fatal(err)
	}
	ct, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	srv := devServer(t)
	apply(t, srv, load(t, example))
	id, pt, err := srv.KMS.Decrypt(t.Context(), devProject, ct, nil, "", "")
	if err != nil || id != "5eed0001-0000-4000-8000-000000000001" || string(pt) != "a ciphertext checked into the repository" {
		t.Errorf("got %q under %s: %v", pt, id, err)
	}
}

// FuzzParse checks that the parser never panics and that what it accepts
// survives a marshal round trip.
func FuzzParse(f *testing.F) {
	b, err := os.ReadFile(example)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(b))
	f.Add("version: 1\nprojects: [{id: p, keys: [{id: k, alias: a, material: 'hex:00'}]}]\n")
	f.Fuzz(func(t *testing.T, text string) {
		sf, err := seed.Parse(strings.NewReader(text))
		if err != nil {
			return
		}
		out, err := sf.Marshal()
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		if _, err := seed.Parse(strings.NewReader(string(out))); err != nil {
			t.Fatalf("a parsed file does not parse again after Marshal: %v\n%s", err, out)
		}
	})
}

// FuzzDecodeMaterial checks that material decoding never panics and
// never quotes its input in an error.
func FuzzDecodeMaterial(f *testing.F) {
	for _, s := range []string{"hex:00ff", "base64:AAEC", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "plain"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, err := seed.DecodeMaterial(s)
		if err != nil && len(s) > 12 && strings.Contains(err.Error(), s) {
			t.Fatalf("the error %q quotes the material", err)
		}
	})
}
