package seed

import (
	"context"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"slices"

	"github.com/kmsd/kmsd/internal/kms"
	"github.com/kmsd/kmsd/internal/store"
)

// Export describes the custom keys of the given projects as a seed file:
// ids, alias, spec, usage, description, state, origin, aliases, tags,
// grants and rotation. With withMaterial it includes each key's material
// (version 1; hex, or PEM for RSA, EC and SM2 keys) and returns a warning
// for each key whose later versions (after rotations) it leaves out.
// Keys pending deletion are exported as disabled; default keys are not
// exported. Identities are not exported: their secrets cannot be.
func Export(ctx context.Context, s Services, projectIDs []string, withMaterial bool) (*File, []string, error) {
	f := &File{Version: Version}
	var warnings []string
	for _, pid := range projectIDs {
		p := Project{ID: pid}
		var keys []kms.Key
		for offset := 0; ; {
			ks, total, err := s.KMS.ListKeys(ctx, kms.ListKeysInput{ProjectID: pid, Spec: "ALL", Offset: offset, Limit: 1000})
			if err != nil {
				return nil, nil, fmt.Errorf("project %s: %w", pid, err)
			}
			keys = append(keys, ks...)
			offset += len(ks)
			if len(ks) == 0 || offset >= total {
				break
			}
		}
		for _, k := range keys {
			if k.Default {
				continue
			}
			sk, warn, err := exportKey(ctx, s.KMS, k, withMaterial)
			if err != nil {
				return nil, nil, fmt.Errorf("key %s: %w", k.KeyID, err)
			}
			warnings = append(warnings, warn...)
			p.Keys = append(p.Keys, sk)
		}
		if len(p.Keys) > 0 {
			f.Projects = append(f.Projects, p)
		}
	}
	return f, warnings, nil
}

func exportKey(ctx context.Context, ks *kms.Service, k kms.Key, withMaterial bool) (Key, []string, error) {
	sk := Key{ID: k.KeyID, Alias: k.Alias, Spec: k.Spec, Usage: k.Usage, Description: k.Description}
	if k.Origin != kms.OriginKMS {
		sk.Origin = k.Origin
	}
	if k.State == kms.StateDisabled || k.State == kms.StatePendingDeletion {
		sk.State = "disabled"
	}
	var warnings []string
	aliases, err := keyAliases(ctx, ks, k.ProjectID, k.KeyID)
	if err != nil {
		return sk, nil, err
	}
	sk.Aliases = aliases
	tags, err := ks.KeyTags(ctx, k.ProjectID, k.KeyID)
	if err != nil {
		return sk, nil, err
	}
	for _, t := range tags {
		if sk.Tags == nil {
			sk.Tags = map[string]string{}
		}
		sk.Tags[t.Key] = t.Value
	}
	gs, err := keyGrants(ctx, ks, k.ProjectID, k.KeyID)
	if err != nil {
		return sk, nil, err
	}
	for _, g := range gs {
		gt := g.GranteePrincipalType
		if gt == store.GranteeUser {
			gt = ""
		}
		sk.Grants = append(sk.Grants, Grant{Name: g.Name, Grantee: g.GranteePrincipal, GranteeType: gt, Operations: slices.Sorted(slices.Values(g.Operations))})
	}
	if st, err := ks.KeyRotationStatus(ctx, k.ProjectID, k.KeyID); err == nil && st.Enabled {
		sk.Rotation = &Rotation{Enabled: true, Interval: st.Interval}
	}
	if withMaterial && k.State != kms.StatePendingImport {
		m, versions, err := ks.SeedMaterial(ctx, k.ProjectID, k.KeyID)
		if err != nil {
			return sk, nil, err
		}
		defer clear(m)
		if m == nil {
			warnings = append(warnings, fmt.Sprintf("key %s: no version 1 material to export", k.KeyID))
		} else {
			sk.Material = encodeMaterial(k.Spec, m)
		}
		if versions > 1 {
			warnings = append(warnings, fmt.Sprintf("key %s: only version 1 of its %d versions is exported; ciphertexts made after a rotation decrypt only here", k.KeyID, versions))
		}
	}
	return sk, warnings, nil
}

// encodeMaterial is the inverse of DecodeMaterial for a spec's material.
func encodeMaterial(spec string, m []byte) string {
	switch spec {
	case "RSA_2048", "RSA_3072", "RSA_4096", "EC_P256", "EC_P384", "SM2":
		return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: m}))
	}
	return "hex:" + hex.EncodeToString(m)
}
