package api

// Request types of the operations that are not built yet (they answer
// 501): declared so that the route table says what each takes and the
// SDK parity test (test/compat TestRequestSchemaMatchesSDK) covers them.

// replicateKeyRequest is ReplicateKeyRequestBody.
type replicateKeyRequest struct {
	KeyID               string           `json:"key_id"`
	ReplicaRegion       string           `json:"replica_region"`
	KeyAlias            string           `json:"key_alias"`
	KeyDescription      string           `json:"key_description"`
	EnterpriseProjectID string           `json:"enterprise_project_id"`
	ReplicaProjectID    string           `json:"replica_project_id"`
	Tags                []tagItemRequest `json:"tags"`
}

// updatePrimaryRegionRequest is UpdatePrimaryRegionRequestBody.
type updatePrimaryRegionRequest struct {
	KeyID         string `json:"key_id"`
	PrimaryRegion string `json:"primary_region"`
}
