package kms_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/kmsd/kmsd/internal/ciphertext"
	"github.com/kmsd/kmsd/internal/keyring"
	"github.com/kmsd/kmsd/internal/kms"
	"github.com/kmsd/kmsd/internal/store"
	"github.com/kmsd/kmsd/internal/store/sqlite"
)

const day = 24 * time.Hour

// TestRotationRules checks which keys may rotate (reference kms-api.md
// §5.J): every operation that changes rotation refuses the same keys with
// the same error, and manual rotation also needs an enabled key.
func TestRotationRules(t *testing.T) {
	f := newFixture(t, "", 0)
	ctx := t.Context()
	key := func(alias, spec string) string { return f.create(t, alias, spec).KeyID }
	def, err := f.svc.CreateDefaultKey(ctx, project, account, "obs")
	if err != nil {
		t.Fatal(err)
	}
	ext, err := f.svc.CreateKey(ctx, kms.CreateKeyInput{ProjectID: project, AccountID: account, Alias: "ext", Origin: kms.OriginExternal})
	if err != nil {
		t.Fatal(err)
	}
	disabled := key("disabled", "AES_256")
	if _, err := f.svc.DisableKey(ctx, project, disabled); err != nil {
		t.Fatal(err)
	}
	pending := key("pending", "SM4")
	if _, err := f.svc.ScheduleKeyDeletion(ctx, project, pending, 7); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		keyID  string
		want   error // enable, disable, update interval
		manual error // RotateKey
	}{
		{"AES_256", key("aes", "AES_256"), nil, nil},
		{"SM4", key("sm4", "SM4"), nil, nil},
		{"disabled", disabled, nil, kms.ErrKeyDisabled},
		{"pending deletion", pending, kms.ErrKeyPendingDeletion, kms.ErrKeyPendingDeletion},
		{"default key", def.KeyID, kms.ErrDefaultKey, kms.ErrDefaultKey},
		{"external", ext.KeyID, kms.ErrExternalKeyRotation, kms.ErrExternalKeyRotation},
		{"RSA", key("rsa", "RSA_2048"), kms.ErrRSAKeyRotation, kms.ErrRSAKeyRotation},
		{"EC", key("ec", "EC_P256"), kms.ErrAsymmetricKey, kms.ErrAsymmetricKey},
		{"SM2", key("sm2", "SM2"), kms.ErrAsymmetricKey, kms.ErrAsymmetricKey},
		{"HMAC", key("hmac", "HMAC_256"), kms.ErrHMACKey, kms.ErrHMACKey},
		{"unknown", "00000000-0000-4000-8000-000000000000", kms.ErrKeyNotFound, kms.ErrKeyNotFound},
		{"malformed", "not-a-key", kms.ErrInvalidKeyID, kms.ErrInvalidKeyID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check := func(op string, err, want error) {
				t.Helper()
				if (err == nil) != (want == nil) || !errors.Is(err, want) {
					t.Errorf("%s: got %v, want %v", op, err, want)
				}
			}
			_, err := f.svc.EnableKeyRotation(ctx, project, tt.keyID)
			check("enable", err, tt.want)
			_, err = f.svc.UpdateKeyRotationInterval(ctx, project, tt.keyID, 90)
			check("update interval", err, tt.want)
			_, err = f.svc.DisableKeyRotation(ctx, project, tt.keyID)
			check("disable", err, tt.want)
			_, err = f.svc.RotateKey(ctx, project, tt.keyID)
			check("rotate", err, tt.manual)
			// Another project's key is not found, whatever it is.
			if tt.want != kms.ErrInvalidKeyID {
				_, err = f.svc.EnableKeyRotation(ctx, other, tt.keyID)
				check("enable from another project", err, kms.ErrKeyNotFound)
			}
		})
	}
}

