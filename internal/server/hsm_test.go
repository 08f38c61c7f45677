package server_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/kmsd/kmsd/internal/config"
	"github.com/kmsd/kmsd/internal/hsm"
	"github.com/kmsd/kmsd/internal/hsm/softhsm"
	"github.com/kmsd/kmsd/internal/server"
)

// pkcs11Config is a configuration whose root key is kept by the key
// keyLabel of the SoftHSM2 token "root".
func pkcs11Config(t *testing.T, tokens softhsm.Tokens, keyLabel string) config.Config {
	t.Helper()
	y := fmt.Sprintf("data_dir: data\nroot_key: {source: pkcs11, module: %s, token_label: root, pin_file: %s, key_label: %s}\n", tokens.Module, tokens.PINFile, keyLabel)
	cfg, err := config.Parse(strings.NewReader(y), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestPKCS11RootKey initialises a data directory whose root key a
// SoftHSM2 key keeps, restarts it with keys intact, and refuses another
// token key or another wrapped root key.
func TestPKCS11RootKey(t *testing.T) {
	tokens := softhsm.New(t, "root")
	cfg := pkcs11Config(t, tokens, "kmsd-root")
	if _, err := server.InitPKCS11RootKey(cfg, false); err == nil || !strings.Contains(err.Error(), "--create-hsm-key") {
		t.Fatalf("init without the token key: got %v, want a hint to --create-hsm-key", err)
	}
	if created, err := server.InitPKCS11RootKey(cfg, true); err != nil || !created {
		t.Fatalf("init --create-hsm-key: created %v, %v", created, err)
	}
	wrapped, err := os.ReadFile(cfg.WrappedRootKeyPath())
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(cfg.WrappedRootKeyPath()); fi.Mode().Perm() != 0o600 {
		t.Errorf("wrapped root key mode %o, want 600", fi.Mode().Perm())
	}
	if created, err := server.InitPKCS11RootKey(cfg, false); err != nil || created {
		t.Fatalf("second init: created %v, %v; want the file kept", created, err)
	}

	ids := server.DefaultDevIdentities(func(string) string { return "" })
	srv, err := server.New(t.Context(), cfg, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.EnsureDevIdentities(t.Context(), ids); err != nil {
		t.Fatal(err)
	}
	k, err := srv.KMS.CreateKey(t.Context(), kmsInput(ids, "in-hsm"))
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()

	srv, err = server.New(t.Context(), cfg, server.Options{})
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	if _, err := srv.KMS.DescribeKey(t.Context(), ids.ProjectID, k.KeyID); err != nil {
		t.Errorf("key lost across restart: %v", err)
	}
	srv.Close()

	// Another token key cannot decrypt the wrapped root key.
	other := cfg
	other.RootKey.KeyLabel = "other"
	tok, err := hsm.Open(tokens.Module, "root", []byte(softhsm.PIN))
	if err != nil {
		t.Fatal(err)
	}
	if err := tok.GenerateAESKey("other"); err != nil {
		t.Fatal(err)
	}
	_, err = server.New(t.Context(), other, server.Options{})
	if !errors.Is(err, server.ErrWrongRootKey) || !strings.Contains(err.Error(), `"other"`) {
		t.Errorf("another token key: got %v, want ErrWrongRootKey naming it", err)
	}

	// A wrapped root key that the right token key made for another data
	// directory opens, but is not this database's root key.
	_, rewrapped, err := hsm.NewRootKey(tok, "kmsd-root")
	tok.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg.WrappedRootKeyPath(), rewrapped, 0o600); err != nil {
		t.Fatal(err)
	}
	wantWrongRoot(t, startStop(t, cfg, nil, nil), "kmsd-root")
	if err := os.WriteFile(cfg.WrappedRootKeyPath(), wrapped, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := startStop(t, cfg, nil, nil); err != nil {
		t.Errorf("start with the original wrapped root key: %v", err)
	}

	// A missing wrapped root key beside a database is not made anew.
	if err := os.Remove(cfg.WrappedRootKeyPath()); err != nil {
		t.Fatal(err)
	}
	if _, err := server.InitPKCS11RootKey(cfg, false); !errors.Is(err, server.ErrWrongRootKey) {
		t.Errorf("init over a database without its wrapped root key: got %v, want ErrWrongRootKey", err)
	}
}

// TestPKCS11RootKeyRotation rotates a PKCS#11 root key to another token
// key with a wrapped root key file of its own: kmsd init makes the new
// one beside the database, the rotation re-seals, and the new token key
// alone then decrypts what the old one encrypted.
func TestPKCS11RootKeyRotation(t *testing.T) {
	tokens := softhsm.New(t, "root")
	cfg := pkcs11Config(t, tokens, "kmsd-root")
	if _, err := server.InitPKCS11RootKey(cfg, true); err != nil {
		t.Fatal(err)
	}
	ids := server.DefaultDevIdentities(func(string) string { return "" })
	srv, err := server.New(t.Context(), cfg, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.EnsureDevIdentities(t.Context(), ids); err != nil {
		t.Fatal(err)
	}
	k, err := srv.KMS.CreateKey(t.Context(), kmsInput(ids, "rotated"))
	if err != nil {
		t.Fatal(err)
	}
	ct, err := srv.KMS.Encrypt(t.Context(), ids.ProjectID, k.KeyID, []byte("under the first token key"), nil, "")
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()

	v2 := cfg
	v2.PreviousRootKeys = []config.RootKey{cfg.RootKey}
	v2.RootKey.KeyLabel = "kmsd-root-2"
	v2.RootKey.WrappedKeyFile = cfg.WrappedRootKeyPath() + "-2"
	if created, err := server.InitPKCS11RootKey(v2, true); err != nil || !created {
		t.Fatalf("init of the new root key beside the database: created %v, %v", created, err)
	}
	srv, err = server.New(t.Context(), v2, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := srv.RotateRootKey(t.Context(), server.RotateOptions{})
	srv.Close()
	if err != nil || res.Generation != 2 {
		t.Fatalf("RotateRootKey: %+v, %v", res, err)
	}

	v3 := v2
	v3.PreviousRootKeys = nil
	srv, err = server.New(t.Context(), v3, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if _, pt, err := srv.KMS.Decrypt(t.Context(), ids.ProjectID, ct, nil, "", ""); err != nil || string(pt) != "under the first token key" {
		t.Errorf("decrypt with only the new token key: %q, %v", pt, err)
	}
	if _, err := server.New(t.Context(), cfg, server.Options{}); !errors.Is(err, server.ErrMissingGeneration) {
		t.Errorf("start with only the old token key after the rotation: got %v, want ErrMissingGeneration", err)
	}
}
