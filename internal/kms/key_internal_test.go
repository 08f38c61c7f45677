package kms

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kmsd/kmsd/internal/store"
)

// TestKeyRowRoundTrip converts a row with every field set to a Key and
// back: a field that keyOf or row forgets — one added to store.Key later
// included — fails it.
func TestKeyRowRoundTrip(t *testing.T) {
	now := time.Date(2024, 1, 2, 3, 4, 5, 6e6, time.UTC)
	r := store.Key{
		ProjectID: "p", KeyID: "k", AccountID: "a", Alias: "alias", Description: "d",
		Spec: "SM4", Usage: "ENCRYPT_DECRYPT", Origin: OriginExternal, State: store.StateDisabled,
		Default: true, EnterpriseProjectID: "e", KeystoreID: "s", PrimaryVersion: 3,
		CreatedAt: now, DeletionDate: now.Add(time.Hour), RotationEnabled: true, RotationInterval: 30,
		LastRotation: now.Add(2 * time.Hour), RotationCount: 2, MaterialExpiresAt: now.Add(3 * time.Hour),
		MaterialFingerprint: []byte{1, 2, 3}, Revision: 7,
	}
	v := reflect.ValueOf(r)
	for i := range v.NumField() {
		if v.Field(i).IsZero() {
			t.Fatalf("the sample row leaves store.Key.%s zero; set it", v.Type().Field(i).Name)
		}
	}
	k, err := keyOf(r)
	if err != nil {
		t.Fatal(err)
	}
	if k.State != StateDisabled {
		t.Errorf("state %v, want %v", k.State, StateDisabled)
	}
	if diff := cmp.Diff(r, k.row()); diff != "" {
		t.Errorf("row(keyOf(r)) differs (-want +got):\n%s", diff)
	}
}

// TestKeyStates checks that every state has a store code that reads back
// as itself, and that an unknown code is an error, not a state.
func TestKeyStates(t *testing.T) {
	for s := StatePendingCreation; s <= StatePendingImport; s++ {
		code := storeState(s)
		if got, ok := stateOf(code); !ok || got != s {
			t.Errorf("%v: code %q reads back as %v, %v", s, code, got, ok)
		}
	}
	if _, err := keyOf(store.Key{KeyID: "k", State: "9"}); err == nil {
		t.Error("a row in state 9 was read")
	}
	if _, err := keyOf(store.Key{KeyID: "k"}); err == nil {
		t.Error("a row without a state was read")
	}
}

// TestUsable checks the one mapping from a key's state to the error of a
// refused use (reference errors.md: KMS.0209, KMS.0210, KMS.0310).
func TestUsable(t *testing.T) {
	tests := []struct {
		state   KeyState
		version int
		want    error
	}{
		{StateEnabled, 1, nil},
		{StateEnabled, 0, ErrKeyPendingImport},
		{StateDisabled, 1, ErrKeyDisabled},
		{StatePendingDeletion, 1, ErrKeyPendingDeletion},
		{StatePendingImport, 0, ErrKeyPendingImport},
	}
	for _, tt := range tests {
		err := usable(Key{State: tt.state, PrimaryVersion: tt.version})
		if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
			t.Errorf("usable(%v, version %d) = %v, want %v", tt.state, tt.version, err, tt.want)
		}
	}
	for _, s := range []KeyState{0, StatePendingCreation} {
		if err := usable(Key{State: s, PrimaryVersion: 1}); err == nil || errors.Is(err, ErrKeyPendingImport) {
			t.Errorf("usable(%v) = %v, want an internal error", s, err)
		}
	}
}
