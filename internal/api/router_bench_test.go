package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkRouter compares the hand-written router (router.go) with
// net/http's ServeMux patterns over the same route table, on the hot
// path (encrypt-data) and on a tag path with two parameters. ServeMux
// gets the table as "METHOD /pattern" with {key...} for DeleteTag's rest
// parameter; its 405 for a known path is kmsd's 404 either way.
//
//	go test -run XXX -bench Router ./internal/api/
func BenchmarkRouter(b *testing.B) {
	h := &Handler{}
	h.routes = routeTable()
	h.index = indexRoutes(h.routes)
	mux := http.NewServeMux()
	for _, rt := range h.routes {
		p := rt.pattern
		if rt.rest {
			p = strings.TrimSuffix(p, "}") + "...}"
		}
		if p == "/" {
			p = "/{$}"
		}
		mux.Handle(rt.method+" "+p, http.NotFoundHandler())
	}
	const project = "0123456789abcdef0123456789abcdef"
	for _, path := range []string{
		"/v1.0/" + project + "/kms/encrypt-data",
		"/v1.0/" + project + "/kms/0d0466b0-e727-4d9c-b35d-f84bb474a37f/tags/team",
	} {
		method := "POST"
		if strings.Contains(path, "/tags/") {
			method = "DELETE"
		}
		r := httptest.NewRequest(method, path, nil)
		name := path[strings.LastIndexByte(path, '/')+1:]
		b.Run("kmsd/"+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, _, err := h.match(r.Method, r.URL); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("ServeMux/"+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, pattern := mux.Handler(r); pattern == "" {
					b.Fatal("no match")
				}
			}
		})
	}
}
