package compat

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	iam "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/iam/v3"
	iammodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/iam/v3/model"
	kms "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2/model"
)

// keystoneTime is the layout of a token's expires_at and issued_at.
const keystoneTime = "2006-01-02T15:04:05.000000Z"

// iamClient returns the official IAM v3 client for the server, with
// credentials that carry no token: the password call sends no auth headers
// (reference auth.md §5).
func (e *env) iamClient(t *testing.T) *iam.IamClient {
	t.Helper()
	hc, err := iam.IamClientBuilder().WithEndpoints([]string{e.url}).
		WithCredential(iam.NewIamCredentialsBuilder().Build()).
		WithHttpConfig(config.DefaultHttpConfig()).SafeBuild()
	if err != nil {
		t.Fatal(err)
	}
	return iam.NewIamClient(hc)
}

// tokenClient returns a KMS client in token mode (reference auth.md §1): it
// sends X-Auth-Token and the literal {project_id} in every path.
func (e *env) tokenClient(t *testing.T, token string) *kms.KmsClient {
	t.Helper()
	return e.tokenClientWith(t, token, config.DefaultHttpConfig())
}

func (e *env) tokenClientWith(t *testing.T, token string, httpConfig *config.HttpConfig) *kms.KmsClient {
	t.Helper()
	hc, err := kms.KmsClientBuilder().WithCredentialsType("v3.IamCredentials").
		WithEndpoints([]string{e.url}).
		WithCredential(iam.NewIamCredentialsBuilder().WithXAuthToken(token).Build()).
		WithHttpConfig(httpConfig).SafeBuild()
	if err != nil {
		t.Fatal(err)
	}
	return kms.NewKmsClient(hc)
}

// recorder is an http.RoundTripper that remembers the requests it sends.
type recorder struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req.Clone(req.Context()))
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

func (r *recorder) last(t *testing.T) *http.Request {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.reqs) == 0 {
		t.Fatal("no request was sent")
	}
	return r.reqs[len(r.reqs)-1]
}

// passwordLogin asks for a project-scoped token with the password method.
func passwordLogin(c *iam.IamClient, domain, user, password, project string) (*iammodel.KeystoneCreateUserTokenByPasswordResponse, error) {
	addSecret(password)
	return c.KeystoneCreateUserTokenByPassword(&iammodel.KeystoneCreateUserTokenByPasswordRequest{
		Body: &iammodel.KeystoneCreateUserTokenByPasswordRequestBody{Auth: &iammodel.PwdAuth{
			Identity: &iammodel.PwdIdentity{
				Methods: []iammodel.PwdIdentityMethods{iammodel.GetPwdIdentityMethodsEnum().PASSWORD},
				Password: &iammodel.PwdPassword{User: &iammodel.PwdPasswordUser{
					Domain: &iammodel.PwdPasswordUserDomain{Name: domain}, Name: user, Password: password,
				}},
			},
			Scope: &iammodel.AuthScope{Project: &iammodel.AuthScopeProject{Name: ptr(project)}},
		}},
	})
}

// adminToken returns a token of the dev administrator for its project.
func adminToken(t *testing.T, e *env) string {
	t.Helper()
	resp, err := passwordLogin(e.iamClient(t), e.ids.AccountName, e.ids.AdminName, e.ids.AdminPassword, e.ids.ProjectName)
	if err != nil {
		t.Fatalf("KeystoneCreateUserTokenByPassword: %v", err)
	}
	tok := val(resp.XSubjectToken)
	addSecret(tok)
	return tok
}

// tokenCall sends a raw request that authenticates with X-Auth-Token only,
// as curl or another SDK would (no signature, no X-Project-Id).
func tokenCall(t *testing.T, e *env, method, path string, body []byte, token string) (int, []byte) {
	t.Helper()
	r := newRawRequest(t, e, method, path, body)
	r.Header.Del("X-Project-Id")
	r.Header.Set("X-Auth-Token", token)
	status, h, b := send(t, r)
	if status >= 400 && h.Get("X-Request-Id") == "" {
		t.Errorf("error %d carries no X-Request-Id", status)
	}
	return status, b
}

