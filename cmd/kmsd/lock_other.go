//go:build !unix

package main

import (
	"errors"
	"os"
)

// Without flock(2) the data directory is not locked and a running server
// is not told of admin changes (it sees them within its cache lifetimes).
var errLocked = errors.New("locked by another process")

func tryLock(*os.File, bool) error { return nil }

func unlock(*os.File) {}

func signalReload(int) error { return errors.ErrUnsupported }
