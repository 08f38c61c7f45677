package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kmsd/kmsd/internal/config"
	"github.com/kmsd/kmsd/internal/keyring"
	"github.com/kmsd/kmsd/internal/server"
)

// selfSigned writes a certificate and key for 127.0.0.1 and returns their
// paths and a pool that trusts the certificate.
func selfSigned(t *testing.T, dir string) (string, string, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kmsd test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return certPath, keyPath, pool
}

// TestProductionServe runs production mode: a passphrase root key, TLS, a
// bootstrap file, and a graceful stop.
func TestProductionServe(t *testing.T) {
	dir := t.TempDir()
	_, _, pool := selfSigned(t, dir)
	bootstrap := filepath.Join(dir, "identities.yaml")
	err := os.WriteFile(bootstrap, []byte(`accounts:
  - name: acme
    projects: [{name: cn-north-4, id: 11111111111111111111111111111111}]
    users:
      - name: admin
        password_env: ACME_PW
        policies: ["KMS Administrator"]
        access_keys: [{ak: ACMEADMINAK000000001, sk_env: ACME_SK}]
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cfgYAML := "listen: 127.0.0.1:0\ndata_dir: data\nroot_key: {passphrase_env: PASS}\ntls: {cert_file: tls.crt, key_file: tls.key}\nbootstrap: identities.yaml\n"
	cfg, err := config.Parse(strings.NewReader(cfgYAML), dir)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"PASS": "a long passphrase", "ACME_PW": "acme-password", "ACME_SK": "AcmeSecretKey00000000000000000000000001"}
	getenv := func(k string) string { return env[k] }
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	params, root, err := keyring.NewPassphraseParams([]byte(env["PASS"]))
	if err != nil {
		t.Fatal(err)
	}
	clear(root)
	b, _ := json.Marshal(params)
	if err := os.WriteFile(cfg.PassphraseParamsPath(), b, 0o600); err != nil {
		t.Fatal(err)
	}

	// A wrong passphrase is refused before anything is served.
	if _, err := server.New(t.Context(), cfg, server.Options{Getenv: func(string) string { return "wrong" }}); err == nil {
		t.Fatal("server started with a wrong passphrase")
	}

	srv, err := server.New(t.Context(), cfg, server.Options{Getenv: getenv})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	addr, stop := startServe(t, srv)

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	url := "https://" + addr
	resp, err := client.Get(url + "/v1.0")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil {
		t.Fatalf("GET /v1.0 over TLS: %d", resp.StatusCode)
	}
	// The bootstrap identities can obtain a token.
	body := `{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"admin","password":"acme-password","domain":{"name":"acme"}}}},"scope":{"project":{"name":"cn-north-4"}}}}`
	resp, err = client.Post(url+"/v3/auth/tokens", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 || resp.Header.Get("X-Subject-Token") == "" {
		t.Fatalf("token: %d", resp.StatusCode)
	}
	// Plain HTTP to the TLS port fails.
	if resp, err := http.Get("http://" + addr + "/"); err == nil {
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Errorf("plain HTTP answered %d on the TLS port", resp.StatusCode)
		}
	}
	if err := stop(); err != nil {
		t.Fatalf("graceful stop: %v", err)
	}
}

// startServe serves srv on a new loopback listener and returns its address
// and stop, which ends Serve and returns what Serve returned. stop fails
// the test when Serve does not return within 15 seconds.
func startServe(t *testing.T, srv *server.Server) (addr string, stop func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	return ln.Addr().String(), func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(15 * time.Second):
			t.Fatal("Serve did not return after its context ended")
			return nil
		}
	}
}

// TestDevRestartKeepsKeys starts dev mode twice on one data directory.
func TestDevRestartKeepsKeys(t *testing.T) {
	dir := t.TempDir()
	ids := server.DefaultDevIdentities(func(string) string { return "" })
	open := func() *server.Server {
		cfg := server.DevConfig(dir, "127.0.0.1:0", 10)
		if _, err := server.Init(t.Context(), cfg, nil); err != nil {
			t.Fatal(err)
		}
		srv, err := server.New(t.Context(), cfg, server.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.EnsureDevIdentities(t.Context(), ids); err != nil {
			t.Fatal(err)
		}
		return srv
	}
	s1 := open()
	k, err := s1.KMS.CreateKey(t.Context(), kmsInput(ids, "survivor"))
	if err != nil {
		t.Fatal(err)
	}
	s1.Close()
	s2 := open()
	defer s2.Close()
	if _, err := s2.KMS.DescribeKey(t.Context(), ids.ProjectID, k.KeyID); err != nil {
		t.Fatalf("key lost across restart: %v", err)
	}
	if n, _ := s2.KMS.InstanceCount(t.Context(), ids.ProjectID); n != 1 {
		t.Errorf("instance count %d after restart, want 1", n)
	}
}

func TestDevEnvOverrides(t *testing.T) {
	env := map[string]string{"KMSD_DEV_ADMIN_AK": "MYOWNAKFORTESTS00001", "KMSD_DEV_PROJECT_ID": "99999999999999999999999999999999"}
	ids := server.DefaultDevIdentities(func(k string) string { return env[k] })
	out := server.DevEnv(ids, "http://127.0.0.1:1")
	for _, want := range []string{"export CLOUD_SDK_AK=MYOWNAKFORTESTS00001", "export CLOUD_SDK_PROJECT_ID=99999999999999999999999999999999", "export KMSD_ENDPOINT=http://127.0.0.1:1", "export CLOUD_SDK_SK=", "export KMSD_DEV_READER_AK=", "export KMSD_DEV2_AK="} {
		if !strings.Contains(out, want) {
			t.Errorf("dev env lacks %q", want)
		}
	}
}

// TestTLSSettings checks what the TLS listener negotiates: TLS 1.2 and
// 1.3 only, TLS 1.2 with forward-secret AEAD suites only (no CBC, no RSA
// key exchange), and HTTP/1.1 even when the client offers HTTP/2.
func TestTLSSettings(t *testing.T) {
	dir := t.TempDir()
	_, _, pool := selfSigned(t, dir)
	cfg, err := config.Parse(strings.NewReader("listen: 127.0.0.1:0\ndata_dir: data\ntls: {cert_file: tls.crt, key_file: tls.key}\n"), dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := server.Init(t.Context(), cfg, nil); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(t.Context(), cfg, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	addr, stop := startServe(t, srv)
	defer stop()

	tests := []struct {
		name    string
		min     uint16
		max     uint16
		suites  []uint16
		ok      bool
		wantVer uint16
	}{
		{"TLS 1.3", tls.VersionTLS13, tls.VersionTLS13, nil, true, tls.VersionTLS13},
		{"TLS 1.2 default suites", tls.VersionTLS12, tls.VersionTLS12, nil, true, tls.VersionTLS12},
		{"TLS 1.2 AES-GCM", tls.VersionTLS12, tls.VersionTLS12, []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384}, true, tls.VersionTLS12},
		{"TLS 1.2 ChaCha20-Poly1305", tls.VersionTLS12, tls.VersionTLS12, []uint16{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256}, true, tls.VersionTLS12},
		{"TLS 1.2 CBC-SHA1", tls.VersionTLS12, tls.VersionTLS12, []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA}, false, 0},
		{"TLS 1.2 CBC-SHA256", tls.VersionTLS12, tls.VersionTLS12, []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256}, false, 0},
		{"TLS 1.1", tls.VersionTLS10, tls.VersionTLS11, nil, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := tls.Dial("tcp", addr, &tls.Config{
				RootCAs: pool, MinVersion: tt.min, MaxVersion: tt.max, CipherSuites: tt.suites,
				NextProtos: []string{"h2", "http/1.1"},
			})
			if !tt.ok {
				if err == nil {
					conn.Close()
					t.Fatalf("handshake succeeded, want it refused")
				}
				return
			}
			if err != nil {
				t.Fatalf("handshake: %v", err)
			}
			defer conn.Close()
			st := conn.ConnectionState()
			if st.Version != tt.wantVer {
				t.Errorf("version %x, want %x", st.Version, tt.wantVer)
			}
			if st.NegotiatedProtocol == "h2" {
				t.Errorf("negotiated HTTP/2, want HTTP/1.1 only")
			}
		})
	}
}

// TestNewRefusesBadTLS checks that an unusable certificate or key stops
// New, before the server announces that it listens, rather than Serve.
func TestNewRefusesBadTLS(t *testing.T) {
	dir := t.TempDir()
	selfSigned(t, dir)
	if err := os.WriteFile(filepath.Join(dir, "not.pem"), []byte("not PEM\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, tls, want string }{
		{"missing certificate", "{cert_file: missing.crt, key_file: tls.key}", "missing.crt"},
		{"missing key", "{cert_file: tls.crt, key_file: missing.key}", "missing.key"},
		{"not PEM", "{cert_file: not.pem, key_file: tls.key}", "tls"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Parse(strings.NewReader("listen: 127.0.0.1:0\ndata_dir: data\ntls: "+tt.tls+"\n"), dir)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := server.Init(t.Context(), cfg, nil); err != nil {
				t.Fatal(err)
			}
			srv, err := server.New(t.Context(), cfg, server.Options{})
			if err == nil {
				srv.Close()
				t.Fatal("New accepted an unusable TLS certificate or key")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error naming %s", err, tt.want)
			}
		})
	}
}

// TestLoadPassphraseEmpty checks that an empty passphrase names the
// variable or file to fill.
func TestLoadPassphraseEmpty(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pass"), []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, rootKey, want string }{
		{"env", "{passphrase_env: KMSD_ROOT_PASSPHRASE}", "environment variable KMSD_ROOT_PASSPHRASE"},
		{"file", "{passphrase_file: pass}", filepath.Join(dir, "pass")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Parse(strings.NewReader("data_dir: data\nroot_key: "+tt.rootKey+"\n"), dir)
			if err != nil {
				t.Fatal(err)
			}
			_, err = server.LoadPassphrase(cfg, func(string) string { return "" })
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error naming %s", err, tt.want)
			}
		})
	}
}