// TestIssueToken obtains a token with the official IAM client and checks
// the answer (reference auth.md §5), then the refusals of wrong passwords.
func TestIssueToken(t *testing.T) {
	e := start(t)
	c := e.iamClient(t)
	before := time.Now().UTC().Truncate(time.Microsecond)
	resp, err := passwordLogin(c, e.ids.AccountName, e.ids.AdminName, e.ids.AdminPassword, e.ids.ProjectName)
	after := time.Now().UTC()
	if err != nil {
		t.Fatalf("KeystoneCreateUserTokenByPassword: %v", err)
	}
	addSecret(val(resp.XSubjectToken))
	if resp.HttpStatusCode != 201 {
		t.Errorf("got status %d, want 201", resp.HttpStatusCode)
	}
	if val(resp.XSubjectToken) == "" || val(resp.XSubjectToken) == "<absent>" {
		t.Errorf("got X-Subject-Token %q, want a token", val(resp.XSubjectToken))
	}
	tok := resp.Token
	if tok == nil || tok.User == nil || tok.User.Domain == nil || tok.Project == nil || tok.Project.Domain == nil {
		t.Fatalf("got token %v, want user, project and their domains", tok)
	}
	for _, f := range []struct{ name, got, want string }{
		{"user.name", tok.User.Name, e.ids.AdminName},
		{"user.id", tok.User.Id, e.ids.AdminID},
		{"user.domain.name", tok.User.Domain.Name, e.ids.AccountName},
		{"user.domain.id", tok.User.Domain.Id, e.ids.AccountID},
		{"project.name", tok.Project.Name, e.ids.ProjectName},
		{"project.id", tok.Project.Id, e.ids.ProjectID},
		{"project.domain.name", tok.Project.Domain.Name, e.ids.AccountName},
		{"project.domain.id", tok.Project.Domain.Id, e.ids.AccountID},
	} {
		if f.got != f.want {
			t.Errorf("got %s %q, want %q", f.name, f.got, f.want)
		}
	}
	if e.ids.ProjectName != "cn-north-4" {
		t.Errorf("got dev project name %q, want cn-north-4", e.ids.ProjectName)
	}
	if !slices.Equal(tok.Methods, []string{"password"}) {
		t.Errorf("got methods %v, want [password]", tok.Methods)
	}
	if tok.Catalog == nil || tok.Roles == nil {
		t.Errorf("got catalog %v roles %v, want JSON arrays", tok.Catalog, tok.Roles)
	}
	issued, err := time.Parse(keystoneTime, tok.IssuedAt)
	if err != nil {
		t.Fatalf("issued_at %q: %v", tok.IssuedAt, err)
	}
	expires, err := time.Parse(keystoneTime, tok.ExpiresAt)
	if err != nil {
		t.Fatalf("expires_at %q: %v", tok.ExpiresAt, err)
	}
	if issued.Before(before) || issued.After(after) {
		t.Errorf("got issued_at %v, want between %v and %v", issued, before, after)
	}
	if got := expires.Sub(issued); got != 24*time.Hour {
		t.Errorf("got a token lifetime of %v, want 24h", got)
	}

	t.Run("wrong password", func(t *testing.T) {
		_, err := passwordLogin(c, e.ids.AccountName, e.ids.AdminName, "not-the-password", e.ids.ProjectName)
		wrong := sdkError(t, err)
		if wrong.StatusCode != 401 || wrong.RequestId == "" {
			t.Fatalf("got %d with request id %q, want 401 with one", wrong.StatusCode, wrong.RequestId)
		}
		// An unknown user or account answers exactly the same.
		for _, who := range [][2]string{{e.ids.AccountName, "no-such-user"}, {"no-such-account", e.ids.AdminName}} {
			_, err := passwordLogin(c, who[0], who[1], "not-the-password", e.ids.ProjectName)
			se := sdkError(t, err)
			if se.StatusCode != 401 || se.ErrorMessage != wrong.ErrorMessage {
				t.Errorf("%s/%s: got %d %q, want 401 %q", who[0], who[1], se.StatusCode, se.ErrorMessage, wrong.ErrorMessage)
			}
		}
		// A right password scoped to a project the account lacks is not
		// a wrong password: Keystone's "requires authentication".
		_, err = passwordLogin(c, e.ids.AccountName, e.ids.AdminName, e.ids.AdminPassword, "no-such-region")
		if se := sdkError(t, err); se.StatusCode != 401 || se.ErrorMessage == wrong.ErrorMessage || !strings.Contains(se.ErrorMessage, "requires authentication") {
			t.Errorf("unknown project scope: got %d %q, want 401 with Keystone's requires-authentication message", se.StatusCode, se.ErrorMessage)
		}
		// The read-only user has no password.
		_, err = passwordLogin(c, e.ids.AccountName, e.ids.ReaderName, "", e.ids.ProjectName)
		if se := sdkError(t, err); se.StatusCode < 400 || se.StatusCode >= 500 {
			t.Errorf("reader without password: got %d, want a 4xx", se.StatusCode)
		}
	})
}

