package backup

import (
	"time"

	"github.com/kmsd/kmsd/internal/store"
)

// Header is the first record of an archive.
type Header struct {
	// Version is the kmsd version that wrote the archive.
	Version string
	// Created is when the snapshot was taken.
	Created time.Time
	// Backend names the store the archive was taken from: sqlite or
	// postgres.
	Backend string
	// CheckValue is the root key check value of the keyring that wrote
	// the archive (keyring.Keyring.CheckValue).
	CheckValue []byte
	// Counts are the numbers of rows of each kind in the archive.
	Counts store.DumpCounts
}

func (h *Header) layout(c *codec) {
	c.str(&h.Version)
	c.time(&h.Created)
	c.str(&h.Backend)
	c.bytes(&h.CheckValue)
	var n counts
	n.fromStore(h.Counts)
	n.layout(c)
	h.Counts = n.toStore()
}

// layout is a uvarint count of counts (nRowKinds in version 1) and that
// many uvarints, in kind order.
func (n *counts) layout(c *codec) {
	k := uint64(nRowKinds)
	c.uvarint(&k)
	if c.dec && k != uint64(nRowKinds) {
		c.fail("counts")
		return
	}
	for i := range n {
		v := uint64(n[i])
		c.uvarint(&v)
		if c.dec && v > 1<<62 {
			c.fail("count")
			return
		}
		n[i] = int64(v)
	}
}

// kindOf returns the record kind of a row value (a store type), and false
// for any other value.
func kindOf(v any) (Kind, bool) {
	switch v.(type) {
	case store.Account:
		return KindAccount, true
	case store.Project:
		return KindProject, true
	case store.User:
		return KindUser, true
	case store.AccessKey:
		return KindAccessKey, true
	case store.Policy:
		return KindPolicy, true
	case store.Keystore:
		return KindKeystore, true
	case store.KeySpace:
		return KindKeySpace, true
	case store.Key:
		return KindKey, true
	case store.KeyVersion:
		return KindKeyVersion, true
	case store.KeyRegion:
		return KindKeyRegion, true
	case store.Grant:
		return KindGrant, true
	case store.Alias:
		return KindAlias, true
	case store.KeyTag:
		return KindTag, true
	case store.ImportToken:
		return KindImportToken, true
	case store.AccessPoint:
		return KindAccessPoint, true
	case store.KeyPolicy:
		return KindKeyPolicy, true
	case store.Meta:
		return KindMeta, true
	}
	return 0, false
}

// encodeRow appends the payload of the row v to dst.
func encodeRow(dst []byte, v any) []byte {
	c := &codec{buf: dst}
	switch v := v.(type) {
	case store.Account:
		layoutAccount(c, &v)
	case store.Project:
		layoutProject(c, &v)
	case store.User:
		layoutUser(c, &v)
	case store.AccessKey:
		layoutAccessKey(c, &v)
	case store.Policy:
		layoutPolicy(c, &v)
	case store.Keystore:
		layoutKeystore(c, &v)
	case store.KeySpace:
		layoutKeySpace(c, &v)
	case store.Key:
		layoutKey(c, &v)
	case store.KeyVersion:
		layoutKeyVersion(c, &v)
	case store.KeyRegion:
		layoutKeyRegion(c, &v)
	case store.Grant:
		layoutGrant(c, &v)
	case store.Alias:
		layoutAlias(c, &v)
	case store.KeyTag:
		layoutTag(c, &v)
	case store.ImportToken:
		layoutImportToken(c, &v)
	case store.AccessPoint:
		layoutAccessPoint(c, &v)
	case store.KeyPolicy:
		layoutKeyPolicy(c, &v)
	case store.Meta:
		layoutMeta(c, &v)
	}
	return c.buf
}

