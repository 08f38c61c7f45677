package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"time"

	"github.com/kmsd/kmsd/internal/kms"
)

// commandVerifier is the attestation verifier of configuration
// attestation.command: it runs the command (no shell) with a JSON object
// naming the access point and its attestation on standard input, and
// admits the environment when the command exits 0 within timeout. The
// command's output is discarded, never logged: attestation documents are
// credentials.
type commandVerifier struct {
	argv    []string
	timeout time.Duration
}

// attestationInput is what the command reads on standard input.
type attestationInput struct {
	AccessPointID string `json:"access_point_id"`
	Type          int    `json:"type"`
	Identity      string `json:"identity"`
	ClusterID     string `json:"cluster_id"`
	ECSSignature  string `json:"ecs_signature"`
	ServiceToken  string `json:"service_token"`
}

func (v commandVerifier) VerifyAttestation(ctx context.Context, ap kms.AccessPoint, doc kms.Attestation) error {
	in, err := json.Marshal(attestationInput{AccessPointID: ap.ID, Type: ap.Type, Identity: ap.Identity, ClusterID: ap.ClusterID,
		ECSSignature: doc.ECSSignature, ServiceToken: doc.ServiceToken})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, v.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, v.argv[0], v.argv[1:]...)
	cmd.Stdin = bytes.NewReader(in)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("attestation command: %w", err)
	}
	return nil
}
