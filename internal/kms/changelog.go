package kms

import "context"

// requestIDKey is the context key of the request id that the API layer
// attaches (WithRequestID), so that the service's log lines name the
// request that caused them.
type requestIDKey struct{}

// WithRequestID returns ctx carrying the id of the request it serves.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request id ctx carries, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// logChange logs one INFO line for a successful state change of a key:
// what changed, the request id, the project and the key id, and the
// key's state after it — nothing secret. It returns k and err as they
// are, so that a method can end with it.
func (s *Service) logChange(ctx context.Context, change string, k Key, err error, attrs ...any) (Key, error) {
	if err == nil {
		s.log.InfoContext(ctx, change, append([]any{"request_id", RequestID(ctx), "project_id", k.ProjectID, "key_id", k.KeyID, "key_state", k.State.String()}, attrs...)...)
	}
	return k, err
}
