package keyring

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"

	"golang.org/x/crypto/argon2"
)

// ErrWrongPassphrase is returned by [PassphraseParams.Derive] when the
// passphrase does not produce the root key the parameters were made for.
var ErrWrongPassphrase = errors.New("keyring: wrong passphrase")

// Default Argon2id cost for new passphrase parameters. Time and memory are
// those of RFC 9106 §4's second recommended option (t=3, m=2^16 KiB =
// 64 MiB, 128-bit salt, 256-bit output), for machines without 2 GiB to
// spare. That option names p=4 lanes; kmsd uses 2. The cost is stored in
// the parameters, so it can be raised later without breaking old ones.
const (
	defaultTime      = 3
	defaultMemoryKiB = 64 * 1024
	defaultThreads   = 2
)

const (
	saltSize = 16
	// passphraseCheckLabel is the HMAC message of PassphraseParams.Check.
	passphraseCheckLabel = "kmsd passphrase check v1"
	// maxMemoryKiB bounds the memory Derive will spend on parameters read
	// from disk (4 GiB), so corrupt parameters cannot exhaust memory.
	maxMemoryKiB = 4 << 20
	// maxTime bounds the passes Derive will run for the same reason.
	maxTime = 64
)

// PassphraseParams are the public parameters that turn a passphrase into a
// root key with Argon2id. They are not secret and are stored next to the
// data, usually as JSON:
//
//	{"salt":"<base64>","time":3,"memory_kib":65536,"threads":2,"check":"<base64>"}
//
// salt and check are standard base64 (encoding/json's encoding of []byte).
// Check is HMAC-SHA256(rootKey, "kmsd passphrase check v1"): it lets
// [PassphraseParams.Derive] detect a wrong passphrase without revealing the
// root key. Like any verifier it lets an attacker who holds the parameters
// test guesses offline, each at the full Argon2id cost.
type PassphraseParams struct {
	Salt      []byte `json:"salt"`
	Time      uint32 `json:"time"`
	MemoryKiB uint32 `json:"memory_kib"`
	Threads   uint8  `json:"threads"`
	Check     []byte `json:"check"`
}

// NewPassphraseParams makes parameters with a fresh random 16-byte salt and
// the default cost, and returns them with the root key they derive from
// passphrase. The passphrase must not be empty.
func NewPassphraseParams(passphrase []byte) (PassphraseParams, []byte, error) {
	return newPassphraseParams(passphrase, defaultTime, defaultMemoryKiB, defaultThreads)
}

// newPassphraseParams is NewPassphraseParams with a chosen cost, so that
// tests can stay fast.
func newPassphraseParams(passphrase []byte, time, memoryKiB uint32, threads uint8) (PassphraseParams, []byte, error) {
	if len(passphrase) == 0 {
		return PassphraseParams{}, nil, errors.New("keyring: empty passphrase")
	}
	salt := make([]byte, saltSize)
	rand.Read(salt) // Never fails; see crypto/rand.Read.
	p := PassphraseParams{Salt: salt, Time: time, MemoryKiB: memoryKiB, Threads: threads}
	if err := p.validate(); err != nil {
		return PassphraseParams{}, nil, err
	}
	root := p.rootKey(passphrase)
	p.Check = passphraseCheck(root)
	return p, root, nil
}

// Derive returns the root key that passphrase derives under p. It returns
// [ErrWrongPassphrase] if the result does not match p.Check (compared in
// constant time), and another error if p is malformed: a salt shorter than
// 16 bytes, a check that is not 32 bytes, or a cost of zero or beyond 64
// passes or 4 GiB.
func (p PassphraseParams) Derive(passphrase []byte) ([]byte, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	if len(p.Check) != sha256.Size {
		return nil, fmt.Errorf("keyring: passphrase parameters: check is %d bytes, want %d", len(p.Check), sha256.Size)
	}
	root := p.rootKey(passphrase)
	if !hmac.Equal(passphraseCheck(root), p.Check) {
		clear(root)
		return nil, ErrWrongPassphrase
	}
	return root, nil
}

func (p PassphraseParams) validate() error {
	switch {
	case len(p.Salt) < saltSize:
		return fmt.Errorf("keyring: passphrase parameters: salt is %d bytes, want at least %d", len(p.Salt), saltSize)
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("keyring: passphrase parameters: time %d out of range [1, %d]", p.Time, maxTime)
	case p.Threads < 1:
		return errors.New("keyring: passphrase parameters: threads must be at least 1")
	case p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > maxMemoryKiB:
		return fmt.Errorf("keyring: passphrase parameters: memory %d KiB out of range [%d, %d]", p.MemoryKiB, 8*uint32(p.Threads), maxMemoryKiB)
	}
	return nil
}

func (p PassphraseParams) rootKey(passphrase []byte) []byte {
	return argon2.IDKey(passphrase, p.Salt, p.Time, p.MemoryKiB, p.Threads, RootKeySize)
}

func passphraseCheck(root []byte) []byte {
	m := hmac.New(sha256.New, root)
	m.Write([]byte(passphraseCheckLabel))
	return m.Sum(nil)
}
