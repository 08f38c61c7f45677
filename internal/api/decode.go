package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// fields is a decoded JSON request object whose members are checked one
// by one against the reference's exact types, so a wrong type, a missing
// field and an out-of-range value each get their own documented error.
type fields map[string]json.RawMessage

// decodeObject parses the body as one JSON object. An empty body is an
// empty object (so required-field checks report what is missing). A body
// that is not UTF-8, holds an escaped lone surrogate ("\ud800") anywhere,
// or names a member twice is errMalformedJSON (KMS.0202): each would
// make kmsd read another request than the client (or a proxy) meant.
//
// It validates the whole body once (validJSON, which accepts what
// json.Valid accepts, at several times its speed) and then splits the
// top-level members without building values: handlers read only the
// members they know, and unknown members cost nothing. This is the hot
// path of every operation (docs/performance.md).
func decodeObject(body []byte) (fields, error) {
	return decodeObjectInto(body, nil)
}

// decodeObjectInto is decodeObject filling f, which must be empty, unless
// f is nil (pooled maps for the top-level object: call.decodeRequest).
func decodeObjectInto(body []byte, f fields) (fields, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		if f == nil {
			f = fields{}
		}
		return f, nil
	}
	if !utf8.Valid(body) {
		return nil, fmt.Errorf("%w: body is not UTF-8", errMalformedJSON)
	}
	if !validJSON(body) {
		// Let the decoder say what is wrong, for the log.
		var v any
		err := json.Unmarshal(body, &v)
		return nil, fmt.Errorf("%w: %v", errMalformedJSON, err)
	}
	if body[0] != '{' {
		return nil, fmt.Errorf("%w: body is not an object", errMalformedJSON)
	}
	if bytes.IndexByte(body, '\\') >= 0 && !validEscapes(body) {
		// encoding/json would turn a lone surrogate into U+FFFD, so the
		// text would silently not be what the client sent.
		return nil, fmt.Errorf("%w: an escaped lone surrogate is not Unicode text", errMalformedJSON)
	}
	if f == nil {
		f = make(fields, 8)
	}
	i := skipSpace(body, 1)
	for i < len(body) && body[i] != '}' {
		// body is valid JSON, so a member is: string ws ':' ws value.
		kEnd := stringEnd(body, i)
		key := body[i+1 : kEnd-1]
		name, known := memberNames[string(key)]
		if !known {
			name = string(key)
		}
		if bytes.IndexByte(key, '\\') >= 0 {
			if err := json.Unmarshal(body[i:kEnd], &name); err != nil {
				return nil, fmt.Errorf("%w: %v", errMalformedJSON, err)
			}
		}
		i = skipSpace(body, kEnd)
		i = skipSpace(body, i+1) // past ':'
		vEnd := valueEnd(body, i)
		if _, dup := f[name]; dup {
			// Last-wins here, first-wins in a proxy or WAF in front: the
			// two would act on different requests.
			return nil, fmt.Errorf("%w: member %q given twice", errMalformedJSON, name)
		}
		f[name] = body[i:vEnd]
		i = skipSpace(body, vEnd)
		if i < len(body) && body[i] == ',' {
			i = skipSpace(body, i+1)
		}
	}
	return f, nil
}

// validEscapes reports whether every \u escape of the valid JSON text b
// that encodes a UTF-16 surrogate is half of a pair: a high surrogate
// (D800–DBFF) followed at once by an escaped low one (DC00–DFFF).
// Backslashes occur only inside strings of valid JSON, each starting an
// escape, so a scan from one to the next sees every escape.
func validEscapes(b []byte) bool {
	for i := 0; i < len(b); {
		j := bytes.IndexByte(b[i:], '\\')
		if j < 0 {
			return true
		}
		i += j
		if i+1 >= len(b) || b[i+1] != 'u' {
			i += 2
			continue
		}
		r := hex4(b[i+2:])
		i += 6
		switch {
		case r >= 0xDC00 && r <= 0xDFFF:
			return false // a low surrogate without a high one
		case r >= 0xD800 && r <= 0xDBFF:
			if i+6 > len(b) || b[i] != '\\' || b[i+1] != 'u' {
				return false
			}
			if lo := hex4(b[i+2:]); lo < 0xDC00 || lo > 0xDFFF {
				return false
			}
			i += 6
		}
	}
	return true
}

// hex4 is the value of the four hex digits that start b, which a valid
// JSON \u escape guarantees.
func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		d, _ := fromHex(c)
		r = r<<4 | rune(d)
	}
	return r
}

// memberNames are the member names handlers read, so that decodeObject
// need not allocate a copy of each.
var memberNames = func() map[string]string {
	m := map[string]string{}
	for _, n := range []string{
		"key_id", "plain_text", "cipher_text", "encryption_algorithm", "additional_authenticated_data",
		"sequence", "message", "message_type", "signing_algorithm", "signature", "mac_algorithm", "mac",
		"datakey_length", "datakey_plain_length", "datakey_cipher_length", "random_data_length", "key_spec",
		"with_plain_text", "key_alias", "key_description", "key_usage", "origin", "limit", "marker",
	} {
		m[n] = n
	}
	return m
}()

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just past the JSON string starting at b[i]
// of a valid body: the first quote after it that an even number of
// backslashes precedes.
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			break
		}
		j += k
		escapes := 0
		for p := j - 1; p > i && b[p] == '\\'; p-- {
			escapes++
		}
		if escapes%2 == 0 {
			return j + 1
		}
	}
	return len(b)
}

