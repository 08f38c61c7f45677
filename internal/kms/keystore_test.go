package kms_test

import (
	"errors"
	"testing"
	"time"

	"github.com/kmsd/kmsd/internal/hsm"
	"github.com/kmsd/kmsd/internal/hsm/softhsm"
	"github.com/kmsd/kmsd/internal/keyring"
	"github.com/kmsd/kmsd/internal/kms"
	"github.com/kmsd/kmsd/internal/store"
)

// TestKeystoreKeyDestroyed creates a key in a SoftHSM2-backed keystore,
// checks that the store holds only the token object's label, destroys the
// key through the deletion job and then deletes the emptied keystore.
func TestKeystoreKeyDestroyed(t *testing.T) {
	softhsm.New(t, "ks")
	tok, err := hsm.Open(softhsm.Module(), "ks", []byte(softhsm.PIN))
	if err != nil {
		t.Fatal(err)
	}
	defer tok.Close()
	f := newFixture(t, "", 0)
	svc := kms.New(f.st, f.kr, kms.Config{Region: "cn-north-4", Tokens: map[string]kms.Token{"hsm-1": tok}}, nil)
	svc.Now = func() time.Time { return f.now }
	ctx := t.Context()

	ks, err := svc.CreateKeystore(ctx, kms.CreateKeystoreInput{ProjectID: project, AccountID: account, Alias: "ks", HSMClusterID: "hsm-1"})
	if err != nil {
		t.Fatal(err)
	}
	k, err := svc.CreateKey(ctx, kms.CreateKeyInput{ProjectID: project, AccountID: account, Alias: "in-hsm", KeystoreID: ks.ID})
	if err != nil {
		t.Fatal(err)
	}
	label := "kmsd:" + k.KeyID + ":v1"
	if ok, err := tok.HasKey(label); !ok || err != nil {
		t.Fatalf("token object %s: %v, %v", label, ok, err)
	}
	var v store.KeyVersion
	err = f.st.View(ctx, func(tx store.Tx) error {
		v, err = tx.GetKeyVersion(project, k.KeyID, 1)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.kr.Open(keyring.Binding{Purpose: kms.PurposeKeyMaterial, ProjectID: project, KeyID: k.KeyID, Version: 1}, v.Sealed)
	if err != nil || string(got) != label {
		t.Errorf("stored material %q (%v), want the token label %s", got, err, label)
	}

	if err := svc.DeleteKeystore(ctx, project, ks.ID); !errors.Is(err, kms.ErrKeystoreHasKeys) {
		t.Errorf("DeleteKeystore with a key: got %v, want ErrKeystoreHasKeys", err)
	}
	if _, err := svc.ScheduleKeyDeletion(ctx, project, k.KeyID, 7); err != nil {
		t.Fatal(err)
	}
	if err := svc.DeleteKeystore(ctx, project, ks.ID); !errors.Is(err, kms.ErrKeystoreHasKeys) {
		t.Errorf("DeleteKeystore with a key pending deletion: got %v, want ErrKeystoreHasKeys", err)
	}
	f.now = f.now.Add(8 * 24 * time.Hour)
	if n, err := svc.DestroyDueKeys(ctx); n != 1 || err != nil {
		t.Fatalf("DestroyDueKeys: %d, %v", n, err)
	}
	if ok, err := tok.HasKey(label); ok || err != nil {
		t.Errorf("token object after destruction: %v, %v; want it destroyed", ok, err)
	}
	if err := svc.DeleteKeystore(ctx, project, ks.ID); err != nil {
		t.Errorf("DeleteKeystore after destruction: %v", err)
	}
}
