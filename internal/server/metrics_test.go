package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kmsd/kmsd/internal/auth"
	"github.com/kmsd/kmsd/internal/server"
)

// metricsServer starts a dev server with its identities and returns its
// address.
func metricsServer(t *testing.T) (*server.Server, server.DevIdentities, string) {
	t.Helper()
	cfg := server.DevConfig(t.TempDir(), "127.0.0.1:0", 10)
	if _, err := server.Init(t.Context(), cfg, nil); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(t.Context(), cfg, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ids := server.DefaultDevIdentities(func(string) string { return "" })
	if err := srv.EnsureDevIdentities(t.Context(), ids); err != nil {
		t.Fatal(err)
	}
	addr, stop := startServe(t, srv)
	t.Cleanup(func() {
		stop()
		srv.Close()
	})
	return srv, ids, addr
}

// signed sends a request signed with ak/sk and returns its status.
func signed(t *testing.T, addr, method, path, body, ak, sk string) int {
	t.Helper()
	r, _ := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if err := auth.SignRequest(r, []byte(body), auth.AlgHMACSHA256, ak, sk, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// scrape returns the value of every sample of /metrics, by its name and
// labels as printed.
func scrape(t *testing.T, addr string) map[string]float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	b, _ := io.ReadAll(resp.Body)
	out := map[string]float64{}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		i := bytes.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(string(line[i+1:]), 64)
		if err != nil {
			t.Fatalf("sample %q: %v", line, err)
		}
		out[string(line[:i])] = v
	}
	return out
}

func TestMetrics(t *testing.T) {
	_, ids, addr := metricsServer(t)
	before := scrape(t, addr)
	p := "/v1.0/" + ids.ProjectID + "/kms/"
	for range 3 {
		if s := signed(t, addr, "GET", p+"user-instances", "", ids.AdminAK, ids.AdminSK); s != 200 {
			t.Fatalf("user-instances: %d", s)
		}
	}
	if s := signed(t, addr, "POST", p+"create-key", `{"key_alias":"metrics-1"}`, ids.AdminAK, ids.AdminSK); s != 200 {
		t.Fatalf("create-key: %d", s)
	}
	if s := signed(t, addr, "GET", p+"user-instances", "", ids.AdminAK, "wrong-secret-key-00000000000000000000000"); s != 401 {
		t.Fatalf("wrong SK: %d", s)
	}
	if s := signed(t, addr, "POST", p+"create-key", `{"key_alias":"metrics-2"}`, ids.ReaderAK, ids.ReaderSK); s != 403 {
		t.Fatalf("reader create-key: %d", s)
	}
	after := scrape(t, addr)
	moved := func(series string, want float64) {
		t.Helper()
		if got := after[series] - before[series]; got != want {
			t.Errorf("%s moved by %v, want %v", series, got, want)
		}
	}
	moved(`kmsd_requests_total{error_code="",operation="ShowUserInstances",status="200"}`, 3)
	moved(`kmsd_requests_total{error_code="",operation="CreateKey",status="200"}`, 1)
	moved(`kmsd_requests_total{error_code="APIGW.0301",operation="ShowUserInstances",status="401"}`, 1)
	moved(`kmsd_request_duration_seconds_count{operation="ShowUserInstances"}`, 4)
	moved(`kmsd_auth_failures_total{reason="signature"}`, 1)
	moved(`kmsd_auth_failures_total{reason="access_denied"}`, 1)
	moved(`kmsd_keys{state="enabled"}`, 1)
	// best_effort: records are queued, not waited for; by the next
	// scrape of a quiet server some have been written.
	if after[`kmsd_audit_writable`] != 1 {
		t.Errorf("kmsd_audit_writable = %v", after[`kmsd_audit_writable`])
	}
	for _, s := range []string{"go_goroutines", `kmsd_job_runs_total{job="rotation"}`, "kmsd_key_cache_misses_total", "kmsd_audit_fsyncs_total", "kmsd_store_errors_total", "process_resident_memory_bytes"} {
		if _, ok := after[s]; !ok {
			t.Errorf("/metrics lacks %s", s)
		}
	}
	for s := range after {
		if regexp.MustCompile(ids.AdminAK + "|" + ids.AdminID + "|" + ids.ProjectID).MatchString(s) {
			t.Errorf("a series names a credential, user or project: %s", s)
		}
	}
	// Health.
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Status string            `json:"status"`
			Checks map[string]string `json:"checks"`
		}
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s: %d %+v, want %d", path, resp.StatusCode, body, want)
		}
		if path == "/readyz" && (body.Checks["store"] != "ok" || body.Checks["audit"] != "ok" || body.Checks["root_key"] != "ok") {
			t.Errorf("/readyz checks %v", body.Checks)
		}
	}
}
