//go:build cgo

package hsm

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/miekg/pkcs11"
)

// Supported reports whether this kmsd was built with PKCS#11 support.
const Supported = true

// modules shares one loaded, initialised module per library path: a
// PKCS#11 library may be initialised only once per process, and the root
// key and every keystore on the same library share it.
var modules = struct {
	sync.Mutex
	m map[string]*module
}{m: map[string]*module{}}

type module struct {
	ctx  *pkcs11.Ctx
	refs int
}

func loadModule(path string) (*pkcs11.Ctx, error) {
	modules.Lock()
	defer modules.Unlock()
	if m, ok := modules.m[path]; ok {
		m.refs++
		return m.ctx, nil
	}
	ctx := pkcs11.New(path)
	if ctx == nil {
		return nil, fmt.Errorf("hsm: cannot load the PKCS#11 module %s", path)
	}
	if err := ctx.Initialize(); err != nil && !isCode(err, pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		ctx.Destroy()
		return nil, fmt.Errorf("hsm: initialise %s: %w", path, err)
	}
	modules.m[path] = &module{ctx: ctx, refs: 1}
	return ctx, nil
}

func releaseModule(path string) {
	modules.Lock()
	defer modules.Unlock()
	m, ok := modules.m[path]
	if !ok {
		return
	}
	if m.refs--; m.refs > 0 {
		return
	}
	delete(modules.m, path)
	m.ctx.Finalize()
	m.ctx.Destroy()
}

func isCode(err error, code uint) bool {
	var e pkcs11.Error
	return errors.As(err, &e) && uint(e) == code
}

// Token is a logged-in session on one PKCS#11 token. Its methods are safe
// for concurrent use: they take turns on the one session.
type Token struct {
	mu      sync.Mutex
	path    string
	label   string
	ctx     *pkcs11.Ctx
	slot    uint
	session pkcs11.SessionHandle
	closed  bool
}

// Open loads the PKCS#11 module at path (once per process), finds the
// initialised token labelled tokenLabel and logs in as its user with pin.
// The caller must Close the token.
func Open(path, tokenLabel string, pin []byte) (*Token, error) {
	ctx, err := loadModule(path)
	if err != nil {
		return nil, err
	}
	t, err := open(ctx, path, tokenLabel, pin)
	if err != nil {
		releaseModule(path)
		return nil, err
	}
	return t, nil
}

func open(ctx *pkcs11.Ctx, path, tokenLabel string, pin []byte) (*Token, error) {
	slots, err := ctx.GetSlotList(true)
	if err != nil {
		return nil, fmt.Errorf("hsm: list slots of %s: %w", path, err)
	}
	var labels []string
	for _, slot := range slots {
		info, err := ctx.GetTokenInfo(slot)
		if err != nil {
			continue
		}
		label := strings.TrimRight(info.Label, " \x00")
		labels = append(labels, label)
		if label != tokenLabel {
			continue
		}
		s, err := ctx.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
		if err != nil {
			return nil, fmt.Errorf("hsm: open a session on token %q: %w", tokenLabel, err)
		}
		if err := ctx.Login(s, pkcs11.CKU_USER, string(pin)); err != nil && !isCode(err, pkcs11.CKR_USER_ALREADY_LOGGED_IN) {
			ctx.CloseSession(s)
			if isCode(err, pkcs11.CKR_PIN_INCORRECT) {
				return nil, fmt.Errorf("hsm: token %q: %w", tokenLabel, ErrWrongPIN)
			}
			return nil, fmt.Errorf("hsm: log in to token %q: %w", tokenLabel, err)
		}
		return &Token{path: path, label: tokenLabel, ctx: ctx, slot: slot, session: s}, nil
	}
	return nil, fmt.Errorf("hsm: %w: no initialised token labelled %q in %s (tokens found: %q)", ErrNoToken, tokenLabel, path, labels)
}

// Label is the token's label.
func (t *Token) Label() string { return t.label }

// Close ends the session and, with the last token of its module, unloads
// the module. Close is idempotent.
func (t *Token) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil
	}
	t.closed = true
	err := t.ctx.CloseSession(t.session)
	releaseModule(t.path)
	return err
}

