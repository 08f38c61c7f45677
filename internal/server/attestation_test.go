package server

import (
	"os/exec"
	"testing"
	"time"

	"github.com/kmsd/kmsd/internal/kms"
)

// TestCommandVerifier runs a shell one-liner as the attestation command:
// it admits exactly the documents that carry the access point's identity.
func TestCommandVerifier(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	v := commandVerifier{argv: []string{"sh", "-c", `grep -q '"ecs_signature":"signed-by-ecs-42"'`}, timeout: 5 * time.Second}
	ap := kms.AccessPoint{ID: "018f3c2a-7b1d-7e4f-9a2b-3c4d5e6f7a8b", Type: kms.AccessPointECS, Identity: "ecs-42"}
	if err := v.VerifyAttestation(t.Context(), ap, kms.Attestation{ECSSignature: "signed-by-ecs-42"}); err != nil {
		t.Errorf("good document: %v", err)
	}
	if err := v.VerifyAttestation(t.Context(), ap, kms.Attestation{ECSSignature: "forged"}); err == nil {
		t.Error("forged document admitted")
	}
	slow := commandVerifier{argv: []string{"sleep", "5"}, timeout: 100 * time.Millisecond}
	start := time.Now()
	if err := slow.VerifyAttestation(t.Context(), ap, kms.Attestation{ECSSignature: "x"}); err == nil || time.Since(start) > 3*time.Second {
		t.Errorf("slow command: %v after %v, want a refusal at the timeout", err, time.Since(start))
	}
}
