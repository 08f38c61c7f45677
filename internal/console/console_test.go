package console_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kmsd/kmsd/internal/client"
	"github.com/kmsd/kmsd/internal/config"
	"github.com/kmsd/kmsd/internal/server"
)

// syncBuffer is a log sink the server writes from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// devServer starts a real dev server (console on) on 127.0.0.1:0 and
// returns its base URL and its log. tlsOn serves HTTPS with a fresh
// self-signed certificate.
func devServer(t *testing.T, tlsOn bool, opts ...func(*config.Config)) (string, *syncBuffer, server.DevIdentities) {
	t.Helper()
	dir := t.TempDir()
	cfg := server.DevConfig(dir, "127.0.0.1:0", 10)
	if tlsOn {
		cfg.TLS.CertFile, cfg.TLS.KeyFile = selfSigned(t, dir)
	}
	for _, o := range opts {
		o(&cfg)
	}
	if _, err := server.Init(t.Context(), cfg, nil); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	srv, err := server.New(t.Context(), cfg, server.Options{Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	ids := server.DefaultDevIdentities(func(string) string { return "" })
	if err := srv.EnsureDevIdentities(t.Context(), ids); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		srv.Close()
	})
	scheme := "http"
	if tlsOn {
		scheme = "https"
	}
	return scheme + "://" + ln.Addr().String(), logs, ids
}

func selfSigned(t *testing.T, dir string) (string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	cert, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return cert, keyFile
}

// browser is a client that keeps cookies, follows no redirects and sends
// the Origin a browser sends.
type browser struct {
	t    *testing.T
	base string
	hc   *http.Client
}

func newBrowser(t *testing.T, base string) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{
		Jar:           jar,
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &browser{t: t, base: base, hc: hc}
}

func (b *browser) get(path string) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.hc.Get(b.base + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func (b *browser) post(path, origin string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	r, err := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		r.Header.Set("Origin", origin)
	}
	resp, err := b.hc.Do(r)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf returns the CSRF token of the page at path.
func (b *browser) csrf(path string) string {
	b.t.Helper()
	_, body := b.get(path)
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		b.t.Fatalf("%s has no CSRF token:\n%s", path, body)
	}
	return m[1]
}

// signIn signs in and returns the session cookie's Set-Cookie header.
func (b *browser) signIn(user, password string) string {
	b.t.Helper()
	tok := b.csrf("/console/signin")
	resp, body := b.post("/console/signin", b.base, url.Values{"csrf": {tok}, "account": {"dev"}, "user": {user}, "password": {password}, "project": {config.DefaultRegion}})
	if resp.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("sign-in as %s: status %d, want 303:\n%s", user, resp.StatusCode, body)
	}
	for _, c := range resp.Header.Values("Set-Cookie") {
		if strings.HasPrefix(c, "kmsd_console=") {
			return c
		}
	}
	b.t.Fatalf("sign-in set no session cookie: %v", resp.Header.Values("Set-Cookie"))
	return ""
}

// createKey creates a key through the console and returns its id.
func (b *browser) createKey(alias string) string {
	b.t.Helper()
	resp, body := b.post("/console/create", b.base, url.Values{"csrf": {b.csrf("/console/create")}, "alias": {alias}, "spec": {"AES_256"}})
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/keys/") {
		b.t.Fatalf("create: status %d, location %q:\n%s", resp.StatusCode, loc, body)
	}
	return strings.TrimPrefix(loc, "/console/keys/")
}

func TestSecurityHeaders(t *testing.T) {
	base, _, _ := devServer(t, false)
	b := newBrowser(t, base)
	for _, path := range []string{"/console/signin", "/console/static/console.js", "/console/nope"} {
		resp, _ := b.get(path)
		csp := resp.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'self'", "frame-ancestors 'none'", "form-action 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: Content-Security-Policy %q lacks %q", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("%s: Content-Security-Policy %q allows inline or eval", path, csp)
		}
		if got := resp.Header.Get("X-Frame-Options"); got != "DENY" {
			t.Errorf("%s: X-Frame-Options %q, want DENY", path, got)
		}
		if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options %q, want nosniff", path, got)
		}
	}
	// No page has an inline script or a handler attribute the policy
	// would block.
	_, body := b.get("/console/signin")
	if regexp.MustCompile(`<script>|<script [^>]*>[^<]|\son[a-z]+=`).MatchString(body) {
		t.Errorf("the sign-in page has inline script:\n%s", body)
	}
	// The API is still served beside the console.
	resp, _ := b.get("/v1.0/0123456789abcdef0123456789abcdef/kms/user-instances")
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("Content-Security-Policy") != "" {
		t.Errorf("API without credentials: status %d, CSP %q; want the API's 401 without the console's headers", resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
	}
}

