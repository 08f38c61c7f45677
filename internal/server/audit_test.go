package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kmsd/kmsd/internal/audit"
	"github.com/kmsd/kmsd/internal/auth"
	"github.com/kmsd/kmsd/internal/server"
)

// quotaFile is a segment file on a disk that holds at most *limit bytes
// of audit segments: a write beyond it writes what fits and fails with
// ENOSPC, as a full file system does.
type quotaFile struct {
	f *os.File
	d *quotaDisk
}

type quotaDisk struct {
	mu          sync.Mutex
	used, limit int64
}

func (q *quotaFile) Write(b []byte) (int, error) {
	q.d.mu.Lock()
	defer q.d.mu.Unlock()
	if room := q.d.limit - q.d.used; int64(len(b)) > room {
		n, _ := q.f.Write(b[:max(room, 0)])
		q.d.used += int64(n)
		return n, &os.PathError{Op: "write", Path: q.f.Name(), Err: syscall.ENOSPC}
	}
	n, err := q.f.Write(b)
	q.d.used += int64(n)
	return n, err
}
func (q *quotaFile) Sync() error { return q.f.Sync() }
func (q *quotaFile) Truncate(n int64) error {
	q.d.mu.Lock()
	defer q.d.mu.Unlock()
	st, err := q.f.Stat()
	if err != nil {
		return err
	}
	q.d.used -= st.Size() - n
	return q.f.Truncate(n)
}
func (q *quotaFile) Close() error { return q.f.Close() }

func (d *quotaDisk) setLimit(room int64) {
	d.mu.Lock()
	d.limit = d.used + room
	d.mu.Unlock()
}

// TestAuditRequiredDiskFull runs a server whose audit trail is required
// on a disk that fills up: requests are refused with 503 KMS.0104 while
// no record can be written, the trail holds exactly the records of the
// requests that were answered, and service resumes without a restart once
// there is room again.
func TestAuditRequiredDiskFull(t *testing.T) {
	dir := t.TempDir()
	cfg := server.DevConfig(dir, "127.0.0.1:0", 10)
	cfg.Audit.Mode = "required"
	if _, err := server.Init(t.Context(), cfg, nil); err != nil {
		t.Fatal(err)
	}
	disk := &quotaDisk{limit: 1 << 40}
	open := func(path string) (audit.File, error) {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return nil, err
		}
		st, _ := f.Stat()
		disk.mu.Lock()
		disk.used += st.Size()
		disk.mu.Unlock()
		return &quotaFile{f: f, d: disk}, nil
	}
	srv, err := server.New(t.Context(), cfg, server.Options{AuditOpenFile: open})
	if err != nil {
		t.Fatal(err)
	}
	ids := server.DefaultDevIdentities(func(string) string { return "" })
	if err := srv.EnsureDevIdentities(t.Context(), ids); err != nil {
		t.Fatal(err)
	}
	addr, stop := startServe(t, srv)
	call := func() (int, string, string) {
		t.Helper()
		r, _ := http.NewRequest("GET", "http://"+addr+"/v1.0/"+ids.ProjectID+"/kms/user-instances", nil)
		if err := auth.SignRequest(r, nil, auth.AlgHMACSHA256, ids.AdminAK, ids.AdminSK, time.Now()); err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var e struct {
			Error struct {
				Code string `json:"error_code"`
			} `json:"error"`
		}
		json.Unmarshal(b, &e)
		return resp.StatusCode, e.Error.Code, resp.Header.Get("X-Request-Id")
	}
	var acked []string              // answered 200, in order
	answered := map[string]string{} // request id → status
	for range 5 {
		status, _, id := call()
		if status != 200 {
			t.Fatalf("status %d before the disk filled", status)
		}
		acked = append(acked, id)
		answered[id] = "200"
	}
	disk.setLimit(50) // less than a record
	for i := range 5 {
		status, code, id := call()
		answered[id] = "503"
		if status != 503 || code != "KMS.0104" {
			t.Fatalf("request %d on a full disk: %d %s, want 503 KMS.0104", i, status, code)
		}
	}
	if srv.Audit.Writable() {
		t.Error("the trail says it is writable on a full disk")
	}
	if resp, err := http.Get("http://" + addr + "/readyz"); err != nil || resp.StatusCode != 503 {
		t.Errorf("/readyz on a full audit disk: %v %v, want 503", resp.Status, err)
	}
	disk.setLimit(1 << 40)
	recovered := false
	for range 100 {
		status, _, id := call()
		answered[id] = itoa(status)
		if status == 200 {
			acked = append(acked, id)
			recovered = true
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !recovered {
		t.Fatal("no request succeeded within 5 s of space returning")
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	rep, err := audit.Verify(cfg.AuditChainDir(), nil)
	if err != nil || !rep.OK() {
		t.Fatalf("verify: %v %+v", err, rep)
	}
	// Every 200 has its record, in order; every record is of a request
	// answered as it says (a refusal may be recorded too, once the trail
	// took records again).
	var got []string
	audit.Read(cfg.AuditChainDir(), func(_ uint64, r audit.Record) error {
		if answered[r.RequestID] != r.Code {
			t.Errorf("record of request %s says %s, the request was answered %q", r.RequestID, r.Code, answered[r.RequestID])
		}
		if r.Code == "200" {
			got = append(got, r.RequestID)
		}
		return nil
	})
	if len(got) != len(acked) {
		t.Fatalf("trail holds %d records of answered requests, want %d", len(got), len(acked))
	}
	for i := range got {
		if got[i] != acked[i] {
			t.Errorf("record %d: request %s, want %s", i, got[i], acked[i])
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
