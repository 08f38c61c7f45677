package server

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kmsd/kmsd/internal/iam"
	"github.com/kmsd/kmsd/internal/keyring"
	"github.com/kmsd/kmsd/internal/kms"
	"github.com/kmsd/kmsd/internal/store"
)

// rotationMeta holds the progress of a root key rotation (JSON, see
// rotationProgress), so that a rerun resumes where a stopped one was.
const rotationMeta = "root_key_rotation"

// generationPollInterval is how often a serving node reads the
// generation the database seals under, so that it follows a rotation.
const generationPollInterval = time.Second

// sealingGrace is how long a rotation waits after moving the sealing
// generation before its final check, so that every serving node has read
// the move (generationPollInterval) and finished the seals it had begun.
const sealingGrace = 3 * generationPollInterval

// rotationProgress is the meta record of a rotation under way. Version is
// 1. A record that does not parse, or names another target, restarts the
// walk from the beginning, which is always safe: items already of the
// target generation are skipped.
type rotationProgress struct {
	Version int              `json:"version"`
	Target  uint32           `json:"target"`
	Kind    string           `json:"kind"`
	After   store.SealedItem `json:"after"`
	Walked  int              `json:"walked"`
	// SwitchedAt is when the sealing generation was moved (Unix ms).
	SwitchedAt int64 `json:"switched_at"`
}

// RotateOptions tune RotateRootKey.
type RotateOptions struct {
	// Batch is the number of items listed and re-sealed per transaction
	// (default 100).
	Batch int
	// Pause is waited between batches, to spare a busy database.
	Pause time.Duration
	// Progress, when set, is called after each batch with the items
	// walked and the total.
	Progress func(walked, total int)
	// Switched, when set, is called once the database names the new
	// generation as the one to seal under, so that the caller can tell
	// a serving process on the same data directory at once.
	Switched func()
}

// RotateResult says what RotateRootKey did.
type RotateResult struct {
	// Generation is the root key generation everything is sealed by now.
	Generation uint32
	// Resealed counts the items re-sealed by this run (not by an earlier
	// run it resumed).
	Resealed int
	// Total is the number of sealed items in the store.
	Total int
	// Retired are the generations no longer needed.
	Retired []uint32
	// Resumed is true when the run continued a stopped one.
	Resumed bool
}