// findKey returns the secret key object labelled label. Callers hold t.mu.
func (t *Token) findKey(label string) (pkcs11.ObjectHandle, error) {
	if t.closed {
		return 0, ErrClosed
	}
	tmpl := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
	}
	if err := t.ctx.FindObjectsInit(t.session, tmpl); err != nil {
		return 0, fmt.Errorf("hsm: find key %q: %w", label, err)
	}
	objs, _, err := t.ctx.FindObjects(t.session, 2)
	t.ctx.FindObjectsFinal(t.session)
	switch {
	case err != nil:
		return 0, fmt.Errorf("hsm: find key %q: %w", label, err)
	case len(objs) == 0:
		return 0, fmt.Errorf("hsm: %w: no secret key labelled %q on token %q", ErrNoKey, label, t.label)
	case len(objs) > 1:
		return 0, fmt.Errorf("hsm: several secret keys labelled %q on token %q", label, t.label)
	}
	return objs[0], nil
}

// HasKey reports whether the token holds a secret key labelled label.
func (t *Token) HasKey(label string) (bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, err := t.findKey(label)
	if errors.Is(err, ErrNoKey) {
		return false, nil
	}
	return err == nil, err
}

// GenerateAESKey creates a 256-bit AES key labelled label as a token
// object that never leaves the token: sensitive, not extractable, usable
// for encryption, decryption, wrapping and unwrapping. It fails when a key
// with that label exists.
func (t *Token) GenerateAESKey(label string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, err := t.findKey(label); err == nil {
		return fmt.Errorf("hsm: %w: a secret key labelled %q exists on token %q", ErrKeyExists, label, t.label)
	} else if !errors.Is(err, ErrNoKey) {
		return err
	}
	tmpl := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_AES),
		pkcs11.NewAttribute(pkcs11.CKA_VALUE_LEN, 32),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
		pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, false),
		pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, true),
		pkcs11.NewAttribute(pkcs11.CKA_DECRYPT, true),
		pkcs11.NewAttribute(pkcs11.CKA_WRAP, true),
		pkcs11.NewAttribute(pkcs11.CKA_UNWRAP, true),
	}
	mech := []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_KEY_GEN, nil)}
	if _, err := t.ctx.GenerateKey(t.session, mech, tmpl); err != nil {
		return fmt.Errorf("hsm: generate AES key %q on token %q: %w", label, t.label, err)
	}
	return nil
}

// DestroyKey destroys the secret key labelled label.
func (t *Token) DestroyKey(label string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	h, err := t.findKey(label)
	if err != nil {
		return err
	}
	if err := t.ctx.DestroyObject(t.session, h); err != nil {
		return fmt.Errorf("hsm: destroy key %q on token %q: %w", label, t.label, err)
	}
	return nil
}

// SealGCM encrypts plaintext in the token with AES-GCM (CKM_AES_GCM,
// 128-bit tag) under the key labelled label, with the caller's 12-byte
// nonce and additional data. It returns the ciphertext followed by the
// tag.
func (t *Token) SealGCM(label string, nonce, plaintext, aad []byte) ([]byte, error) {
	return t.gcm(label, nonce, plaintext, aad, true)
}

// OpenGCM decrypts and authenticates what [Token.SealGCM] returned. Any
// authentication failure is [ErrDecrypt].
func (t *Token) OpenGCM(label string, nonce, ciphertext, aad []byte) ([]byte, error) {
	return t.gcm(label, nonce, ciphertext, aad, false)
}

// gcm runs one AES-GCM encryption (seal) or decryption in the token.
func (t *Token) gcm(label string, nonce, in, aad []byte, seal bool) ([]byte, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	h, err := t.findKey(label)
	if err != nil {
		return nil, err
	}
	params := pkcs11.NewGCMParams(nonce, aad, 128)
	defer params.Free()
	mech := []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_GCM, params)}
	init, run, what := t.ctx.DecryptInit, t.ctx.Decrypt, "AES-GCM decryption"
	if seal {
		init, run, what = t.ctx.EncryptInit, t.ctx.Encrypt, "AES-GCM encryption"
	}
	if err := init(t.session, mech, h); err != nil {
		return nil, t.mechErr(what, err)
	}
	out, err := run(t.session, in)
	if err == nil {
		return out, nil
	}
	// SoftHSM2 reports a GCM tag mismatch as CKR_GENERAL_ERROR.
	if !seal && (isCode(err, pkcs11.CKR_ENCRYPTED_DATA_INVALID) || isCode(err, pkcs11.CKR_ENCRYPTED_DATA_LEN_RANGE) || isCode(err, pkcs11.CKR_GENERAL_ERROR)) {
		return nil, ErrDecrypt
	}
	return nil, fmt.Errorf("hsm: %s on token %q: %w", what, t.label, err)
}

