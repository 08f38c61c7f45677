package region

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/kmsd/kmsd/internal/kms"
)

func TestDecodeStrict(t *testing.T) {
	var r kms.Replica
	for _, body := range []string{`{"key_id":"x","surprise":1}`, `{"key_id":"x"} {}`, `[`, strings.Repeat(" ", maxBody+1)} {
		if err := decode(strings.NewReader(body), &r); err == nil {
			t.Errorf("decode(%.40q) accepted it", body)
		}
	}
	if err := decode(strings.NewReader(`{"key_id":"x","versions":[{"version":1,"sealed":"AQI="}]}`), &r); err != nil || r.Versions[0].Sealed[1] != 2 {
		t.Errorf("decode of a valid replica: %v, %+v", err, r)
	}
}

func TestErrorKinds(t *testing.T) {
	for _, k := range errorKinds {
		name, ok := kindOf(k.err)
		back, ok2 := errorOf(name)
		if !ok || !ok2 || back != k.err || name != k.name {
			t.Errorf("kind %s does not round-trip: %s %v", k.name, name, back)
		}
	}
}

// FuzzDecodeReplica checks that whatever a replica body holds, decoding it
// never panics, and that what decodes encodes and decodes to the same.
func FuzzDecodeReplica(f *testing.F) {
	for _, s := range []string{
		`{"source_region":"a","primary_region":"a","material_project_id":"p","project_id":"q","key_id":"k","key_alias":"x","key_spec":"AES_256","key_usage":"ENCRYPT_DECRYPT","primary_version":1,"versions":[{"version":1,"sealed":"AQI="}],"tags":[{"Key":"a","Value":"b"}]}`,
		`{}`, `{"versions":null}`, `{"key_id":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var r kms.Replica
		if decode(bytes.NewReader(b), &r) != nil {
			return
		}
		enc, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var again kms.Replica
		if err := decode(bytes.NewReader(enc), &again); err != nil {
			t.Fatalf("re-decode of %s: %v", enc, err)
		}
		if !reflect.DeepEqual(normal(r), normal(again)) {
			t.Errorf("round trip changed %+v into %+v", r, again)
		}
	})
}

// normal makes empty and nil slices alike for comparison.
func normal(r kms.Replica) kms.Replica {
	if len(r.Versions) == 0 {
		r.Versions = nil
	}
	if len(r.Tags) == 0 {
		r.Tags = nil
	}
	for i := range r.Versions {
		if len(r.Versions[i].Sealed) == 0 {
			r.Versions[i].Sealed = nil
		}
	}
	return r
}
