package kms

import (
	"bytes"
	"crypto/hpke"
	"errors"
	"testing"

	"github.com/kmsd/kmsd/internal/keyring"
)

func regionService(t *testing.T, root byte, region string) *Service {
	t.Helper()
	kr, err := keyring.New(bytes.Repeat([]byte{root}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return New(nil, kr, Config{Region: region}, nil)
}

// TestTransportSealing checks that material sealed to a region's
// transport key opens there only for the region, key and version it was
// sealed for, and that each region's transport key is its own.
func TestTransportSealing(t *testing.T) {
	b := regionService(t, 2, "cn-east-3")
	other := regionService(t, 3, "cn-east-3")
	pubB, err := b.TransportPublicKey()
	if err != nil {
		t.Fatal(err)
	}
	pubOther, _ := other.TransportPublicKey()
	if bytes.Equal(pubB, pubOther) || len(pubB) != 32 {
		t.Fatalf("transport keys: %x and %x; want two different X25519 keys", pubB, pubOther)
	}
	again, _ := regionService(t, 2, "cn-east-3").TransportPublicKey()
	if !bytes.Equal(again, pubB) {
		t.Error("the transport key does not follow from the root key")
	}
	pk, err := transportKEM.NewPublicKey(pubB)
	if err != nil {
		t.Fatal(err)
	}
	material := bytes.Repeat([]byte{0x5a}, 32)
	const keyID = "0b5e4a1c-7d2f-4e3a-9c1b-000000000001"
	sealed, err := hpke.Seal(pk, transportKDF, transportAEAD, transportInfo("cn-east-3", keyID, 1), material)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, material) {
		t.Fatal("the sealed material holds the material")
	}
	priv, err := b.transportPrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	got, err := hpke.Open(priv, transportKDF, transportAEAD, transportInfo("cn-east-3", keyID, 1), sealed)
	if err != nil || !bytes.Equal(got, material) {
		t.Fatalf("open for the right region, key and version: %v", err)
	}
	for name, info := range map[string][]byte{
		"other region":  transportInfo("cn-north-4", keyID, 1),
		"other key":     transportInfo("cn-east-3", "0b5e4a1c-7d2f-4e3a-9c1b-000000000002", 1),
		"other version": transportInfo("cn-east-3", keyID, 2),
	} {
		if _, err := hpke.Open(priv, transportKDF, transportAEAD, info, sealed); err == nil {
			t.Errorf("%s: opened", name)
		}
	}
	privOther, _ := other.transportPrivateKey()
	if _, err := hpke.Open(privOther, transportKDF, transportAEAD, transportInfo("cn-east-3", keyID, 1), sealed); err == nil {
		t.Error("another root key's transport key opened it")
	}
}

// TestAcceptReplicaRefusals checks the checks AcceptReplica makes before
// it reads the store: the sender must be the replica's source and primary
// region, and every version must open with this region's transport key.
func TestAcceptReplicaRefusals(t *testing.T) {
	b := regionService(t, 2, "cn-east-3")
	rep := Replica{SourceRegion: "cn-north-4", PrimaryRegion: "cn-north-4", MaterialProjectID: "0123456789abcdef0123456789abcdef",
		ProjectID: "fedcba9876543210fedcba9876543210", KeyID: "0b5e4a1c-7d2f-4e3a-9c1b-000000000001", Alias: "r",
		Spec: "AES_256", Usage: UsageEncryptDecrypt, PrimaryVersion: 1,
		Versions: []ReplicaVersion{{Version: 1, Sealed: []byte("not sealed for this region")}}}
	if _, err := b.AcceptReplica(t.Context(), "ap-southeast-1", rep); !errors.Is(err, ErrRegion) {
		t.Errorf("a replica another region sends: got %v, want ErrRegion", err)
	}
	if _, err := b.AcceptReplica(t.Context(), "cn-north-4", rep); !errors.Is(err, ErrInvalidParameter) {
		t.Errorf("a version that does not open: got %v, want ErrInvalidParameter", err)
	}
}
