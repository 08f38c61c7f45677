package iam_test

import (
	"strings"
	"testing"

	"github.com/kmsd/kmsd/internal/iam"
)

func TestPasswordHash(t *testing.T) {
	h, err := iam.HashPassword("pw-1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q is not PHC Argon2id", h)
	}
	if !iam.VerifyPassword(h, "pw-1") || iam.VerifyPassword(h, "pw-2") {
		t.Error("verification is wrong")
	}
	h2, _ := iam.HashPassword("pw-1")
	if h == h2 {
		t.Error("two hashes of one password are equal: no salt")
	}
	for _, bad := range []string{"", "$argon2id$", "$argon2i$v=19$m=1,t=1,p=1$AA$AA", strings.Replace(h, "t=2", "t=0", 1), h[:len(h)-3] + "!!!"} {
		if iam.VerifyPassword(bad, "pw-1") {
			t.Errorf("malformed hash %q verified", bad)
		}
	}
}
