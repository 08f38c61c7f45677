// Package iam is the slice of Huawei IAM that KMS needs: accounts
// (domains), projects, users, access keys, passwords and identity policies.
// Secret access keys are sealed by the keyring before they reach the store;
// passwords are stored as Argon2id hashes. Service implements
// auth.Directory, so request authentication reads identities through it.
package iam

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"runtime"
	"sync"
	"time"

	"github.com/kmsd/kmsd/internal/keyring"
	"github.com/kmsd/kmsd/internal/store"
)

// PurposeAccessKey is the keyring binding purpose of sealed secret keys;
// the binding's KeyID holds the AK.
const PurposeAccessKey = "access-key-secret"

// Errors returned by the service.
var (
	ErrNotFound      = errors.New("iam: not found")
	ErrExists        = errors.New("iam: already exists")
	ErrInvalid       = errors.New("iam: invalid value")
	ErrInUse         = errors.New("iam: still in use")
	ErrWrongPassword = errors.New("iam: wrong user name or password")
)

var (
	idRE   = regexp.MustCompile(`^[0-9a-f]{32}$`)
	nameRE = regexp.MustCompile(`^[A-Za-z0-9_.@-]{1,64}$`)
	akRE   = regexp.MustCompile(`^[A-Z0-9]{16,64}$`)
	skRE   = regexp.MustCompile(`^[A-Za-z0-9]{20,128}$`)
)

// Service manages identities. It is safe for concurrent use.
type Service struct {
	store   store.Store
	keyring *keyring.Keyring
	log     *slog.Logger
	// Now is the service's clock.
	Now func() time.Time

	// cache holds recently resolved access keys and users so the hot
	// path does not unseal a secret or read the store on every request.
	mu    sync.Mutex
	cache map[cacheKey]cacheEntry

	// logins holds a token for each password check in progress
	// (checkPassword); its capacity bounds them.
	logins chan struct{}
}

// New returns a Service.
func New(st store.Store, kr *keyring.Keyring, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{
		store: st, keyring: kr, log: log, Now: time.Now, cache: map[cacheKey]cacheEntry{},
		logins: make(chan struct{}, max(2, runtime.GOMAXPROCS(0))),
	}
}

// NewID returns a random 32-hex id, the shape of Huawei account, project
// and user ids.
func NewID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b[:])
}

const akAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
const skAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func randomString(alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		// Rejection sampling keeps the distribution uniform.
		for {
			var c [1]byte
			if _, err := rand.Read(c[:]); err != nil {
				panic(err)
			}
			limit := 256 - 256%len(alphabet)
			if int(c[0]) < limit {
				b[i] = alphabet[int(c[0])%len(alphabet)]
				break
			}
		}
	}
	return string(b)
}

func wrapStore(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("%w: %s", ErrNotFound, what)
	case errors.Is(err, store.ErrConflict):
		return fmt.Errorf("%w: %s", ErrExists, what)
	}
	return err
}
