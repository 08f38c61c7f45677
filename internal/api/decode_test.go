package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestDecodeObject checks the member splitter against encoding/json on
// tricky but valid objects, and the errors on invalid ones.
func TestDecodeObject(t *testing.T) {
	valid := []string{
		`{}`, ` { } `, `{"a":"b"}`, `{"a" : "b" , "c":1}`,
		`{"k\"ey":"v\\\"al","x":[1,{"y":"}"}],"z":{"q":"]"},"n":null,"t":true,"f":-1.5e3}`,
		`{"a":"\u00e9\n","b":"}{"}`, "{\n\t\"a\":\r\n\"b\"\n}\n", `{"a":"\ud83d\ude00"}`,
		`{"nested":{"a":{"b":[[],[{}]]}},"last":"x"}`,
	}
	for _, body := range valid {
		got, err := decodeObject([]byte(body))
		if err != nil {
			t.Errorf("%s: %v", body, err)
			continue
		}
		var want map[string]json.RawMessage
		if err := json.Unmarshal([]byte(body), &want); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Errorf("%s: got %d members, want %d", body, len(got), len(want))
		}
		for k, w := range want {
			var a, b any
			_ = json.Unmarshal(w, &a)
			if err := json.Unmarshal(got[k], &b); err != nil {
				t.Errorf("%s: member %q = %q: %v", body, k, got[k], err)
				continue
			}
			if ja, jb := mustJSON(a), mustJSON(b); ja != jb {
				t.Errorf("%s: member %q = %s, want %s", body, k, jb, ja)
			}
			if s, ok := a.(string); ok {
				if g, _, err := got.str(k, true); err != nil || g != s {
					t.Errorf("%s: str(%q) = %q, %v; want %q", body, k, g, err, s)
				}
			}
		}
	}
	for _, body := range []string{`{`, `{"a"}`, `[]`, `null`, `"s"`, `{"a":1}{}`, `{"a":1,}`, "{\"a\":\"\xff\"}", `{'a':1}`,
		`{"a":1,"a":"dup"}`, `{"a":1,"\u0061":2}`, `{"a":"A\ud800B"}`, `{"a":"\udc00"}`,
		`{"a":"\ud800\u0041"}`, `{"a":"\ud800"}`, `{"\ud800":1}`, `{"a":["\ud83d"]}`} {
		if _, err := decodeObject([]byte(body)); !errors.Is(err, errMalformedJSON) {
			t.Errorf("%q: got %v, want errMalformedJSON", body, err)
		}
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// FuzzDecodeObject checks that the splitter never panics and agrees with
// encoding/json on which bodies are objects and on every member.
func FuzzDecodeObject(f *testing.F) {
	for _, s := range []string{`{}`, `{"key_id":"0d0466b0-e727-4d9c-b35d-f84bb474a37f","plain_text":"hi"}`, `{"a":[1,{"b":"]"}],"c":"\"}"}`, `[1]`, `{"a":`,
		`{"a":1,"a":2}`, `{"a":1,"\u0061":2}`, `{"a":"\ud800"}`, `{"a":"\ud83d\ude00"}`, `{"a":"\\ud800"}`, `{"\udc00":1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := decodeObject(body)
		var want map[string]json.RawMessage
		werr := json.Unmarshal(body, &want)
		if err != nil {
			return
		}
		if len(got) != len(want) {
			t.Fatalf("%q: accepted with %d members, encoding/json sees %d distinct ones", body, len(got), len(want))
		}
		if bytes.Contains(body, []byte(`\u`)) && !noLoneSurrogate(body) {
			t.Fatalf("%q: accepted with an escaped lone surrogate", body)
		}
		if werr != nil && len(body) > 0 && want == nil && len(got) > 0 {
			t.Fatalf("%q: accepted, encoding/json says %v", body, werr)
		}
		for k, w := range want {
			var a, b any
			_ = json.Unmarshal(w, &a)
			if err := json.Unmarshal(got[k], &b); err != nil || mustJSON(a) != mustJSON(b) {
				t.Fatalf("%q: member %q = %q, want %q", body, k, got[k], w)
			}
		}
	})
}

// FuzzValidJSON checks validJSON against json.Valid, whose verdict it
// must reproduce exactly.
func FuzzValidJSON(f *testing.F) {
	for _, s := range []string{
		``, ` `, `{}`, `[]`, `{"a":1}`, `[1,2]`, `{"a":[1,{"b":"]"}],"c":"\"}"}`, `"s"`, `"\u00e9\n\/\b\f\r\t\\\""`,
		`"\u00g0"`, `"\x"`, "\"\x01\"", "\"\xff\"", `true`, `false`, `null`, `tru`, `nulll`, `0`, `-0`, `01`, `-`,
		`1.`, `1.5`, `1e`, `1e+`, `1E-5`, `-12.5e+30`, `.5`, `+1`, `[1,]`, `{"a":1,}`, `{"a"}`, `{"a":}`, `{1:2}`,
		`[1 2]`, `{"a":1 "b":2}`, ` [ 1 , { "a" : [ ] } ] `, "[\n\t\r 1]", `[}`, `{]`, `]`, `[[[]]]`, `[[[]]`,
		`{"k":"v"}{}`, `1 2`, `"unterminated`, `"\`, `"\u12`, `[` + strings.Repeat(`[`, 40) + strings.Repeat(`]`, 41),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := validJSON(b), json.Valid(b); got != want {
			t.Fatalf("validJSON(%q) = %v, json.Valid says %v", b, got, want)
		}
	})
}