func TestCookieFlags(t *testing.T) {
	for _, tlsOn := range []bool{false, true} {
		t.Run(map[bool]string{false: "http", true: "https"}[tlsOn], func(t *testing.T) {
			base, _, ids := devServer(t, tlsOn)
			b := newBrowser(t, base)
			c := b.signIn(ids.AdminName, ids.AdminPassword)
			for _, want := range []string{"HttpOnly", "SameSite=Strict", "Path=/console"} {
				if !strings.Contains(c, want) {
					t.Errorf("session cookie %q lacks %s", c, want)
				}
			}
			if got := strings.Contains(c, "Secure"); got != tlsOn {
				t.Errorf("session cookie %q: Secure %v, want %v", c, got, tlsOn)
			}
			// Signed in, the keys page shows the user; signed out, it
			// sends the browser to the sign-in page again.
			if resp, body := b.get("/console/keys"); resp.StatusCode != http.StatusOK || !strings.Contains(body, ids.AdminName) {
				t.Fatalf("keys page: status %d:\n%s", resp.StatusCode, body)
			}
			resp, _ := b.post("/console/signout", base, url.Values{"csrf": {b.csrf("/console/keys")}})
			if resp.StatusCode != http.StatusSeeOther || !strings.Contains(strings.Join(resp.Header.Values("Set-Cookie"), ";"), "kmsd_console=; Path=/console; Max-Age=0") {
				t.Errorf("sign-out: status %d, cookies %v", resp.StatusCode, resp.Header.Values("Set-Cookie"))
			}
			if resp, _ := b.get("/console/keys"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/signin" {
				t.Errorf("keys page after sign-out: status %d, location %q", resp.StatusCode, resp.Header.Get("Location"))
			}
		})
	}
}

func TestSignInRefused(t *testing.T) {
	base, logs, ids := devServer(t, false)
	b := newBrowser(t, base)
	tok := b.csrf("/console/signin")
	form := url.Values{"csrf": {tok}, "account": {"dev"}, "user": {ids.AdminName}, "password": {"not-the-password"}, "project": {config.DefaultRegion}}
	resp, body := b.post("/console/signin", base, form)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "wrong") {
		t.Errorf("wrong password: status %d, want 401 and a message:\n%s", resp.StatusCode, body)
	}
	for _, c := range resp.Header.Values("Set-Cookie") {
		if strings.HasPrefix(c, "kmsd_console=") {
			t.Errorf("wrong password set a session cookie: %s", c)
		}
	}
	// A sign-in form without the sign-in cookie's token is refused: a
	// page of another site cannot sign the browser in.
	form.Set("password", ids.AdminPassword)
	form.Set("csrf", "forged")
	if resp, _ := b.post("/console/signin", base, form); resp.StatusCode != http.StatusForbidden {
		t.Errorf("sign-in with a forged CSRF token: status %d, want 403", resp.StatusCode)
	}
	// A good sign-in logs who, never the password or the token.
	c := b.signIn(ids.AdminName, ids.AdminPassword)
	token := strings.TrimPrefix(strings.Split(c, ";")[0], "kmsd_console=")
	b.createKey("logged")
	out := logs.String()
	if !strings.Contains(out, "console sign-in") {
		t.Errorf("no sign-in line in the log:\n%s", out)
	}
	for _, secret := range []string{ids.AdminPassword, "not-the-password", token, token[len(token)-20:]} {
		if strings.Contains(out, secret) {
			t.Errorf("the log contains a secret %q", secret)
		}
	}
}

