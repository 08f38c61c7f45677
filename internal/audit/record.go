package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// Record is one audited request, shaped like a Huawei Cloud Trace Service
// trace (trace_name, resource_type, resource_id, user, source_ip, code,
// request_id, time) with kmsd's additions. It holds identifiers and
// outcomes only: never plaintext, ciphertext, key material, data keys,
// signatures, MACs, secret keys, passwords or tokens. The schema is
// docs/audit.md's.
type Record struct {
	// TraceName is the operation: the official SDK's name, e.g.
	// "EncryptData" ("" when no route matched the request).
	TraceName string `json:"trace_name"`
	// TraceRating is "normal" (status below 400), "warning" (4xx) or
	// "incident" (5xx), as CTS rates traces.
	TraceRating string `json:"trace_rating"`
	// TraceType is "ApiCall" for every request.
	TraceType string `json:"trace_type"`
	// ServiceType is "KMS" or "IAM".
	ServiceType string `json:"service_type"`
	// ResourceType is what the operation acts on: "cmk", "grant",
	// "alias", "tag", "token", "quota" … ("" when unknown).
	ResourceType string `json:"resource_type,omitempty"`
	// ResourceID is the key id (or the first of them) the request names.
	ResourceID string `json:"resource_id,omitempty"`
	// ResourceName is the key alias the request names, if any.
	ResourceName string `json:"resource_name,omitempty"`
	// Code is the HTTP status as a string, as in CTS.
	Code string `json:"code"`
	// ErrorCode is the Huawei error code of a refused request.
	ErrorCode string `json:"error_code,omitempty"`
	// Time is when the request arrived, in Unix milliseconds (CTS's
	// unit); TimeNanos the same instant in nanoseconds.
	Time      int64 `json:"time"`
	TimeNanos int64 `json:"time_ns"`
	// LatencyMicros is how long the request took until its record was
	// queued, in microseconds.
	LatencyMicros int64 `json:"latency_us"`
	// RequestID is the X-Request-Id the response carried.
	RequestID string `json:"request_id"`
	// Node is the node that served the request.
	Node string `json:"node"`
	// SourceIP is the client's address (the TCP peer).
	SourceIP string `json:"source_ip"`
	// Method and Path are the HTTP request line (the path holds ids,
	// never secrets).
	Method string `json:"http_method"`
	Path   string `json:"path"`
	// User is the authenticated caller (nil when authentication did not
	// succeed).
	User *User `json:"user,omitempty"`
	// ProjectID is the project the request was served in (for a grant:
	// the project of the granted key).
	ProjectID string `json:"project_id,omitempty"`
	// Action is the IAM action the operation needs.
	Action string `json:"action,omitempty"`
	// AuthorizedBy is "iam" or "grant" for an authorized request.
	AuthorizedBy string `json:"authorized_by,omitempty"`
	// GrantIDs are the grants that authorized the request.
	GrantIDs []string `json:"grant_ids,omitempty"`
	// KeyIDs are the keys the request names.
	KeyIDs []string `json:"key_ids,omitempty"`
}

// User is the caller of a request.
type User struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Domain Domain `json:"domain"`
	// AccessKeyID is the AK of a signed request (an identifier, not a
	// secret); AuthMethod is "aksk" or "token".
	AccessKeyID string `json:"access_key_id,omitempty"`
	AuthMethod  string `json:"auth_method,omitempty"`
}

// Domain is the caller's account.
type Domain struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Rating returns the CTS trace rating of an HTTP status.
func Rating(status int) string {
	switch {
	case status >= 500:
		return "incident"
	case status >= 400:
		return "warning"
	}
	return "normal"
}

// SetStatus sets Code and TraceRating from an HTTP status.
func (r *Record) SetStatus(status int) {
	r.Code = strconv.Itoa(status)
	r.TraceRating = Rating(status)
}

// Marshal returns the record's JSON payload.
func (r *Record) Marshal() ([]byte, error) {
	return json.Marshal(r)
}

// ParseRecord parses a record payload strictly: unknown members are
// errors, so an edit that adds a member is reported even where the hash
// chain would not reach it.
func ParseRecord(p []byte) (Record, error) {
	var r Record
	dec := json.NewDecoder(bytes.NewReader(p))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return Record{}, fmt.Errorf("%w: record: %v", ErrMalformed, err)
	}
	if dec.More() {
		return Record{}, fmt.Errorf("%w: record: data after the object", ErrMalformed)
	}
	return r, nil
}
