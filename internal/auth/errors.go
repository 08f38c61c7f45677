package auth

import (
	"errors"
	"fmt"
)

// ErrUnauthenticated is wrapped by every error that means "the caller could
// not be authenticated": a missing, garbled, stale or wrongly signed request,
// an unknown access key, or a bad or expired token. Callers answer all of
// them with the same public 401 (reference errors.md: APIGW.0301) and log the
// private cause.
var ErrUnauthenticated = errors.New("auth: unauthenticated")

// AuthError is an authentication failure with a private reason for logs.
// It matches [ErrUnauthenticated] with errors.Is, and Err as well when set.
// Reason and Err never contain secret keys, expected signatures or tokens,
// but they may name the access key and describe the request; they must
// never be sent to the client.
type AuthError struct {
	// Reason says what was wrong, for logs.
	Reason string
	// Err is an optional underlying error, such as the error of a
	// [SecretLookup] or [ErrTokenExpired].
	Err error
}

func (e *AuthError) Error() string {
	s := "auth: unauthenticated: " + e.Reason
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns ErrUnauthenticated and, if set, Err.
func (e *AuthError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrUnauthenticated}
	}
	return []error{ErrUnauthenticated, e.Err}
}

func authErrorf(format string, args ...any) error {
	return &AuthError{Reason: fmt.Sprintf(format, args...)}
}
