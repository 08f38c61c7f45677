package api

import (
	"errors"
	"net/url"
	"testing"
)

// TestMatchEscapedPath routes request URIs as net/http parses them: an
// escaped "/" (%2F) stays inside its path parameter, every segment is
// unescaped, and DeleteTag's tag key takes the rest of the path, since
// the SDK puts it there unescaped (reference kms-api.md §1).
func TestMatchEscapedPath(t *testing.T) {
	h := &Handler{routes: routeTable()}
	h.index = indexRoutes(h.routes)
	const key = "0d0466b0-e727-4d9c-b35d-f84bb474a37f"
	const p = "/v1.0/0123456789abcdef0123456789abcdef/kms/"
	tests := []struct {
		method, uri string
		op          string
		params      map[string]string
		err         error
	}{
		{"DELETE", p + key + "/tags/env", "DeleteTag", map[string]string{"key_id": key, "key": "env"}, nil},
		{"DELETE", p + key + "/tags/a%20b", "DeleteTag", map[string]string{"key_id": key, "key": "a b"}, nil},
		{"DELETE", p + key + "/tags/a%2Fb", "DeleteTag", map[string]string{"key_id": key, "key": "a/b"}, nil},
		{"DELETE", p + key + "/tags/a%2fb%20c", "DeleteTag", map[string]string{"key_id": key, "key": "a/b c"}, nil},
		{"DELETE", p + key + "/tags/%252F", "DeleteTag", map[string]string{"key_id": key, "key": "%2F"}, nil},
		{"DELETE", p + key + "/tags/a%25b", "DeleteTag", map[string]string{"key_id": key, "key": "a%b"}, nil},
		{"DELETE", p + key + "/tags/%E9%94%AE", "DeleteTag", map[string]string{"key_id": key, "key": "键"}, nil},
		// The SDK's unescaped "/": the rest of the path, slashes kept.
		{"DELETE", p + key + "/tags/team/app", "DeleteTag", map[string]string{"key_id": key, "key": "team/app"}, nil},
		{"DELETE", p + key + "/tags/a%20b/c%20d", "DeleteTag", map[string]string{"key_id": key, "key": "a b/c d"}, nil},
		{"DELETE", p + key + "/tags/trail/", "DeleteTag", map[string]string{"key_id": key, "key": "trail/"}, nil},
		{"DELETE", p + key + "/tags//lead", "DeleteTag", map[string]string{"key_id": key, "key": "/lead"}, nil},
		{"DELETE", p + key + "/tags/a//b", "DeleteTag", map[string]string{"key_id": key, "key": "a//b"}, nil},
		{"DELETE", p + key + "/tags/a%2F/b", "DeleteTag", map[string]string{"key_id": key, "key": "a//b"}, nil},
		{"DELETE", p + key + "/tags/1/2/3/4/5/6/7/8/9/10", "DeleteTag", map[string]string{"key_id": key, "key": "1/2/3/4/5/6/7/8/9/10"}, nil},
		{"DELETE", p + key + "/tags/action", "DeleteTag", map[string]string{"key_id": key, "key": "action"}, nil},
		// Other routes keep their segment count.
		{"POST", p + key + "/tags/action", "BatchCreateKmsTags", map[string]string{"key_id": key}, nil},
		{"POST", p + key + "/tags/a/action", "", nil, errNoSuchMethod},
		{"GET", p + key + "/tags/a/b", "", nil, errNoSuchMethod},
		{"GET", p + key + "/tags", "ShowKmsTags", map[string]string{"key_id": key}, nil},
		{"GET", p + key + "%2Fx/tags", "ShowKmsTags", map[string]string{"key_id": key + "/x"}, nil},
		{"GET", p + "tags", "ListKmsTags", nil, nil},
		{"POST", p + "encrypt-data", "EncryptData", nil, nil},
		{"POST", p + "encrypt%2Ddata", "EncryptData", nil, nil},
		{"POST", p + "encrypt-data%2Fx", "", nil, errNoSuchAPI},
		{"DELETE", p + "x/tags", "", nil, errNoSuchMethod},
		{"DELETE", "/v1.0/p/kms/1/2/3/4/5/6/7/8/9", "", nil, errNoSuchAPI},
		{"DELETE", "/v1.0/p/kms/a/b/tags/c/d/e/f/g", "", nil, errNoSuchAPI},
	}
	for _, tt := range tests {
		u, err := url.ParseRequestURI(tt.uri)
		if err != nil {
			t.Fatalf("%s: %v", tt.uri, err)
		}
		rt, project, params, err := h.match(tt.method, u)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("%s %s: got %v, %v; want %v", tt.method, tt.uri, opOf(rt), err, tt.err)
			}
			continue
		}
		if err != nil || rt.op != tt.op {
			t.Errorf("%s %s: got %v, %v; want %s", tt.method, tt.uri, opOf(rt), err, tt.op)
			continue
		}
		if project != "0123456789abcdef0123456789abcdef" {
			t.Errorf("%s %s: project %q", tt.method, tt.uri, project)
		}
		if n := len(tt.params); n > 0 && len(params) != n+1 || n == 0 && params != nil {
			t.Errorf("%s %s: params %v, want %v and project_id", tt.method, tt.uri, params, tt.params)
		}
		for k, v := range tt.params {
			if params[k] != v {
				t.Errorf("%s %s: %s = %q, want %q", tt.method, tt.uri, k, params[k], v)
			}
		}
	}
}

// TestMatchAllocations keeps the router's fast path: a path without
// escapes routes without allocating, escaped or not in the request line.
func TestMatchAllocations(t *testing.T) {
	h := &Handler{routes: routeTable()}
	h.index = indexRoutes(h.routes)
	for _, uri := range []string{
		"/v1.0/0123456789abcdef0123456789abcdef/kms/encrypt-data",
		"/v1.0/0123456789abcdef0123456789abcdef/kms/describe-key",
		"/v1.0/0123456789abcdef0123456789abcdef/kms/user-instances",
	} {
		u, err := url.ParseRequestURI(uri)
		if err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(100, func() {
			if _, _, _, err := h.match("POST", u); err != nil && !errors.Is(err, errNoSuchMethod) {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("%s: %v allocations, want 0", uri, n)
		}
	}
}

// FuzzMatch routes arbitrary request URIs: match never panics, and a
// match names a route and sets every path parameter of its pattern.
func FuzzMatch(f *testing.F) {
	h := &Handler{routes: routeTable()}
	h.index = indexRoutes(h.routes)
	const p = "/v1.0/0123456789abcdef0123456789abcdef/kms/"
	for _, s := range []string{
		p + "encrypt-data", p + "x/tags/a%2Fb", p + "x/tags/team/app", p + "x/tags//", p + "tags",
		p + "x%2Fy/tags", "/", "/v1.0", "/v1.0/p/kms/1/2/3/4/5/6/7/8/9", "/%zz", p + "aliases",
	} {
		f.Add("DELETE", s)
		f.Add("POST", s)
		f.Add("GET", s)
	}
	f.Fuzz(func(t *testing.T, method, uri string) {
		u, err := url.ParseRequestURI(uri)
		if err != nil {
			return
		}
		rt, _, params, err := h.match(method, u)
		if err != nil {
			return
		}
		if rt == nil {
			t.Fatalf("%s %q: no route and no error", method, uri)
		}
		for _, seg := range rt.segs {
			if !isParam(seg) || seg == "{project_id}" {
				continue
			}
			if _, ok := params[seg[1:len(seg)-1]]; !ok {
				t.Errorf("%s %q matched %s without its parameter %s (params %v)", method, uri, rt.op, seg, params)
			}
		}
	})
}
