package server

import (
	"net/http/httptest"
	"testing"

	"github.com/kmsd/kmsd/internal/config"
	"github.com/kmsd/kmsd/internal/metrics"
)

// TestMetricsLoopbackOnly: /metrics answers a remote client 403 unless
// metrics.allow_remote, and health endpoints answer everyone.
func TestMetricsLoopbackOnly(t *testing.T) {
	for _, allow := range []bool{false, true} {
		s := &Server{cfg: config.Config{Metrics: config.Metrics{AllowRemote: allow}}, metrics: metrics.New()}
		h := s.opsHandler(nil)
		for _, tt := range []struct {
			path, remote string
			want         int
		}{
			{"/metrics", "127.0.0.1:5000", 200},
			{"/metrics", "[::1]:5000", 200},
			{"/metrics", "10.1.2.3:5000", map[bool]int{false: 403, true: 200}[allow]},
			{"/healthz", "10.1.2.3:5000", 200},
		} {
			r := httptest.NewRequest("GET", tt.path, nil)
			r.RemoteAddr = tt.remote
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.want {
				t.Errorf("allow_remote %v: %s from %s: %d, want %d", allow, tt.path, tt.remote, w.Code, tt.want)
			}
		}
	}
}