func TestCSRFRefused(t *testing.T) {
	base, _, ids := devServer(t, false)
	b := newBrowser(t, base)
	b.signIn(ids.AdminName, ids.AdminPassword)
	id := b.createKey("csrf-target")
	good := b.csrf("/console/keys/" + id)
	for _, tc := range []struct {
		name, origin string
		form         url.Values
	}{
		{"no token", base, url.Values{}},
		{"wrong token", base, url.Values{"csrf": {"AAAA" + good[4:]}}},
		{"another site", "https://evil.example", url.Values{"csrf": {good}}},
		{"opaque origin", "null", url.Values{"csrf": {good}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, path := range []string{"/console/keys/" + id + "/disable", "/console/create", "/console/signout"} {
				form := url.Values{"alias": {"forged"}, "spec": {"AES_256"}}
				for k, v := range tc.form {
					form[k] = v
				}
				if resp, body := b.post(path, tc.origin, form); resp.StatusCode != http.StatusForbidden {
					t.Errorf("POST %s: status %d, want 403:\n%s", path, resp.StatusCode, body)
				}
			}
		})
	}
	// Nothing changed: the key is enabled and alone.
	if _, body := b.get("/console/keys/" + id); !strings.Contains(body, `id="key-state">Enabled`) {
		t.Errorf("the key changed under forged requests:\n%s", body)
	}
	if _, body := b.get("/console/keys"); !strings.Contains(body, `id="instance-num">1<`) {
		t.Errorf("a forged create made a key:\n%s", body)
	}
	// The real token works.
	if resp, body := b.post("/console/keys/"+id+"/disable", base, url.Values{"csrf": {good}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("disable with the page's token: status %d:\n%s", resp.StatusCode, body)
	}
	if _, body := b.get("/console/keys/" + id); !strings.Contains(body, `id="key-state">Disabled`) {
		t.Errorf("disable did not disable:\n%s", body)
	}
}

func TestReadOnlyRefused(t *testing.T) {
	base, _, ids := devServer(t, false)
	admin := newBrowser(t, base)
	admin.signIn(ids.AdminName, ids.AdminPassword)
	id := admin.createKey("read-only-target")

	reader := newBrowser(t, base)
	reader.signIn(ids.ReaderName, ids.ReaderPassword)
	_, keys := reader.get("/console/keys")
	if !strings.Contains(keys, id) || strings.Contains(keys, `id="create-link"`) {
		t.Errorf("the reader's key list: want the key and no create link:\n%s", keys)
	}
	_, page := reader.get("/console/keys/" + id)
	for _, button := range []string{`id="disable"`, `id="schedule"`, `id="rotation-on"`} {
		if strings.Contains(page, button) {
			t.Errorf("the reader's key page shows %s", button)
		}
	}
	// The API refuses the reader anyway, whatever the page showed.
	tok := csrfRE.FindStringSubmatch(page)[1]
	for _, tc := range []struct {
		path string
		form url.Values
	}{
		{"/console/keys/" + id + "/disable", url.Values{"csrf": {tok}}},
		{"/console/keys/" + id + "/schedule", url.Values{"csrf": {tok}, "pending_days": {"7"}}},
		{"/console/create", url.Values{"csrf": {tok}, "alias": {"by-reader"}, "spec": {"AES_256"}}},
	} {
		resp, body := reader.post(tc.path, base, tc.form)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "KMS.0307") {
			t.Errorf("reader POST %s: status %d, want 403 KMS.0307:\n%s", tc.path, resp.StatusCode, body)
		}
	}
	if _, body := admin.get("/console/keys/" + id); !strings.Contains(body, `id="key-state">Enabled`) {
		t.Errorf("the reader changed the key:\n%s", body)
	}
	if _, body := admin.get("/console/keys"); !strings.Contains(body, `id="instance-num">1<`) {
		t.Errorf("the reader created a key:\n%s", body)
	}
}

