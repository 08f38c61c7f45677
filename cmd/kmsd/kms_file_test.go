package main

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKMSEncryptFile seals files with both ciphers through a real server
// and checks that tampering and truncation exit 4 and leave no output.
func TestKMSEncryptFile(t *testing.T) {
	env := devServer(t)
	id := createKeyID(t, env, "--alias", "cli-file")
	dir := t.TempDir()
	plain := make([]byte, 3<<20+12345)
	rand.Read(plain)
	in := filepath.Join(dir, "plain")
	if err := os.WriteFile(in, plain, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"AES_256_GCM", "SM4_GCM"} {
		t.Run(c, func(t *testing.T) {
			sealed := filepath.Join(dir, c+".kmsd")
			mustKMS(t, env, nil, "encrypt-file", "--key", id, "--cipher", c, in, sealed)
			env2, err := os.ReadFile(sealed)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(env2, plain[:64]) {
				t.Fatal("the envelope contains plaintext")
			}
			out := filepath.Join(dir, c+".out")
			mustKMS(t, env, nil, "decrypt-file", sealed, out)
			got, err := os.ReadFile(out)
			if err != nil || !bytes.Equal(got, plain) {
				t.Fatalf("decrypt-file gave %d bytes (%v), want %d", len(got), err, len(plain))
			}
			// Tampering, truncation: exit 4, no output file.
			for name, b := range map[string][]byte{
				"flipped":   flip(env2, len(env2)/2),
				"truncated": env2[:len(env2)-70000],
				"appended":  append(bytes.Clone(env2), 1),
			} {
				bad := filepath.Join(dir, c+"."+name)
				if err := os.WriteFile(bad, b, 0o600); err != nil {
					t.Fatal(err)
				}
				badOut := bad + ".out"
				_, errOut, code := kmsRun(t, env, nil, "decrypt-file", bad, badOut)
				if code != exitInvalid || !strings.Contains(errOut, "tampered") {
					t.Errorf("%s: exit %d %q, want %d", name, code, errOut, exitInvalid)
				}
				if _, err := os.Stat(badOut); !os.IsNotExist(err) {
					t.Errorf("%s: output file left behind (%v)", name, err)
				}
			}
		})
	}
	// Through pipes: - for stdin and stdout.
	sealed := mustKMS(t, env, []byte("piped text"), "encrypt-file", "--key", id, "-", "-")
	if got := mustKMS(t, env, []byte(sealed), "decrypt-file", "-", "-"); got != "piped text" {
		t.Errorf("piped round trip: %q", got)
	}
	// Not an envelope: exit 2.
	if _, errOut, code := kmsRun(t, env, nil, "decrypt-file", in, filepath.Join(dir, "x")); code != exitUsage || !strings.Contains(errOut, "not a kmsd envelope") {
		t.Errorf("plain file: exit %d %q", code, errOut)
	}
	// Another account cannot open the data key: the service's error, exit 1.
	other := with(with(with(env, "CLOUD_SDK_AK", env["KMSD_DEV2_AK"]), "CLOUD_SDK_SK", env["KMSD_DEV2_SK"]), "CLOUD_SDK_PROJECT_ID", env["KMSD_DEV2_PROJECT_ID"])
	if _, errOut, code := kmsRun(t, other, []byte(sealed), "decrypt-file", "-", "-"); code != exitService || !strings.Contains(errOut, "KMS.") {
		t.Errorf("other account: exit %d %q", code, errOut)
	}
}

func flip(b []byte, i int) []byte {
	b = bytes.Clone(b)
	b[i] ^= 0x40
	return b
}

// TestProgress checks the bar drawn on a terminal.
func TestProgress(t *testing.T) {
	var bar bytes.Buffer
	e := &kmsEnv{stderr: &bar, tty: true, o: &kmsOptions{}}
	r := e.progress(bytes.NewReader(make([]byte, 3<<20)), 3<<20, "encrypt")
	if _, err := bytes.NewBuffer(nil).ReadFrom(r); err != nil {
		t.Fatal(err)
	}
	if s := bar.String(); !strings.Contains(s, "100%") || !strings.Contains(s, "3.0 MiB / 3.0 MiB") || !strings.HasSuffix(s, "\n") {
		t.Errorf("progress bar %q", s)
	}
	e.o.quiet = true
	if r := e.progress(bytes.NewReader(nil), 0, "x"); r == nil {
		t.Fatal("nil reader")
	} else if _, ok := r.(*progressReader); ok {
		t.Error("--quiet still draws a bar")
	}
}
