package auth

import (
	"encoding/hex"
	"hash"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
)

// canonicalRequest builds the canonical request of reference auth.md §3.1.
func canonicalRequest(r *http.Request, body []byte, signedHeaders []string, alg *algorithm) (string, error) {
	b, err := appendCanonicalRequest(nil, r, body, signedHeaders, alg)
	return string(b), err
}

// appendCanonicalRequest appends the canonical request of reference
// auth.md §3.1 to dst.
func appendCanonicalRequest(dst []byte, r *http.Request, body []byte, signedHeaders []string, alg *algorithm) ([]byte, error) {
	dst = append(dst, r.Method...)
	dst = append(dst, '\n')
	dst = appendCanonicalURI(dst, r.URL.Path)
	dst = append(dst, '\n')
	if r.URL.RawQuery != "" {
		query, err := canonicalQuery(r.URL.RawQuery)
		if err != nil {
			return dst, err
		}
		dst = append(dst, query...)
	}
	dst = append(dst, '\n')
	for _, name := range signedHeaders {
		if name == "host" {
			if r.Host == "" {
				return dst, authErrorf("signed header %q is missing", name)
			}
			dst = appendHeaderLine(dst, name, r.Host)
			continue
		}
		vals := r.Header[headerKey(name)]
		if len(vals) == 0 {
			return dst, authErrorf("signed header %q is missing", name)
		}
		if !slices.IsSorted(vals) {
			vals = slices.Sorted(slices.Values(vals))
		}
		for _, v := range vals {
			dst = appendHeaderLine(dst, name, v)
		}
	}
	dst = append(dst, '\n')
	for i, name := range signedHeaders {
		if i > 0 {
			dst = append(dst, ';')
		}
		dst = append(dst, name...)
	}
	dst = append(dst, '\n')
	return appendPayloadHash(dst, r.Header, body, signedHeaders, alg)
}

func appendHeaderLine(dst []byte, name, value string) []byte {
	dst = append(dst, name...)
	dst = append(dst, ':')
	dst = append(dst, strings.TrimSpace(value)...)
	return append(dst, '\n')
}

// canonicalHeaderKeys maps the lower-case names of the headers requests
// usually sign to their canonical form, which http.Header is keyed by;
// headerKey computes it for other names.
var canonicalHeaderKeys = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{"x-sdk-date", "x-project-id", "user-agent", "content-type", "x-domain-id",
		"x-sdk-content-sha256", "x-sdk-content-sm3", "x-auth-token", "x-security-token", "accept"} {
		m[k] = textproto.CanonicalMIMEHeaderKey(k)
	}
	return m
}()

// headerKey returns the http.Header key of a header name, as
// http.Header.Values would look it up.
func headerKey(name string) string {
	if k, ok := canonicalHeaderKeys[name]; ok {
		return k
	}
	return textproto.CanonicalMIMEHeaderKey(name)
}

// appendPayloadHash appends the hex hash of body, or the value of the
// algorithm's payload header when it is present (see VerifyRequest).
func appendPayloadHash(dst []byte, h http.Header, body []byte, signedHeaders []string, alg *algorithm) ([]byte, error) {
	sum := alg.sum(body)
	start := len(dst)
	dst = hex.AppendEncode(dst, sum[:])
	vals := h.Values(alg.contentHeader)
	switch {
	case len(vals) == 0:
		return dst, nil
	case len(vals) > 1:
		return dst, authErrorf("repeated %s header", alg.contentHeader)
	case !slices.Contains(signedHeaders, alg.signedContentHeader):
		// An unsigned override would let anyone swap the body.
		return dst, authErrorf("%s is present but not signed", alg.contentHeader)
	case vals[0] == UnsignedPayload:
		return append(dst[:start], UnsignedPayload...), nil
	case vals[0] != string(dst[start:]):
		return dst, authErrorf("%s does not match the body", alg.contentHeader)
	}
	return dst, nil
}

// canonicalURI segment-escapes the decoded path and ends it with "/".
func canonicalURI(path string) string { return string(appendCanonicalURI(nil, path)) }

func appendCanonicalURI(dst []byte, path string) []byte {
	start := len(dst)
	for i := 0; i < len(path); i++ {
		if path[i] == '/' {
			dst = append(dst, '/')
		} else {
			dst = appendEscaped(dst, path[i])
		}
	}
	if len(dst) == start || dst[len(dst)-1] != '/' {
		dst = append(dst, '/')
	}
	return dst
}

// canonicalQuery sorts the query by key, then each key's values, and
// escapes both; a bare key is "key=".
func canonicalQuery(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return "", authErrorf("malformed query")
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		vals := slices.Clone(q[k])
		slices.Sort(vals)
		for _, v := range vals {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(escape(k))
			b.WriteByte('=')
			b.WriteString(escape(v))
		}
	}
	return b.String(), nil
}

// escape percent-encodes everything but the RFC 3986 unreserved set, with
// upper-case hex.
func escape(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		b = appendEscaped(b, s[i])
	}
	return string(b)
}

func appendEscaped(dst []byte, c byte) []byte {
	const hexDigits = "0123456789ABCDEF"
	if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
		return append(dst, c)
	}
	return append(dst, '%', hexDigits[c>>4], hexDigits[c&15])
}

func stringToSign(alg *algorithm, date, scope, canonicalRequest string) string {
	return string(appendStringToSign(nil, alg, date, scope, []byte(canonicalRequest)))
}

// appendStringToSign appends the string to sign of a canonical request.
func appendStringToSign(dst []byte, alg *algorithm, date, scope string, canonicalRequest []byte) []byte {
	sum := alg.sum(canonicalRequest)
	dst = append(dst, alg.name...)
	dst = append(dst, '\n')
	dst = append(dst, date...)
	dst = append(dst, '\n')
	if alg.kind == kindDerived {
		dst = append(dst, scope...)
		dst = append(dst, '\n')
	}
	return hex.AppendEncode(dst, sum[:])
}

func hexHash(newHash func() hash.Hash, b []byte) string {
	h := newHash()
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}
