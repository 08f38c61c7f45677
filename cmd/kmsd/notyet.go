package main

import (
	"errors"
	"fmt"
	"io"
)

// errNotYetImplemented answers the commands that are planned but not built.
var errNotYetImplemented = errors.New("not yet implemented")

// plans says, for each planned command, what to do until it exists.
var plans = map[string]string{
	"rootkey": "kmsd rootkey rotate (re-sealing every item under a new root key) is not built yet; the root key cannot be changed",
}

// notYetImplemented fails a planned command clearly instead of pretending.
func notYetImplemented(cmd string, stderr io.Writer) error {
	fmt.Fprintln(stderr, "kmsd:", plans[cmd])
	return fmt.Errorf("kmsd %s: %w", cmd, errNotYetImplemented)
}
