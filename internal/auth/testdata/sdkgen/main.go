// Command sdkgen captures requests signed by the official Huawei Cloud Go
// SDK (github.com/huaweicloud/huaweicloud-sdk-go-v3 v0.1.207) as raw HTTP
// and prints them as JSON known-answer vectors for package auth.
//
// It is not built with kmsd (testdata is ignored by the go tool). To
// regenerate sdk_vectors.json, copy it into a scratch module outside the
// repository:
//
//	go mod init sdkgen
//	go get github.com/huaweicloud/huaweicloud-sdk-go-v3@v0.1.207
//	go mod tidy
//	go run . > sdk_vectors.json
//
// The asymmetric signatures (ECDSA, SM2) are randomized, so a regenerated
// file differs from the committed one in those signatures only.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"os"
	"reflect"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/signer"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/signer/algorithm"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/region"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/request"
	kms "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2/model"
)

type vector struct {
	Name    string `json:"name"`
	AK      string `json:"ak"`
	SK      string `json:"sk"`
	Now     string `json:"now"`
	Request string `json:"request"`
}

const (
	ak, sk, projectID = "AKTEST", "SKTEST", "0123456789abcdef0123456789abcdef"
	date              = "20240101T000000Z"
	keyID             = "0d0466b0-e727-4d9c-b35d-f84bb474a37f"
)

func main() {
	var captured []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := httputil.DumpRequest(r, true)
		if err != nil {
			log.Fatal(err)
		}
		// The host is not signed; normalize it so the file is stable.
		captured = bytes.Replace(b, []byte("Host: "+r.Host+"\r\n"), []byte("Host: kmsd.test\r\n"), 1)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Request-Id", "r")
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte(`{"error":{"error_code":"KMS.0101","error_msg":"KMS error."}}`))
	}))
	defer srv.Close()

	var out []vector
	add := func(name string) {
		if captured == nil {
			log.Fatalf("%s: nothing captured", name)
		}
		out = append(out, vector{Name: name, AK: ak, SK: sk, Now: date, Request: string(captured)})
		captured = nil
	}
	algs := []struct {
		name    string
		alg     algorithm.SigningAlgorithm
		derived bool
	}{
		{"SDK-HMAC-SHA256", algorithm.HmacSHA256, false},
		{"SDK-HMAC-SM3", algorithm.HmacSM3, false},
		{"SDK-ECDSA-P256-SHA256", algorithm.EcdsaP256SHA256, false},
		{"SDK-SM2-SM3", algorithm.SM2SM3, false},
		{"V11-HMAC-SHA256", algorithm.HmacSHA256, true},
	}
	dateHeader := map[string]string{"X-Sdk-Date": date}
	for _, a := range algs {
		// Requests made by the KMS client.
		cb := basic.NewCredentialsBuilder().WithAk(ak).WithSk(sk).WithProjectId(projectID)
		if a.derived {
			cb = cb.WithDerivedPredicate(func(*request.DefaultHttpRequest) bool { return true })
		}
		b := kms.KmsClientBuilder().WithCredential(cb.Build()).
			WithHttpConfig(config.DefaultHttpConfig().WithUserAgent("vector").WithSigningAlgorithm(a.alg))
		if a.derived {
			b = b.WithRegion(region.NewRegion("cn-north-4", srv.URL)).WithDerivedAuthServiceName("kms")
		} else {
			b = b.WithEndpoint(srv.URL)
		}
		c := kms.NewKmsClient(b.Build())

		c.ListKeyDetailInvoker(&model.ListKeyDetailRequest{Body: &model.OperateKeyRequestBody{KeyId: keyID}}).AddHeader(dateHeader).Invoke()
		add(a.name + "/ListKeyDetail")
		limit, marker, kid := "2", "a b+c/é~_-.*=", keyID
		c.ListAliasesInvoker(&model.ListAliasesRequest{Limit: &limit, Marker: &marker, KeyId: &kid}).AddHeader(dateHeader).Invoke()
		add(a.name + "/ListAliases")
		c.DeleteTagInvoker(&model.DeleteTagRequest{KeyId: keyID, Key: "tag é+x;y"}).AddHeader(dateHeader).Invoke()
		add(a.name + "/DeleteTag")

		// A non-JSON body signed by the core signer: the SDK adds
		// X-Sdk-Content-Sha256 (or -Sm3): UNSIGNED-PAYLOAD.
		req := request.NewHttpRequestBuilder().WithEndpoint(srv.URL).WithMethod("PUT").
			WithPath("/v1/object/a b").AddQueryParam("empty", reflect.ValueOf("")).AddQueryParam("x", reflect.ValueOf("2")).AddQueryParam("a", reflect.ValueOf([]string{"1", "0 +"})).
			AddHeaderParam("Content-Type", "application/octet-stream").AddHeaderParam("X-Sdk-Date", date).
			AddHeaderParam("X_Not_Signed", "u").AddHeaderParam("X-Custom", "  padded value  ").
			WithBody("", "raw body bytes").WithSigningAlgorithm(a.alg).Build()
		var hs map[string]string
		var err error
		if a.derived {
			hs, err = signer.GetDerivedSigner().Sign(req, ak, sk, "kms", "cn-north-4")
		} else {
			var s signer.IAKSKSigner
			if s, err = signer.GetSigner(a.alg); err == nil {
				hs, err = s.Sign(req, ak, sk)
			}
		}
		if err != nil {
			log.Fatal(err)
		}
		for k, v := range hs {
			req.AddHeaderParam(k, v)
		}
		hr, err := req.ConvertRequest()
		if err != nil {
			log.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(hr)
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
		add(a.name + "/UnsignedPayload")
	}

	// Temporary credentials: X-Security-Token is signed.
	cred := basic.NewCredentialsBuilder().WithAk(ak).WithSk(sk).WithProjectId(projectID).WithSecurityToken("sts-token").Build()
	c := kms.NewKmsClient(kms.KmsClientBuilder().WithCredential(cred).WithEndpoint(srv.URL).
		WithHttpConfig(config.DefaultHttpConfig().WithUserAgent("vector")).Build())
	c.ListKeyDetailInvoker(&model.ListKeyDetailRequest{Body: &model.OperateKeyRequestBody{KeyId: keyID}}).
		AddHeader(map[string]string{"X-Sdk-Date": date, "X-Trace_Id": "skip", "X-Extra": "kept"}).Invoke()
	add("SDK-HMAC-SHA256/SecurityToken")

	e := json.NewEncoder(os.Stdout)
	e.SetIndent("", "  ")
	if err := e.Encode(out); err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "%d vectors\n", len(out))
}
