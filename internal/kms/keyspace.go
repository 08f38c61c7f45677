package kms

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/kmsd/kmsd/internal/store"
)

// Errors of key spaces, access points and key policies (reference
// kms-api-new.md §6: no code of their own is documented; the API maps
// them to the existing codes with messages that name the cause).
var (
	ErrKeySpaceNotFound    = errors.New("key space not found")
	ErrKeySpaceNotEmpty    = errors.New("key space still holds access points or key policies")
	ErrAccessPointNotFound = errors.New("access point not found")
	ErrKeyPolicyNotFound   = errors.New("key policy not found")
	// ErrDuplicateName is a key space name taken in the project, or a
	// key policy name taken in its key space.
	ErrDuplicateName = errors.New("name already taken")
)

// Key space types (reference kms-api-new.md §0).
const (
	KeySpaceDefault  = "1"
	KeySpaceHSM      = "2"
	KeySpaceKeystore = "3"
)

// Page sizes of the key-space lists (reference kms-api-new.md §1: limit
// 1–100, default 50).
const (
	DefaultSpaceListLimit = 50
	MaxSpaceListLimit     = 100
)

var (
	// spaceIDRE is the documented id shape of key spaces, access points
	// and key policies: a UUID, either case (reference kms-api-new.md §1).
	spaceIDRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	// spaceNameRE is the name rule of key spaces, access points and key
	// policies (reference: ^[a-zA-Z0-9:/_-]{1,255}$; the same charset for
	// key space names, inferred).
	spaceNameRE = regexp.MustCompile(`^[a-zA-Z0-9:/_-]{1,255}$`)
)

// KeySpace is a trusted key space of a project.
type KeySpace = store.KeySpace

// spaceID checks the shape of an id and returns it in lower case, the
// form kmsd stores; a malformed id is ErrInvalidParameter naming member.
func spaceID(member, id string) (string, error) {
	if !spaceIDRE.MatchString(id) {
		return "", fmt.Errorf("%w: %s %q is not a UUID", ErrInvalidParameter, member, id)
	}
	return strings.ToLower(id), nil
}

// spaceIDs makes version 7 UUIDs (RFC 9562) that increase strictly in
// the order they are made, so that lists paged by id come in creation
// order. The first 48 bits are the Unix time in milliseconds; within one
// millisecond the 12 bits after the version count up from a random start
// (RFC 9562 §6.2, method 3), and a counter that runs out borrows the next
// millisecond. Safe for concurrent use.
type spaceIDs struct {
	mu      sync.Mutex
	lastMS  uint64
	counter uint16 // 12 bits
}

