package compat

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	kms "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/kms/v2/model"

	kmsdconfig "github.com/kmsd/kmsd/internal/config"
)

// regionCA issues the test regions' certificates: each names its region
// as common name and 127.0.0.1 as its address, for server and client use.
type regionCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	dir  string
	path string
}

func newRegionCA(t *testing.T) *regionCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kmsd test regions CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	dir := t.TempDir()
	ca := &regionCA{cert: cert, key: key, dir: dir, path: filepath.Join(dir, "ca.crt")}
	writePEM(t, ca.path, "CERTIFICATE", der)
	return ca
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// issue writes a certificate and key for region and returns their paths.
func (ca *regionCA) issue(t *testing.T, region string, serial int64) (string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: region},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		KeyUsage:    x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath := filepath.Join(ca.dir, region+".crt"), filepath.Join(ca.dir, region+".key")
	writePEM(t, certPath, "CERTIFICATE", der)
	writePEM(t, keyPath, "PRIVATE KEY", kder)
	return certPath, keyPath
}

// startRegions starts the regions cn-north-4 (a) and cn-east-3 (b), each
// the other's peer, with their own data directory, root key and TLS
// identity.
func startRegions(t *testing.T) (a, b *env, ca *regionCA) {
	t.Helper()
	ca = newRegionCA(t)
	lnA, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lnB, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	region := func(name string, serial int64, peer string, peerLn net.Listener) func(*kmsdconfig.Config) {
		cert, key := ca.issue(t, name, serial)
		return func(c *kmsdconfig.Config) {
			c.Region = name
			c.TLS = kmsdconfig.TLS{CertFile: cert, KeyFile: key}
			c.Regions = kmsdconfig.Regions{CertFile: cert, KeyFile: key, CAFile: ca.path,
				Peers: []kmsdconfig.RegionPeer{{Region: peer, Endpoint: "https://" + peerLn.Addr().String()}}}
		}
	}
	a = start(t, envOptions{ln: lnA, configure: region("cn-north-4", 2, "cn-east-3", lnB)})
	b = start(t, envOptions{ln: lnB, configure: region("cn-east-3", 3, "cn-north-4", lnA)})
	return a, b, ca
}

func replicate(c *kms.KmsClient, keyID, region, alias, project string) (*model.ReplicateKeyResponse, error) {
	return c.ReplicateKey(&model.ReplicateKeyRequest{KeyId: keyID, Body: &model.ReplicateKeyRequestBody{
		KeyId: keyID, ReplicaRegion: region, KeyAlias: alias, ReplicaProjectId: project,
		Tags: &[]model.TagItem{{Key: "team", Value: ptr("payments")}},
	}})
}

