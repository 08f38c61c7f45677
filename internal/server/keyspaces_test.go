package server_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/kmsd/kmsd/internal/config"
	"github.com/kmsd/kmsd/internal/kms"
	"github.com/kmsd/kmsd/internal/server"
)

// TestBootstrapKeySpaces checks that a bootstrap file's key spaces are
// created at the first start and left alone at the next.
func TestBootstrapKeySpaces(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "kmsd.yaml"), []byte("data_dir: data\nbootstrap: identities.yaml\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "identities.yaml"), []byte(`accounts:
  - name: acme
    projects:
      - name: cn-north-4
        key_spaces:
          - {name: enclave, description: confidential jobs}
          - {name: hsm, type: "2", keystore_id: ks-1}
`), 0o600)
	cfg, err := config.Load(filepath.Join(dir, "kmsd.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := server.Init(t.Context(), cfg, nil); err != nil {
		t.Fatal(err)
	}
	for start := range 2 {
		srv, err := server.New(t.Context(), cfg, server.Options{})
		if err != nil {
			t.Fatalf("start %d: %v", start, err)
		}
		a, err := srv.IAM.Account(t.Context(), "acme")
		if err != nil {
			t.Fatal(err)
		}
		ps, err := srv.IAM.ListProjects(t.Context(), a.ID)
		if err != nil || len(ps) != 1 {
			t.Fatalf("projects %v, %v", ps, err)
		}
		spaces, _, err := srv.KMS.ListKeySpaces(t.Context(), ps[0].ID, "", kms.Page{})
		if err != nil {
			t.Fatal(err)
		}
		if len(spaces) != 2 || spaces[0].Name != "enclave" || spaces[1].Type != "2" || spaces[1].KeystoreID != "ks-1" {
			t.Errorf("start %d: key spaces %+v", start, spaces)
		}
		srv.Close()
	}
}