func TestRotationSettings(t *testing.T) {
	f := newFixture(t, "", 0)
	ctx := t.Context()
	k := f.create(t, "settings", "AES_256")
	status := func() kms.RotationStatus {
		t.Helper()
		st, err := f.svc.KeyRotationStatus(ctx, project, k.KeyID)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	if got, want := status(), (kms.RotationStatus{Interval: 365}); got != want {
		t.Errorf("new key: got %+v, want %+v", got, want)
	}
	if _, err := f.svc.UpdateKeyRotationInterval(ctx, project, k.KeyID, 90); !errors.Is(err, kms.ErrRotationNotEnabled) {
		t.Errorf("interval before enabling: got %v, want ErrRotationNotEnabled", err)
	}
	if _, err := f.svc.DisableKeyRotation(ctx, project, k.KeyID); !errors.Is(err, kms.ErrRotationNotEnabled) {
		t.Errorf("disable before enabling: got %v, want ErrRotationNotEnabled", err)
	}
	got, err := f.svc.EnableKeyRotation(ctx, project, k.KeyID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.RotationEnabled || got.RotationInterval != 365 {
		t.Errorf("enable returned %+v", got)
	}
	if _, err := f.svc.EnableKeyRotation(ctx, project, k.KeyID); !errors.Is(err, kms.ErrRotationEnabled) {
		t.Errorf("enable twice: got %v, want ErrRotationEnabled", err)
	}
	for _, days := range []int{29, 366, 0, -30} {
		if _, err := f.svc.UpdateKeyRotationInterval(ctx, project, k.KeyID, days); !errors.Is(err, kms.ErrInvalidRotationInterval) {
			t.Errorf("interval %d: got %v, want ErrInvalidRotationInterval", days, err)
		}
	}
	for _, days := range []int{30, 365, 45} {
		if _, err := f.svc.UpdateKeyRotationInterval(ctx, project, k.KeyID, days); err != nil {
			t.Errorf("interval %d: %v", days, err)
		}
	}
	if got, want := status(), (kms.RotationStatus{Enabled: true, Interval: 45}); got != want {
		t.Errorf("after enable and update: got %+v, want %+v", got, want)
	}
	if _, err := f.svc.DisableKeyRotation(ctx, project, k.KeyID); err != nil {
		t.Fatal(err)
	}
	// Disabling keeps the interval for the next enable.
	if _, err := f.svc.EnableKeyRotation(ctx, project, k.KeyID); err != nil {
		t.Fatal(err)
	}
	if got, want := status(), (kms.RotationStatus{Enabled: true, Interval: 45}); got != want {
		t.Errorf("after disable and enable: got %+v, want %+v", got, want)
	}
	// A key that cannot rotate reports rotation off.
	ec := f.create(t, "ec", "EC_P256")
	if st, err := f.svc.KeyRotationStatus(ctx, project, ec.KeyID); err != nil || st != (kms.RotationStatus{Interval: 365}) {
		t.Errorf("EC key status: %+v, %v", st, err)
	}
	if _, err := f.svc.KeyRotationStatus(ctx, other, k.KeyID); !errors.Is(err, kms.ErrKeyNotFound) {
		t.Errorf("status from another project: got %v, want ErrKeyNotFound", err)
	}
}

// versions returns the sealed versions of a key.
func (f *fixture) versions(t *testing.T, keyID string) []store.KeyVersion {
	t.Helper()
	var vs []store.KeyVersion
	err := f.st.View(t.Context(), func(tx store.Tx) error {
		var err error
		vs, err = tx.ListKeyVersions(project, keyID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

// blobVersion returns the key version an encrypt-data ciphertext names.
func blobVersion(t *testing.T, ct []byte) uint32 {
	t.Helper()
	b, err := ciphertext.Parse(ct)
	if err != nil {
		t.Fatal(err)
	}
	return b.KeyVersion
}

// TestRotateKey rotates keys by hand and checks the new version: fresh
// material of the spec's size, sealed under its own binding, primary for
// new ciphertexts at once (the key cache is invalidated), while the old
// version still decrypts what it sealed.
func TestRotateKey(t *testing.T) {
	f := newFixture(t, "", 0)
	ctx := t.Context()
	for _, tc := range []struct {
		spec string
		size int
	}{{"AES_256", 32}, {"SM4", 16}} {
		t.Run(tc.spec, func(t *testing.T) {
			k := f.create(t, "rotate-"+tc.spec, tc.spec)
			pt := []byte("secret before rotation " + tc.spec)
			before, err := f.svc.Encrypt(ctx, project, k.KeyID, pt, nil, "")
			if err != nil {
				t.Fatal(err)
			}
			if v := blobVersion(t, before); v != 1 {
				t.Fatalf("ciphertext before rotation names version %d, want 1", v)
			}
			f.now = f.now.Add(time.Hour)
			got, err := f.svc.RotateKey(ctx, project, k.KeyID)
			if err != nil {
				t.Fatal(err)
			}
			if got.PrimaryVersion != 2 || got.RotationCount != 1 || !got.LastRotation.Equal(f.now.Truncate(time.Millisecond)) {
				t.Errorf("rotated key: version %d, count %d, last %v; want 2, 1, %v", got.PrimaryVersion, got.RotationCount, got.LastRotation, f.now)
			}
			if got.RotationEnabled {
				t.Error("manual rotation turned automatic rotation on")
			}
			vs := f.versions(t, k.KeyID)
			if len(vs) != 2 {
				t.Fatalf("%d versions, want 2", len(vs))
			}
			var material [][]byte
			for _, v := range vs {
				m, err := f.kr.Open(keyring.Binding{Purpose: kms.PurposeKeyMaterial, ProjectID: project, KeyID: k.KeyID, Version: v.Version}, v.Sealed)
				if err != nil {
					t.Fatalf("version %d does not open under its binding: %v", v.Version, err)
				}
				if len(m) != tc.size {
					t.Errorf("version %d: %d bytes of material, want %d", v.Version, len(m), tc.size)
				}
				material = append(material, m)
			}
			if bytes.Equal(material[0], material[1]) {
				t.Error("the new version has the old material")
			}
			if _, err := f.kr.Open(keyring.Binding{Purpose: kms.PurposeKeyMaterial, ProjectID: project, KeyID: k.KeyID, Version: 1}, vs[1].Sealed); err == nil {
				t.Error("version 2 opens under version 1's binding")
			}
			after, err := f.svc.Encrypt(ctx, project, k.KeyID, pt, nil, "")
			if err != nil {
				t.Fatal(err)
			}
			if v := blobVersion(t, after); v != 2 {
				t.Errorf("ciphertext after rotation names version %d, want 2", v)
			}
			for name, ct := range map[string][]byte{"before": before, "after": after} {
				id, out, err := f.svc.Decrypt(ctx, project, ct, nil, "", "")
				if err != nil || id != k.KeyID || !bytes.Equal(out, pt) {
					t.Errorf("decrypt the ciphertext made %s rotation: %q, %q, %v", name, id, out, err)
				}
			}
		})
	}
}

// chanHandler is a slog.Handler that sends the records' messages while
// its buffer has room.
type chanHandler struct{ c chan string }

func (h chanHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h chanHandler) Handle(_ context.Context, r slog.Record) error {
	select {
	case h.c <- r.Message:
	default: // never block the logger
	}
	return nil
}
func (h chanHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h chanHandler) WithGroup(string) slog.Handler      { return h }

// TestRotationJob drives the rotation schedule with the clock: a key
// rotates when its interval has passed since its creation or last
// rotation, once, disabled keys wait until they are enabled again, and
// the schedule survives a restart.
func TestRotationJob(t *testing.T) {
	f := newFixture(t, "", 0)
	ctx := t.Context()
	t0 := f.now
	rotating := func(alias, spec string, days int) kms.Key {
		t.Helper()
		k := f.create(t, alias, spec)
		if _, err := f.svc.EnableKeyRotation(ctx, project, k.KeyID); err != nil {
			t.Fatal(err)
		}
		if days != 0 {
			if _, err := f.svc.UpdateKeyRotationInterval(ctx, project, k.KeyID, days); err != nil {
				t.Fatal(err)
			}
		}
		return k
	}
	monthly := rotating("monthly", "AES_256", 30)
	yearly := rotating("yearly", "SM4", 0)
	paused := rotating("paused", "AES_256", 30)
	if _, err := f.svc.DisableKey(ctx, project, paused.KeyID); err != nil {
		t.Fatal(err)
	}
	off := f.create(t, "off", "AES_256")
	turnedOff := rotating("turned-off", "AES_256", 30)
	if _, err := f.svc.DisableKeyRotation(ctx, project, turnedOff.KeyID); err != nil {
		t.Fatal(err)
	}

	run := func(at time.Duration, want int) {
		t.Helper()
		f.now = t0.Add(at)
		n, err := f.svc.RotateDueKeys(ctx)
		if err != nil || n != want {
			t.Fatalf("at %v: rotated %d, %v; want %d", at, n, err, want)
		}
	}
	count := func(k kms.Key) int {
		t.Helper()
		got, err := f.svc.DescribeKey(ctx, project, k.KeyID)
		if err != nil {
			t.Fatal(err)
		}
		if len(f.versions(t, k.KeyID)) != got.RotationCount+1 || got.PrimaryVersion != got.RotationCount+1 {
			t.Fatalf("key %s: %d rotations, primary version %d, %d versions", k.Alias, got.RotationCount, got.PrimaryVersion, len(f.versions(t, k.KeyID)))
		}
		return got.RotationCount
	}
	run(30*day-time.Minute, 0)
	run(30*day, 1) // monthly
	run(30*day+time.Hour, 0)
	if count(monthly) != 1 || count(paused) != 0 || count(off) != 0 || count(turnedOff) != 0 {
		t.Fatal("only the monthly key should have rotated")
	}

	// Restart: a new service over the reopened database, same schedule.
	f.st.Close()
	path := f.path
	f = newFixture(t, path, 0)
	run(60*day-time.Minute, 0)
	run(60*day, 1)
	if count(monthly) != 2 {
		t.Fatal("the monthly key did not rotate after the restart")
	}
	// The paused key is overdue; enabling it makes it due at once.
	if _, err := f.svc.EnableKey(ctx, project, paused.KeyID); err != nil {
		t.Fatal(err)
	}
	run(60*day+time.Minute, 1)
	if count(paused) != 1 {
		t.Fatal("the re-enabled overdue key did not rotate")
	}
	run(365*day, 3) // yearly, monthly and paused
	if count(yearly) != 1 || count(monthly) != 3 || count(off) != 0 || count(turnedOff) != 0 {
		t.Fatalf("after a year: yearly %d, monthly %d, off %d, turned off %d rotations", count(yearly), count(monthly), count(off), count(turnedOff))
	}
	if count(paused) != 2 {
		t.Fatalf("paused: %d rotations, want 2", count(paused))
	}
	// Keys pending deletion do not rotate.
	if _, err := f.svc.ScheduleKeyDeletion(ctx, project, monthly.KeyID, 30); err != nil {
		t.Fatal(err)
	}
	run(2*365*day, 2) // yearly and paused
}

// TestRotationJobNodes runs the job on two nodes sharing one database at
// the same moment: every due key rotates exactly once.
func TestRotationJobNodes(t *testing.T) {
	f := newFixture(t, "", 0)
	ctx := t.Context()
	var keys []kms.Key
	for i := range 8 {
		k := f.create(t, "node-key-"+string(rune('a'+i)), "AES_256")
		if _, err := f.svc.EnableKeyRotation(ctx, project, k.KeyID); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	now := f.now.Add(366 * day)
	var nodes []*kms.Service
	for range 2 {
		st, err := sqlite.Open(ctx, f.path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		svc := kms.New(st, f.kr, kms.Config{Region: "cn-north-4"}, nil)
		svc.Now = func() time.Time { return now }
		nodes = append(nodes, svc)
	}
	var wg sync.WaitGroup
	rotated := make([]int, len(nodes))
	errs := make([]error, len(nodes))
	for i, svc := range nodes {
		wg.Go(func() { rotated[i], errs[i] = svc.RotateDueKeys(ctx) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if rotated[0]+rotated[1] != len(keys) {
		t.Errorf("nodes rotated %d and %d keys, want %d in all", rotated[0], rotated[1], len(keys))
	}
	for _, k := range keys {
		if vs := f.versions(t, k.KeyID); len(vs) != 2 {
			t.Errorf("key %s has %d versions, want 2", k.Alias, len(vs))
		}
	}
}

// TestRunRotationJob checks that the job loop rotates due keys when it
// starts and stops with its context.
func TestRunRotationJob(t *testing.T) {
	f := newFixture(t, "", 0)
	ctx := t.Context()
	k := f.create(t, "job", "AES_256")
	if _, err := f.svc.EnableKeyRotation(ctx, project, k.KeyID); err != nil {
		t.Fatal(err)
	}
	logs := chanHandler{make(chan string, 16)}
	svc := kms.New(f.st, f.kr, kms.Config{Region: "cn-north-4"}, slog.New(logs))
	now := f.now.Add(365 * day)
	svc.Now = func() time.Time { return now }
	jctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { svc.RunRotationJob(jctx, time.Hour); close(done) }()
	for msg := range logs.c {
		if msg == "key rotated" {
			break
		}
		if msg == "rotation job failed" {
			t.Fatal(msg)
		}
	}
	cancel()
	<-done
	got, err := f.svc.DescribeKey(ctx, project, k.KeyID)
	if err != nil {
		t.Fatal(err)
	}
	if got.PrimaryVersion != 2 || got.RotationCount != 1 {
		t.Errorf("after the job: version %d, %d rotations; want 2, 1", got.PrimaryVersion, got.RotationCount)
	}
}