func TestKeysPaging(t *testing.T) {
	base, _, ids := devServer(t, false)
	b := newBrowser(t, base)
	b.signIn(ids.AdminName, ids.AdminPassword)
	// 10 is the dev quota of this server; the page holds 20, so filter
	// by state to see paging of a filter: disable 3, list disabled.
	var disabled []string
	for i := range 10 {
		id := b.createKey("page-" + string(rune('a'+i)))
		if i < 3 {
			b.post("/console/keys/"+id+"/disable", base, url.Values{"csrf": {b.csrf("/console/keys/" + id)}})
			disabled = append(disabled, id)
		}
	}
	_, body := b.get("/console/keys?state=3")
	for _, id := range disabled {
		if !strings.Contains(body, id) {
			t.Errorf("state=3 lacks disabled key %s", id)
		}
	}
	if n := strings.Count(body, "data-key="); n != 3 {
		t.Errorf("state=3 lists %d keys, want 3", n)
	}
	if !strings.Contains(body, `id="instance-num">10<`) {
		t.Errorf("instance count is not 10:\n%s", body)
	}
	// Pages of 4 over the 10 keys: every key once, by following "next".
	seen := map[string]int{}
	path, pages := "/console/keys?limit=4", 0
	for path != "" {
		_, body := b.get(path)
		pages++
		for _, m := range regexp.MustCompile(`data-key="([^"]+)"`).FindAllStringSubmatch(body, -1) {
			seen[m[1]]++
		}
		path = ""
		if m := regexp.MustCompile(`href="([^"]+)" id="next"`).FindStringSubmatch(body); m != nil {
			path = strings.ReplaceAll(m[1], "&amp;", "&")
		}
	}
	if pages != 3 || len(seen) != 10 {
		t.Errorf("paging by 4: %d pages, %d distinct keys (%v); want 3 pages, 10 keys", pages, len(seen), seen)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("key %s on %d pages", id, n)
		}
	}
	// A tag set through the API (AK/SK, as any SDK would) shows on the
	// key page and filters the list to that key alone.
	c, err := client.New(client.Config{Endpoint: base, ProjectID: ids.ProjectID, AK: ids.AdminAK, SK: ids.AdminSK})
	if err != nil {
		t.Fatal(err)
	}
	tagged := disabled[1]
	if _, err := c.Call(t.Context(), http.MethodPost, tagged+"/tags", nil, map[string]any{"tag": map[string]string{"key": "env", "value": "prod"}}); err != nil {
		t.Fatal(err)
	}
	_, body = b.get("/console/keys?tag=env%3Dprod")
	if n := strings.Count(body, "data-key="); n != 1 || !strings.Contains(body, tagged) {
		t.Errorf("tag=env=prod lists %d keys, want only %s:\n%s", n, tagged, body)
	}
	if _, body = b.get("/console/keys?tag=env%3Dprod&state=2"); strings.Contains(body, "data-key=") {
		t.Errorf("tag=env=prod&state=2 lists the disabled key:\n%s", body)
	}
	if _, body = b.get("/console/keys/" + tagged); !strings.Contains(body, "<td>env</td><td>prod</td>") {
		t.Errorf("the key page does not show the tag:\n%s", body)
	}
}

func TestConsoleOffAndMoved(t *testing.T) {
	base, _, _ := devServer(t, false, func(c *config.Config) { c.Console.Enabled = false })
	b := newBrowser(t, base)
	if resp, body := b.get("/console/signin"); resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "APIGW.0101") {
		t.Errorf("console off: /console/signin answered %d, want the API's 404 APIGW.0101:\n%s", resp.StatusCode, body)
	}
	base, _, ids := devServer(t, false, func(c *config.Config) { c.Console.Path = "/ui/kms" })
	b = newBrowser(t, base)
	if resp, _ := b.get("/console/signin"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("console moved: /console/signin answered %d, want 404", resp.StatusCode)
	}
	tok := b.csrf("/ui/kms/signin")
	resp, _ := b.post("/ui/kms/signin", base, url.Values{"csrf": {tok}, "account": {"dev"}, "user": {ids.AdminName}, "password": {ids.AdminPassword}, "project": {config.DefaultRegion}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/kms/keys" || !strings.Contains(strings.Join(resp.Header.Values("Set-Cookie"), ";"), "Path=/ui/kms") {
		t.Errorf("console moved: sign-in answered %d, location %q, cookies %v", resp.StatusCode, resp.Header.Get("Location"), resp.Header.Values("Set-Cookie"))
	}
}
