package client

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/kmsd/kmsd/internal/auth"
)

func TestParseError(t *testing.T) {
	tests := []struct {
		name, body, code, msg, reqID string
	}{
		{"service", `{"error":{"error_code":"KMS.0207","error_msg":"The key does not exist."}}`, "KMS.0207", "The key does not exist.", ""},
		{"top level", `{"error_code":"KMS.0207","error_msg":"The key does not exist.","request_id":"r1"}`, "KMS.0207", "The key does not exist.", "r1"},
		{"both", `{"error_code":"KMS.0205","error_msg":"Invalid key ID.","error":{"error_code":"KMS.0205","error_msg":"Invalid key ID."}}`, "KMS.0205", "Invalid key ID.", ""},
		{"gateway", `{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information.","request_id":"r2"}`, "APIGW.0301", "Incorrect IAM authentication information.", "r2"},
		{"keystone", `{"error":{"code":401,"message":"The username or password is wrong.","title":"Unauthorized"}}`, "401", "The username or password is wrong.", ""},
		{"not json", `<html>bad gateway</html>`, "", "", ""},
		{"empty", ``, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := parseError(404, "", []byte(tt.body))
			if e.Code != tt.code || e.Message != tt.msg || e.RequestID != tt.reqID {
				t.Errorf("got %q %q %q, want %q %q %q", e.Code, e.Message, e.RequestID, tt.code, tt.msg, tt.reqID)
			}
			if e.Error() == "" {
				t.Error("empty Error()")
			}
		})
	}
}

func TestParseAliasPage(t *testing.T) {
	for _, body := range []string{
		`[{"aliases":[{"alias":"alias/a","key_id":"k"}],"page_info":{"next_marker":"m","current_count":1}}]`,
		`{"aliases":[{"alias":"alias/a","key_id":"k"}],"page_info":{"next_marker":"m","current_count":1}}`,
	} {
		p, err := ParseAliasPage([]byte(body))
		if err != nil || len(p.Aliases) != 1 || p.Aliases[0].Alias != "alias/a" || p.PageInfo.NextMarker != "m" {
			t.Errorf("%s: got %+v, %v", body, p, err)
		}
	}
	if _, err := ParseAliasPage([]byte(`"x"`)); err == nil {
		t.Error("a string parsed as a page")
	}
}

// TestSigned checks that requests verify with kmsd's verifier and carry
// the SDK's headers.
func TestSigned(t *testing.T) {
	const ak, sk, project = "AKAKAKAKAKAKAKAKAKAK", "secretsecretsecretsecretsecretsecret1234", "0123456789abcdef0123456789abcdef"
	var verified error = errors.New("no request")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		_, verified = auth.VerifyRequest(r.Context(), r, body, time.Now(), func(context.Context, string) ([]byte, error) { return []byte(sk), nil })
		if r.Header.Get("X-Project-Id") != project || r.Header.Get("User-Agent") != "kmsd-cli/test" || r.Header.Get("Content-Type") != "application/json;charset=UTF-8" {
			verified = errors.New("headers: " + r.Header.Get("X-Project-Id") + r.Header.Get("User-Agent"))
		}
		if r.URL.Path != "/v1.0/"+project+"/kms/describe-key" {
			verified = errors.New("path " + r.URL.Path)
		}
		w.Write([]byte(`{"key_info":{}}`))
	}))
	defer srv.Close()
	c, err := New(Config{Endpoint: srv.URL, ProjectID: project, AK: ak, SK: sk, UserAgent: "kmsd-cli/test"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Call(t.Context(), "POST", "describe-key", nil, map[string]string{"key_id": "x"}); err != nil {
		t.Fatal(err)
	}
	if verified != nil {
		t.Errorf("request did not verify: %v", verified)
	}
}

func TestNewRefuses(t *testing.T) {
	for _, cfg := range []Config{
		{},
		{Endpoint: "ftp://x", ProjectID: "p", AK: "a", SK: "s"},
		{Endpoint: "http://x", ProjectID: "p/q", AK: "a", SK: "s"},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) succeeded", cfg)
		}
	}
}

// FuzzParseError checks that error bodies of any shape never panic and
// that the status always survives.
func FuzzParseError(f *testing.F) {
	for _, s := range []string{`{"error":{"error_code":"KMS.0207","error_msg":"x"}}`, `{"error_code":"APIGW.0301","error_msg":"y","request_id":"r"}`, `{"error":{"code":401,"message":"z"}}`, `[]`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e := parseError(418, "", b)
		if e.Status != 418 || e.Error() == "" {
			t.Fatalf("got %+v", e)
		}
	})
}

// FuzzParseAliasPage checks that both ListAliases shapes, and anything
// else, parse without panicking.
func FuzzParseAliasPage(f *testing.F) {
	for _, s := range []string{`[{"aliases":[{"alias":"alias/a"}],"page_info":{"next_marker":"m"}}]`, `{"aliases":[],"page_info":{}}`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { ParseAliasPage(b) })
}
