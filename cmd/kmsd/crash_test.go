package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kmsd/kmsd/internal/auth"
	"github.com/kmsd/kmsd/internal/server"
)

// proc is a kmsd binary running as a child process.
type proc struct {
	cmd      *exec.Cmd
	endpoint string
}

// buildKmsd builds the kmsd binary once per test.
func buildKmsd(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "kmsd")
	out, err := exec.CommandContext(t.Context(), "go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startKmsd starts `kmsd serve --dev` on 127.0.0.1:0, with extra
// arguments, and waits for the line that announces its endpoint.
func startKmsd(t *testing.T, bin, dataDir string, extra ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--dev", "--data", dataDir, "--listen", "127.0.0.1:0"}, extra...)...)
	cmd.Stderr = io.Discard
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	timeout := time.After(60 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("kmsd exited before announcing its endpoint")
			}
			if rest, ok := strings.CutPrefix(l, "kmsd dev server listening on "); ok {
				go func() {
					for range lines { // keep the pipe drained
					}
				}()
				return &proc{cmd: cmd, endpoint: strings.Fields(rest)[0]}
			}
		case <-timeout:
			t.Fatal("kmsd did not announce its endpoint within 60s")
		}
	}
}

// call sends a request signed with the dev administrator's AK/SK.
func (p *proc) call(ctx context.Context, ids server.DevIdentities, op string, body string) (int, []byte, error) {
	url := p.endpoint + "/v1.0/" + ids.ProjectID + "/kms/" + op
	req, err := http.NewRequestWithContext(ctx, "POST", url, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json;charset=UTF-8")
	req.Header.Set("User-Agent", "kmsd-crash-test")
	req.Header.Set("X-Project-Id", ids.ProjectID)
	if err := auth.SignRequest(req, []byte(body), "SDK-HMAC-SHA256", ids.AdminAK, ids.AdminSK, time.Now()); err != nil {
		return 0, nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// TestCrashDurability creates keys from several clients, kills the server
// with SIGKILL in the middle of the load, restarts it on the same data
// directory, and checks that every key whose creation was acknowledged is
// there, counted and usable.
func TestCrashDurability(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the kmsd binary")
	}
	bin := buildKmsd(t)
	dir := t.TempDir()
	ids := server.DefaultDevIdentities(func(string) string { return "" })
	p := startKmsd(t, bin, dir)

	const workers = 4
	var mu sync.Mutex
	var acked []string
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil && i < 10000; i++ {
				status, body, err := p.call(ctx, ids, "create-key", fmt.Sprintf(`{"key_alias":"crash-%d-%d"}`, w, i))
				if err != nil {
					return // the server is gone
				}
				if status != 200 {
					t.Errorf("create-key: %d %s", status, body)
					return
				}
				var v struct {
					KeyInfo struct {
						KeyID string `json:"key_id"`
					} `json:"key_info"`
				}
				if err := json.Unmarshal(body, &v); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				acked = append(acked, v.KeyInfo.KeyID)
				mu.Unlock()
			}
		}()
	}
	// Let the load run until a good number of keys are acknowledged, then
	// kill the server without warning.
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 200 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()
	wg.Wait()
	cancel()
	mu.Lock()
	keys := append([]string(nil), acked...)
	mu.Unlock()
	if len(keys) == 0 {
		t.Fatal("no key creation was acknowledged before the kill")
	}

	p2 := startKmsd(t, bin, dir)
	ctx2 := t.Context()
	for _, id := range keys {
		status, body, err := p2.call(ctx2, ids, "describe-key", `{"key_id":"`+id+`"}`)
		if err != nil || status != 200 || !bytes.Contains(body, []byte(`"key_state":"2"`)) {
			t.Fatalf("acknowledged key %s after restart: %d %s %v", id, status, body, err)
		}
	}
	// Usable: the material unseals and the key can change state.
	status, body, err := p2.call(ctx2, ids, "disable-key", `{"key_id":"`+keys[0]+`"}`)
	if err != nil || status != 200 {
		t.Fatalf("disable-key after restart: %d %s %v", status, body, err)
	}
	// The maintained count covers at least every acknowledged key (keys
	// committed but not yet acknowledged when the server died count too).
	req, _ := http.NewRequestWithContext(ctx2, "GET", p2.endpoint+"/v1.0/"+ids.ProjectID+"/kms/user-instances", nil)
	req.Header.Set("X-Project-Id", ids.ProjectID)
	if err := auth.SignRequest(req, nil, "SDK-HMAC-SHA256", ids.AdminAK, ids.AdminSK, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var count struct {
		N int `json:"instance_num"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&count); err != nil {
		t.Fatal(err)
	}
	if count.N < len(keys) {
		t.Errorf("instance_num %d after restart, want at least the %d acknowledged keys", count.N, len(keys))
	}
	t.Logf("%d keys acknowledged before SIGKILL; all present after restart; instance_num %d", len(keys), count.N)
}
