package compat

import (
	"strconv"
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2/model"

	kmsdconfig "github.com/kmsd/kmsd/internal/config"
)

// TestThrottle turns the rate limits on with a small management burst:
// the SDK sees Huawei's 429 APIGW.0308 once the burst is spent, with a
// Retry-After header; crypto operations, another class, and another
// user's calls are not limited by it.
func TestThrottle(t *testing.T) {
	if clusterMode() {
		t.Skip("rate limits are per node (docs/operations.md); the proxy spreads the requests over two nodes")
	}
	e := start(t, envOptions{configure: func(c *kmsdconfig.Config) {
		c.Throttle.Enabled = true
		c.Throttle.Management = kmsdconfig.Rate{UserRPS: 0.001, ProjectRPS: 0, Burst: 2}
	}})
	c := e.admin()
	var keyID string
	for i := range 2 {
		resp, err := c.CreateKey(&model.CreateKeyRequest{Body: &model.CreateKeyRequestBody{KeyAlias: "throttle-" + strconv.Itoa(i)}})
		if err != nil {
			t.Fatalf("create-key %d within the burst: %v", i, err)
		}
		keyID = *resp.KeyInfo.KeyId
	}
	_, err := c.CreateKey(&model.CreateKeyRequest{Body: &model.CreateKeyRequestBody{KeyAlias: "throttle-2"}})
	wantError(t, err, 429, "APIGW.0308")
	status, h, _ := rawCall(t, e, "POST", e.projectPath("create-key"), []byte(`{"key_alias":"throttle-3"}`), e.ids.AdminAK, e.ids.AdminSK)
	if ra, _ := strconv.Atoi(h.Get("Retry-After")); status != 429 || ra < 1 {
		t.Errorf("raw create-key over the limit: %d, Retry-After %q", status, h.Get("Retry-After"))
	}
	// Crypto is another class.
	encryptData(t, c, keyID, "throttled-class", nil)
	// Another user (another account) has its own bucket.
	if _, err := e.admin2().CreateKey(&model.CreateKeyRequest{Body: &model.CreateKeyRequestBody{KeyAlias: "throttle-other"}}); err != nil {
		t.Errorf("another user's create-key: %v", err)
	}
}