func (g *spaceIDs) next(now time.Time) string {
	var b [16]byte
	rand.Read(b[:]) // Never fails; see crypto/rand.Read.
	ms := uint64(now.UnixMilli())
	g.mu.Lock()
	switch {
	case ms > g.lastMS:
		g.lastMS = ms
		g.counter = binary.BigEndian.Uint16(b[6:8]) & 0x07ff // room to count
	case g.counter < 0x0fff:
		g.counter++
	default:
		g.lastMS++
		g.counter = 0
	}
	ms, counter := g.lastMS, g.counter
	g.mu.Unlock()
	var m [8]byte
	binary.BigEndian.PutUint64(m[:], ms)
	copy(b[0:6], m[2:8])
	b[6] = 0x70 | byte(counter>>8)
	b[7] = byte(counter)
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// spaceName checks a name against the documented charset and length.
func spaceName(member, name string) error {
	if !spaceNameRE.MatchString(name) {
		return fmt.Errorf("%w: %s must match %s", ErrInvalidParameter, member, spaceNameRE)
	}
	return nil
}

// spaceDescription checks an optional description (at most 255
// characters, inferred from the reference's 1–255 of access points).
func spaceDescription(d string) error {
	if len([]rune(d)) > MaxDescriptionLen {
		return fmt.Errorf("%w: description longer than %d characters", ErrInvalidParameter, MaxDescriptionLen)
	}
	return nil
}

// Page is the paging of the key-space lists: Limit items after the id
// Marker ("" for the first page).
type Page struct {
	Marker string
	Limit  int
}

// check validates the page and returns the marker in lower case and the
// limit, defaulted.
func (p Page) check() (string, int, error) {
	limit := p.Limit
	if limit == 0 {
		limit = DefaultSpaceListLimit
	}
	if limit < 1 || limit > MaxSpaceListLimit {
		return "", 0, fmt.Errorf("%w: limit %d, want 1–%d", ErrInvalidLimit, p.Limit, MaxSpaceListLimit)
	}
	if p.Marker == "" {
		return "", limit, nil
	}
	m, err := spaceID("marker", p.Marker)
	if err != nil {
		return "", 0, fmt.Errorf("%w: marker %q is not a UUID", ErrInvalidParameter, p.Marker)
	}
	return m, limit, nil
}

// pageOf cuts a list read with one item more than limit and returns the
// page and the marker of the next one ("" on the last page).
func pageOf[T any](rows []T, limit int, id func(T) string) ([]T, string) {
	if len(rows) <= limit {
		return rows, ""
	}
	rows = rows[:limit]
	return rows, id(rows[len(rows)-1])
}

// CreateKeySpaceInput are the parameters of CreateTrustedKeySpace
// (reference kms-api-new.md §0).
type CreateKeySpaceInput struct {
	ProjectID   string
	Name        string
	Type        string // "" means KeySpaceDefault
	KeystoreID  string
	Description string
}

// CreateKeySpace creates a key space. Types 2 and 3 need a keystore id
// (which kmsd records but does not resolve: keystores are another area).
func (s *Service) CreateKeySpace(ctx context.Context, in CreateKeySpaceInput) (KeySpace, error) {
	if err := spaceName("keyspace_name", in.Name); err != nil {
		return KeySpace{}, err
	}
	if err := spaceDescription(in.Description); err != nil {
		return KeySpace{}, err
	}
	switch in.Type {
	case "":
		in.Type = KeySpaceDefault
	case KeySpaceDefault, KeySpaceHSM, KeySpaceKeystore:
	default:
		return KeySpace{}, fmt.Errorf("%w: type %q, want 1, 2 or 3", ErrInvalidParameter, in.Type)
	}
	if in.Type != KeySpaceDefault && in.KeystoreID == "" {
		return KeySpace{}, fmt.Errorf("%w: keystore_id is required for key space type %s", ErrInvalidParameter, in.Type)
	}
	now := s.Now().UTC().Truncate(time.Millisecond)
	ks := KeySpace{ProjectID: in.ProjectID, ID: s.spaceIDs.next(now), Name: in.Name, Type: in.Type,
		KeystoreID: in.KeystoreID, Description: in.Description, CreatedAt: now}
	err := s.update(ctx, func(tx store.Tx) error { return tx.CreateKeySpace(ks) })
	switch {
	case errors.Is(err, store.ErrConflict):
		return KeySpace{}, fmt.Errorf("%w: key space %q", ErrDuplicateName, in.Name)
	case err != nil:
		return KeySpace{}, err
	}
	s.log.InfoContext(ctx, "key space created", "project_id", in.ProjectID, "keyspace_id", ks.ID)
	return ks, nil
}

// EnsureKeySpace creates the key space in.Name of the project unless the
// project has one of that name (the bootstrap file): an existing one is
// left as it is.
func (s *Service) EnsureKeySpace(ctx context.Context, in CreateKeySpaceInput) error {
	marker := ""
	for {
		spaces, next, err := s.ListKeySpaces(ctx, in.ProjectID, "", Page{Marker: marker, Limit: MaxSpaceListLimit})
		if err != nil {
			return err
		}
		for _, ks := range spaces {
			if ks.Name == in.Name {
				return nil
			}
		}
		if marker = next; marker == "" {
			break
		}
	}
	_, err := s.CreateKeySpace(ctx, in)
	return err
}

// ListKeySpaces returns a page of the project's key spaces in creation
// order and the next page's marker; id, when set, keeps only that key
// space (the documented keyspace_id filter).
func (s *Service) ListKeySpaces(ctx context.Context, projectID, id string, p Page) ([]KeySpace, string, error) {
	marker, limit, err := p.check()
	if err != nil {
		return nil, "", err
	}
	if id != "" {
		if id, err = spaceID("keyspace_id", id); err != nil {
			return nil, "", err
		}
	}
	var rows []KeySpace
	err = s.store.View(ctx, func(tx store.Tx) error {
		if id != "" {
			ks, err := tx.GetKeySpace(projectID, id)
			if err == nil && ks.ID > marker {
				rows = append(rows, ks)
			}
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			return err
		}
		var err error
		rows, err = tx.ListKeySpaces(projectID, marker, limit+1)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	rows, next := pageOf(rows, limit, func(k KeySpace) string { return k.ID })
	return rows, next, nil
}

// DeleteKeySpace deletes an empty key space (ErrKeySpaceNotEmpty while it
// holds access points or key policies).
func (s *Service) DeleteKeySpace(ctx context.Context, projectID, id string) error {
	id, err := spaceID("keyspace_id", id)
	if err != nil {
		return err
	}
	err = s.update(ctx, func(tx store.Tx) error { return tx.DeleteKeySpace(projectID, id) })
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("%w: %s", ErrKeySpaceNotFound, id)
	case errors.Is(err, store.ErrConflict):
		return fmt.Errorf("%w: %s", ErrKeySpaceNotEmpty, id)
	case err != nil:
		return err
	}
	s.log.InfoContext(ctx, "key space deleted", "project_id", projectID, "keyspace_id", id)
	return nil
}

// keySpaceOf reads the key space id of the project inside tx.
func keySpaceOf(tx store.Tx, projectID, id string) (KeySpace, error) {
	ks, err := tx.GetKeySpace(projectID, id)
	if errors.Is(err, store.ErrNotFound) {
		return KeySpace{}, fmt.Errorf("%w: %s", ErrKeySpaceNotFound, id)
	}
	return ks, err
}
