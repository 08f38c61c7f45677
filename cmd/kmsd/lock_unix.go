//go:build unix

package main

import (
	"errors"
	"os"
	"syscall"
)

// errLocked is tryLock's error when another process holds the lock.
var errLocked = errors.New("locked by another process")

// tryLock takes an flock(2) on f, exclusive or shared, without waiting.
func tryLock(f *os.File, exclusive bool) error {
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return errLocked
	}
	return err
}

func unlock(f *os.File) { syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }

// signalReload asks the serving process pid to drop its caches (SIGHUP).
func signalReload(pid int) error { return syscall.Kill(pid, syscall.SIGHUP) }
