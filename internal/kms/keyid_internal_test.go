package kms

import (
	"errors"
	"regexp"
	"testing"
)

// keyIDRE is the reference's key id pattern (kms-api.md).
var keyIDRE = regexp.MustCompile(`^[0-9a-z]{8}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{12}$`)

// FuzzValidateKeyID checks ValidateKeyID against the reference's pattern.
func FuzzValidateKeyID(f *testing.F) {
	for _, s := range []string{
		"0d0466b0-e727-4d9c-b35d-f84bb474a37f", "0D0466B0-e727-4d9c-b35d-f84bb474a37f",
		"0d0466b0-e727-4d9c-b35d-f84bb474a37f\n", "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz",
		"0d0466b0e727-4d9c-b35d-f84bb474a37f-", "", "-", "0d0466b0-e727-4d9c-b35d-f84bb474a3\u00e9",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		err := ValidateKeyID(id)
		if want := keyIDRE.MatchString(id); (err == nil) != want {
			t.Fatalf("ValidateKeyID(%q) = %v, pattern says %v", id, err, want)
		}
		if err != nil && !errors.Is(err, ErrInvalidKeyID) {
			t.Fatalf("ValidateKeyID(%q) = %v, want ErrInvalidKeyID", id, err)
		}
	})
}
