package api

import (
	"net/url"
	"strings"
)

// The router is written by hand rather than made of net/http's ServeMux
// patterns, which could express the table ("POST /v1.0/{project_id}/...",
// {key...} for DeleteTag) but lose on the two things the router is for:
// speed on the hot path and the table's own rules. BenchmarkRouter
// measured ServeMux at about 5 times the time of match on encrypt-data
// (1.3–1.7 µs against 0.26–0.29 µs on the shared CI machine, and an
// allocation where match has none) and 2–3 times on a tag path; and
// ServeMux answers 405 for a known path with another method where the
// reference wants 404 APIGW.0101, cannot constrain a parameter to one
// value (route.fixed), and would route a client's escaped path
// differently from routePath. Re-measure before changing this.

// maxSegments is the most path segments a route has; longer paths match
// no route.
const maxSegments = 8

// routeIndex narrows the routes a path can match to a few, by its number
// of segments and its last segment.
type routeIndex struct {
	// byLast[n] maps a literal last segment of n-segment routes to the
	// routes that may match an n-segment path ending with it: those, and
	// the ones whose pattern ends with a parameter, in table order;
	// paramLast[n] are the latter (the root route has no segment at all
	// and is there too). A route whose last parameter takes the rest of
	// the path (route.rest) is a candidate for every length from its own
	// on, and is in rest too, for paths of more than maxSegments segments.
	byLast    [maxSegments + 1]map[string][]*route
	paramLast [maxSegments + 1][]*route
	rest      []*route
}

func indexRoutes(routes []*route) routeIndex {
	var ix routeIndex
	for _, rt := range routes {
		n := len(rt.segs)
		if n > maxSegments {
			panic("api: route " + rt.op + " has more than maxSegments segments")
		}
		if rt.rest {
			if n == 0 || !isParam(rt.segs[n-1]) {
				panic("api: route " + rt.op + " takes the rest of the path but does not end with a parameter")
			}
			ix.rest = append(ix.rest, rt)
		}
		if n == 0 || isParam(rt.segs[n-1]) {
			last := n
			if rt.rest {
				last = maxSegments
			}
			for m := n; m <= last; m++ {
				ix.paramLast[m] = append(ix.paramLast[m], rt)
				for lit, rs := range ix.byLast[m] {
					ix.byLast[m][lit] = append(rs, rt)
				}
			}
			continue
		}
		if ix.byLast[n] == nil {
			ix.byLast[n] = map[string][]*route{}
		}
		last := rt.segs[n-1]
		if _, ok := ix.byLast[n][last]; !ok {
			ix.byLast[n][last] = append([]*route(nil), ix.paramLast[n]...)
		}
		ix.byLast[n][last] = append(ix.byLast[n][last], rt)
	}
	return ix
}

// candidates returns the routes that may match a path of segments segs,
// in table order.
func (ix *routeIndex) candidates(segs []string) []*route {
	n := len(segs)
	if n > 0 {
		if rs, ok := ix.byLast[n][segs[n-1]]; ok {
			return rs
		}
	}
	return ix.paramLast[n]
}

// routePath returns the path of u to route on: its escaped form when
// that differs from the default escaping of u.Path (a client sent %2F, or
// escaped what it need not), else u.Path. Routing splits the escaped form
// at its slashes and unescapes each segment, so an escaped "/" stays in
// its path parameter; u.Path, which holds no escaped "/", is split as it
// is, without allocating.
func routePath(u *url.URL) (path string, escaped bool) {
	if u.RawPath != "" && u.EscapedPath() == u.RawPath {
		return u.RawPath, true
	}
	return u.Path, false
}

// match finds the route for method and u's path and returns it with the
// path's project id and parameters (see call). A path that exists with
// another method is errNoSuchMethod; an unknown path errNoSuchAPI.
func (h *Handler) match(method string, u *url.URL) (*route, string, map[string]string, error) {
	path, escaped := routePath(u)
	var buf [maxSegments]string
	segs, ok := splitPathInto(buf[:0], path)
	if escaped {
		for i, s := range segs {
			if strings.IndexByte(s, '%') < 0 {
				continue
			}
			var err error
			if segs[i], err = url.PathUnescape(s); err != nil {
				return nil, "", nil, errInvalidURL
			}
		}
	}
	routes := h.index.rest
	if ok {
		routes = h.index.candidates(segs)
	}
	pathKnown := false
	for _, rt := range routes {
		project, params, ok := rt.matchPath(segs, path, escaped)
		if !ok {
			continue
		}
		if rt.method != method {
			pathKnown = true
			continue
		}
		return rt, project, params, nil
	}
	if pathKnown {
		return nil, "", nil, errNoSuchMethod
	}
	return nil, "", nil, errNoSuchAPI
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// splitPathInto appends the segments of p, as splitPath returns them, to
// dst; it reports false, having appended some, if there are more than
// cap(dst) - len(dst).
func splitPathInto(dst []string, p string) ([]string, bool) {
	p = strings.Trim(p, "/")
	if p == "" {
		return dst, true
	}
	for len(dst) < cap(dst) {
		seg, rest, more := strings.Cut(p, "/")
		dst = append(dst, seg)
		if !more {
			return dst, true
		}
		p = rest
	}
	return dst, false
}

// matchPath matches the decoded segments segs of path (escaped when
// escaped is true) against the route's pattern and returns the
// {project_id} segment and, for a route with other parameters, the map of
// every parameter. Literal segments are compared first, so the map is
// built only for the route that matches. segs may hold only the first
// segments of a longer path, which only a route.rest route matches.
func (rt *route) matchPath(segs []string, path string, escaped bool) (project string, params map[string]string, ok bool) {
	n := len(rt.segs)
	if len(segs) != n && !(rt.rest && len(segs) > n) {
		return "", nil, false
	}
	others := false
	for i, s := range rt.segs {
		if rt.rest && i == n-1 {
			others = true
			break
		}
		if isParam(s) {
			if segs[i] == "" {
				return "", nil, false
			}
			name := s[1 : len(s)-1]
			if want, ok := rt.fixed[name]; ok && segs[i] != want {
				return "", nil, false
			}
			if name == "project_id" {
				project = segs[i]
			} else {
				others = true
			}
			continue
		}
		if s != segs[i] {
			return "", nil, false
		}
	}
	var rest string
	if rt.rest {
		if rest, ok = restOfPath(path, n-1, escaped); !ok || rest == "" {
			return "", nil, false
		}
	}
	if others {
		params = make(map[string]string, 2)
		for i, s := range rt.segs {
			if isParam(s) {
				params[s[1:len(s)-1]] = segs[i]
			}
		}
		if rt.rest {
			params[rt.segs[n-1][1:len(rt.segs[n-1])-1]] = rest
		}
	}
	return project, params, true
}

// restOfPath returns what follows the first skip segments of path (as
// splitPath counts them) and their slashes, trailing slashes included,
// unescaped when escaped is true.
func restOfPath(path string, skip int, escaped bool) (string, bool) {
	i := 0
	for i < len(path) && path[i] == '/' {
		i++
	}
	for range skip {
		j := strings.IndexByte(path[i:], '/')
		if j < 0 {
			return "", false
		}
		i += j + 1
	}
	rest := path[i:]
	if !escaped {
		return rest, true
	}
	rest, err := url.PathUnescape(rest)
	return rest, err == nil
}

func isParam(seg string) bool { return len(seg) > 1 && seg[0] == '{' && seg[len(seg)-1] == '}' }
