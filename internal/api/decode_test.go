package api

import (
	"encoding/json"
	"errors"
	"testing"
)

// TestDecodeObject checks the member splitter against encoding/json on
// tricky but valid objects, and the errors on invalid ones.
func TestDecodeObject(t *testing.T) {
	valid := []string{
		`{}`, ` { } `, `{"a":"b"}`, `{"a" : "b" , "c":1}`,
		`{"k\"ey":"v\\\"al","x":[1,{"y":"}"}],"z":{"q":"]"},"n":null,"t":true,"f":-1.5e3}`,
		`{"a":"\u00e9\n","b":"}{"}`, "{\n\t\"a\":\r\n\"b\"\n}\n", `{"a":1,"a":"dup"}`,
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
	for _, body := range []string{`{`, `{"a"}`, `[]`, `null`, `"s"`, `{"a":1}{}`, `{"a":1,}`, "{\"a\":\"\xff\"}", `{'a':1}`} {
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
	for _, s := range []string{`{}`, `{"key_id":"0d0466b0-e727-4d9c-b35d-f84bb474a37f","plain_text":"hi"}`, `{"a":[1,{"b":"]"}],"c":"\"}"}`, `[1]`, `{"a":`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := decodeObject(body)
		var want map[string]json.RawMessage
		werr := json.Unmarshal(body, &want)
		if err != nil {
			return
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
