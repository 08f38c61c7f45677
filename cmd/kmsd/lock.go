package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/kmsd/kmsd/internal/config"
)

// lockName is the file in the data directory that a serving kmsd holds
// an exclusive flock(2) on. It records the server's pid and endpoint, so
// that a second serve can name the first, and the number of cache
// flushes it made, so that an admin command can wait for its own.
const lockName = "kmsd.lock"

type lockInfo struct {
	PID      int    `json:"pid"`
	Endpoint string `json:"endpoint"`
	Flushes  uint64 `json:"flushes"`
}

// dataLock is the lock of a serving process.
type dataLock struct {
	f    *os.File
	info lockInfo
}

// errDataDirInUse is returned by lockDataDir when another process serves
// the data directory.
var errDataDirInUse = errors.New("data directory in use")

// lockDataDir takes the data directory's lock, or says which process
// holds it.
func lockDataDir(dir string) (*dataLock, error) {
	path := filepath.Join(dir, lockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := tryLock(f, true); err != nil {
		info, _ := readLockInfo(f)
		f.Close()
		if errors.Is(err, errLocked) {
			who := "another kmsd"
			if info.PID > 0 {
				who = fmt.Sprintf("kmsd pid %d", info.PID)
			}
			if info.Endpoint != "" {
				who += " serving " + info.Endpoint
			}
			return nil, fmt.Errorf("%w: %s is used by %s; stop it, or give this server another --data DIR", errDataDirInUse, dir, who)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return &dataLock{f: f, info: lockInfo{PID: os.Getpid()}}, nil
}

func readLockInfo(f *os.File) (lockInfo, error) {
	var info lockInfo
	b, err := io.ReadAll(io.NewSectionReader(f, 0, 4096))
	if err != nil {
		return info, err
	}
	if len(b) == 0 {
		return info, errors.New("empty lock file")
	}
	return info, json.Unmarshal(b, &info)
}

// publish writes the lock's information into the lock file.
func (l *dataLock) publish() error {
	b, err := json.Marshal(l.info)
	if err != nil {
		return err
	}
	if err := l.f.Truncate(0); err != nil {
		return err
	}
	_, err = l.f.WriteAt(append(b, '\n'), 0)
	return err
}

// release removes the lock file and drops the lock.
func (l *dataLock) release() {
	if l.f == nil {
		return
	}
	os.Remove(l.f.Name())
	l.f.Close()
	l.f = nil
}

// servingProcess returns the lock information of the kmsd that serves
// dir, or ok false when none does.
func servingProcess(dir string) (info lockInfo, ok bool) {
	f, err := os.Open(filepath.Join(dir, lockName))
	if err != nil {
		return info, false
	}
	defer f.Close()
	if err := tryLock(f, false); err == nil {
		// Nobody holds it: no server.
		unlock(f)
		return info, false
	}
	info, err = readLockInfo(f)
	return info, err == nil && info.PID > 0
}

// notifyServer makes the kmsd serving dir, if any, drop its caches (it
// handles SIGHUP so), and waits until it has, so that the change an admin
// command made is in effect when the command returns.
func notifyServer(ctx context.Context, dir string, stderr io.Writer) {
	info, ok := servingProcess(dir)
	if !ok {
		return
	}
	if err := signalReload(info.PID); err != nil {
		fmt.Fprintf(stderr, "kmsd: could not tell the running server (pid %d) about the change: %v; it sees it within 30 seconds\n", info.PID, err)
		return
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if now, ok := servingProcess(dir); ok && now.Flushes > info.Flushes {
			fmt.Fprintf(stderr, "the running server (pid %d, %s) sees the change now\n", info.PID, info.Endpoint)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Fprintf(stderr, "kmsd: the running server (pid %d) did not confirm the change; it sees it within 30 seconds\n", info.PID)
}

// changesStore reports whether an iam or key command line changes the
// store (every command but the lists and help).
func changesStore(args []string) bool {
	for _, a := range args[1:] {
		switch a {
		case "list", "help", "-h", "--help":
			return false
		}
	}
	return true
}

// adminDataDir returns the data directory an admin command line works on,
// as openAdmin chooses it.
func adminDataDir(args []string) string {
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfgPath := fs.String("config", "", "")
	data := fs.String("data", "", "")
	fs.Parse(hoistFlags(args, "config", "data"))
	if *cfgPath != "" {
		if cfg, err := config.Load(*cfgPath); err == nil {
			return cfg.DataDir
		}
		return ""
	}
	if *data == "" {
		*data = devDataDir
	}
	abs, _ := filepath.Abs(*data)
	return abs
}
