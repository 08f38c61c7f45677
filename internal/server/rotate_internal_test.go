package server

import (
	"bytes"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kmsd/kmsd/internal/config"
	"github.com/kmsd/kmsd/internal/keyring"
	"github.com/kmsd/kmsd/internal/kms"
)

// TestRotationKeepsDerivedValues: a data directory made before root key
// generations (no derivation key, no generation table stored) derives
// exactly what its root key derived before; after a rotation, with the new
// root key alone, it still does; every sealed item, the node's audit
// signing key file included, is of generation 2; and progress callbacks
// count up to the total.
func TestRotationKeepsDerivedValues(t *testing.T) {
	ctx := t.Context()
	v1 := DevConfig(t.TempDir(), "127.0.0.1:0", 100)
	if _, err := Init(ctx, v1, nil); err != nil {
		t.Fatal(err)
	}
	root, err := os.ReadFile(v1.RootKey.File)
	if err != nil {
		t.Fatal(err)
	}
	old, err := keyring.New(root)
	if err != nil {
		t.Fatal(err)
	}
	want := old.Derive(tokenKeyLabel, 32)

	s, err := New(ctx, v1, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ids := DefaultDevIdentities(func(string) string { return "" })
	if err := s.EnsureDevIdentities(ctx, ids); err != nil {
		t.Fatal(err)
	}
	for i := range 7 {
		if _, err := s.KMS.CreateKey(ctx, kms.CreateKeyInput{ProjectID: ids.ProjectID, AccountID: ids.AccountID, Alias: "k" + string(rune('a'+i))}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// As a kmsd before generations left it: neither a generation table nor
	// a derivation key.
	db, err := sql.Open("sqlite", v1.Database.Path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("DELETE FROM meta WHERE name IN (?, ?)", generationsMeta, derivationKeyMeta); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err = New(ctx, v1, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.keyring.Derive(tokenKeyLabel, 32); !bytes.Equal(got, want) {
		t.Fatalf("derived token key of an existing data directory changed: %x, want %x", got, want)
	}
	s.Close()

	// Rotate to a second root key.
	v2 := v1
	v2.RootKey.File = filepath.Join(v1.DataDir, "root-2.key")
	v2.PreviousRootKeys = []config.RootKey{{File: v1.RootKey.File}}
	if _, err := Init(ctx, v2, nil); err != nil {
		t.Fatal(err)
	}
	s, err = New(ctx, v2, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.rootGen != 2 || s.keyring.Current() != 1 {
		t.Fatalf("root_key generation %d, sealing %d; want 2 and 1 before the rotation", s.rootGen, s.keyring.Current())
	}
	sealedBy(t, s, map[uint32]bool{1: true})
	audit, err := os.ReadFile(filepath.Join(v2.AuditChainDir(), "signing-key.sealed"))
	if err != nil {
		t.Fatal(err)
	}
	if g, _ := keyring.GenerationOf(audit); g != 2 {
		t.Errorf("audit signing key file sealed by generation %d after a start with generation 2, want 2", g)
	}
	var last, total int
	res, err := s.RotateRootKey(ctx, RotateOptions{Batch: 3, Progress: func(w, n int) { last, total = w, n }})
	if err != nil {
		t.Fatal(err)
	}
	if last != total || total != res.Total || res.Generation != 2 || len(res.Retired) != 1 || res.Retired[0] != 1 {
		t.Errorf("RotateRootKey: %+v, progress %d/%d", res, last, total)
	}
	sealedBy(t, s, map[uint32]bool{2: true})
	s.Close()

	v3 := v2
	v3.PreviousRootKeys = nil
	s, err = New(ctx, v3, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.keyring.Derive(tokenKeyLabel, 32); !bytes.Equal(got, want) {
		t.Errorf("derived token key after the rotation changed: %x, want %x", got, want)
	}
	if !bytes.HasPrefix(s.keyring.CheckValue(), []byte{0x02, 0, 0, 0, 2}) {
		t.Errorf("check value after the rotation: %x, want format 2 of generation 2", s.keyring.CheckValue())
	}
	if sk, _, err := s.IAM.AccessKey(ctx, ids.AdminAK); err != nil || string(sk) != ids.AdminSK {
		t.Errorf("access key secret after the rotation: %v", err)
	}
}

// sealedBy fails unless every sealed item of s's store is of a generation
// in want.
func sealedBy(t *testing.T, s *Server, want map[uint32]bool) {
	t.Helper()
	counts, err := countByGeneration(t.Context(), s.store)
	if err != nil {
		t.Fatal(err)
	}
	for g, n := range counts {
		if !want[g] && n > 0 {
			t.Errorf("%d items sealed by generation %d, want only %v", n, g, want)
		}
	}
	if len(counts) == 0 {
		t.Error("no sealed items counted")
	}
}

// TestRotationAbandoned: swapping root_key and previous_root_keys after a
// second root key was registered rotates back; the node's audit signing
// key follows; the old key alone then serves; and the abandoned root key
// is not taken back.
func TestRotationAbandoned(t *testing.T) {
	ctx := t.Context()
	v1 := DevConfig(t.TempDir(), "127.0.0.1:0", 100)
	if _, err := Init(ctx, v1, nil); err != nil {
		t.Fatal(err)
	}
	v2 := v1
	v2.RootKey.File = filepath.Join(v1.DataDir, "root-2.key")
	v2.PreviousRootKeys = []config.RootKey{{File: v1.RootKey.File}}
	if _, err := Init(ctx, v2, nil); err != nil {
		t.Fatal(err)
	}
	s, err := New(ctx, v2, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ids := DefaultDevIdentities(func(string) string { return "" })
	if err := s.EnsureDevIdentities(ctx, ids); err != nil {
		t.Fatal(err)
	}
	s.Close()

	back := v1
	back.PreviousRootKeys = []config.RootKey{{File: v2.RootKey.File}}
	s, err = New(ctx, back, Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.RotateRootKey(ctx, RotateOptions{})
	if err != nil || res.Generation != 1 || len(res.Retired) != 1 || res.Retired[0] != 2 {
		t.Fatalf("rotate back: %+v, %v", res, err)
	}
	s.Close()
	audit, err := os.ReadFile(filepath.Join(v1.AuditChainDir(), "signing-key.sealed"))
	if err != nil {
		t.Fatal(err)
	}
	if g, _ := keyring.GenerationOf(audit); g != 1 {
		t.Errorf("audit signing key sealed by generation %d after rotating back, want 1", g)
	}
	s, err = New(ctx, v1, Options{})
	if err != nil {
		t.Fatalf("start with the old root key alone after rotating back: %v", err)
	}
	s.Close()
	s, err = New(ctx, v2, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.RotateRootKey(ctx, RotateOptions{}); err == nil || !strings.Contains(err.Error(), "not taken back") {
		t.Errorf("rotate to a retired root key: got %v", err)
	}
}
