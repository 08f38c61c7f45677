package server_test

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmsd/kmsd/internal/config"
	"github.com/kmsd/kmsd/internal/keyring"
	"github.com/kmsd/kmsd/internal/server"
)

// startStop opens a server on cfg and closes it again.
func startStop(t *testing.T, cfg config.Config, getenv func(string) string, log *slog.Logger) error {
	t.Helper()
	srv, err := server.New(t.Context(), cfg, server.Options{Getenv: getenv, Logger: log})
	if err != nil {
		return err
	}
	return srv.Close()
}

// wantWrongRoot checks that err is the refusal of a wrong root key and
// that its message names what to fix.
func wantWrongRoot(t *testing.T, err error, names string) {
	t.Helper()
	if !errors.Is(err, server.ErrWrongRootKey) {
		t.Fatalf("New with another root key: got %v, want ErrWrongRootKey", err)
	}
	if !strings.Contains(err.Error(), names) || !strings.Contains(err.Error(), "refuses to start") {
		t.Errorf("error %q does not name %s and the refusal", err, names)
	}
}

// TestRootKeyCheckFile replaces the root key file with other bytes: the
// start is refused, and the original key starts again.
func TestRootKeyCheckFile(t *testing.T) {
	cfg := server.DevConfig(t.TempDir(), "127.0.0.1:0", 10)
	if _, err := server.Init(t.Context(), cfg, nil); err != nil {
		t.Fatal(err)
	}
	if err := startStop(t, cfg, nil, nil); err != nil {
		t.Fatal(err)
	}
	orig, err := os.ReadFile(cfg.RootKey.File)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg.RootKey.File, bytes.Repeat([]byte{0x5a}, keyring.RootKeySize), 0o600); err != nil {
		t.Fatal(err)
	}
	wantWrongRoot(t, startStop(t, cfg, nil, nil), cfg.RootKey.File)
	if err := os.WriteFile(cfg.RootKey.File, orig, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := startStop(t, cfg, nil, nil); err != nil {
		t.Fatalf("start with the original root key: %v", err)
	}
}

// TestRootKeyCheckDevMissingFile removes the dev root key file: dev mode
// refuses to make a new one beside the existing database.
func TestRootKeyCheckDevMissingFile(t *testing.T) {
	cfg := server.DevConfig(t.TempDir(), "127.0.0.1:0", 10)
	if _, err := server.Init(t.Context(), cfg, nil); err != nil {
		t.Fatal(err)
	}
	if err := startStop(t, cfg, nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(cfg.RootKey.File); err != nil {
		t.Fatal(err)
	}
	_, err := server.Init(t.Context(), cfg, nil)
	if !errors.Is(err, server.ErrWrongRootKey) || !strings.Contains(err.Error(), "restore the root key file") {
		t.Fatalf("Init without the root key file: got %v, want a refusal", err)
	}
	if _, err := os.Stat(cfg.RootKey.File); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Init created a root key file beside the database (stat: %v)", err)
	}
}

// TestRootKeyCheckPassphrase makes new passphrase parameters with another
// passphrase over an existing database: the start is refused.
func TestRootKeyCheckPassphrase(t *testing.T) {
	dir := t.TempDir()
	cfg, err := config.Parse(strings.NewReader("data_dir: data\nroot_key: {passphrase_env: PASS}\n"), dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	writeParams := func(pass string) {
		params, root, err := keyring.NewPassphraseParams([]byte(pass))
		if err != nil {
			t.Fatal(err)
		}
		clear(root)
		b, _ := json.Marshal(params)
		if err := os.WriteFile(cfg.PassphraseParamsPath(), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	env := func(pass string) func(string) string { return func(string) string { return pass } }
	writeParams("first passphrase")
	if err := startStop(t, cfg, env("first passphrase"), nil); err != nil {
		t.Fatal(err)
	}
	writeParams("second passphrase")
	wantWrongRoot(t, startStop(t, cfg, env("second passphrase"), nil), "$PASS")
}

// TestRootKeyCheckWrittenOnce opens a database that has no check value
// (made before kmsd stored one): the first start writes it and says so,
// and a later start with another root key is refused.
func TestRootKeyCheckWrittenOnce(t *testing.T) {
	cfg := server.DevConfig(t.TempDir(), "127.0.0.1:0", 10)
	if _, err := server.Init(t.Context(), cfg, nil); err != nil {
		t.Fatal(err)
	}
	if err := startStop(t, cfg, nil, nil); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", cfg.Database.Path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("DELETE FROM meta WHERE name = 'root_key_check'"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	if err := startStop(t, cfg, nil, log); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "root key check value written") {
		t.Errorf("first start without a check value logged %q, want it to say the value was written", logs.String())
	}
	logs.Reset()
	if err := startStop(t, cfg, nil, log); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), "root key check value written") {
		t.Error("second start wrote the check value again")
	}
	other := filepath.Join(t.TempDir(), "other.key")
	if err := keyring.CreateRootKeyFile(other); err != nil {
		t.Fatal(err)
	}
	cfg.RootKey.File = other
	wantWrongRoot(t, startStop(t, cfg, nil, nil), other)
}
