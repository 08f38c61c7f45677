package server

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"

	"github.com/kmsd/kmsd/internal/config"
	"github.com/kmsd/kmsd/internal/keyring"
	"github.com/kmsd/kmsd/internal/store"
)

// The meta entries of the root key hierarchy (internal/keyring/doc.go
// describes their byte formats).
const (
	// rootCheckMeta holds the check value of the current root key
	// generation.
	rootCheckMeta = "root_key_check"
	// generationsMeta holds the generation table: every root key the
	// database has used, with its check digest and whether it is retired.
	generationsMeta = "root_key_generations"
	// currentGenerationMeta holds the generation every node seals under,
	// four bytes big-endian; absent means 1. kmsd rootkey rotate moves it.
	currentGenerationMeta = "root_key_current"
	// derivationKeyMeta holds the keyring's derivation key, sealed.
	derivationKeyMeta = "derivation_key"
)

// derivationKeyBinding binds the sealed derivation key.
var derivationKeyBinding = keyring.Binding{Purpose: "derivation-key"}

// ErrWrongRootKey means the configured root key is not the one the
// database was initialised with.
var ErrWrongRootKey = errors.New("wrong root key")

// ErrMissingGeneration means the database holds items sealed by a root
// key generation that the configuration lacks.
var ErrMissingGeneration = errors.New("root key generation missing")

// configuredRoot is one root key of the configuration: root_key or one of
// previous_root_keys.
type configuredRoot struct {
	name   string // "root_key" or "previous_root_keys[i]", for messages
	cfg    config.Config
	root   []byte
	digest []byte
	gen    uint32 // the generation it is, once matched
}

// loadRootKeys reads root_key and every previous root key of cfg.
func loadRootKeys(cfg config.Config, getenv func(string) string) ([]*configuredRoot, error) {
	var out []*configuredRoot
	fail := func(err error) ([]*configuredRoot, error) {
		for _, r := range out {
			clear(r.root)
		}
		return nil, err
	}
	cfgs := []config.Config{cfg}
	for _, rk := range cfg.PreviousRootKeys {
		cfgs = append(cfgs, cfg.WithRootKey(rk))
	}
	for i, c := range cfgs {
		name := "root_key"
		if i > 0 {
			name = fmt.Sprintf("previous_root_keys[%d]", i-1)
		}
		root, err := LoadRootKey(c, getenv)
		if err != nil {
			if i > 0 {
				err = fmt.Errorf("%s: %w", name, err)
			}
			return fail(err)
		}
		digest, err := keyring.RootCheckDigest(root)
		if err != nil {
			clear(root)
			return fail(fmt.Errorf("%s: %w", name, err))
		}
		for _, o := range out {
			if bytes.Equal(o.digest, digest) {
				clear(root)
				return fail(fmt.Errorf("%s is the same root key as %s", name, o.name))
			}
		}
		out = append(out, &configuredRoot{name: name, cfg: c, root: root, digest: digest})
	}
	return out, nil
}

// rootState is what a start learnt of the database's root key
// generations.
type rootState struct {
	gens    []keyring.GenerationRecord
	current uint32 // the generation the database seals under
	newGen  uint32 // root_key's generation
	added   bool   // root_key was registered as a new generation now
	wroteCV bool   // the check value was written now
}

// openKeyring reads the configured root keys, matches each with the root
// key generation of the database it is, registers root_key as a new
// generation when a previous root key identifies the database (the first
// start of a root key rotation), and returns a keyring of them sealing
// under the database's current generation, with the database's
// derivation key. It refuses a root key the database never used, a
// configuration that lacks the generation the database seals under, and
// one that lacks a generation that still seals items (naming it and the
// count).
func openKeyring(ctx context.Context, st store.Store, cfg config.Config, getenv func(string) string, log *slog.Logger) (*keyring.Keyring, uint32, error) {
	roots, err := loadRootKeys(cfg, getenv)
	if err != nil {
		return nil, 0, err
	}
	defer func() {
		for _, r := range roots {
			clear(r.root)
		}
	}()
	var rs rootState
	err = st.Update(ctx, func(tx store.Tx) error {
		rs = rootState{}
		return matchGenerations(tx, cfg, roots, &rs)
	})
	if err != nil {
		return nil, 0, err
	}
	var gens []keyring.Generation
	for _, r := range roots {
		gens = append(gens, keyring.Generation{Number: r.gen, Root: r.root})
	}
	held := map[uint32]bool{}
	for _, r := range roots {
		held[r.gen] = true
	}
	if !held[rs.current] {
		return nil, 0, fmt.Errorf("%w: the database %s seals under root key generation %d, which the configuration lacks (root_key is generation %d); configure that root key as root_key or in previous_root_keys", ErrMissingGeneration, DescribeStore(cfg), rs.current, rs.newGen)
	}
	kr, err := keyring.NewGenerations(rs.current, gens...)
	if err != nil {
		return nil, 0, err
	}
	if err := checkMissingGenerations(ctx, st, cfg, rs.gens, held); err != nil {
		return nil, 0, err
	}
	if err := loadDerivationKey(ctx, st, kr); err != nil {
		return nil, 0, err
	}
	if rs.wroteCV && !rs.added {
		log.Info("root key check value written: the database had none; from now on a start with another root key is refused", "database", DescribeStore(cfg))
	}
	if rs.added {
		log.Info("new root key generation registered: run kmsd rootkey rotate once every node has it", "generation", rs.newGen, "sealing_generation", rs.current)
	}
	return kr, rs.newGen, nil
}

