package server

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"

	"github.com/kmsd/kmsd/internal/region"
)

// regionPeers builds the client of the peer regions and makes the TLS
// listener ask for peers' client certificates; nil without peers.
func (s *Server) regionPeers() (*region.Client, error) {
	rg := s.cfg.Regions
	if len(rg.Peers) == 0 {
		return nil, nil
	}
	pem, err := os.ReadFile(rg.CAFile)
	if err != nil {
		return nil, fmt.Errorf("regions.ca_file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("regions.ca_file %s holds no PEM certificate", rg.CAFile)
	}
	cert, err := tls.LoadX509KeyPair(rg.CertFile, rg.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("regions: cert_file/key_file: %w", err)
	}
	if s.tls == nil {
		return nil, fmt.Errorf("regions: peers need tls")
	}
	// Clients of the KMS API send no certificate; a peer's is verified.
	s.tls.ClientAuth = tls.VerifyClientCertIfGiven
	s.tls.ClientCAs = pool
	peers := make([]region.Peer, len(rg.Peers))
	for i, p := range rg.Peers {
		peers[i] = region.Peer{Region: p.Region, Endpoint: p.Endpoint}
	}
	return region.NewClient(peers, &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool, MinVersion: tls.VersionTLS12}), nil
}