// RotateRootKey re-seals every sealed item of the store — key material,
// access key secrets, import token and access point private keys, and the
// derivation key — under the generation of root_key, while servers keep
// serving: it first makes that generation the one every node seals under,
// then walks the items in small compare-and-swap batches, recording its
// progress in the store so that a rerun after a crash resumes, then
// checks that no item of another generation remains, and retires the
// others. Only when it returns nil may the previous root keys be removed
// from the configuration.
func (s *Server) RotateRootKey(ctx context.Context, opt RotateOptions) (RotateResult, error) {
	if opt.Batch <= 0 {
		opt.Batch = 100
	}
	rs, ok := s.store.(store.Resealer)
	if !ok {
		return RotateResult{}, fmt.Errorf("rootkey rotate: the store %T cannot list its sealed items", s.store)
	}
	target := s.rootGen
	res := RotateResult{Generation: target}
	if done, err := s.rotationDone(ctx, target); err != nil || done {
		return res, err
	}
	total, err := rs.CountSealed(ctx)
	if err != nil {
		return res, err
	}
	res.Total = total + 1 // and the derivation key

	// Move the sealing generation, and start or resume the progress record.
	var prog rotationProgress
	err = s.store.Update(ctx, func(tx store.Tx) error {
		prog = rotationProgress{Version: 1, Target: target, Kind: store.SealedKinds[0]}
		if b, err := tx.GetMeta(rotationMeta); err == nil {
			var p rotationProgress
			if json.Unmarshal(b, &p) == nil && p.Version == 1 && p.Target == target && slices.Contains(store.SealedKinds, p.Kind) {
				prog = p
				res.Resumed = true
			}
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		b, err := tx.GetMeta(generationsMeta)
		if err != nil {
			return err
		}
		gens, err := keyring.ParseGenerations(b)
		if err != nil {
			return err
		}
		for _, g := range gens {
			if g.Number == target && g.Retired {
				return fmt.Errorf("root_key is root key generation %d, which a rotation retired; a replaced root key is not taken back: make a new root key (kmsd init with the current one in previous_root_keys)", target)
			}
		}
		cur, err := tx.GetMeta(currentGenerationMeta)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		want := binary.BigEndian.AppendUint32(nil, target)
		if !bytes.Equal(cur, want) {
			if err := tx.PutMeta(currentGenerationMeta, want); err != nil {
				return err
			}
			prog.SwitchedAt = time.Now().UnixMilli()
		} else if prog.SwitchedAt == 0 {
			prog.SwitchedAt = time.Now().UnixMilli()
		}
		return putProgress(tx, prog)
	})
	if err != nil {
		return res, fmt.Errorf("rootkey rotate: %w", err)
	}
	if err := s.keyring.SetCurrent(target); err != nil {
		return res, err
	}
	if opt.Switched != nil {
		opt.Switched()
	}
	walked := 0
	if res.Resumed {
		walked = prog.Walked
	}
	report := func() {
		if opt.Progress != nil {
			opt.Progress(min(walked, res.Total), res.Total)
		}
	}
	report()

	// The walk, from the recorded cursor.
	start := slices.Index(store.SealedKinds, prog.Kind)
	from := &sealedCursor{kind: prog.Kind, after: prog.After}
	if start < 0 {
		from = nil
	}
	err = walkSealed(ctx, rs, from, opt.Batch, func(items []store.SealedItem) (store.SealedItem, error) {
		n, err := s.resealBatch(ctx, rs, target, items)
		if err != nil {
			return store.SealedItem{}, err
		}
		res.Resealed += n
		walked += len(items)
		last := items[len(items)-1]
		prog.Kind, prog.After, prog.Walked = last.Kind, cursorOf(last), walked
		if err := s.store.Update(ctx, func(tx store.Tx) error { return putProgress(tx, prog) }); err != nil {
			return store.SealedItem{}, err
		}
		report()
		if opt.Pause > 0 {
			select {
			case <-ctx.Done():
				return store.SealedItem{}, ctx.Err()
			case <-time.After(opt.Pause):
			}
		}
		return last, nil
	})
	if err != nil {
		return res, fmt.Errorf("rootkey rotate: %w (run it again to resume)", err)
	}
	if n, err := s.resealDerivationKey(ctx, target); err != nil {
		return res, fmt.Errorf("rootkey rotate: derivation key: %w (run it again to resume)", err)
	} else {
		res.Resealed += n
	}
	walked = res.Total
	report()

	// Every node has read the move once the grace has passed; items a
	// slow node sealed under the old generation before that are caught
	// by the final walks.
	if wait := time.Until(time.UnixMilli(prog.SwitchedAt).Add(sealingGrace)); wait > 0 {
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-time.After(wait):
		}
	}
	for pass := 1; ; pass++ {
		left := 0
		err := walkSealed(ctx, rs, nil, opt.Batch, func(items []store.SealedItem) (store.SealedItem, error) {
			for _, it := range items {
				if g, _ := keyring.GenerationOf(it.Sealed); g != target {
					left++
				}
			}
			n, err := s.resealBatch(ctx, rs, target, items)
			res.Resealed += n
			return items[len(items)-1], err
		})
		if err != nil {
			return res, fmt.Errorf("rootkey rotate: final check: %w (run it again to resume)", err)
		}
		n, err := s.resealDerivationKey(ctx, target)
		if err != nil {
			return res, fmt.Errorf("rootkey rotate: final check: %w", err)
		}
		left += n
		res.Resealed += n
		if left == 0 {
			break
		}
		if pass == 5 {
			return res, fmt.Errorf("rootkey rotate: items sealed by an older root key generation keep appearing (%d in the last pass): a node still seals under it; give every node the new root key (rolling restart) and run kmsd rootkey rotate again", left)
		}
	}

	// Done: retire the other generations and drop the progress record.
	err = s.store.Update(ctx, func(tx store.Tx) error {
		b, err := tx.GetMeta(generationsMeta)
		if err != nil {
			return err
		}
		gens, err := keyring.ParseGenerations(b)
		if err != nil {
			return err
		}
		res.Retired = nil
		for i := range gens {
			if gens[i].Number != target && !gens[i].Retired {
				gens[i].Retired = true
				res.Retired = append(res.Retired, gens[i].Number)
			}
		}
		if err := putGenerations(tx, gens); err != nil {
			return err
		}
		if err := tx.PutMeta(rootCheckMeta, checkValueFor(gens)); err != nil {
			return err
		}
		prog = rotationProgress{Version: 1, Target: 0, Kind: "done", Walked: walked}
		return putProgress(tx, prog)
	})
	if err != nil {
		return res, fmt.Errorf("rootkey rotate: %w", err)
	}
	return res, nil
}

