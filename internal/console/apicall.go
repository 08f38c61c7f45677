package console

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

// apiError is an answer of the API that is not 2xx: the Huawei code and
// message the API chose, shown to the user as they are.
type apiError struct {
	Status        int
	Code, Message string
}

func (e *apiError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("HTTP %d", e.Status)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// recorder is the http.ResponseWriter of an in-process API call.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}

// call sends one KMS operation of the user's project to the API handler
// in-process, authenticated by the session's token exactly as a client's
// X-Auth-Token request is, and decodes a 2xx answer into out.
func (h *Handler) call(ctx context.Context, s *session, method, op string, query url.Values, body, out any) error {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return err
		}
	}
	u := url.URL{Path: "/v1.0/" + s.principal.ProjectID + "/kms/" + op, RawQuery: query.Encode()}
	r, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(payload))
	if err != nil {
		return err
	}
	r.Header.Set("Content-Type", "application/json;charset=UTF-8")
	r.Header.Set("X-Auth-Token", s.token)
	r.Header.Set("User-Agent", "kmsd-console")
	r.RemoteAddr = "console"
	rec := &recorder{header: http.Header{}}
	h.api.ServeHTTP(rec, r)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	if rec.status/100 != 2 {
		return parseAPIError(rec.status, rec.body.Bytes())
	}
	if out != nil && rec.body.Len() > 0 {
		if err := json.Unmarshal(rec.body.Bytes(), out); err != nil {
			return fmt.Errorf("console: %s: undecodable answer: %w", op, err)
		}
	}
	return nil
}

// parseAPIError reads the KMS error body {"error":{"error_code",
// "error_msg"}} and the gateway's top-level one (reference errors.md §1).
func parseAPIError(status int, body []byte) *apiError {
	e := &apiError{Status: status}
	var v struct {
		Error struct {
			Code    string `json:"error_code"`
			Message string `json:"error_msg"`
		} `json:"error"`
		Code    string `json:"error_code"`
		Message string `json:"error_msg"`
	}
	if json.Unmarshal(body, &v) == nil {
		e.Code, e.Message = v.Error.Code, v.Error.Message
		if e.Code == "" {
			e.Code, e.Message = v.Code, v.Message
		}
	}
	return e
}
