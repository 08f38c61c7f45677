package keyring

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"testing"
)

// Cheap Argon2id cost, so tests stay fast.
const (
	testTime      = 1
	testMemoryKiB = 64
	testThreads   = 1
)

func TestPassphrase(t *testing.T) {
	pass := []byte("correct horse battery staple")
	p, root, err := newPassphraseParams(pass, testTime, testMemoryKiB, testThreads)
	if err != nil {
		t.Fatal(err)
	}
	if len(root) != RootKeySize {
		t.Fatalf("len(root) = %d, want %d", len(root), RootKeySize)
	}
	if len(p.Salt) != 16 {
		t.Errorf("len(Salt) = %d, want 16", len(p.Salt))
	}
	if len(p.Check) != 32 {
		t.Errorf("len(Check) = %d, want 32", len(p.Check))
	}
	if bytes.Contains(p.Check, root[:8]) {
		t.Error("Check contains part of the root key")
	}

	tests := []struct {
		name    string
		pass    []byte
		wantErr error
	}{
		{"right", pass, nil},
		{"wrong", []byte("correct horse battery stapler"), ErrWrongPassphrase},
		{"prefix", pass[:len(pass)-1], ErrWrongPassphrase},
		{"empty", nil, ErrWrongPassphrase},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := p.Derive(tt.pass)
			if err != tt.wantErr {
				t.Fatalf("Derive: got error %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && !bytes.Equal(got, root) {
				t.Errorf("Derive = %x, want %x", got, root)
			}
			if tt.wantErr != nil && got != nil {
				t.Errorf("Derive returned a key with error %v", err)
			}
		})
	}

	p2, root2, err := newPassphraseParams(pass, testTime, testMemoryKiB, testThreads)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(p.Salt, p2.Salt) || bytes.Equal(root, root2) {
		t.Error("two parameter sets for one passphrase share a salt or a root key")
	}
}

// TestPassphraseKnownAnswer pins the derivation and the check value.
func TestPassphraseKnownAnswer(t *testing.T) {
	p := PassphraseParams{
		Salt:      mustHex(t, "000102030405060708090a0b0c0d0e0f"),
		Time:      testTime,
		MemoryKiB: testMemoryKiB,
		Threads:   testThreads,
		Check:     mustHex(t, "2a8f5de90ad53a27f937af105a317064aaf022b82de36931377858326285fc6c"),
	}
	root, err := p.Derive([]byte("kmsd test passphrase"))
	if err != nil {
		t.Fatalf("Derive: %v", err)
	}
	if got, want := hex.EncodeToString(root), "5e84bf95acea06e16a371d2c98fa632b5684a0cd0525c47ef0cba1b0a7611296"; got != want {
		t.Errorf("root = %s, want %s", got, want)
	}
	if got := hmacSHA256(root, []byte("kmsd passphrase check v1")); !bytes.Equal(got, p.Check) {
		t.Errorf("Check is not HMAC-SHA256(root, label): got %x, want %x", p.Check, got)
	}
}

func TestPassphraseParamsJSON(t *testing.T) {
	pass := []byte("hunter2")
	p, root, err := newPassphraseParams(pass, testTime, testMemoryKiB, testThreads)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(data, &fields); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"salt", "time", "memory_kib", "threads", "check"} {
		if _, ok := fields[name]; !ok {
			t.Errorf("JSON %s lacks field %q", data, name)
		}
	}
	if len(fields) != 5 {
		t.Errorf("JSON %s has %d fields, want 5", data, len(fields))
	}
	var q PassphraseParams
	if err := json.Unmarshal(data, &q); err != nil {
		t.Fatal(err)
	}
	got, err := q.Derive(pass)
	if err != nil {
		t.Fatalf("Derive after JSON round trip: %v", err)
	}
	if !bytes.Equal(got, root) {
		t.Errorf("Derive after JSON round trip = %x, want %x", got, root)
	}
}

func TestPassphraseParamsMalformed(t *testing.T) {
	pass := []byte("pass")
	p, _, err := newPassphraseParams(pass, testTime, testMemoryKiB, testThreads)
	if err != nil {
		t.Fatal(err)
	}
	with := func(f func(*PassphraseParams)) PassphraseParams {
		q := p
		f(&q)
		return q
	}
	tests := []struct {
		name string
		p    PassphraseParams
	}{
		{"zero", PassphraseParams{}},
		{"no salt", with(func(q *PassphraseParams) { q.Salt = nil })},
		{"short salt", with(func(q *PassphraseParams) { q.Salt = q.Salt[:15] })},
		{"zero time", with(func(q *PassphraseParams) { q.Time = 0 })},
		{"huge time", with(func(q *PassphraseParams) { q.Time = 1 << 31 })},
		{"zero threads", with(func(q *PassphraseParams) { q.Threads = 0 })},
		{"zero memory", with(func(q *PassphraseParams) { q.MemoryKiB = 0 })},
		{"memory below 8 KiB per thread", with(func(q *PassphraseParams) { q.Threads = 4; q.MemoryKiB = 31 })},
		{"huge memory", with(func(q *PassphraseParams) { q.MemoryKiB = 1<<32 - 1 })},
		{"no check", with(func(q *PassphraseParams) { q.Check = nil })},
		{"short check", with(func(q *PassphraseParams) { q.Check = q.Check[:31] })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := tt.p.Derive(pass)
			if err == nil {
				t.Fatal("Derive: got nil error")
			}
			if errors.Is(err, ErrWrongPassphrase) {
				t.Errorf("Derive: got ErrWrongPassphrase for malformed parameters, want another error")
			}
			if key != nil {
				t.Errorf("Derive returned a key with error %v", err)
			}
		})
	}
}

func TestNewPassphraseParamsRejects(t *testing.T) {
	if _, _, err := NewPassphraseParams(nil); err == nil {
		t.Error("NewPassphraseParams(nil): got nil error")
	}
	if _, _, err := newPassphraseParams([]byte("x"), 0, testMemoryKiB, testThreads); err == nil {
		t.Error("newPassphraseParams with time 0: got nil error")
	}
}

func TestNewPassphraseParamsDefaults(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Argon2id with 64 MiB")
	}
	pass := []byte("correct horse battery staple")
	p, root, err := NewPassphraseParams(pass)
	if err != nil {
		t.Fatal(err)
	}
	if p.Time != 3 || p.MemoryKiB != 64*1024 || p.Threads != 2 || len(p.Salt) != 16 {
		t.Errorf("params = time %d, memory %d KiB, threads %d, salt %d bytes; want 3, 65536, 2, 16",
			p.Time, p.MemoryKiB, p.Threads, len(p.Salt))
	}
	got, err := p.Derive(pass)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, root) {
		t.Errorf("Derive = %x, want %x", got, root)
	}
}
