package compat

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/signer/algorithm"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2/model"

	kmsdauth "github.com/kmsd/kmsd/internal/auth"
)

// gatewayMessage returns the error_msg of a gateway error body.
func gatewayMessage(t *testing.T, body []byte) string {
	t.Helper()
	var m struct {
		Msg string `json:"error_msg"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("error body %q: %v", body, err)
	}
	return m.Msg
}

// TestWrongCredentials checks that a wrong SK, an unknown AK and a disabled
// AK or user all answer 401 APIGW.0301 with the same message, so nothing
// says which part was wrong (reference auth.md §3.4).
func TestWrongCredentials(t *testing.T) {
	e := start(t)
	wrongSK := "WrongSecretKey00000000000000000000000001"
	addSecret(wrongSK)

	_, err := e.client(e.ids.AdminAK, wrongSK, e.ids.ProjectID).ShowUserInstances(&model.ShowUserInstancesRequest{})
	wantError(t, err, 401, "APIGW.0301")
	wrongSKMsg := sdkError(t, err).ErrorMessage

	_, err = e.client("KMSDUNKNOWNAK0000001", e.ids.AdminSK, e.ids.ProjectID).ShowUserInstances(&model.ShowUserInstancesRequest{})
	wantError(t, err, 401, "APIGW.0301")
	if got := sdkError(t, err).ErrorMessage; got != wrongSKMsg {
		t.Errorf("unknown AK: got message %q, want the wrong-SK message %q", got, wrongSKMsg)
	}

	// The admin's SK under the reader's AK is a wrong SK for a valid AK.
	_, err = e.client(e.ids.ReaderAK, e.ids.AdminSK, e.ids.ProjectID).ShowUserInstances(&model.ShowUserInstancesRequest{})
	wantError(t, err, 401, "APIGW.0301")

	t.Run("disabled access key", func(t *testing.T) {
		r := e.reader()
		instances(t, r) // the identity is now cached
		if err := e.srv.IAM.SetAccessKeyDisabled(t.Context(), e.ids.ReaderAK, true); err != nil {
			t.Fatal(err)
		}
		_, err := r.ShowUserInstances(&model.ShowUserInstancesRequest{})
		wantError(t, err, 401, "APIGW.0301")
		if got := sdkError(t, err).ErrorMessage; got != wrongSKMsg {
			t.Errorf("got message %q, want the wrong-SK message %q", got, wrongSKMsg)
		}
		if err := e.srv.IAM.SetAccessKeyDisabled(t.Context(), e.ids.ReaderAK, false); err != nil {
			t.Fatal(err)
		}
		instances(t, r)
	})
	t.Run("disabled user", func(t *testing.T) {
		r := e.reader()
		instances(t, r)
		if err := e.srv.IAM.SetUserDisabled(t.Context(), e.ids.ReaderID, true); err != nil {
			t.Fatal(err)
		}
		_, err := r.ShowUserInstances(&model.ShowUserInstancesRequest{})
		wantError(t, err, 401, "APIGW.0301")
		if err := e.srv.IAM.SetUserDisabled(t.Context(), e.ids.ReaderID, false); err != nil {
			t.Fatal(err)
		}
		instances(t, r)
	})
}

// TestSignatureChecks sends raw requests whose signature must fail: a
// stale or future X-Sdk-Date, a body or signed header changed after
// signing, no credentials, a garbled Authorization header.
func TestSignatureChecks(t *testing.T) {
	e := start(t)
	id := newKey(t, e.admin())
	path := e.projectPath("describe-key")
	body := []byte(`{"key_id":"` + id + `"}` + "\n")
	ak, sk := e.ids.AdminAK, e.ids.AdminSK

	tests := []struct {
		name string
		// prepare returns the request to send.
		prepare func(t *testing.T) *http.Request
		status  int
	}{
		{"valid", func(t *testing.T) *http.Request {
			r := newRawRequest(t, e, "POST", path, body)
			signRaw(t, r, body, "", ak, sk, time.Now())
			return r
		}, 200},
		{"date 14 minutes old", func(t *testing.T) *http.Request {
			r := newRawRequest(t, e, "POST", path, body)
			signRaw(t, r, body, "", ak, sk, time.Now().Add(-14*time.Minute))
			return r
		}, 200},
		{"date 16 minutes old", func(t *testing.T) *http.Request {
			r := newRawRequest(t, e, "POST", path, body)
			signRaw(t, r, body, "", ak, sk, time.Now().Add(-16*time.Minute))
			return r
		}, 401},
		{"date 16 minutes ahead", func(t *testing.T) *http.Request {
			r := newRawRequest(t, e, "POST", path, body)
			signRaw(t, r, body, "", ak, sk, time.Now().Add(16*time.Minute))
			return r
		}, 401},
		{"date a day old", func(t *testing.T) *http.Request {
			r := newRawRequest(t, e, "POST", path, body)
			signRaw(t, r, body, "", ak, sk, time.Now().Add(-24*time.Hour))
			return r
		}, 401},
		{"body changed after signing", func(t *testing.T) *http.Request {
			other := []byte(`{"key_id":"` + unknownKeyID + `"}` + "\n")
			r := newRawRequest(t, e, "POST", path, other)
			signRaw(t, r, body, "", ak, sk, time.Now())
			return r
		}, 401},
		{"body without its trailing newline", func(t *testing.T) *http.Request {
			r := newRawRequest(t, e, "POST", path, body[:len(body)-1])
			signRaw(t, r, body, "", ak, sk, time.Now())
			return r
		}, 401},
		{"User-Agent changed after signing", func(t *testing.T) *http.Request {
			r := newRawRequest(t, e, "POST", path, body)
			signRaw(t, r, body, "", ak, sk, time.Now())
			r.Header.Set("User-Agent", sdkUserAgent+" proxy")
			return r
		}, 401},
		{"X-Sdk-Date changed after signing", func(t *testing.T) *http.Request {
			r := newRawRequest(t, e, "POST", path, body)
			signRaw(t, r, body, "", ak, sk, time.Now())
			r.Header.Set("X-Sdk-Date", time.Now().Add(-time.Minute).UTC().Format(kmsdauth.DateLayout))
			return r
		}, 401},
		{"path changed after signing", func(t *testing.T) *http.Request {
			r := newRawRequest(t, e, "POST", e.projectPath("disable-key"), body)
			signed := newRawRequest(t, e, "POST", path, body)
			signRaw(t, signed, body, "", ak, sk, time.Now())
			r.Header = signed.Header
			return r
		}, 401},
		{"no credentials", func(t *testing.T) *http.Request {
			return newRawRequest(t, e, "POST", path, body)
		}, 401},
		{"garbled Authorization", func(t *testing.T) *http.Request {
			r := newRawRequest(t, e, "POST", path, body)
			signRaw(t, r, body, "", ak, sk, time.Now())
			r.Header.Set("Authorization", "SDK-HMAC-SHA256 garbage")
			return r
		}, 401},
		{"unknown algorithm", func(t *testing.T) *http.Request {
			r := newRawRequest(t, e, "POST", path, body)
			signRaw(t, r, body, "", ak, sk, time.Now())
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=x, SignedHeaders=x-sdk-date, Signature=00")
			return r
		}, 401},
	}
	var msg string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, h, b := send(t, tt.prepare(t))
			if tt.status == 200 {
				if status != 200 {
					t.Fatalf("got status %d (%s), want 200", status, b)
				}
				return
			}
			wantRawError(t, status, h, b, tt.status, "APIGW.0301")
			// Every failure says the same.
			if m := gatewayMessage(t, b); msg == "" {
				msg = m
			} else if m != msg {
				t.Errorf("got error_msg %q, want the same as the other failures, %q", m, msg)
			}
		})
	}
	wantState(t, e.admin(), id, stateEnabled)
}

// TestReadOnlyUser checks that the read-only user may read and count keys
// but changes nothing: every change answers 403 KMS.0307, even for a key
// that does not exist.
func TestReadOnlyUser(t *testing.T) {
	e := start(t)
	id := newKey(t, e.admin())
	r := e.reader()

	t.Run("reads", func(t *testing.T) {
		if got := listedIDs(t, listKeys(t, r, model.ListKeysRequestBody{})); len(got) != 1 || got[0] != id {
			t.Errorf("got keys %v, want [%s]", got, id)
		}
		if got := val(describe(t, r, id).KeyId); got != id {
			t.Errorf("got key_id %v, want %v", got, id)
		}
		wantInstances(t, r, 1)
		if got := quotas(t, r)["CMK"]; got[0] != 1 {
			t.Errorf("got CMK used %d, want 1", got[0])
		}
	})
	writes := []struct {
		name string
		call func(id string) error
	}{
		{"CreateKey", func(string) error {
			_, err := r.CreateKey(&model.CreateKeyRequest{Body: &model.CreateKeyRequestBody{KeyAlias: newAlias()}})
			return err
		}},
		{"EnableKey", func(id string) error { _, err := enableKey(r, id); return err }},
		{"DisableKey", func(id string) error { _, err := disableKey(r, id); return err }},
		{"DeleteKey", func(id string) error { _, err := scheduleDeletion(r, id, "7"); return err }},
		{"CancelKeyDeletion", func(id string) error { _, err := cancelDeletion(r, id); return err }},
		{"UpdateKeyAlias", func(id string) error { _, err := updateAlias(r, id, newAlias()); return err }},
		{"UpdateKeyDescription", func(id string) error { _, err := updateDescription(r, id, "x"); return err }},
	}
	for _, w := range writes {
		t.Run(w.name, func(t *testing.T) {
			wantError(t, w.call(id), 403, "KMS.0307")
			wantError(t, w.call(unknownKeyID), 403, "KMS.0307")
		})
	}
	d := describe(t, e.admin(), id)
	if val(d.KeyState) != stateEnabled || val(d.ScheduledDeletionDate) != "" || val(d.KeyDescription) != "" {
		t.Errorf("the reader changed the key: state %v, deletion %q, description %q", val(d.KeyState), val(d.ScheduledDeletionDate), val(d.KeyDescription))
	}
	wantInstances(t, e.admin(), 1)
}

// TestOtherProject checks that a caller cannot address a project outside
// its account (403 KMS.0321), through the SDK and with an X-Project-Id
// header that differs from the path.
func TestOtherProject(t *testing.T) {
	e := start(t)
	for _, tt := range []struct {
		name, project string
	}{
		{"the other account's project", e.ids.Project2ID},
		{"a project that does not exist", "ffffffffffffffffffffffffffffffff"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := e.client(e.ids.AdminAK, e.ids.AdminSK, tt.project)
			_, err := c.ShowUserInstances(&model.ShowUserInstancesRequest{})
			wantError(t, err, 403, "KMS.0321")
			_, err = c.CreateKey(&model.CreateKeyRequest{Body: &model.CreateKeyRequestBody{KeyAlias: newAlias()}})
			wantError(t, err, 403, "KMS.0321")
			_, err = c.ListKeys(&model.ListKeysRequest{Body: &model.ListKeysRequestBody{}})
			wantError(t, err, 403, "KMS.0321")
		})
	}
	wantInstances(t, e.admin2(), 0)

	t.Run("X-Project-Id differs from the path", func(t *testing.T) {
		r := newRawRequest(t, e, "GET", e.projectPath("user-instances"), nil)
		r.Header.Set("X-Project-Id", e.ids.Project2ID)
		signRaw(t, r, nil, "", e.ids.AdminAK, e.ids.AdminSK, time.Now())
		status, h, b := send(t, r)
		wantRawError(t, status, h, b, 403, "KMS.0321")
	})
}

// TestRequestIDs checks that every answer, success or error, carries an
// X-Request-Id, and that two answers never share one.
func TestRequestIDs(t *testing.T) {
	e := start(t)
	seen := map[string]bool{}
	for i, call := range []struct {
		method, path, ak, sk string
		body                 []byte
	}{
		{"GET", e.projectPath("user-instances"), e.ids.AdminAK, e.ids.AdminSK, nil},
		{"GET", e.projectPath("user-instances"), e.ids.AdminAK, e.ids.AdminSK, nil},
		{"GET", e.projectPath("user-instances"), e.ids.AdminAK, "WrongSecretKey00000000000000000000000001", nil},
		{"POST", e.projectPath("describe-key"), e.ids.AdminAK, e.ids.AdminSK, []byte(`{"key_id":"` + unknownKeyID + `"}`)},
		{"POST", e.projectPath("create-key"), e.ids.ReaderAK, e.ids.ReaderSK, []byte(`{"key_alias":"x"}`)},
		{"GET", e.projectPath("no-such-operation"), e.ids.AdminAK, e.ids.AdminSK, nil},
		{"GET", "/", "", "", nil},
	} {
		var status int
		var h http.Header
		if call.ak == "" {
			status, h, _ = send(t, newRawRequest(t, e, call.method, call.path, call.body))
		} else {
			status, h, _ = rawCall(t, e, call.method, call.path, call.body, call.ak, call.sk)
		}
		rid := h.Get("X-Request-Id")
		if rid == "" || seen[rid] {
			t.Errorf("call %d (status %d): got X-Request-Id %q, want a new one", i, status, rid)
		}
		seen[rid] = true
	}
}

// TestSigningAlgorithms drives the server with every signing algorithm the
// SDK offers (reference auth.md §3.6); internal/auth verifies all of them.
func TestSigningAlgorithms(t *testing.T) {
	e := start(t)
	for _, alg := range []algorithm.SigningAlgorithm{algorithm.HmacSHA256, algorithm.HmacSM3, algorithm.EcdsaP256SHA256, algorithm.SM2SM3} {
		t.Run(string(alg), func(t *testing.T) {
			hc := config.DefaultHttpConfig().WithSigningAlgorithm(alg)
			c := e.clientWith(e.ids.AdminAK, e.ids.AdminSK, e.ids.ProjectID, hc)
			before := instances(t, c)
			// A call with a body: the payload hash is the algorithm's.
			id := newKey(t, c)
			if got := val(describe(t, c, id).KeyId); got != id {
				t.Errorf("got key_id %v, want %v", got, id)
			}
			wantInstances(t, c, before+1)

			wrongSK := "WrongSecretKey00000000000000000000000002"
			addSecret(wrongSK)
			bad := e.clientWith(e.ids.AdminAK, wrongSK, e.ids.ProjectID, config.DefaultHttpConfig().WithSigningAlgorithm(alg))
			_, err := bad.ShowUserInstances(&model.ShowUserInstancesRequest{})
			wantError(t, err, 401, "APIGW.0301")
		})
	}
}
