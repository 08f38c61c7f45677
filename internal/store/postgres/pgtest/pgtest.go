// Package pgtest starts a throwaway PostgreSQL server for tests: initdb
// into a new temporary directory, a free port on 127.0.0.1, and, when the
// tests are done, the server stopped and the directory deleted. It never
// uses a server that happens to run on the machine.
//
// The server binaries are looked for under /usr/lib/postgresql/*/bin
// (Debian's postgresql package; scripts/test.sh installs it) and on PATH.
// Tests skip with a message saying so when there are none. PostgreSQL
// refuses to run as root, so when the tests run as root the server runs as
// the system user postgres (created by the package), and its directory is
// given to that user.
//
// A test package uses one server for all its tests:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
//	func TestX(t *testing.T) {
//		dsn := pgtest.NewDatabase(t) // a new, empty database
//		…
//	}
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrNotInstalled means no PostgreSQL server binaries were found.
var ErrNotInstalled = errors.New("pgtest: PostgreSQL is not installed (no initdb and postgres under /usr/lib/postgresql/*/bin or on PATH; on Debian: apt-get install postgresql, or run bash scripts/test.sh)")

// Server is a throwaway PostgreSQL server.
type Server struct {
	bin  string // directory of initdb and postgres
	dir  string // the temporary directory: data/ and the socket
	port int
	cred *syscall.Credential // nil unless running as root

	mu  sync.Mutex
	cmd *exec.Cmd // the running postmaster, nil while stopped
	log *os.File

	dbs atomic.Int64
}

// findBin returns the directory holding initdb and postgres.
func findBin() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Sort(sort.Reverse(sort.StringSlice(dirs))) // newest version first (for single digits)
	for _, d := range dirs {
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		d := filepath.Dir(p)
		if isExec(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	return "", ErrNotInstalled
}

func isExec(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// Start initialises and starts a new server. Stop it with Stop.
func Start() (*Server, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin}
	dir, err := os.MkdirTemp("", "kmsd-pgtest-")
	if err != nil {
		return nil, err
	}
	s.dir = dir
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("pgtest: running as root and there is no postgres user to run the server as: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	init := s.command(filepath.Join(bin, "initdb"), "-D", s.dataDir(), "-U", "postgres",
		"--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync")
	if out, err := init.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("pgtest: initdb: %v\n%s", err, out)
	}
	if err := s.start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

func (s *Server) dataDir() string { return filepath.Join(s.dir, "data") }

func (s *Server) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Dir = s.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	return cmd
}

// freePort returns a port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// start runs the postmaster, on the port it had before if any, and waits
// until it accepts connections.
func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("pgtest: server already running")
	}
	for attempt := 0; ; attempt++ {
		if s.port == 0 || attempt > 0 && !s.fixedPort() {
			p, err := freePort()
			if err != nil {
				return err
			}
			s.port = p
		}
		err := s.startOnce()
		if err == nil {
			return nil
		}
		if attempt == 3 || s.fixedPort() {
			return err
		}
	}
}

// fixedPort reports whether the server must keep its port (a restart:
// clients hold DSNs naming it).
func (s *Server) fixedPort() bool { return s.dbs.Load() > 0 }

