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
//
// It validates the whole body once (json.Valid) and then splits the
// top-level members without building values: handlers read only the
// members they know, and unknown members cost nothing. This is the hot
// path of every operation (docs/performance.md).
func decodeObject(body []byte) (fields, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return fields{}, nil
	}
	if !utf8.Valid(body) {
		return nil, fmt.Errorf("%w: body is not UTF-8", errMalformedJSON)
	}
	if !json.Valid(body) {
		// Let the decoder say what is wrong, for the log.
		var v any
		err := json.Unmarshal(body, &v)
		return nil, fmt.Errorf("%w: %v", errMalformedJSON, err)
	}
	if body[0] != '{' {
		return nil, fmt.Errorf("%w: body is not an object", errMalformedJSON)
	}
	f := make(fields, 8)
	i := skipSpace(body, 1)
	for i < len(body) && body[i] != '}' {
		// body is valid JSON, so a member is: string ws ':' ws value.
		kEnd := stringEnd(body, i)
		key := body[i+1 : kEnd-1]
		name := string(key)
		if bytes.IndexByte(key, '\\') >= 0 {
			if err := json.Unmarshal(body[i:kEnd], &name); err != nil {
				return nil, fmt.Errorf("%w: %v", errMalformedJSON, err)
			}
		}
		i = skipSpace(body, kEnd)
		i = skipSpace(body, i+1) // past ':'
		vEnd := valueEnd(body, i)
		f[name] = body[i:vEnd]
		i = skipSpace(body, vEnd)
		if i < len(body) && body[i] == ',' {
			i = skipSpace(body, i+1)
		}
	}
	return f, nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just past the JSON string starting at b[i].
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(b)
}

// valueEnd returns the index just past the JSON value starting at b[i].
func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				j = stringEnd(b, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(b)
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
		j++
	}
	return j
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
	if len(raw) < 2 || raw[0] != '"' {
		return "", false, fmt.Errorf("%w: %s must be a JSON string", errMalformedJSON, name)
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		// The body was validated: without escapes the text between the
		// quotes is the string.
		return string(raw[1 : len(raw)-1]), true, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
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
