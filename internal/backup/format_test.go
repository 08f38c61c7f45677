package backup

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kmsd/kmsd/internal/store"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestFieldEncoding pins the encoding of each field type (doc.go).
func TestFieldEncoding(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want string
	}{
		// ID "a", Name "b", CreatedAt 1 µs after the epoch (zig-zag 2).
		{store.Account{ID: "a", Name: "b", CreatedAt: time.UnixMicro(1)}, "0161016202"},
		// The zero time is -2^63: zig-zag 2^64-1, ten bytes.
		{store.Account{}, "0000ffffffffffffffffff01"},
		// Name, Value: an empty value is a zero length.
		{store.Meta{Name: "m", Value: []byte{0xca, 0xfe}}, "016d02cafe"},
		{store.Meta{Name: "m"}, "016d00"},
		// ProjectID, KeyID, Key, Value.
		{store.KeyTag{ProjectID: "p", KeyID: "k", Tag: store.Tag{Key: "e", Value: ""}}, "0170016b016500"},
		// ProjectID, KeyID, Version -3 (zig-zag 5), Sealed, CreatedAt.
		{store.KeyVersion{ProjectID: "p", KeyID: "k", Version: -3, Sealed: []byte{7}, CreatedAt: time.UnixMicro(-1)}, "0170016b05010701"},
		// User: Policies is a count and strings, Disabled one byte.
		{store.User{ID: "u", AccountID: "a", Name: "n", PasswordHash: "h", Policies: []string{"x", "yz"}, Disabled: true, CreatedAt: time.UnixMicro(0)},
			"01750161016e016802017802797a0100"},
		// Key region: replicas are a count and pairs.
		{store.KeyRegion{ProjectID: "p", KeyID: "k", PrimaryRegion: "r", MaterialProjectID: "m", Replicas: []store.KeyReplica{{Region: "s", ProjectID: "q"}}},
			"0170016b0172016d0101730171"},
	} {
		got := encodeRow(nil, tc.v)
		if h := hex.EncodeToString(got); h != tc.want {
			t.Errorf("%T %+v: got %s, want %s", tc.v, tc.v, h, tc.want)
		}
		k, _ := kindOf(tc.v)
		back, err := decodeRow(k, got)
		if err != nil {
			t.Errorf("%T: decode: %v", tc.v, err)
		}
		if d := cmp.Diff(tc.v, back, cmpOpts); d != "" {
			t.Errorf("%T: decode(encode) differs:\n%s", tc.v, d)
		}
	}
}

// TestKnownArchive pins a whole archive of a store that holds one account:
// the bytes are built here from doc.go, tags with crypto/hmac.
func TestKnownArchive(t *testing.T) {
	kr := testKeyring(t, 0x42)
	st := openSQLite(t)
	acct := store.Account{ID: "0123456789abcdef0123456789abcdef", Name: "acme", CreatedAt: t0}
	if err := st.Update(t.Context(), func(tx store.Tx) error { return tx.CreateAccount(acct) }); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if _, err := Write(t.Context(), st, kr, &got, Options{Version: "v1.2.3", Backend: "sqlite", Now: func() time.Time { return t0 }}); err != nil {
		t.Fatal(err)
	}

	// t0 in Unix microseconds, zig-zag varint.
	t0v := hex.EncodeToString(binary.AppendVarint(nil, t0.UnixMicro()))
	if t0v != "b0fdf3f1abbfa606" {
		t.Fatalf("t0 encodes as %s", t0v)
	}
	header := unhex(t, "0676312e322e33"+ // version "v1.2.3"
		t0v+ // created
		"0673716c697465"+ // backend "sqlite"
		"21"+hex.EncodeToString(kr.CheckValue())+ // check value, 33 bytes
		"11"+"01"+"00000000000000000000000000000000") // 17 counts: one account
	account := unhex(t, "20"+hex.EncodeToString([]byte(acct.ID))+"0461636d65"+t0v)
	trailer := unhex(t, "11"+"01"+"00000000000000000000000000000000")

	mac := hmac.New(sha256.New, kr.Derive("kmsd backup mac v1", 32))
	mac.Write([]byte("KMSDBKUP\x01"))
	prev := mac.Sum(nil)
	want := []byte("KMSDBKUP\x01")
	for _, r := range []struct {
		kind    byte
		payload []byte
	}{{0x01, header}, {0x02, account}, {0xff, trailer}} {
		head := binary.AppendUvarint([]byte{r.kind}, uint64(len(r.payload)))
		mac.Reset()
		mac.Write(prev)
		mac.Write(head)
		mac.Write(r.payload)
		prev = mac.Sum(nil)
		want = append(append(append(want, head...), r.payload...), prev...)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("archive:\n got %x\nwant %x", got.Bytes(), want)
	}
	// The same bytes are the seed of the reader's fuzz corpus.
	seed, err := os.ReadFile(filepath.Join("testdata", "one-account.kmsdbak"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(seed, want) {
		t.Errorf("testdata/one-account.kmsdbak is not the known archive")
	}
	rd, err := NewReader(bytes.NewReader(want), kr)
	if err != nil {
		t.Fatal(err)
	}
	v, err := rd.Next()
	if err != nil || !cmp.Equal(v, acct, cmpOpts) {
		t.Fatalf("Next: %+v, %v", v, err)
	}
	if _, err := rd.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("Next at the end: %v", err)
	}
}
