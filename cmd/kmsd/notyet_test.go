package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestNotYetImplemented checks that the planned commands fail and say so.
func TestNotYetImplemented(t *testing.T) {
	for _, cmd := range [][]string{{"backup", "--out", "x"}, {"restore"}} {
		var stdout, stderr bytes.Buffer
		err := run(t.Context(), cmd, &stdout, &stderr, func(string) string { return "" })
		if !errors.Is(err, errNotYetImplemented) {
			t.Errorf("%v: got %v, want errNotYetImplemented", cmd, err)
		}
		if !strings.Contains(stderr.String(), "not built yet") || stdout.Len() != 0 {
			t.Errorf("%v: stdout %q, stderr %q", cmd, stdout.String(), stderr.String())
		}
	}
}
