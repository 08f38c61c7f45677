package api

import (
	"errors"
	"strings"
	"time"

	"github.com/kmsd/kmsd/internal/auth"
	"github.com/kmsd/kmsd/internal/iam"
	"github.com/kmsd/kmsd/internal/kms"
)

// Observer receives what the API layer measures of each request;
// internal/metrics implements it. Its methods must be cheap and safe for
// concurrent use: they run on every request.
type Observer interface {
	// Request counts one answered request: its operation ("" when no
	// route matched), HTTP status, Huawei error code ("" on success) and
	// duration.
	Request(op string, status int, code string, d time.Duration)
	// AuthFailure counts a refused authentication by reason class
	// (authFailureReason), never by credential.
	AuthFailure(reason string)
	// Throttled counts a request refused by a rate limit of class.
	Throttled(class string)
}

// authFailureReason classes an authentication failure for metrics:
// missing_credentials, unknown_access_key, signature, date, token,
// token_expired, project_mismatch, password or (authenticated but not
// allowed) access_denied.
func authFailureReason(c *call, err error) string {
	switch {
	case errors.Is(err, iam.ErrWrongPassword):
		return "password"
	case errors.Is(err, auth.ErrProjectMismatch):
		return "project_mismatch"
	case errors.Is(err, auth.ErrTokenExpired):
		return "token_expired"
	case errors.Is(err, kms.ErrAccessDenied):
		return "access_denied"
	case !errors.Is(err, auth.ErrUnauthenticated):
		return ""
	}
	var ae *auth.AuthError
	reason := ""
	if errors.As(err, &ae) {
		reason = ae.Reason
	}
	switch {
	case strings.HasPrefix(reason, "no Authorization"):
		return "missing_credentials"
	case c.r.Header.Get("X-Auth-Token") != "":
		return "token"
	case strings.HasPrefix(reason, "access key"):
		return "unknown_access_key"
	case strings.Contains(strings.ToLower(reason), "date"):
		return "date"
	}
	return "signature"
}