// matchGenerations is the transaction of openKeyring: it reads (or
// creates) the generation table and gives each configured root its
// generation.
func matchGenerations(tx store.Tx, cfg config.Config, roots []*configuredRoot, rs *rootState) error {
	b, err := tx.GetMeta(generationsMeta)
	switch {
	case errors.Is(err, store.ErrNotFound):
		// A database of a kmsd before generations: its root key is
		// generation 1, identified by the check value (when it has one).
		first := roots[0]
		stored, err := tx.GetMeta(rootCheckMeta)
		switch {
		case errors.Is(err, store.ErrNotFound):
			if len(roots) > 1 {
				return fmt.Errorf("previous_root_keys: the database %s records no root key yet, so there is nothing to rotate; remove previous_root_keys", DescribeStore(cfg))
			}
		case err != nil:
			return err
		default:
			first = nil
			for _, r := range roots {
				kr, err := keyring.New(r.root)
				if err != nil {
					return err
				}
				if verr := kr.VerifyCheckValue(stored); verr == nil {
					first = r
					break
				} else if errors.Is(verr, keyring.ErrCheckMalformed) {
					return fmt.Errorf("database %s: its root key check value (meta %q) is damaged: %w", DescribeStore(cfg), rootCheckMeta, verr)
				}
			}
			if first == nil {
				return wrongRootKey(cfg)
			}
		}
		rs.gens = []keyring.GenerationRecord{{Number: 1, Check: first.digest}}
		if err := putGenerations(tx, rs.gens); err != nil {
			return err
		}
	case err != nil:
		return err
	default:
		if rs.gens, err = keyring.ParseGenerations(b); err != nil {
			return fmt.Errorf("database %s: its root key generation table (meta %q) is damaged: %w", DescribeStore(cfg), generationsMeta, err)
		}
	}
	matched := false
	for _, r := range roots {
		for _, g := range rs.gens {
			if bytes.Equal(g.Check, r.digest) {
				r.gen = g.Number
				matched = true
			}
		}
	}
	if !matched {
		return wrongRootKey(cfg)
	}
	for _, r := range roots[1:] {
		if r.gen == 0 {
			return fmt.Errorf("%w: %s (%s) is not a root key that the database %s has used; kmsd refuses to start: configure the root key being replaced there", ErrWrongRootKey, r.name, describeRootKey(r.cfg), DescribeStore(cfg))
		}
	}
	if roots[0].gen == 0 {
		// The first start of a rotation: root_key is a new generation.
		n := rs.gens[len(rs.gens)-1].Number + 1
		roots[0].gen = n
		rs.gens = append(rs.gens, keyring.GenerationRecord{Number: n, Check: roots[0].digest})
		if err := putGenerations(tx, rs.gens); err != nil {
			return err
		}
		rs.added = true
	}
	rs.newGen = roots[0].gen
	rs.current = 1
	if b, err := tx.GetMeta(currentGenerationMeta); err == nil && len(b) == 4 {
		rs.current = binary.BigEndian.Uint32(b)
	} else if err == nil {
		return fmt.Errorf("database %s: meta %q is damaged", DescribeStore(cfg), currentGenerationMeta)
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	// The check value names the newest generation once there are
	// several, in format 2, which a kmsd without generations refuses.
	want := checkValueFor(rs.gens)
	stored, err := tx.GetMeta(rootCheckMeta)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if !bytes.Equal(stored, want) {
		if err := tx.PutMeta(rootCheckMeta, want); err != nil {
			return err
		}
		rs.wroteCV = true
	}
	return nil
}

func putGenerations(tx store.Tx, gens []keyring.GenerationRecord) error {
	b, err := keyring.MarshalGenerations(gens)
	if err != nil {
		return err
	}
	return tx.PutMeta(generationsMeta, b)
}

func wrongRootKey(cfg config.Config) error {
	return fmt.Errorf("%w: %s is not the root key that the database %s was initialised with; kmsd refuses to start so that no key is sealed under the wrong root key and the existing keys stay openable: configure the original root key (or restore it from its backup)", ErrWrongRootKey, describeRootKey(cfg), cfg.Database.Path)
}

// checkMissingGenerations refuses a start without the root key of a
// generation that is not retired and still seals items: they could not be
// opened. A generation that seals nothing (a rotation that re-sealed
// everything but stopped before it said done) is no reason to refuse.
func checkMissingGenerations(ctx context.Context, st store.Store, cfg config.Config, gens []keyring.GenerationRecord, held map[uint32]bool) error {
	var missing []uint32
	for _, g := range gens {
		if !g.Retired && !held[g.Number] {
			missing = append(missing, g.Number)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	counts, err := countByGeneration(ctx, st)
	if err != nil {
		return err
	}
	for _, n := range missing {
		if c := counts[n]; c > 0 {
			return fmt.Errorf("%w: the database %s holds %d items sealed by root key generation %d, and the configuration lacks its root key; kmsd refuses to start: add that root key to previous_root_keys and finish kmsd rootkey rotate", ErrMissingGeneration, DescribeStore(cfg), c, n)
		}
	}
	return nil
}

// countByGeneration counts the sealed items of the store, the derivation
// key included, by the root key generation that sealed them.
func countByGeneration(ctx context.Context, st store.Store) (map[uint32]int, error) {
	rs, ok := st.(store.Resealer)
	if !ok {
		return nil, fmt.Errorf("root key generations: the store %T cannot list its sealed items", st)
	}
	counts := map[uint32]int{}
	err := walkSealed(ctx, rs, nil, 500, func(items []store.SealedItem) (store.SealedItem, error) {
		for _, it := range items {
			if n, err := keyring.GenerationOf(it.Sealed); err == nil {
				counts[n]++
			}
		}
		return items[len(items)-1], nil
	})
	if err != nil {
		return nil, err
	}
	err = st.View(ctx, func(tx store.Tx) error {
		b, err := tx.GetMeta(derivationKeyMeta)
		if err == nil {
			if n, err := keyring.GenerationOf(b); err == nil {
				counts[n]++
			}
			return nil
		}
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	})
	return counts, err
}

// loadDerivationKey installs the database's derivation key in kr, storing
// it first when the database has none: then it is generation 1's own, so
// that a data directory made before generations derives what it derived
// before.
func loadDerivationKey(ctx context.Context, st store.Store, kr *keyring.Keyring) error {
	var sealed []byte
	err := st.Update(ctx, func(tx store.Tx) error {
		b, err := tx.GetMeta(derivationKeyMeta)
		if err == nil {
			sealed = b
			return nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if !kr.Has(1) {
			return fmt.Errorf("root key: the database has no derivation key and the configuration lacks root key generation 1 it derives from; configure that root key in previous_root_keys")
		}
		if err := kr.UseGenerationDerivationKey(1); err != nil {
			return err
		}
		if sealed, err = kr.SealDerivationKey(derivationKeyBinding); err != nil {
			return err
		}
		return tx.PutMeta(derivationKeyMeta, sealed)
	})
	if err != nil {
		return fmt.Errorf("root key: derivation key: %w", err)
	}
	if err := kr.OpenDerivationKey(derivationKeyBinding, sealed); err != nil {
		return fmt.Errorf("root key: the database's derivation key (meta %q) does not open with the configured root keys: %w", derivationKeyMeta, err)
	}
	return nil
}

// describeRootKey names the root key source of cfg for messages.
func describeRootKey(cfg config.Config) string {
	switch rk := cfg.RootKey; {
	case rk.File != "":
		return "the root key file " + rk.File
	case rk.PassphraseEnv != "":
		return "the root key derived from the passphrase in $" + rk.PassphraseEnv
	case rk.PassphraseFile != "":
		return "the root key derived from the passphrase in " + rk.PassphraseFile
	case rk.Source == config.SourcePKCS11:
		return fmt.Sprintf("the root key in %s, decrypted by the key %q of token %q", cfg.WrappedRootKeyPath(), rk.KeyLabel, rk.TokenLabel)
	}
	return "the configured root key"
}

// nodeSealer seals a node's own files (its audit signing key) under the
// generation of root_key, the one the node is being moved to, rather than
// the database's current generation: no other node opens them, and they
// must open once the previous root keys are removed.
type nodeSealer struct {
	*keyring.Keyring
	gen uint32
}

// Seal seals under the node's generation.
func (n nodeSealer) Seal(b keyring.Binding, plaintext []byte) ([]byte, error) {
	return n.SealGeneration(n.gen, b, plaintext)
}

// NodeGeneration is the generation of the node's files.
func (n nodeSealer) NodeGeneration() uint32 { return n.gen }

// checkValueFor is the root key check value a database with the
// generation table gens stores: generation 1's in format 1 while it is the
// only one, then the newest generation's in format 2, which a kmsd
// without generations refuses.
func checkValueFor(gens []keyring.GenerationRecord) []byte {
	newest := gens[len(gens)-1]
	if len(gens) == 1 && newest.Number == 1 {
		return append([]byte{0x01}, newest.Check...)
	}
	out := binary.BigEndian.AppendUint32([]byte{0x02}, newest.Number)
	return append(out, newest.Check...)
}