// maxNestingDepth is encoding/json's limit on nested arrays and objects;
// validJSON refuses deeper values as json.Valid does.
const maxNestingDepth = 10000

// validJSON reports whether b is one JSON value (RFC 8259) with optional
// whitespace around it, exactly as json.Valid does (FuzzValidJSON compares
// the two): in particular it does not check UTF-8, and it refuses values
// nested deeper than maxNestingDepth.
func validJSON(b []byte) bool {
	var stackArray [32]byte
	stack := stackArray[:0] // the open containers, '{' or '['
	i := skipSpace(b, 0)
	for {
		// A value starts at b[i].
		if i >= len(b) {
			return false
		}
		ok := true
		switch c := b[i]; c {
		case '{', '[':
			if len(stack) >= maxNestingDepth {
				return false
			}
			stack = append(stack, c)
			i = skipSpace(b, i+1)
			if i < len(b) && b[i] == c+2 { // '}' or ']'
				stack = stack[:len(stack)-1]
				i++
				break
			}
			if c == '{' {
				if i, ok = objectKey(b, i); !ok {
					return false
				}
			}
			continue
		case '"':
			i, ok = scanString(b, i)
		case 't':
			i, ok = scanLiteral(b, i, "true")
		case 'f':
			i, ok = scanLiteral(b, i, "false")
		case 'n':
			i, ok = scanLiteral(b, i, "null")
		default:
			i, ok = scanNumber(b, i)
		}
		if !ok {
			return false
		}
		// After a value: close containers until a comma starts the next
		// value.
		for {
			i = skipSpace(b, i)
			if len(stack) == 0 {
				return i == len(b)
			}
			if i >= len(b) {
				return false
			}
			top := stack[len(stack)-1]
			if b[i] == top+2 {
				stack = stack[:len(stack)-1]
				i++
				continue
			}
			if b[i] != ',' {
				return false
			}
			i = skipSpace(b, i+1)
			if top == '{' {
				if i, ok = objectKey(b, i); !ok {
					return false
				}
			}
			break
		}
	}
}

// objectKey scans a member name and its colon at b[i] and returns where
// the value starts.
func objectKey(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return i, false
	}
	i, ok := scanString(b, i)
	if !ok {
		return i, false
	}
	i = skipSpace(b, i)
	if i >= len(b) || b[i] != ':' {
		return i, false
	}
	return skipSpace(b, i+1), true
}

// plainStringByte marks the bytes a JSON string holds as they are: all but
// the quote, the backslash and control characters.
var plainStringByte = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// scanString scans the JSON string starting at b[i] and returns the index
// just past it.
func scanString(b []byte, i int) (int, bool) {
	for i++; i < len(b); i++ {
		c := b[i]
		if plainStringByte[c] {
			continue
		}
		switch c {
		case '"':
			return i + 1, true
		case '\\':
			i++
			if i >= len(b) {
				return i, false
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(b) {
					return i, false
				}
				for _, h := range b[i+1 : i+5] {
					if _, ok := fromHex(h); !ok {
						return i, false
					}
				}
				i += 4
			default:
				return i, false
			}
		default: // a control character
			return i, false
		}
	}
	return i, false
}

func fromHex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func scanLiteral(b []byte, i int, lit string) (int, bool) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return i, false
	}
	return i + len(lit), true
}

// scanNumber scans -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? at b[i].
func scanNumber(b []byte, i int) (int, bool) {
	digits := func(i int) (int, bool) {
		j := i
		for j < len(b) && '0' <= b[j] && b[j] <= '9' {
			j++
		}
		return j, j > i
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return i, false
	}
	switch {
	case b[i] == '0':
		i++
	case '1' <= b[i] && b[i] <= '9':
		i, _ = digits(i)
	default:
		return i, false
	}
	ok := true
	if i < len(b) && b[i] == '.' {
		if i, ok = digits(i + 1); !ok {
			return i, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i, ok = digits(i); !ok {
			return i, false
		}
	}
	return i, true
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
	b, ok, err := f.bytes(name, required)
	return string(b), ok, err
}

// bytes is str returning the string's UTF-8 bytes, which alias the request
// body when the string has no escapes: the data path reads its plaintext
// so, without copying it. The body belongs to the call and is never
// reused, but the caller must not modify the bytes.
func (f fields) bytes(name string, required bool) ([]byte, bool, error) {
	raw, ok := f[name]
	if !ok || string(raw) == "null" {
		if required {
			return nil, false, fmt.Errorf("%w: %s", errMissingParameter, name)
		}
		return nil, false, nil
	}
	b, err := rawString(raw)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %s must be a JSON string", errMalformedJSON, name)
	}
	return b, true, nil
}

// rawString returns the UTF-8 bytes of the valid JSON string raw, which
// alias raw when the string has no escapes (see fields.bytes).
func rawString(raw []byte) ([]byte, error) {
	if len(raw) < 2 || raw[0] != '"' {
		return nil, errMalformedJSON
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		// The body was validated: without escapes the text between the
		// quotes is the string.
		return raw[1 : len(raw)-1 : len(raw)-1], nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, errMalformedJSON
	}
	return []byte(s), nil
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