// decodeRow decodes the payload of a record of a row kind.
func decodeRow(k Kind, payload []byte) (any, error) {
	c := &codec{dec: true, buf: payload}
	var v any
	switch k {
	case KindAccount:
		var x store.Account
		layoutAccount(c, &x)
		v = x
	case KindProject:
		var x store.Project
		layoutProject(c, &x)
		v = x
	case KindUser:
		var x store.User
		layoutUser(c, &x)
		v = x
	case KindAccessKey:
		var x store.AccessKey
		layoutAccessKey(c, &x)
		v = x
	case KindPolicy:
		var x store.Policy
		layoutPolicy(c, &x)
		v = x
	case KindKeystore:
		var x store.Keystore
		layoutKeystore(c, &x)
		v = x
	case KindKeySpace:
		var x store.KeySpace
		layoutKeySpace(c, &x)
		v = x
	case KindKey:
		var x store.Key
		layoutKey(c, &x)
		v = x
	case KindKeyVersion:
		var x store.KeyVersion
		layoutKeyVersion(c, &x)
		v = x
	case KindKeyRegion:
		var x store.KeyRegion
		layoutKeyRegion(c, &x)
		v = x
	case KindGrant:
		var x store.Grant
		layoutGrant(c, &x)
		v = x
	case KindAlias:
		var x store.Alias
		layoutAlias(c, &x)
		v = x
	case KindTag:
		var x store.KeyTag
		layoutTag(c, &x)
		v = x
	case KindImportToken:
		var x store.ImportToken
		layoutImportToken(c, &x)
		v = x
	case KindAccessPoint:
		var x store.AccessPoint
		layoutAccessPoint(c, &x)
		v = x
	case KindKeyPolicy:
		var x store.KeyPolicy
		layoutKeyPolicy(c, &x)
		v = x
	case KindMeta:
		var x store.Meta
		layoutMeta(c, &x)
		v = x
	default:
		return nil, corrupt("unknown record kind 0x%02x", byte(k))
	}
	if err := c.end("row"); err != nil {
		return nil, err
	}
	return v, nil
}

// The layouts of the row kinds: the fields in the order doc.go lists.

func layoutAccount(c *codec, a *store.Account) {
	c.str(&a.ID)
	c.str(&a.Name)
	c.time(&a.CreatedAt)
}

func layoutProject(c *codec, p *store.Project) {
	c.str(&p.ID)
	c.str(&p.AccountID)
	c.str(&p.Name)
	c.int(&p.CMKQuota)
	c.int(&p.GrantQuota)
	c.time(&p.CreatedAt)
}

func layoutUser(c *codec, u *store.User) {
	c.str(&u.ID)
	c.str(&u.AccountID)
	c.str(&u.Name)
	c.str(&u.PasswordHash)
	c.strs(&u.Policies)
	c.bool(&u.Disabled)
	c.time(&u.CreatedAt)
}

func layoutAccessKey(c *codec, k *store.AccessKey) {
	c.str(&k.AK)
	c.str(&k.UserID)
	c.bytes(&k.SealedSK)
	c.bool(&k.Disabled)
	c.time(&k.CreatedAt)
}

func layoutPolicy(c *codec, p *store.Policy) {
	c.str(&p.AccountID)
	c.str(&p.Name)
	c.bytes(&p.Document)
	c.time(&p.CreatedAt)
}

func layoutKeystore(c *codec, k *store.Keystore) {
	c.str(&k.ID)
	c.str(&k.ProjectID)
	c.str(&k.AccountID)
	c.str(&k.Alias)
	c.str(&k.Type)
	c.str(&k.HSMClusterID)
	c.str(&k.ClusterID)
	c.str(&k.State)
	c.time(&k.CreatedAt)
}

func layoutKeySpace(c *codec, k *store.KeySpace) {
	c.str(&k.ProjectID)
	c.str(&k.ID)
	c.str(&k.Name)
	c.str(&k.Type)
	c.str(&k.KeystoreID)
	c.str(&k.Description)
	c.time(&k.CreatedAt)
}