// TestMultiRegionKeys runs two kmsd regions on loopback with their own
// root keys and TLS identities, through the official SDK: a key replicated
// from cn-north-4 to a project of cn-east-3 decrypts there what was
// encrypted here and the other way round, the replica refuses the writes
// of a primary, the primary role moves, and an unreachable peer leaves
// nothing half-made.
func TestMultiRegionKeys(t *testing.T) {
	if clusterMode() {
		t.Skip("the regions are single TLS nodes of their own; the cluster proxy speaks plain HTTP")
	}
	a, b, ca := startRegions(t)
	replicaAdmin := b.admin2() // the replica's project is cn-east-3's second account

	regions, err := a.admin().ListSupportRegions(&model.ListSupportRegionsRequest{})
	if err != nil || regions.Regions == nil || !slices.Equal(*regions.Regions, []string{"cn-north-4", "cn-east-3"}) {
		t.Fatalf("ListSupportRegions: %v, %v", regions, err)
	}
	specs := model.GetCreateKeyRequestBodyKeySpecEnum()
	keyID := cryptoKey(t, a.admin(), specs.AES_256, "")
	plain := secretText(t, "region")
	ctA := encryptData(t, a.admin(), keyID, plain, ptr("ctx"))

	rep, err := replicate(a.admin(), keyID, "cn-east-3", "replica", b.ids.Project2ID)
	if err != nil {
		t.Fatalf("ReplicateKey: %v", err)
	}
	if text(rep.KeyId) != keyID || text(rep.Region) != "cn-east-3" || text(rep.DomainId) != b.ids.Account2ID {
		t.Errorf("ReplicateKey answered %v", rep)
	}
	det, err := replicaAdmin.ListKeyDetail(&model.ListKeyDetailRequest{Body: &model.OperateKeyRequestBody{KeyId: keyID}})
	if err != nil || text(det.KeyInfo.KeyAlias) != "replica" || text(det.KeyInfo.KeyState) != "2" {
		t.Fatalf("replica in cn-east-3: %v, %v", det, err)
	}
	tags, err := replicaAdmin.ShowKmsTags(&model.ShowKmsTagsRequest{KeyId: keyID})
	if err != nil || tags.Tags == nil || len(*tags.Tags) != 1 {
		t.Errorf("replica tags: %v, %v", tags, err)
	}
	// Ciphertexts cross in both directions.
	dec, err := decryptData(replicaAdmin, ctA, ptr("ctx"), nil)
	if err != nil || text(dec.PlainText) != plain {
		t.Fatalf("decrypt in cn-east-3 what cn-north-4 encrypted: %v, %v", dec, err)
	}
	ctB := encryptData(t, replicaAdmin, keyID, plain, nil)
	if dec, err := decryptData(a.admin(), ctB, nil, nil); err != nil || text(dec.PlainText) != plain {
		t.Fatalf("decrypt in cn-north-4 what cn-east-3 encrypted: %v, %v", dec, err)
	}
	dk, err := replicaAdmin.CreateDatakey(&model.CreateDatakeyRequest{Body: &model.CreateDatakeyRequestBody{KeyId: keyID}})
	if err != nil {
		t.Fatal(err)
	}
	addDEKSecret(text(dk.PlainText))
	if dd, err := decryptDatakey(a.admin(), keyID, text(dk.CipherText), "32", nil); err != nil || !equalFoldHex(text(dd.DataKey), text(dk.PlainText)) {
		t.Errorf("a data key of cn-east-3 in cn-north-4: %v", err)
	}

	// The replica refuses the primary's writes; the primary refuses
	// rotation (versions are not replicated).
	rot := &model.EnableKeyRotationRequest{Body: &model.OperateKeyRequestBody{KeyId: keyID}}
	_, err = replicaAdmin.EnableKeyRotation(rot)
	wantError(t, err, 400, "KMS.0106")
	_, err = replicate(replicaAdmin, keyID, "cn-north-4", "back", a.ids.ProjectID)
	wantError(t, err, 400, "KMS.0106")
	_, err = replicaAdmin.UpdatePrimaryRegion(&model.UpdatePrimaryRegionRequest{KeyId: keyID, Body: &model.UpdatePrimaryRegionRequestBody{KeyId: keyID, PrimaryRegion: "cn-east-3"}})
	wantError(t, err, 400, "KMS.0106")
	_, err = a.admin().EnableKeyRotation(rot)
	wantError(t, err, 400, "KMS.0319")

	// Refusals that leave nothing behind.
	_, err = replicate(a.admin(), keyID, "cn-east-3", "again", b.ids.Project2ID)
	wantError(t, err, 400, "KMS.0308") // already replicated there
	_, err = replicate(a.admin(), keyID, "eu-west-0", "x", b.ids.Project2ID)
	wantError(t, err, 400, "KMS.0308") // not a peer
	other := cryptoKey(t, a.admin(), specs.AES_256, "")
	_, err = replicate(a.admin(), other, "cn-east-3", "nowhere", "99999999999999999999999999999999")
	wantError(t, err, 400, "KMS.0308") // no such project in cn-east-3
	_, err = replicate(a.admin(), other, "cn-east-3", "replica", b.ids.Project2ID)
	wantError(t, err, 400, "KMS.1104") // alias taken in the replica's project
	if _, err := replicate(a.admin(), other, "cn-east-3", "other-replica", b.ids.Project2ID); err != nil {
		t.Errorf("replicate after refusals: %v", err)
	}
	_, err = a.admin().ReplicateKey(&model.ReplicateKeyRequest{KeyId: other, Body: &model.ReplicateKeyRequestBody{KeyId: keyID, ReplicaRegion: "cn-east-3", KeyAlias: "x", ReplicaProjectId: b.ids.Project2ID}})
	wantError(t, err, 400, "KMS.0308") // path and body name other keys

	// A peer without a client certificate of the regions' CA is refused.
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := hc.Get(b.url + "/kmsd/peer/v1/transport-key")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("peer call without a client certificate: %d, want 403", resp.StatusCode)
	}

	// The primary role moves to cn-east-3.
	up, err := a.admin().UpdatePrimaryRegion(&model.UpdatePrimaryRegionRequest{KeyId: keyID, Body: &model.UpdatePrimaryRegionRequestBody{KeyId: keyID, PrimaryRegion: "cn-east-3"}})
	if err != nil || text(up.PrimaryRegion) != "cn-east-3" || text(up.KeyId) != keyID {
		t.Fatalf("UpdatePrimaryRegion: %v, %v", up, err)
	}
	_, err = a.admin().EnableKeyRotation(rot)
	wantError(t, err, 400, "KMS.0106") // cn-north-4 holds a replica now
	_, err = replicaAdmin.EnableKeyRotation(rot)
	wantError(t, err, 400, "KMS.0319")
	if dec, err := decryptData(a.admin(), ctB, nil, nil); err != nil || text(dec.PlainText) != plain {
		t.Errorf("decrypt in cn-north-4 after the move: %v, %v", dec, err)
	}
	if dec, err := decryptData(replicaAdmin, ctA, ptr("ctx"), nil); err != nil || text(dec.PlainText) != plain {
		t.Errorf("decrypt in cn-east-3 after the move: %v, %v", dec, err)
	}
	_, err = replicaAdmin.UpdatePrimaryRegion(&model.UpdatePrimaryRegionRequest{KeyId: keyID, Body: &model.UpdatePrimaryRegionRequestBody{KeyId: keyID, PrimaryRegion: "eu-west-0"}})
	wantError(t, err, 400, "KMS.0308")

	// With cn-east-3 down, replication fails clearly and changes nothing.
	third := cryptoKey(t, a.admin(), specs.AES_256, "")
	b.close()
	_, err = replicate(a.admin(), third, "cn-east-3", "third", b.ids.Project2ID)
	wantError(t, err, 503, "KMSD.0504")
	_, err = a.admin().UpdatePrimaryRegion(&model.UpdatePrimaryRegionRequest{KeyId: third, Body: &model.UpdatePrimaryRegionRequestBody{KeyId: third, PrimaryRegion: "cn-east-3"}})
	wantError(t, err, 400, "KMS.0308") // still a single-region key
	if _, err := a.admin().EnableKeyRotation(&model.EnableKeyRotationRequest{Body: &model.OperateKeyRequestBody{KeyId: third}}); err != nil {
		t.Errorf("the key whose replication failed is not single-region: %v", err)
	}
}
