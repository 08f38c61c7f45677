package seed

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/kmsd/kmsd/internal/iam"
	"github.com/kmsd/kmsd/internal/kms"
	"github.com/kmsd/kmsd/internal/store"
)

// Services are what a seed file is applied to.
type Services struct {
	KMS *kms.Service
	IAM *iam.Service
}

// Report says what Apply did.
type Report struct {
	// Keys is the number of keys the file declares.
	Keys int
	// Changes describes each change, one line each; none when the store
	// already matched the file.
	Changes []string
}

// ErrRefused is wrapped by the error of a seed file whose difference to
// the store cannot be applied; nothing was changed.
var ErrRefused = errors.New("the seed file differs from the data directory in what cannot change")

// Apply makes the store match f: it applies the identities, then checks
// every declared key against the store, refusing the whole file (with
// ErrRefused, before any change) if a key exists with another spec,
// usage, origin or material, or is a default key; then creates the
// missing keys and brings alias, description, state, extra aliases,
// tags, grants and rotation to what the file says. Keys the file does not
// name are left alone.
func Apply(ctx context.Context, s Services, f *File, getenv func(string) string) (Report, error) {
	var rep Report
	if len(f.Identities.Accounts) > 0 {
		if err := s.IAM.ApplyBootstrap(ctx, f.Identities, getenv); err != nil {
			return rep, fmt.Errorf("identities: %w", err)
		}
	}
	type planned struct {
		p        store.Project
		k        Key
		material []byte
		exists   bool
		cur      kms.Key
	}
	var plan []planned
	var refusals []string
	for _, sp := range f.Projects {
		p, err := s.IAM.Project(ctx, sp.ID)
		if err != nil {
			return rep, fmt.Errorf("project %s: %w (declare it under identities, or use a project that exists)", sp.ID, err)
		}
		for _, k := range sp.Keys {
			rep.Keys++
			var m []byte
			if k.Material != "" {
				if m, err = DecodeMaterial(k.Material); err != nil {
					return rep, err
				}
			}
			pk := planned{p: p, k: k, material: m}
			cur, err := s.KMS.DescribeKey(ctx, p.ID, k.ID)
			switch {
			case errors.Is(err, kms.ErrKeyNotFound):
			case err != nil:
				return rep, fmt.Errorf("key %s: %w", k.ID, err)
			default:
				pk.exists, pk.cur = true, cur
				if why, err := immutableDiff(ctx, s.KMS, cur, k, m); err != nil {
					return rep, err
				} else if why != "" {
					refusals = append(refusals, fmt.Sprintf("key %s: %s", k.ID, why))
				}
			}
			plan = append(plan, pk)
		}
	}
	if len(refusals) > 0 {
		return rep, fmt.Errorf("%w (nothing was changed):\n  %s\nchange the key id in the seed file, or start from a fresh data directory", ErrRefused, strings.Join(refusals, "\n  "))
	}
	for _, pk := range plan {
		changes, err := applyKey(ctx, s.KMS, pk.p, pk.k, pk.material, pk.exists, pk.cur)
		clear(pk.material)
		rep.Changes = append(rep.Changes, changes...)
		if err != nil {
			return rep, fmt.Errorf("key %s: %w", pk.k.ID, err)
		}
	}
	return rep, nil
}

