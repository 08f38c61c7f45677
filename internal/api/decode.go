package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// fields is a decoded JSON request object whose members are checked one
// by one against the reference's exact types, so a wrong type, a missing
// field and an out-of-range value each get their own documented error.
type fields map[string]json.RawMessage

// decodeObject parses the body as one JSON object. An empty body is an
// empty object (so required-field checks report what is missing).
func decodeObject(body []byte) (fields, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return fields{}, nil
	}
	if !utf8.Valid(body) {
		return nil, fmt.Errorf("%w: body is not UTF-8", errMalformedJSON)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var f fields
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: %v", errMalformedJSON, err)
	}
	if f == nil { // the body was the literal null
		return nil, fmt.Errorf("%w: body is not an object", errMalformedJSON)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: data after the JSON object", errMalformedJSON)
	}
	return f, nil
}

// str returns the string member name. A member that is absent or null is
// ("", false); required makes that errMissingParameter. A member of
// another JSON type is errMalformedJSON.
func (f fields) str(name string, required bool) (string, bool, error) {
	raw, ok := f[name]
	if !ok || string(raw) == "null" {
		if required {
			return "", false, fmt.Errorf("%w: %s", errMissingParameter, name)
		}
		return "", false, nil
	}
	var s string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", false, fmt.Errorf("%w: %s must be a JSON string", errMalformedJSON, name)
	}
	return s, true, nil
}

// numericString returns a member that the reference types as a string
// holding an integer (e.g. "pending_days": "7"). Empty means absent.
// A non-integer is badValue.
func (f fields) numericString(name string, required bool, badValue error) (int, bool, error) {
	s, ok, err := f.str(name, required)
	if err != nil || !ok {
		return 0, false, err
	}
	if s == "" {
		if required {
			return 0, false, fmt.Errorf("%w: %s", errMissingParameter, name)
		}
		return 0, false, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, false, fmt.Errorf("%w: %s is not an integer", badValue, name)
	}
	return n, true, nil
}

// sequence checks the optional 36-character request serial that most
// bodies carry (reference kms-api.md: malformed → KMS.0206).
func (f fields) sequence() error {
	s, ok, err := f.str("sequence", false)
	if err != nil || !ok {
		return err
	}
	if len(s) != 36 {
		return fmt.Errorf("%w: sequence must be 36 characters", errInvalidSequence)
	}
	return nil
}

// request decodes the call's body and checks the sequence member.
func (c *call) request() (fields, error) {
	f, err := decodeObject(c.body)
	if err != nil {
		return nil, err
	}
	return f, f.sequence()
}
