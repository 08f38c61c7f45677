// Package client is a client of the Huawei Cloud KMS wire API, as kmsd and
// Huawei Cloud serve it. It signs every request with SDK-HMAC-SHA256 as
// the official SDKs do, through [auth.SignRequest] (kmsd's one
// implementation of the canonical request), and sends the headers the Go
// SDK sends: Content-Type application/json;charset=UTF-8, X-Project-Id,
// X-Sdk-Date and Authorization, plus a User-Agent of its own.
//
// A Client is safe for concurrent use.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kmsd/kmsd/internal/auth"
)

// Config says where and as whom a Client calls.
type Config struct {
	// Endpoint is the service's base URL, such as
	// https://kms.cn-north-4.myhuaweicloud.com or http://127.0.0.1:8080.
	Endpoint string
	// ProjectID is the project of every KMS path (/v1.0/{project_id}/kms/…).
	ProjectID string
	// AK and SK are the access key and its secret key.
	AK, SK string
	// UserAgent is sent as the User-Agent header (and signed).
	UserAgent string
	// HTTPClient sends the requests; nil means a client with a 60 s
	// timeout.
	HTTPClient *http.Client
}

// Client calls one project's KMS operations.
type Client struct {
	cfg  Config
	base *url.URL
	http *http.Client
}

// maxResponse bounds a response body: the largest KMS answers (key lists
// of 1000 keys with details) are well below it.
const maxResponse = 16 << 20

// New checks cfg and returns a Client. The endpoint must be an http or
// https URL without a query; the project id and both keys must be set.
func New(cfg Config) (*Client, error) {
	var missing []string
	if cfg.Endpoint == "" {
		missing = append(missing, "endpoint")
	}
	if cfg.ProjectID == "" {
		missing = append(missing, "project id")
	}
	if cfg.AK == "" {
		missing = append(missing, "access key")
	}
	if cfg.SK == "" {
		missing = append(missing, "secret key")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("client: no %s configured", strings.Join(missing, ", "))
	}
	u, err := url.Parse(strings.TrimRight(cfg.Endpoint, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return nil, fmt.Errorf("client: endpoint %q is not an http:// or https:// URL", cfg.Endpoint)
	}
	if strings.ContainsAny(cfg.ProjectID, "/?#") {
		return nil, fmt.Errorf("client: bad project id %q", cfg.ProjectID)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 60 * time.Second}
	}
	return &Client{cfg: cfg, base: u, http: hc}, nil
}

// ProjectID returns the project the client calls.
func (c *Client) ProjectID() string { return c.cfg.ProjectID }

// Call sends one KMS operation: method, the path below
// /v1.0/{project_id}/kms/ (such as "describe-key" or "KEY_ID/tags"),
// an optional query and an optional body, which is sent as JSON. It
// returns the response body as the server sent it. An answer that is not
// 2xx is an [*Error]; a failure to reach the server is returned wrapped.
func (c *Client) Call(ctx context.Context, method, op string, query url.Values, body any) ([]byte, error) {
	return c.do(ctx, method, "/v1.0/"+c.cfg.ProjectID+"/kms/"+op, query, body)
}

// CallInto is [Client.Call] followed by decoding the answer into out.
func (c *Client) CallInto(ctx context.Context, method, op string, body, out any) ([]byte, error) {
	raw, err := c.Call(ctx, method, op, nil, body)
	if err != nil {
		return raw, err
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return raw, fmt.Errorf("client: %s: undecodable answer: %w", op, err)
		}
	}
	return raw, nil
}

func (c *Client) do(ctx context.Context, method, path string, query url.Values, body any) ([]byte, error) {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return nil, fmt.Errorf("client: encode request: %w", err)
		}
	}
	u := *c.base
	u.Path = strings.TrimRight(c.base.Path, "/") + path
	u.RawPath = ""
	if len(query) > 0 {
		u.RawQuery = query.Encode()
	}
	r, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	r.Header.Set("Content-Type", "application/json;charset=UTF-8")
	r.Header.Set("X-Project-Id", c.cfg.ProjectID)
	if c.cfg.UserAgent != "" {
		r.Header.Set("User-Agent", c.cfg.UserAgent)
	}
	if err := auth.SignRequest(r, payload, auth.AlgHMACSHA256, c.cfg.AK, c.cfg.SK, time.Now()); err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	resp, err := c.http.Do(r)
	if err != nil {
		return nil, fmt.Errorf("cannot reach %s: %w", c.base.Host, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return nil, fmt.Errorf("client: read answer from %s: %w", c.base.Host, err)
	}
	if len(raw) > maxResponse {
		return nil, fmt.Errorf("client: answer from %s longer than %d bytes", c.base.Host, maxResponse)
	}
	if resp.StatusCode/100 != 2 {
		return raw, parseError(resp.StatusCode, resp.Header.Get("X-Request-Id"), raw)
	}
	return raw, nil
}

// Error is an answer of the service that is not 2xx.
type Error struct {
	// Status is the HTTP status.
	Status int
	// Code and Message are the Huawei error code (KMS.0207, APIGW.0301,
	// …) and message; both are empty when the body carried neither.
	Code, Message string
	// RequestID is the X-Request-Id header or the body's request_id.
	RequestID string
	// Body is the answer as received.
	Body []byte
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Code != "" {
		fmt.Fprintf(&b, "%s: %s", e.Code, e.Message)
	} else {
		fmt.Fprintf(&b, "HTTP %d %s", e.Status, http.StatusText(e.Status))
		if s := strings.TrimSpace(string(e.Body)); s != "" {
			fmt.Fprintf(&b, ": %.200s", s)
		}
	}
	fmt.Fprintf(&b, " (HTTP %d", e.Status)
	if e.RequestID != "" {
		fmt.Fprintf(&b, ", request id %s", e.RequestID)
	}
	b.WriteString(")")
	return b.String()
}

// IsCode reports whether err is an [*Error] with the given Huawei code.
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// parseError reads every error body shape Huawei Cloud and kmsd answer
// (reference errors.md §1): the KMS service's {"error":{"error_code",
// "error_msg"}}, the API gateway's and the newer services' top-level
// {"error_code","error_msg","request_id"}, and Keystone's
// {"error":{"code","message","title"}}.
func parseError(status int, requestID string, body []byte) *Error {
	e := &Error{Status: status, RequestID: requestID, Body: body}
	var v struct {
		Code      string          `json:"error_code"`
		Msg       string          `json:"error_msg"`
		RequestID string          `json:"request_id"`
		Error     json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &v) != nil {
		return e
	}
	if e.RequestID == "" {
		e.RequestID = v.RequestID
	}
	e.Code, e.Message = v.Code, v.Msg
	if len(v.Error) > 0 {
		var nested struct {
			Code    json.RawMessage `json:"error_code"`
			Msg     string          `json:"error_msg"`
			KCode   json.RawMessage `json:"code"`
			Message string          `json:"message"`
		}
		if json.Unmarshal(v.Error, &nested) == nil {
			if c := rawString(nested.Code); c != "" && e.Code == "" {
				e.Code, e.Message = c, nested.Msg
			}
			if c := rawString(nested.KCode); c != "" && e.Code == "" {
				e.Code, e.Message = c, nested.Message
			}
		}
	}
	return e
}

// rawString is a JSON string's or number's text.
func rawString(m json.RawMessage) string {
	var s string
	if json.Unmarshal(m, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(m, &n) == nil {
		return n.String()
	}
	return ""
}
