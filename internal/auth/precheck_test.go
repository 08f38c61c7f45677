package auth

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"
)

// dirOne is a Directory of one access key of one user in one project; it
// counts its access-key lookups.
type dirOne struct{ lookups int }

func (d *dirOne) AccessKey(_ context.Context, ak string) ([]byte, Identity, error) {
	d.lookups++
	if ak != "AK1" {
		return nil, Identity{}, ErrUnauthenticated
	}
	return []byte("secret-1"), Identity{UserID: "u1", AccountID: "a1"}, nil
}

func (d *dirOne) User(context.Context, string) (Identity, error) {
	return Identity{}, ErrUnauthenticated
}

func (d *dirOne) Projects(context.Context, string) ([]Project, error) {
	return []Project{{ID: "p1"}}, nil
}

// TestAuthenticatePrechecked: after PrecheckSigned, authentication looks
// the key up no second time, and still checks the signature over the body
// (a body changed after the precheck fails) and the project.
func TestAuthenticatePrechecked(t *testing.T) {
	now := time.Now()
	body := []byte(`{"key_id":"k"}`)
	signed := func(ak string) *http.Request {
		r := httptest.NewRequest("POST", "https://kms.example/v1.0/p1/kms/encrypt-data", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		if err := SignRequest(r, body, AlgHMACSHA256, ak, "secret-1", now); err != nil {
			t.Fatal(err)
		}
		return r
	}
	d := &dirOne{}
	a := NewAuthenticator(d, nil)
	a.Now = func() time.Time { return now }

	r := signed("AK1")
	var pre Prechecked
	if err := a.PrecheckSigned(t.Context(), r, &pre); err != nil {
		t.Fatal(err)
	}
	p, err := a.AuthenticatePrechecked(t.Context(), &pre, r, body, "p1", true)
	pre.Release()
	if err != nil || p.UserID != "u1" || p.ProjectID != "p1" {
		t.Fatalf("got %+v, %v", p, err)
	}
	if d.lookups != 1 {
		t.Errorf("%d access-key lookups, want 1", d.lookups)
	}
	want, werr := a.Authenticate(t.Context(), r, body, "p1", true)
	if werr != nil || !reflect.DeepEqual(want, p) {
		t.Errorf("Authenticate: %+v, %v; prechecked %+v", want, werr, p)
	}

	for _, tc := range []struct {
		name    string
		body    []byte
		project string
		want    error
	}{
		{"body changed after the precheck", []byte(`{"key_id":"x"}`), "p1", ErrUnauthenticated},
		{"another project", body, "p2", ErrProjectMismatch},
	} {
		r := signed("AK1")
		var pre Prechecked
		if err := a.PrecheckSigned(t.Context(), r, &pre); err != nil {
			t.Fatal(err)
		}
		_, err := a.AuthenticatePrechecked(t.Context(), &pre, r, tc.body, tc.project, true)
		pre.Release()
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}

	// A refused precheck leaves nothing to reuse.
	var bad Prechecked
	if err := a.PrecheckSigned(t.Context(), signed("AK2"), &bad); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("unknown key: %v", err)
	}
	if bad.v != nil {
		t.Error("a refused precheck kept a verifier")
	}
	bad.Release()
}