// rotationDone reports whether there is nothing to rotate: target seals,
// every other generation is retired, and no rotation is under way.
func (s *Server) rotationDone(ctx context.Context, target uint32) (bool, error) {
	gens, current, progress, err := s.RootKeyGenerations(ctx)
	if err != nil {
		return false, err
	}
	for _, g := range gens {
		if g.Number != target && !g.Retired {
			return false, nil
		}
	}
	return current == target && progress == "", nil
}

func putProgress(tx store.Tx, p rotationProgress) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return tx.PutMeta(rotationMeta, b)
}

// cursorOf is the part of an item a walk resumes after: its row's key,
// without the blob.
func cursorOf(it store.SealedItem) store.SealedItem {
	it.Sealed = nil
	return it
}

// resealBatch re-seals under target the items of another generation and
// swaps them in one transaction; it returns how many it swapped. An item
// that changed meanwhile is left to the final walk.
func (s *Server) resealBatch(ctx context.Context, rs store.Resealer, target uint32, items []store.SealedItem) (int, error) {
	var reps []store.SealedReplacement
	for _, it := range items {
		if g, err := keyring.GenerationOf(it.Sealed); err == nil && g == target {
			continue
		}
		b, err := sealedBinding(it)
		if err != nil {
			return 0, err
		}
		resealed, err := s.keyring.Reseal(target, b, it.Sealed)
		if err != nil {
			g, _ := keyring.GenerationOf(it.Sealed)
			return 0, fmt.Errorf("%s %s: sealed by root key generation %d, does not open with the configured root keys: %w", it.Kind, describeItem(it), g, err)
		}
		reps = append(reps, store.SealedReplacement{Item: it, New: resealed})
	}
	if len(reps) == 0 {
		return 0, nil
	}
	return rs.ReplaceSealed(ctx, reps)
}

// resealDerivationKey re-seals the stored derivation key under target,
// reporting 1 when it did.
func (s *Server) resealDerivationKey(ctx context.Context, target uint32) (int, error) {
	n := 0
	err := s.store.Update(ctx, func(tx store.Tx) error {
		n = 0
		b, err := tx.GetMeta(derivationKeyMeta)
		if err != nil {
			return err
		}
		if g, err := keyring.GenerationOf(b); err == nil && g == target {
			return nil
		}
		re, err := s.keyring.Reseal(target, derivationKeyBinding, b)
		if err != nil {
			return err
		}
		n = 1
		return tx.PutMeta(derivationKeyMeta, re)
	})
	return n, err
}

// sealedBinding is the keyring binding of a stored sealed item: the
// binding its owner (kms or iam) sealed it with.
func sealedBinding(it store.SealedItem) (keyring.Binding, error) {
	if it.Kind == store.SealedAccessKey {
		return iam.AccessKeyBinding(it.ID), nil
	}
	return kms.SealedItemBinding(it)
}

