package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kmsd/kmsd/internal/auth"
)

// ops lists the workloads of `kmsd-bench load --op`.
var ops = []string{"encrypt-data", "decrypt-data", "sign", "verify", "create-datakey",
	"user-instances", "list-keys", "create-key"}

// A workload is one operation as the load generator sends it.
type workload struct {
	method string
	path   string // after /v1.0/{project_id}/kms/ (kmsd) or / (baseline)
	// body returns the request body; fresh workloads call it for every
	// request (n counts them), the others once.
	body  func(n int64) []byte
	fresh bool
}

// loadParams are the flags a workload is built from.
type loadParams struct {
	op, keyID       string
	size            int
	marker          string
	limit           int
	baseline        bool
	endpoint        string
	project, ak, sk string
}

// newWorkload builds the workload of p.op. decrypt-data and verify first
// ask kmsd for the ciphertext or signature they send (the baseline serves
// only encrypt-data, sign and the constant user-instances).
func newWorkload(p loadParams) (workload, error) {
	digest := sha256.Sum256([]byte("kmsd-bench"))
	message := base64.StdEncoding.EncodeToString(digest[:])
	constant := func(v any) func(int64) []byte {
		b, _ := json.Marshal(v)
		b = append(b, '\n') // as the SDK's json.Encoder sends it
		return func(int64) []byte { return b }
	}
	if p.baseline {
		switch p.op {
		case "encrypt-data", "sign", "user-instances":
		default:
			return workload{}, fmt.Errorf("the baseline serves encrypt-data, sign and user-instances, not %s", p.op)
		}
	}
	switch p.op {
	case "encrypt-data":
		return workload{method: "POST", path: p.op, body: constant(map[string]string{
			"key_id": p.keyID, "plain_text": strings.Repeat("k", p.size)})}, nil
	case "decrypt-data":
		var out struct {
			CipherText string `json:"cipher_text"`
		}
		if err := callKMSD(p, "encrypt-data", map[string]string{"key_id": p.keyID, "plain_text": strings.Repeat("k", p.size)}, &out); err != nil {
			return workload{}, err
		}
		return workload{method: "POST", path: p.op, body: constant(map[string]string{
			"key_id": p.keyID, "cipher_text": out.CipherText})}, nil
	case "sign":
		return workload{method: "POST", path: p.op, body: constant(map[string]string{
			"key_id": p.keyID, "message": message, "signing_algorithm": "ECDSA_SHA_256", "message_type": "DIGEST"})}, nil
	case "verify":
		in := map[string]string{"key_id": p.keyID, "message": message, "signing_algorithm": "ECDSA_SHA_256", "message_type": "DIGEST"}
		var out struct {
			Signature string `json:"signature"`
		}
		if err := callKMSD(p, "sign", in, &out); err != nil {
			return workload{}, err
		}
		in["signature"] = out.Signature
		return workload{method: "POST", path: p.op, body: constant(in)}, nil
	case "create-datakey":
		return workload{method: "POST", path: p.op, body: constant(map[string]string{
			"key_id": p.keyID, "datakey_length": "256"})}, nil
	case "user-instances":
		return workload{method: "GET", path: p.op, body: func(int64) []byte { return nil }}, nil
	case "list-keys":
		in := map[string]string{"limit": strconv.Itoa(p.limit)}
		if p.marker != "" {
			in["marker"] = p.marker
		}
		return workload{method: "POST", path: p.op, body: constant(in)}, nil
	case "create-key":
		// A new alias per request, so every request is signed afresh.
		prefix := fmt.Sprintf("bench-%x-", time.Now().UnixNano())
		return workload{method: "POST", path: p.op, fresh: true, body: func(n int64) []byte {
			return []byte(`{"key_alias":"` + prefix + strconv.FormatInt(n, 10) + `","key_spec":"AES_256"}` + "\n")
		}}, nil
	}
	return workload{}, fmt.Errorf("unknown op %q (want one of %s)", p.op, strings.Join(ops, ", "))
}

// target returns the URL of the workload on p's endpoint.
func (w workload) target(p loadParams) string {
	if p.baseline {
		return p.endpoint + "/" + w.path
	}
	return p.endpoint + "/v1.0/" + p.project + "/kms/" + w.path
}

// newRequest returns one request with body, signed at now like the SDK
// signs (kmsd) or unsigned (baseline).
func (w workload) newRequest(p loadParams, body []byte, now time.Time) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(w.method, w.target(p), rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json;charset=UTF-8")
	}
	req.Header.Set("User-Agent", "huaweicloud-usdk-go/3.0; kmsd-bench")
	if !p.baseline {
		req.Header.Set("X-Project-Id", p.project)
		if err := auth.SignRequest(req, body, auth.AlgHMACSHA256, p.ak, p.sk, now); err != nil {
			return nil, err
		}
	}
	return req, nil
}

// request returns the wire bytes of newRequest.
func (w workload) request(p loadParams, body []byte, now time.Time) ([]byte, error) {
	req, err := w.newRequest(p, body, now)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := req.Write(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// callKMSD sends one signed request to kmsd and decodes its answer into
// out; it prepares the workloads that need a ciphertext or a signature.
func callKMSD(p loadParams, op string, in map[string]string, out any) error {
	body, _ := json.Marshal(in)
	req, err := workload{method: "POST", path: op}.newRequest(p, body, time.Now())
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("prepare %s: %w", op, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return fmt.Errorf("prepare %s: %s: %s", op, resp.Status, b)
	}
	return json.Unmarshal(b, out)
}
