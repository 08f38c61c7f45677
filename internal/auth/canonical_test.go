package auth

import (
	"testing"
)

func TestCanonicalParts(t *testing.T) {
	uris := map[string]string{
		"":                "/",
		"/":               "/",
		"/a/b":            "/a/b/",
		"/a/b/":           "/a/b/",
		"/a b/é+x;y":      "/a%20b/%C3%A9%2Bx%3By/",
		"/{project_id}/k": "/%7Bproject_id%7D/k/",
		"/A-Z_a.z~0":      "/A-Z_a.z~0/",
	}
	for in, want := range uris {
		if got := canonicalURI(in); got != want {
			t.Errorf("canonicalURI(%q) = %q, want %q", in, got, want)
		}
	}
	queries := map[string]string{
		"":                        "",
		"limit=2":                 "limit=2",
		"b=2&a=1&a=0":             "a=0&a=1&b=2",
		"empty":                   "empty=",
		"x=a+b&y=a%20b&z=a%2Bb":   "x=a%20b&y=a%20b&z=a%2Bb",
		"k%20ey=%C3%A9&K=1":       "K=1&k%20ey=%C3%A9",
		"marker=a%2Fb~_-.%2A%3D=": "marker=a%2Fb~_-.%2A%3D%3D",
	}
	for in, want := range queries {
		got, err := canonicalQuery(in)
		if err != nil || got != want {
			t.Errorf("canonicalQuery(%q) = %q, %v, want %q", in, got, err, want)
		}
	}
}
