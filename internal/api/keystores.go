package api

import (
	"fmt"
	"strconv"

	"github.com/kmsd/kmsd/internal/kms"
)

// Dedicated keystores (reference kms-api.md §5.L).

// Keystore list bounds: Huawei's default page is 10; kmsd caps a page at
// 1000.
const (
	defaultKeystoreLimit = 10
	maxKeystoreLimit     = 1000
)

type keystoreInfo struct {
	KeystoreID string `json:"keystore_id"`
	DomainID   string `json:"domain_id"`
}

type keystoreDetails struct {
	KeystoreID    string `json:"keystore_id"`
	DomainID      string `json:"domain_id"`
	KeystoreAlias string `json:"keystore_alias"`
	KeystoreType  string `json:"keystore_type"`
	HSMClusterID  string `json:"hsm_cluster_id"`
	ClusterID     string `json:"cluster_id"`
	CreateTime    string `json:"create_time"`
}

type keystoreStateInfo struct {
	KeystoreID    string `json:"keystore_id"`
	KeystoreState string `json:"keystore_state"`
}

func detailsOf(k kms.Keystore) keystoreDetails {
	return keystoreDetails{
		KeystoreID: k.ID, DomainID: k.AccountID, KeystoreAlias: k.Alias, KeystoreType: k.Type,
		HSMClusterID: k.HSMClusterID, ClusterID: k.ClusterID, CreateTime: strconv.FormatInt(k.CreatedAt.UnixMilli(), 10),
	}
}

// keystoreWireState is Huawei's digit of a keystore state
// (KeyStoreStateInfo: "2" enabled, "3" disabled).
func keystoreWireState(s kms.KeystoreState) string {
	if s == kms.KeystoreDisabled {
		return "3"
	}
	return "2"
}

// createKeyStoreRequest is CreateKeyStoreRequestBody. hsm_ca_cert names
// the CA of a cloud DHSM cluster; kmsd reaches its tokens through the
// configured PKCS#11 module, so it is only typed.
type createKeyStoreRequest struct {
	KeystoreAlias string `json:"keystore_alias" kms:"req"`
	HSMClusterID  string `json:"hsm_cluster_id"`
	HSMCACert     string `json:"hsm_ca_cert"`
	ClusterID     string `json:"cluster_id"`
	KeystoreType  string `json:"keystore_type"`
}

func (h *Handler) createKeyStore(c *call, r *createKeyStoreRequest) (any, error) {
	k, err := h.kms.CreateKeystore(c.ctx, kms.CreateKeystoreInput{
		ProjectID: c.project(), AccountID: c.principal.AccountID, Alias: r.KeystoreAlias,
		Type: r.KeystoreType, HSMClusterID: r.HSMClusterID, ClusterID: r.ClusterID,
	})
	if err != nil {
		return nil, err
	}
	return map[string]keystoreInfo{"keystore": {KeystoreID: k.ID, DomainID: k.AccountID}}, nil
}

type listKeystoresResponse struct {
	Total     int               `json:"total"`
	Keystores []keystoreDetails `json:"keystores"`
}

// pageQuery reads the limit and offset query parameters of
// list-keystores and list-support-regions: limit 1–max (def when absent,
// else KMS.1601), offset ≥ 0 (KMS.0417).
func pageQuery(c *call, def, max int) (limit, offset int, err error) {
	q := c.r.URL.Query()
	limit = def
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > max {
			return 0, 0, fmt.Errorf("%w: limit %q, want 1–%d", kms.ErrInvalidLimit, s, max)
		}
		limit = n
	}
	if s := q.Get("offset"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return 0, 0, fmt.Errorf("%w: offset %q", kms.ErrInvalidOffset, s)
		}
		offset = n
	}
	return limit, offset, nil
}

func (h *Handler) listKeyStores(c *call) (any, error) {
	limit, offset, err := pageQuery(c, defaultKeystoreLimit, maxKeystoreLimit)
	if err != nil {
		return nil, err
	}
	ks, total, err := h.kms.ListKeystores(c.ctx, c.project(), offset, limit)
	if err != nil {
		return nil, err
	}
	out := listKeystoresResponse{Total: total, Keystores: make([]keystoreDetails, len(ks))}
	for i, k := range ks {
		out.Keystores[i] = detailsOf(k)
	}
	return out, nil
}

func (h *Handler) showKeyStore(c *call) (any, error) {
	k, err := h.kms.ShowKeystore(c.ctx, c.project(), c.params["keystore_id"])
	if err != nil {
		return nil, err
	}
	return map[string]keystoreDetails{"keystore": detailsOf(k)}, nil
}

func (h *Handler) enableKeyStore(c *call) (any, error) {
	return h.setKeyStoreState(c, kms.KeystoreEnabled)
}

func (h *Handler) disableKeyStore(c *call) (any, error) {
	return h.setKeyStoreState(c, kms.KeystoreDisabled)
}

func (h *Handler) setKeyStoreState(c *call, st kms.KeystoreState) (any, error) {
	k, err := h.kms.SetKeystoreState(c.ctx, c.project(), c.params["keystore_id"], st)
	if err != nil {
		return nil, err
	}
	return map[string]keystoreStateInfo{"keystore": {KeystoreID: k.ID, KeystoreState: keystoreWireState(k.State)}}, nil
}

func (h *Handler) deleteKeyStore(c *call) (any, error) {
	if err := h.kms.DeleteKeystore(c.ctx, c.project(), c.params["keystore_id"]); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}