func (t *Token) mechErr(what string, err error) error {
	if isCode(err, pkcs11.CKR_MECHANISM_INVALID) || isCode(err, pkcs11.CKR_MECHANISM_PARAM_INVALID) {
		return fmt.Errorf("hsm: token %q: %w: %s", t.label, ErrMechanism, what)
	}
	return fmt.Errorf("hsm: %s on token %q: %w", what, t.label, err)
}

// Random returns n random bytes from the token's generator.
func (t *Token) Random(n int) ([]byte, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, ErrClosed
	}
	b, err := t.ctx.GenerateRandom(t.session, n)
	if err != nil {
		return nil, fmt.Errorf("hsm: random bytes from token %q: %w", t.label, err)
	}
	return b, nil
}

// Mechanisms reports whether the token offers AES-GCM encryption and
// decryption (CKM_AES_GCM) and AES key wrap with padding (RFC 5649,
// CKM_AES_KEY_WRAP_PAD) for wrapping and unwrapping.
func (t *Token) Mechanisms() (gcm, kwp bool, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false, false, ErrClosed
	}
	has := func(m uint, flags uint) bool {
		info, err := t.ctx.GetMechanismInfo(t.slot, []*pkcs11.Mechanism{pkcs11.NewMechanism(m, nil)})
		return err == nil && info.Flags&flags == flags
	}
	return has(pkcs11.CKM_AES_GCM, pkcs11.CKF_ENCRYPT|pkcs11.CKF_DECRYPT),
		has(pkcs11.CKM_AES_KEY_WRAP_PAD, pkcs11.CKF_WRAP|pkcs11.CKF_UNWRAP), nil
}

// WrapSecret wraps secret with the token's AES key labelled label by
// CKM_AES_KEY_WRAP_PAD: secret becomes a short-lived session object, which
// is destroyed again.
func (t *Token) WrapSecret(label string, secret []byte) ([]byte, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	kek, err := t.findKey(label)
	if err != nil {
		return nil, err
	}
	obj, err := t.ctx.CreateObject(t.session, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_GENERIC_SECRET),
		pkcs11.NewAttribute(pkcs11.CKA_VALUE, secret),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, false),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, true),
	})
	if err != nil {
		return nil, fmt.Errorf("hsm: token %q: load the secret to wrap: %w", t.label, err)
	}
	defer t.ctx.DestroyObject(t.session, obj)
	mech := []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_KEY_WRAP_PAD, nil)}
	w, err := t.ctx.WrapKey(t.session, mech, kek, obj)
	if err != nil {
		return nil, t.mechErr("AES key wrap", err)
	}
	return w, nil
}

// UnwrapSecret undoes [Token.WrapSecret]. A wrapped secret that another
// key made, or that was changed, is [ErrDecrypt].
func (t *Token) UnwrapSecret(label string, wrapped []byte) ([]byte, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	kek, err := t.findKey(label)
	if err != nil {
		return nil, err
	}
	mech := []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_KEY_WRAP_PAD, nil)}
	obj, err := t.ctx.UnwrapKey(t.session, mech, kek, wrapped, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_GENERIC_SECRET),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, false),
		pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, false),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, true),
	})
	if err != nil {
		if isCode(err, pkcs11.CKR_MECHANISM_INVALID) {
			return nil, t.mechErr("AES key unwrap", err)
		}
		return nil, ErrDecrypt
	}
	defer t.ctx.DestroyObject(t.session, obj)
	attrs, err := t.ctx.GetAttributeValue(t.session, obj, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_VALUE, nil)})
	if err != nil {
		return nil, fmt.Errorf("hsm: token %q: read the unwrapped secret: %w", t.label, err)
	}
	return attrs[0].Value, nil
}
