package kms_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/kmsd/kmsd/internal/kms"
)

// TestDecodeCipherText checks decrypt-data's cipher_text rule (reference
// kms-api.md §5.C, ^[0-9a-zA-Z+/=]{128,5648}$): encoding/base64 alone
// would also take line breaks and the wrong lengths.
func TestDecodeCipherText(t *testing.T) {
	ok := base64.StdEncoding.EncodeToString(make([]byte, 105)) // 140 characters
	for _, tc := range []struct {
		name string
		in   string
		good bool
	}{
		{"valid", ok, true},
		{"128 characters", strings.Repeat("A", 128), true},
		{"5648 characters", strings.Repeat("A", 5648), true},
		{"127 characters", strings.Repeat("A", 127), false},
		{"5649 characters", strings.Repeat("A", 5649), false},
		{"LF inside", ok[:70] + "\n" + ok[70:], false},
		{"CR LF inside", ok[:70] + "\r\n" + ok[70:], false},
		{"trailing LF", ok + "\n", false},
		{"URL alphabet", strings.Repeat("-_", 70), false},
		{"space inside", ok[:70] + " " + ok[70:], false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := kms.DecodeCiphertext(tc.in)
			if tc.good && err != nil {
				t.Fatalf("got %v, want success", err)
			}
			if !tc.good && !errors.Is(err, kms.ErrInvalidCiphertext) {
				t.Fatalf("got %v, want ErrInvalidCiphertext", err)
			}
		})
	}
}
