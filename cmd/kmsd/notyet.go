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
	"backup":  "kmsd backup (a consistent, integrity-protected archive of a running store) is not built yet; back up the PostgreSQL database with pg_dump or the SQLite file with the server stopped (docs/operations.md)",
	"restore": "kmsd restore is not built yet; restore the database with the PostgreSQL or SQLite tools (docs/operations.md)",
}

// notYetImplemented fails a planned command clearly instead of pretending.
func notYetImplemented(cmd string, stderr io.Writer) error {
	fmt.Fprintln(stderr, "kmsd:", plans[cmd])
	return fmt.Errorf("kmsd %s: %w", cmd, errNotYetImplemented)
}