func describeItem(it store.SealedItem) string {
	switch it.Kind {
	case store.SealedKeyMaterial:
		return fmt.Sprintf("%s/%s version %d", it.ProjectID, it.KeyID, it.Version)
	case store.SealedAccessKey:
		return it.ID
	}
	return it.ProjectID + "/" + it.ID
}

// sealedCursor is where a walk of the sealed items starts: after the
// item after of kind.
type sealedCursor struct {
	kind  string
	after store.SealedItem
}

// walkSealed lists every sealed item, kind by kind in store.SealedKinds
// order, in pages of batch, starting at from (nil: the beginning), and
// calls fn with each non-empty page; fn returns the item to continue
// after.
func walkSealed(ctx context.Context, rs store.Resealer, from *sealedCursor, batch int, fn func([]store.SealedItem) (store.SealedItem, error)) error {
	kinds := store.SealedKinds
	var after store.SealedItem
	if from != nil {
		kinds = kinds[slices.Index(kinds, from.kind):]
		after = from.after
	}
	for _, kind := range kinds {
		for {
			page, err := rs.ListSealed(ctx, kind, after, batch)
			if err != nil {
				return err
			}
			if len(page) == 0 {
				break
			}
			if after, err = fn(page); err != nil {
				return err
			}
			if len(page) < batch {
				break
			}
		}
		after = store.SealedItem{}
	}
	return nil
}

// RootKeyGenerations describes the database's root key generations for
// kmsd rootkey status: the table, the generation sealing now, and the
// progress record of a rotation under way ("" when none).
func (s *Server) RootKeyGenerations(ctx context.Context) (gens []keyring.GenerationRecord, current uint32, progress string, err error) {
	err = s.store.View(ctx, func(tx store.Tx) error {
		b, err := tx.GetMeta(generationsMeta)
		if err != nil {
			return err
		}
		if gens, err = keyring.ParseGenerations(b); err != nil {
			return err
		}
		current = 1
		if b, err := tx.GetMeta(currentGenerationMeta); err == nil && len(b) == 4 {
			current = binary.BigEndian.Uint32(b)
		}
		if b, err := tx.GetMeta(rotationMeta); err == nil {
			var p rotationProgress
			if json.Unmarshal(b, &p) == nil && p.Target != 0 {
				progress = fmt.Sprintf("rotation to generation %d under way: %d items walked, at %s", p.Target, p.Walked, p.Kind)
			}
		}
		return nil
	})
	return gens, current, progress, err
}

// CountSealedByGeneration counts the store's sealed items by the root key
// generation that sealed them.
func (s *Server) CountSealedByGeneration(ctx context.Context) (map[uint32]int, error) {
	return countByGeneration(ctx, s.store)
}

// followSealingGeneration keeps the keyring sealing under the generation
// the database names, so that a node follows kmsd rootkey rotate run
// elsewhere; it reads it every generationPollInterval and when poked
// (SIGHUP), until ctx ends.
func (s *Server) followSealingGeneration(ctx context.Context) {
	t := time.NewTicker(generationPollInterval)
	defer t.Stop()
	warned := uint32(0)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.genPoke:
		}
		var n uint32
		err := s.store.View(ctx, func(tx store.Tx) error {
			b, err := tx.GetMeta(currentGenerationMeta)
			if errors.Is(err, store.ErrNotFound) {
				n = 1
				return nil
			}
			if err != nil {
				return err
			}
			if len(b) != 4 {
				return fmt.Errorf("meta %q is damaged", currentGenerationMeta)
			}
			n = binary.BigEndian.Uint32(b)
			return nil
		})
		if err != nil || n == s.keyring.Current() {
			continue
		}
		if !s.keyring.Has(n) {
			if warned != n {
				s.log.Error("the database now seals under a root key generation this node lacks; it keeps sealing under its own until restarted with that root key", "generation", n, "sealing_generation", s.keyring.Current())
				warned = n
			}
			continue
		}
		s.keyring.SetCurrent(n)
		s.log.Info("root key generation changed: sealing under the new one", "generation", n)
	}
}
