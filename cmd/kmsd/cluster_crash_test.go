package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kmsd/kmsd/internal/auth"
	"github.com/kmsd/kmsd/internal/keyring"
	"github.com/kmsd/kmsd/internal/store/postgres/pgtest"
)

// clusterIdentity is the bootstrap identity of the cluster crash test.
const (
	clusterProject = "22222222222222222222222222222222"
	clusterAK      = "CLUSTERADMINAK000001"
	clusterSK      = "ClusterSecretKey0000000000000000000001"
)

// startNode starts `kmsd serve --config cfg` and waits for the log line
// that announces its endpoint.
func startNode(t *testing.T, bin, cfg string, env []string) *proc {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--config", cfg)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stderr)
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
			var rec struct{ Msg, Endpoint string }
			if json.Unmarshal([]byte(l), &rec) == nil && rec.Msg == "kmsd listening" {
				go func() {
					for range lines {
					}
				}()
				return &proc{cmd: cmd, endpoint: rec.Endpoint}
			}
		case <-timeout:
			t.Fatal("kmsd did not announce its endpoint within 60s")
		}
	}
}

// clusterCall sends a request signed with the cluster's AK/SK.
func clusterCall(ctx context.Context, endpoint, op, body string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", endpoint+"/v1.0/"+clusterProject+"/kms/"+op, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json;charset=UTF-8")
	req.Header.Set("X-Project-Id", clusterProject)
	if err := auth.SignRequest(req, []byte(body), "SDK-HMAC-SHA256", clusterAK, clusterSK, time.Now()); err != nil {
		return 0, nil, err
	}
	cl := http.Client{Timeout: 10 * time.Second}
	resp, err := cl.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// TestClusterKillNode runs two kmsd processes on one PostgreSQL database
// under a key-creation load that alternates between them, kills one with
// SIGKILL, and lets the clients retry on the other: every acknowledged
// key is there afterwards, and no key was created twice (each creation
// has its own alias; a retry of a creation whose answer was lost finds the
// alias taken).
func TestClusterKillNode(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the kmsd binary")
	}
	// A server of its own: TestMain belongs to testscript here.
	pg, err := pgtest.Start()
	if errors.Is(err, pgtest.ErrNotInstalled) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pg.Stop)
	dsn, err := pg.CreateDatabase(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	bin := buildKmsd(t)
	dir := t.TempDir()
	if err := keyring.CreateRootKeyFile(filepath.Join(dir, "root.key")); err != nil {
		t.Fatal(err)
	}
	boot := `accounts:
  - name: cluster
    projects: [{name: cn-north-4, id: ` + clusterProject + `}]
    users:
      - name: admin
        policies: ["KMS Administrator"]
        access_keys: [{ak: ` + clusterAK + `, sk_env: CLUSTER_SK}]
`
	if err := os.WriteFile(filepath.Join(dir, "identities.yaml"), []byte(boot), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"CLUSTER_SK=" + clusterSK, "KMSD_DSN=" + dsn}
	var nodes []*proc
	for i := range 2 {
		cfg := filepath.Join(dir, fmt.Sprintf("node%d.yaml", i))
		if err := os.MkdirAll(filepath.Join(dir, fmt.Sprintf("node%d", i)), 0o700); err != nil {
			t.Fatal(err)
		}
		// Each node has a data directory of its own, as on its own
		// machine; the root key file is the same.
		y := fmt.Sprintf("listen: 127.0.0.1:0\ndata_dir: %s\nroot_key: {file: %s}\nbootstrap: %s\nquotas: {cmk: 100000}\ndatabase: {driver: postgres, dsn_env: KMSD_DSN}\nnode_id: node%d\nthrottle: {enabled: false}\n",
			filepath.Join(dir, fmt.Sprintf("node%d", i)), filepath.Join(dir, "root.key"), filepath.Join(dir, "identities.yaml"), i)
		if err := os.WriteFile(cfg, []byte(y), 0o600); err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, startNode(t, bin, cfg, env))
	}

	const workers = 4
	var mu sync.Mutex
	acked := map[string]string{} // alias → key id
	retried := 0                 // creations whose answer was lost and whose alias was then found taken
	killed := make(chan struct{})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil && i < 2000; i++ {
				alias := fmt.Sprintf("kill-%d-%d", w, i)
				body := `{"key_alias":"` + alias + `"}`
				target := nodes[(w+i)%2].endpoint
				for attempt := 0; ; attempt++ {
					status, resp, err := clusterCall(ctx, target, "create-key", body)
					if err != nil || status >= 500 {
						if ctx.Err() != nil {
							return
						}
						// The node is gone (or failing): retry on the other.
						target = nodes[1].endpoint
						continue
					}
					if status == 400 && strings.Contains(string(resp), "KMS.1104") && attempt > 0 {
						mu.Lock()
						retried++
						mu.Unlock()
						break
					}
					if status != 200 {
						t.Errorf("create-key %s: %d %s", alias, status, resp)
						return
					}
					var v struct {
						KeyInfo struct {
							KeyID string `json:"key_id"`
						} `json:"key_info"`
					}
					if err := json.Unmarshal(resp, &v); err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					acked[alias] = v.KeyInfo.KeyID
					mu.Unlock()
					break
				}
				select {
				case <-killed:
					// After the kill, run a little more on the survivor.
					if i%50 == 49 {
						return
					}
				default:
				}
			}
		})
	}
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
	if err := nodes[0].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = nodes[0].cmd.Wait()
	close(killed)
	wg.Wait()
	cancel()

	survivor := nodes[1].endpoint
	for alias, id := range acked {
		status, body, err := clusterCall(t.Context(), survivor, "describe-key", `{"key_id":"`+id+`"}`)
		if err != nil || status != 200 || !strings.Contains(string(body), `"key_alias":"`+alias+`"`) {
			t.Fatalf("acknowledged key %s (%s) after the kill: %d %s %v", id, alias, status, body, err)
		}
	}
	req, _ := http.NewRequestWithContext(t.Context(), "GET", survivor+"/v1.0/"+clusterProject+"/kms/user-instances", nil)
	req.Header.Set("X-Project-Id", clusterProject)
	if err := auth.SignRequest(req, nil, "SDK-HMAC-SHA256", clusterAK, clusterSK, time.Now()); err != nil {
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
	// Each alias names at most one key; the keys are the acknowledged
	// ones, those whose lost answer a retry found, and at most one
	// in flight per worker when the node died.
	if count.N < len(acked)+retried || count.N > len(acked)+retried+workers {
		t.Errorf("instance_num %d, want %d acknowledged + %d found on retry (+ at most %d in flight)", count.N, len(acked), retried, workers)
	}
	t.Logf("%d keys acknowledged (%d found on retry) across a SIGKILL of one of two nodes; all present on the survivor; instance_num %d", len(acked), retried, count.N)
}