// TestTokenClient drives KMS with a token through the SDK's token mode
// (literal {project_id} in the path) and through raw requests that name
// the project.
func TestTokenClient(t *testing.T) {
	e := start(t)
	tok := adminToken(t, e)
	rec := &recorder{}
	c := e.tokenClientWith(t, tok, config.DefaultHttpConfig().WithHttpRoundTripper(rec))

	wantInstances(t, c, 0)
	// What token mode sends: X-Auth-Token, no signature, and the literal
	// {project_id} in the path.
	sent := rec.last(t)
	if sent.URL.Path != "/v1.0/{project_id}/kms/user-instances" {
		t.Errorf("got path %q, want the literal /v1.0/{project_id}/kms/user-instances", sent.URL.Path)
	}
	if sent.Header.Get("X-Auth-Token") != tok || sent.Header.Get("Authorization") != "" {
		t.Errorf("got X-Auth-Token set %v and Authorization %q, want the token and no signature",
			sent.Header.Get("X-Auth-Token") == tok, sent.Header.Get("Authorization"))
	}
	id := newKey(t, c)
	wantInstances(t, c, 1)
	// The key is in the token's project, seen by the AK/SK client too.
	d := describe(t, e.admin(), id)
	if val(d.DomainId) != e.ids.AccountID || val(d.KeyState) != stateEnabled {
		t.Errorf("got domain_id %v key_state %v, want %v %v", val(d.DomainId), val(d.KeyState), e.ids.AccountID, stateEnabled)
	}
	if _, err := disableKey(c, id); err != nil {
		t.Errorf("DisableKey with a token: %v", err)
	}
	wantState(t, e.admin(), id, stateDisabled)

	t.Run("raw, real project id", func(t *testing.T) {
		status, b := tokenCall(t, e, "GET", e.projectPath("user-instances"), nil, tok)
		if status != 200 || string(b) != `{"instance_num":1}` {
			t.Errorf("got %d %s, want 200 {\"instance_num\":1}", status, b)
		}
		status, b = tokenCall(t, e, "POST", e.projectPath("describe-key"), []byte(`{"key_id":"`+id+`"}`), tok)
		if status != 200 {
			t.Errorf("describe-key: got %d %s, want 200", status, b)
		}
	})
	t.Run("raw, other account's project id", func(t *testing.T) {
		r := newRawRequest(t, e, "GET", "/v1.0/"+e.ids.Project2ID+"/kms/user-instances", nil)
		r.Header.Del("X-Project-Id")
		r.Header.Set("X-Auth-Token", tok)
		status, h, b := send(t, r)
		wantRawError(t, status, h, b, 403, "KMS.0321")
	})
	t.Run("second account's token", func(t *testing.T) {
		resp, err := passwordLogin(e.iamClient(t), e.ids.Account2Name, e.ids.Admin2Name, e.ids.Admin2Password, e.ids.ProjectName)
		if err != nil {
			t.Fatal(err)
		}
		tok2 := val(resp.XSubjectToken)
		addSecret(tok2)
		if resp.Token == nil || resp.Token.Project == nil || resp.Token.Project.Id != e.ids.Project2ID {
			t.Fatalf("got token %v, want project %s", resp.Token, e.ids.Project2ID)
		}
		c2 := e.tokenClient(t, tok2)
		wantInstances(t, c2, 0)
		_, err = c2.ListKeyDetail(&model.ListKeyDetailRequest{Body: &model.OperateKeyRequestBody{KeyId: id}})
		wantError(t, err, 404, "KMS.0207")
		r := newRawRequest(t, e, "GET", e.projectPath("user-instances"), nil)
		r.Header.Del("X-Project-Id")
		r.Header.Set("X-Auth-Token", tok2)
		status, h, b := send(t, r)
		wantRawError(t, status, h, b, 403, "KMS.0321")
	})
}