func layoutKey(c *codec, k *store.Key) {
	c.str(&k.ProjectID)
	c.str(&k.KeyID)
	c.str(&k.AccountID)
	c.str(&k.Alias)
	c.str(&k.Description)
	c.str(&k.Spec)
	c.str(&k.Usage)
	c.str(&k.Origin)
	c.str(&k.State)
	c.bool(&k.Default)
	c.str(&k.EnterpriseProjectID)
	c.str(&k.KeystoreID)
	c.int(&k.PrimaryVersion)
	c.time(&k.CreatedAt)
	c.time(&k.DeletionDate)
	c.bool(&k.RotationEnabled)
	c.int(&k.RotationInterval)
	c.time(&k.LastRotation)
	c.int(&k.RotationCount)
	c.time(&k.MaterialExpiresAt)
	c.bytes(&k.MaterialFingerprint)
	c.varint(&k.Revision)
}

func layoutKeyVersion(c *codec, v *store.KeyVersion) {
	c.str(&v.ProjectID)
	c.str(&v.KeyID)
	c.int(&v.Version)
	c.bytes(&v.Sealed)
	c.time(&v.CreatedAt)
}

func layoutKeyRegion(c *codec, r *store.KeyRegion) {
	c.str(&r.ProjectID)
	c.str(&r.KeyID)
	c.str(&r.PrimaryRegion)
	c.str(&r.MaterialProjectID)
	n := uint64(len(r.Replicas))
	c.uvarint(&n)
	if c.dec {
		if c.err != nil || n > uint64(len(c.buf)) {
			c.fail("replicas")
			return
		}
		r.Replicas = make([]store.KeyReplica, n)
		if n == 0 {
			r.Replicas = nil
		}
	}
	for i := range r.Replicas {
		c.str(&r.Replicas[i].Region)
		c.str(&r.Replicas[i].ProjectID)
	}
}

func layoutGrant(c *codec, g *store.Grant) {
	c.str(&g.ProjectID)
	c.str(&g.KeyID)
	c.str(&g.GrantID)
	c.str(&g.Name)
	c.str(&g.GranteePrincipal)
	c.str(&g.GranteePrincipalType)
	c.strs(&g.Operations)
	c.str(&g.IssuingPrincipal)
	c.str(&g.RetiringPrincipal)
	c.time(&g.CreatedAt)
}

func layoutAlias(c *codec, a *store.Alias) {
	c.str(&a.ProjectID)
	c.str(&a.Alias)
	c.str(&a.KeyID)
	c.time(&a.CreatedAt)
	c.time(&a.UpdatedAt)
}

func layoutTag(c *codec, t *store.KeyTag) {
	c.str(&t.ProjectID)
	c.str(&t.KeyID)
	c.str(&t.Key)
	c.str(&t.Value)
}

func layoutImportToken(c *codec, t *store.ImportToken) {
	c.str(&t.ProjectID)
	c.str(&t.KeyID)
	c.str(&t.TokenID)
	c.str(&t.WrappingAlgorithm)
	c.str(&t.WrappingKeySpec)
	c.bytes(&t.SealedPrivateKey)
	c.time(&t.ExpiresAt)
	c.time(&t.CreatedAt)
}

func layoutAccessPoint(c *codec, a *store.AccessPoint) {
	c.str(&a.ProjectID)
	c.str(&a.KeySpaceID)
	c.str(&a.ID)
	c.str(&a.Name)
	c.int(&a.Type)
	c.int(&a.State)
	c.str(&a.Identity)
	c.str(&a.ClusterID)
	c.str(&a.Description)
	c.bytes(&a.PublicKey)
	c.bytes(&a.SealedPrivateKey)
	c.str(&a.CreatedBy)
	c.time(&a.CreatedAt)
	c.time(&a.UpdatedAt)
}

func layoutKeyPolicy(c *codec, p *store.KeyPolicy) {
	c.str(&p.ProjectID)
	c.str(&p.KeySpaceID)
	c.str(&p.ID)
	c.str(&p.Name)
	c.bytes(&p.Document)
	c.str(&p.Description)
	c.str(&p.CreatedBy)
	c.time(&p.CreatedAt)
	c.time(&p.UpdatedAt)
	c.time(&p.LastAccessAt)
}

func layoutMeta(c *codec, m *store.Meta) {
	c.str(&m.Name)
	c.bytes(&m.Value)
}