func (s *Server) startOnce() error {
	logf, err := os.OpenFile(filepath.Join(s.dir, "postgres.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd := s.command(filepath.Join(s.bin, "postgres"), "-D", s.dataDir(),
		"-p", strconv.Itoa(s.port), "-k", s.dir,
		"-c", "listen_addresses=127.0.0.1",
		// fsync=off loses data only when the machine (not the server)
		// crashes; a commit is still written before it is acknowledged,
		// so a halted server (Halt) keeps every acknowledged commit.
		"-c", "fsync=off", "-c", "full_page_writes=off",
		"-c", "max_connections=300", "-c", "shared_buffers=32MB",
		"-c", "log_min_messages=warning")
	cmd.Stdout = logf
	cmd.Stderr = logf
	// A test binary that dies (a panic, a -timeout) takes the server
	// with it instead of leaving it running.
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("pgtest: start postgres: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn, err := pgx.Connect(ctx, s.dsn("postgres"))
		cancel()
		if err == nil {
			conn.Close(context.Background())
			break
		}
		select {
		case werr := <-exited:
			logf.Close()
			log, _ := os.ReadFile(filepath.Join(s.dir, "postgres.log"))
			return fmt.Errorf("pgtest: postgres exited: %v\n%s", werr, log)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-exited
			logf.Close()
			return errors.New("pgtest: postgres did not accept connections within 30s")
		}
	}
	s.cmd = cmd
	s.log = logf
	go func() {
		// Reap the process; Stop and Kill wait on s.exited.
		err := <-exited
		s.mu.Lock()
		if s.cmd == cmd {
			s.cmd = nil
		}
		s.mu.Unlock()
		exitedOnce(cmd, err)
	}()
	return nil
}

// exits records the end of each postmaster so that stop can wait for it.
var exits sync.Map // *exec.Cmd → chan struct{}

func exitedOnce(cmd *exec.Cmd, _ error) {
	ch, _ := exits.LoadOrStore(cmd, make(chan struct{}))
	close(ch.(chan struct{}))
}

func waitExit(cmd *exec.Cmd) {
	ch, _ := exits.LoadOrStore(cmd, make(chan struct{}))
	<-ch.(chan struct{})
	exits.Delete(cmd)
}

// dsn returns the URI of database db on the server.
func (s *Server) dsn(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, db)
}

// Port returns the server's port on 127.0.0.1.
func (s *Server) Port() int { return s.port }

// CreateDatabase creates a new, empty database and returns its DSN.
func (s *Server) CreateDatabase(ctx context.Context) (string, error) {
	name := fmt.Sprintf("kmsd_test_%d", s.dbs.Add(1))
	conn, err := pgx.Connect(ctx, s.dsn("postgres"))
	if err != nil {
		return "", fmt.Errorf("pgtest: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("pgtest: create database: %w", err)
	}
	return s.dsn(name), nil
}

// signal sends sig to the postmaster and waits for it to exit.
func (s *Server) signal(sig syscall.Signal) {
	s.mu.Lock()
	cmd := s.cmd
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(sig)
	waitExit(cmd)
	s.mu.Lock()
	if s.log != nil {
		s.log.Close()
		s.log = nil
	}
	s.mu.Unlock()
}

// Halt stops the server at once, as a crash would (SIGQUIT: immediate
// shutdown), keeping its data; Resume starts it again on the same port.
func (s *Server) Halt() { s.signal(syscall.SIGQUIT) }

// Resume starts a halted server again on the same port.
func (s *Server) Resume() error { return s.start() }

// Stop stops the server and deletes its directory.
func (s *Server) Stop() {
	s.signal(syscall.SIGQUIT)
	os.RemoveAll(s.dir)
}

var (
	shared    *Server
	sharedErr error
	once      sync.Once
)

// Main runs the tests of m and then stops the package's shared server if a
// test started one. Call it from TestMain.
func Main(m *testing.M) int {
	code := m.Run()
	StopShared()
	return code
}

// StopShared stops the package's shared server if a test started one; for
// a TestMain that does more than Main.
func StopShared() {
	if shared != nil {
		shared.Stop()
	}
}

// Shared returns the package's shared server, starting it on first use. It
// skips tb when PostgreSQL is not installed and fails it when the server
// cannot start.
func Shared(tb testing.TB) *Server {
	tb.Helper()
	once.Do(func() { shared, sharedErr = Start() })
	if errors.Is(sharedErr, ErrNotInstalled) {
		tb.Skip(sharedErr.Error())
	}
	if sharedErr != nil {
		tb.Fatal(sharedErr)
	}
	return shared
}

// NewDatabase returns the DSN of a new, empty database on the package's
// shared server (see Shared).
func NewDatabase(tb testing.TB) string {
	tb.Helper()
	dsn, err := Shared(tb).CreateDatabase(tb.Context())
	if err != nil {
		tb.Fatal(err)
	}
	return dsn
}