// TestBadTokens checks that an expired, garbled or forged token answers
// 401 APIGW.0301.
func TestBadTokens(t *testing.T) {
	e := start(t)
	good := adminToken(t, e)

	// Tokens issued in the past: 25 hours ago (expired an hour ago) and 23
	// hours ago (valid for another hour).
	issueAt := func(ago time.Duration) string {
		e.srv.Handler.Now = func() time.Time { return time.Now().Add(-ago) }
		defer func() { e.srv.Handler.Now = time.Now }()
		return adminToken(t, e)
	}
	expired := issueAt(25 * time.Hour)
	old := issueAt(23 * time.Hour)

	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	tests := []struct {
		name, token string
		status      int
	}{
		{"valid", good, 200},
		{"issued 23 hours ago", old, 200},
		{"expired", expired, 401},
		{"garbage", "not-a-token", 401},
		{"only the prefix", "kmsd1.", 401},
		{"claims changed", flip(good, len("kmsd1.")+3), 401},
		{"MAC changed", flip(good, len(good)-2), 401},
		{"truncated", good[:len(good)-5], 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.tokenClient(t, tt.token).ShowUserInstances(&model.ShowUserInstancesRequest{})
			if tt.status == 200 {
				if err != nil {
					t.Fatalf("got %v, want success", err)
				}
				return
			}
			wantError(t, err, tt.status, "APIGW.0301")
			r := newRawRequest(t, e, "GET", e.projectPath("user-instances"), nil)
			r.Header.Del("X-Project-Id")
			r.Header.Set("X-Auth-Token", tt.token)
			status, h, b := send(t, r)
			wantRawError(t, status, h, b, tt.status, "APIGW.0301")
		})
	}
}

// TestTokenRequestErrors checks the IAM token endpoint's answers to
// requests it cannot use: Keystone's error shape (reference errors.md
// §1), 400 "Bad Request" for a malformed request and 401 for wrong
// credentials, each with an X-Request-Id.
func TestTokenRequestErrors(t *testing.T) {
	e := start(t)
	addSecret("wrong-password")
	for _, tt := range []struct {
		name, body string
		status     int
	}{
		{"malformed JSON", `{"auth":`, 400},
		{"not an object", `[]`, 400},
		{"methods a string", `{"auth":{"identity":{"methods":"password"}}}`, 400},
		{"no password method", `{"auth":{"identity":{"methods":["token"]}}}`, 400},
		{"empty body", ``, 400},
		{"wrong password", `{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"` + e.ids.AdminName + `","password":"wrong-password","domain":{"name":"` + e.ids.AccountName + `"}}}}}}`, 401},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := newRawRequest(t, e, "POST", "/v3/auth/tokens", []byte(tt.body))
			status, h, b := send(t, r)
			var v struct {
				Error struct {
					Code    int    `json:"code"`
					Message string `json:"message"`
					Title   string `json:"title"`
				} `json:"error"`
			}
			if err := json.Unmarshal(b, &v); err != nil || status != tt.status || v.Error.Code != tt.status || v.Error.Title != http.StatusText(tt.status) || v.Error.Message == "" {
				t.Fatalf("got %d %s, want %d with a Keystone error body", status, b, tt.status)
			}
			if tt.status == 400 && strings.Contains(v.Error.Message, "authentication") {
				t.Errorf("a malformed request answered %q, Keystone's message for a missing authentication", v.Error.Message)
			}
			if h.Get("X-Request-Id") == "" || h.Get("X-Subject-Token") != "" {
				t.Errorf("got X-Request-Id %q and X-Subject-Token %q, want a request id and no token", h.Get("X-Request-Id"), h.Get("X-Subject-Token"))
			}
		})
	}
}