// TestValidJSONDepth checks encoding/json's nesting limit at its edge.
func TestValidJSONDepth(t *testing.T) {
	for _, depth := range []int{maxNestingDepth - 1, maxNestingDepth, maxNestingDepth + 1} {
		for _, v := range []string{
			strings.Repeat("[", depth) + strings.Repeat("]", depth),
			strings.Repeat(`{"a":`, depth-1) + "{}" + strings.Repeat("}", depth-1),
		} {
			if got, want := validJSON([]byte(v)), json.Valid([]byte(v)); got != want {
				t.Errorf("depth %d %.10s…: validJSON %v, json.Valid %v", depth, v, got, want)
			}
		}
	}
}

// noLoneSurrogate reports whether no string of the valid JSON text b
// decodes to a U+FFFD that b does not spell out itself: encoding/json
// turns an escaped lone surrogate into one.
func noLoneSurrogate(b []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := dec.Token()
		if err != nil {
			return true
		}
		s, ok := tok.(string)
		if ok && strings.ContainsRune(s, utf8.RuneError) && !bytes.ContainsRune(b, utf8.RuneError) && !bytes.Contains(bytes.ToLower(b), []byte(`\ufffd`)) {
			return false
		}
	}
}

// FuzzRequestDecode decodes arbitrary bodies with the request plan of
// every operation: it never panics, and a body it refuses gets one of the
// decoder's documented errors.
func FuzzRequestDecode(f *testing.F) {
	for _, s := range []string{
		`{"key_id":"0d0466b0-e727-4d9c-b35d-f84bb474a37f","plain_text":"hi"}`, `{"limit":5,"marker":"0"}`, `{"limit":"05"}`,
		`{"limit":1.5}`, `{"tags":[{"key":"k","values":["v",null]}],"matches":[null]}`, `{"tag":{"key":"a","key":"b"}}`,
		`{"rotation_interval":99999999999}`, `{"with_plain_text":false,"recipient":{}}`, `{"operations":[]}`, `{"sequence":"x"}`,
	} {
		f.Add([]byte(s))
	}
	var plans []*requestPlan
	for _, rt := range routeTable() {
		if rt.handler != nil && rt.handler.plan != nil {
			plans = append(plans, rt.handler.plan)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fs, err := decodeObject(body)
		if err != nil {
			return
		}
		for _, p := range plans {
			req, err := p.decode(fs)
			if err == nil {
				p.keys(reflect.ValueOf(req).Elem(), nil)
				continue
			}
			if !errors.Is(err, errMalformedJSON) && !errors.Is(err, errMissingParameter) && !errors.Is(err, errInvalidSequence) {
				if _, mapped := lookupError(err); !mapped {
					t.Fatalf("%s %q: unmapped error %v", p.typ, body, err)
				}
			}
		}
	})
}