// immutableDiff says why key cur cannot become k, or "" when it can.
func immutableDiff(ctx context.Context, ks *kms.Service, cur kms.Key, k Key, material []byte) (string, error) {
	spec := or(k.Spec, "AES_256")
	origin := or(k.Origin, kms.OriginKMS)
	switch {
	case cur.Default:
		return "is a default key, which a seed file cannot declare", nil
	case cur.Spec != spec:
		return fmt.Sprintf("exists with spec %s, the file says %s", cur.Spec, spec), nil
	case k.Usage != "" && cur.Usage != k.Usage:
		return fmt.Sprintf("exists with usage %s, the file says %s", cur.Usage, k.Usage), nil
	case cur.Origin != origin:
		return fmt.Sprintf("exists with origin %s, the file says %s", cur.Origin, origin), nil
	}
	if material != nil {
		same, err := ks.SameMaterial(ctx, cur.ProjectID, cur.KeyID, material)
		if err != nil {
			return "", err
		}
		if !same {
			return "exists with other material than the file's", nil
		}
	}
	return "", nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// applyKey creates or updates one key and returns its changes.
func applyKey(ctx context.Context, ks *kms.Service, p store.Project, k Key, material []byte, exists bool, cur kms.Key) ([]string, error) {
	var changes []string
	note := func(format string, args ...any) {
		changes = append(changes, fmt.Sprintf("key %s: ", k.ID)+fmt.Sprintf(format, args...))
	}
	if !exists {
		var err error
		cur, err = ks.CreateKey(ctx, kms.CreateKeyInput{
			ProjectID: p.ID, AccountID: p.AccountID, KeyID: k.ID, Alias: k.Alias, Description: k.Description,
			Spec: k.Spec, Usage: k.Usage, Origin: k.Origin, Material: material,
		})
		if err != nil {
			return changes, err
		}
		how := "generated material"
		if material != nil {
			how = "the file's material"
		} else if k.Origin == kms.OriginExternal {
			how = "no material (pending import)"
		}
		note("created %s with %s", cur.Spec, how)
	}
	var err error
	if cur.Alias != k.Alias {
		if cur, err = ks.UpdateKeyAlias(ctx, p.ID, k.ID, k.Alias); err != nil {
			return changes, err
		}
		note("alias set to %s", k.Alias)
	}
	if cur.Description != k.Description {
		if cur, err = ks.UpdateKeyDescription(ctx, p.ID, k.ID, k.Description); err != nil {
			return changes, err
		}
		note("description updated")
	}
	if cur.State != kms.StatePendingImport {
		want := kms.StateEnabled
		if k.State == "disabled" {
			want = kms.StateDisabled
		}
		if cur.State == kms.StatePendingDeletion {
			if cur, err = ks.CancelKeyDeletion(ctx, p.ID, k.ID); err != nil {
				return changes, err
			}
			note("deletion cancelled")
		}
		if cur.State != want {
			if want == kms.StateEnabled {
				_, err = ks.EnableKey(ctx, p.ID, k.ID)
				note("enabled")
			} else {
				_, err = ks.DisableKey(ctx, p.ID, k.ID)
				note("disabled")
			}
			if err != nil {
				return changes, err
			}
		}
	}
	if err := applyAliases(ctx, ks, p, k, note); err != nil {
		return changes, err
	}
	if err := applyTags(ctx, ks, p, k, note); err != nil {
		return changes, err
	}
	if err := applyGrants(ctx, ks, p, k, note); err != nil {
		return changes, err
	}
	if k.Rotation != nil {
		st, err := ks.KeyRotationStatus(ctx, p.ID, k.ID)
		if err != nil {
			return changes, err
		}
		if st.Enabled != k.Rotation.Enabled {
			if k.Rotation.Enabled {
				_, err = ks.EnableKeyRotation(ctx, p.ID, k.ID)
				note("rotation enabled")
			} else {
				_, err = ks.DisableKeyRotation(ctx, p.ID, k.ID)
				note("rotation disabled")
			}
			if err != nil {
				return changes, err
			}
		}
		if k.Rotation.Interval > 0 && st.Interval != k.Rotation.Interval {
			if _, err := ks.UpdateKeyRotationInterval(ctx, p.ID, k.ID, k.Rotation.Interval); err != nil {
				return changes, err
			}
			note("rotation interval set to %d days", k.Rotation.Interval)
		}
	}
	return changes, nil
}

func applyAliases(ctx context.Context, ks *kms.Service, p store.Project, k Key, note func(string, ...any)) error {
	have, err := keyAliases(ctx, ks, p.ID, k.ID)
	if err != nil {
		return err
	}
	for _, a := range k.Aliases {
		if slices.Contains(have, a) {
			continue
		}
		if _, err := ks.CreateAlias(ctx, p.ID, k.ID, a); err != nil {
			if !errors.Is(err, kms.ErrDuplicateAlias) {
				return fmt.Errorf("alias %s: %w", a, err)
			}
			// It names another key: point it at this one.
			if _, err := ks.AssociateAlias(ctx, p.ID, a, k.ID); err != nil {
				return fmt.Errorf("alias %s: %w", a, err)
			}
		}
		note("alias %s added", a)
	}
	var extra []string
	for _, a := range have {
		if !slices.Contains(k.Aliases, a) {
			extra = append(extra, a)
		}
	}
	if len(extra) > 0 {
		if err := ks.DeleteAliases(ctx, p.ID, k.ID, extra); err != nil {
			return err
		}
		note("aliases %s removed", strings.Join(extra, ", "))
	}
	return nil
}

// keyAliases lists every alias of a key.
func keyAliases(ctx context.Context, ks *kms.Service, projectID, keyID string) ([]string, error) {
	var names []string
	in := kms.ListAliasesInput{ProjectID: projectID, KeyID: keyID}
	for {
		as, next, err := ks.ListAliases(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, a := range as {
			names = append(names, a.Name)
		}
		if next == "" || len(as) == 0 {
			return names, nil
		}
		in.Marker = next
	}
}

func applyTags(ctx context.Context, ks *kms.Service, p store.Project, k Key, note func(string, ...any)) error {
	have, err := ks.KeyTags(ctx, p.ID, k.ID)
	if err != nil {
		return err
	}
	cur := map[string]string{}
	for _, t := range have {
		cur[t.Key] = t.Value
	}
	var put []kms.Tag
	for _, name := range slices.Sorted(maps.Keys(k.Tags)) {
		if v, ok := cur[name]; !ok || v != k.Tags[name] {
			put = append(put, kms.Tag{Key: name, Value: k.Tags[name]})
		}
	}
	if len(put) > 0 {
		if err := ks.PutTags(ctx, p.ID, k.ID, put); err != nil {
			return err
		}
		note("%d tag(s) set", len(put))
	}
	var del []string
	for name := range cur {
		if _, ok := k.Tags[name]; !ok {
			del = append(del, name)
		}
	}
	if len(del) > 0 {
		slices.Sort(del)
		if err := ks.DeleteTags(ctx, p.ID, k.ID, del); err != nil {
			return err
		}
		note("tags %s removed", strings.Join(del, ", "))
	}
	return nil
}

// grantID identifies a grant by what a seed file can say of it.
func grantID(name, grantee, granteeType string, ops []string) string {
	ops = slices.Sorted(slices.Values(ops))
	return name + "\x00" + grantee + "\x00" + or(granteeType, store.GranteeUser) + "\x00" + strings.Join(ops, ",")
}

// keyGrants lists every grant of a key.
func keyGrants(ctx context.Context, ks *kms.Service, projectID, keyID string) ([]kms.Grant, error) {
	var have []kms.Grant
	for offset := 0; ; {
		gs, total, err := ks.ListGrants(ctx, projectID, keyID, offset, 100)
		if err != nil {
			return nil, err
		}
		have = append(have, gs...)
		offset += len(gs)
		if len(gs) == 0 || offset >= total {
			return have, nil
		}
	}
}

func applyGrants(ctx context.Context, ks *kms.Service, p store.Project, k Key, note func(string, ...any)) error {
	have, err := keyGrants(ctx, ks, p.ID, k.ID)
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, g := range k.Grants {
		id := grantID(g.Name, g.Grantee, g.GranteeType, g.Operations)
		want[id] = true
		if slices.ContainsFunc(have, func(h kms.Grant) bool {
			return grantID(h.Name, h.GranteePrincipal, h.GranteePrincipalType, h.Operations) == id
		}) {
			continue
		}
		if _, err := ks.CreateGrant(ctx, kms.CreateGrantInput{
			ProjectID: p.ID, KeyID: k.ID, GranteePrincipal: g.Grantee, GranteePrincipalType: g.GranteeType,
			Operations: g.Operations, Name: g.Name,
		}); err != nil {
			return fmt.Errorf("grant to %s: %w", g.Grantee, err)
		}
		note("grant to %s of %s created", g.Grantee, strings.Join(g.Operations, ","))
	}
	for _, h := range have {
		if !want[grantID(h.Name, h.GranteePrincipal, h.GranteePrincipalType, h.Operations)] {
			if err := ks.RevokeGrant(ctx, p.ID, k.ID, h.GrantID); err != nil {
				return err
			}
			note("grant %s to %s revoked", h.GrantID, h.GranteePrincipal)
		}
	}
	return nil
}
