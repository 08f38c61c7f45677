package compat

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/signer/algorithm"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/region"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/request"
	kms "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2"
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

// TestRegionClientFindsProject builds the KMS client as Huawei's samples
// do, with a region and a credential without project id: the SDK then
// asks IAM for the project named like the region (GET /v3/projects?name=,
// reference auth.md §5) with a request signed over x-sdk-date alone, and
// uses the one project it gets. kmsd is both the IAM and the KMS endpoint.
func TestRegionClientFindsProject(t *testing.T) {
	e := start(t)
	// The SDK caches a project id by AK and region for the life of the
	// process, so each algorithm (and each run, under -count) uses a fresh
	// AK of its own.
	user, err := e.srv.IAM.CreateUser(t.Context(), e.ids.AccountID, "region-client", "", "", []string{"KMS CMKReadOnlyAccess"})
	if err != nil {
		t.Fatal(err)
	}
	for _, alg := range []algorithm.SigningAlgorithm{algorithm.HmacSHA256, algorithm.HmacSM3} {
		t.Run(string(alg), func(t *testing.T) {
			ak, sk, err := e.srv.IAM.CreateAccessKey(t.Context(), user.ID, "", "")
			if err != nil {
				t.Fatal(err)
			}
			addSecret(sk)
			tt := struct {
				alg    algorithm.SigningAlgorithm
				ak, sk string
			}{alg, ak, sk}
			cred, err := basic.NewCredentialsBuilder().WithAk(tt.ak).WithSk(tt.sk).
				WithIamEndpointOverride(e.url).SafeBuild()
			if err != nil {
				t.Fatal(err)
			}
			rec := &recorder{}
			hc, err := kms.KmsClientBuilder().WithRegion(region.NewRegion(e.ids.ProjectName, e.url)).WithCredential(cred).
				WithHttpConfig(config.DefaultHttpConfig().WithSigningAlgorithm(tt.alg).WithHttpRoundTripper(rec)).SafeBuild()
			if err != nil {
				t.Fatalf("building a region client: %v", err)
			}
			rec.mu.Lock()
			sent := slices.Clone(rec.reqs)
			rec.mu.Unlock()
			if len(sent) != 1 || sent[0].URL.Path != "/v3/projects" || sent[0].URL.Query().Get("name") != e.ids.ProjectName {
				t.Fatalf("the SDK sent %d requests, want one GET /v3/projects?name=%s", len(sent), e.ids.ProjectName)
			}
			if cred.ProjectId != e.ids.ProjectID {
				t.Errorf("the SDK found project %q, want %q", cred.ProjectId, e.ids.ProjectID)
			}
			c := kms.NewKmsClient(hc)
			if _, err := c.ShowUserInstances(&model.ShowUserInstancesRequest{}); err != nil {
				t.Fatalf("ShowUserInstances: %v", err)
			}
			if got := rec.last(t).URL.Path; got != e.projectPath("user-instances") {
				t.Errorf("the SDK called %s, want %s", got, e.projectPath("user-instances"))
			}
		})
	}
	t.Run("unknown region", func(t *testing.T) {
		cred, err := basic.NewCredentialsBuilder().WithAk(e.ids.AdminAK).WithSk(e.ids.AdminSK).
			WithIamEndpointOverride(e.url).SafeBuild()
		if err != nil {
			t.Fatal(err)
		}
		_, err = kms.KmsClientBuilder().WithRegion(region.NewRegion("xx-nowhere-1", e.url)).WithCredential(cred).SafeBuild()
		if err == nil || !strings.Contains(err.Error(), "failed to get project id") {
			t.Errorf("got %v, want the SDK's failure to find a project", err)
		}
	})
}

// TestDerivedSigning drives kmsd with the SDK's derived AK/SK signing
// (V11-HMAC-SHA256, reference auth.md §3.6), which a client opts into with
// a derived predicate, a region and a service name.
func TestDerivedSigning(t *testing.T) {
	e := start(t)
	always := func(*request.DefaultHttpRequest) bool { return true }
	newClient := func(sk string) *kms.KmsClient {
		cred, err := basic.NewCredentialsBuilder().WithAk(e.ids.AdminAK).WithSk(sk).WithProjectId(e.ids.ProjectID).
			WithDerivedPredicate(always).SafeBuild()
		if err != nil {
			t.Fatal(err)
		}
		rec := &recorder{}
		hc, err := kms.KmsClientBuilder().WithRegion(region.NewRegion(e.ids.ProjectName, e.url)).WithDerivedAuthServiceName("kms").
			WithCredential(cred).WithHttpConfig(config.DefaultHttpConfig().WithHttpRoundTripper(rec)).SafeBuild()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if t.Failed() {
				return
			}
			if got := rec.last(t).Header.Get("Authorization"); !strings.HasPrefix(got, "V11-HMAC-SHA256 Credential="+e.ids.AdminAK+"/") {
				t.Errorf("the SDK sent Authorization %q, want V11-HMAC-SHA256", got)
			}
		})
		return kms.NewKmsClient(hc)
	}
	c := newClient(e.ids.AdminSK)
	id := newKey(t, c) // a body, so the payload hash counts
	if got := val(describe(t, c, id).KeyId); got != id {
		t.Errorf("got key_id %v, want %v", got, id)
	}
	wrongSK := "WrongSecretKey00000000000000000000000004"
	addSecret(wrongSK)
	_, err := newClient(wrongSK).ShowUserInstances(&model.ShowUserInstancesRequest{})
	wantError(t, err, 401, "APIGW.0301")
}
