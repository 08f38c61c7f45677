// Command showuserinstances is Huawei's "Querying the Instance Quantity"
// Go sample (shared/seeds) with one change: the client is pointed at a
// kmsd endpoint instead of a Huawei region. (The published sample also
// forgets to import "os"; that import is added.) Run it against a dev
// server:
//
//	go run ./cmd/kmsd serve --dev &
//	. .kmsd-dev/dev.env
//	cd test/compat && go run ./examples/showuserinstances
package main

import (
	"fmt"
	"os"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	kms "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2/model"
)

func main() {
	// The AK and SK used for authentication are hard-coded or stored in plaintext, which has great security risks. It is recommended that the AK and SK be stored in ciphertext in configuration files or environment variables and decrypted during use to ensure security.
	// In this example, AK and SK are stored in environment variables for authentication. Before running this example, set environment variables CLOUD_SDK_AK and CLOUD_SDK_SK in the local environment
	ak := os.Getenv("CLOUD_SDK_AK")
	sk := os.Getenv("CLOUD_SDK_SK")
	projectId := "{project_id}"

	auth, err := basic.NewCredentialsBuilder().
		WithAk(ak).
		WithSk(sk).
		WithProjectId(projectId).
		SafeBuild()

	if err != nil {
		fmt.Println(err)
		return
	}

	hcClient, err := kms.KmsClientBuilder().
		WithEndpoints([]string{os.Getenv("KMSD_ENDPOINT")}). // the only change: kmsd instead of a Huawei region
		WithCredential(auth).
		SafeBuild()

	if err != nil {
		fmt.Println(err)
		return
	}

	client := kms.NewKmsClient(hcClient)

	request := &model.ShowUserInstancesRequest{}
	response, err := client.ShowUserInstances(request)
	if err == nil {
		fmt.Printf("%+v\n", response)
	} else {
		fmt.Println(err)
	}
}
