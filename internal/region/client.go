package region

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/kmsd/kmsd/internal/kms"
)

// Peer is one other region's kmsd cluster.
type Peer struct {
	Region   string
	Endpoint string // https://host:port, the peer's KMS endpoint
}

// Client reaches the peer regions; it implements kms.Peers.
type Client struct {
	peers []Peer
	http  *http.Client
}

// requestTimeout bounds one peer call.
const requestTimeout = 30 * time.Second

// NewClient returns a client that presents the identity of tlsConfig
// (Certificates, RootCAs of the peers' CA) to peers.
func NewClient(peers []Peer, tlsConfig *tls.Config) *Client {
	tr := &http.Transport{TLSClientConfig: tlsConfig, ForceAttemptHTTP2: false, MaxIdleConnsPerHost: 4}
	return &Client{peers: peers, http: &http.Client{Transport: tr, Timeout: requestTimeout}}
}

// Regions are the peer regions.
func (c *Client) Regions() []string {
	out := make([]string, len(c.peers))
	for i, p := range c.peers {
		out[i] = p.Region
	}
	return out
}

func (c *Client) peer(region string) (Peer, error) {
	i := slices.IndexFunc(c.peers, func(p Peer) bool { return p.Region == region })
	if i < 0 {
		return Peer{}, fmt.Errorf("%w: %q is not a peer region", kms.ErrRegion, region)
	}
	return c.peers[i], nil
}

// call sends one request to region and decodes its answer into out.
func (c *Client) call(ctx context.Context, region, method, path string, in, out any) error {
	p, err := c.peer(region)
	if err != nil {
		return err
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, p.Endpoint+prefix+path, body)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", kms.ErrRegionUnavailable, region, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %s at %s: %v", kms.ErrRegionUnavailable, region, p.Endpoint, err)
	}
	defer resp.Body.Close()
	if resp.TLS == nil || len(resp.TLS.PeerCertificates) == 0 {
		return fmt.Errorf("%w: %s at %s answered without TLS", kms.ErrRegionUnavailable, region, p.Endpoint)
	}
	if _, ok := certRegion(resp.TLS.PeerCertificates[0], []string{region}); !ok {
		return fmt.Errorf("%w: the server at %s does not present region %s's certificate", kms.ErrRegionUnavailable, p.Endpoint, region)
	}
	if resp.StatusCode != http.StatusOK {
		var we wireError
		if resp.StatusCode >= 400 && resp.StatusCode < 500 && decode(resp.Body, &we) == nil {
			if kind, ok := errorOf(we.Error); ok {
				return fmt.Errorf("%w: region %s: %s", kind, region, we.Message)
			}
		}
		return fmt.Errorf("%w: %s answered %s", kms.ErrRegionUnavailable, region, resp.Status)
	}
	if err := decode(resp.Body, out); err != nil {
		return fmt.Errorf("%w: %s: answer: %v", kms.ErrRegionUnavailable, region, err)
	}
	return nil
}

// TransportKey implements kms.Peers.
func (c *Client) TransportKey(ctx context.Context, region string) ([]byte, error) {
	var tk transportKey
	if err := c.call(ctx, region, http.MethodGet, "transport-key", nil, &tk); err != nil {
		return nil, err
	}
	if tk.Region != region {
		return nil, fmt.Errorf("%w: %s says it is region %q", kms.ErrRegionUnavailable, region, tk.Region)
	}
	return tk.PublicKey, nil
}

// CreateReplica implements kms.Peers.
func (c *Client) CreateReplica(ctx context.Context, region string, r kms.Replica) (kms.ReplicaResult, error) {
	var res kms.ReplicaResult
	err := c.call(ctx, region, http.MethodPost, "replicas", r, &res)
	return res, err
}

// SetPrimary implements kms.Peers.
func (c *Client) SetPrimary(ctx context.Context, region string, p kms.PrimaryUpdate) error {
	return c.call(ctx, region, http.MethodPost, "primary", p, &struct{}{})
}

// DeleteReplica implements kms.Peers.
func (c *Client) DeleteReplica(ctx context.Context, region, projectID, keyID string) error {
	return c.call(ctx, region, http.MethodDelete, "replicas/"+url.PathEscape(projectID)+"/"+url.PathEscape(keyID), nil, &struct{}{})
}
