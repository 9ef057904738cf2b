// Package pgtest starts throwaway PostgreSQL servers for tests and benchmarks
// from the binaries of the Debian postgresql package.
//
// A package that needs PostgreSQL shares one server between its tests and
// gives each test a fresh database on it:
//
//	var pg = pgtest.New() // started on first use
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		pg.Close()
//		os.Exit(code)
//	}
//
//	func TestX(t *testing.T) { dsn := pg.NewDatabase(t); ... }
//
// The server runs with PostgreSQL's defaults (fsync and synchronous_commit on),
// so benchmarks against it measure durable commits.
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
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrNotInstalled means the PostgreSQL server binaries were not found.
var ErrNotInstalled = errors.New("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin: " +
	"install them with `sudo hack/install-test-deps.sh` from the repository root " +
	"(apt-get install postgresql, with no cluster created and no service started), or run `make test` as root")

// SkipReason is why a test needing PostgreSQL skips under go test -short
// (`make test SHORT=1`), the one case in which it does not run.
const SkipReason = "needs PostgreSQL: left out by go test -short; make test runs it"

// binGlob is where the Debian package installs the server binaries, one
// directory per major version.
const binGlob = "/usr/lib/postgresql/*/bin"

// Server is a throwaway PostgreSQL server. It starts on first use, so a test
// binary whose PostgreSQL tests are all filtered out never pays for initdb.
// The zero value is not usable; call New.
type Server struct {
	binGlob string // where to look for the server binaries

	mu      sync.Mutex
	started bool
	err     error // why the start failed; reported to every later user
	dir     string
	port    int
	cmd     *exec.Cmd
	exited  chan struct{}
	nextDB  int
}

// New returns a server that starts when a test first asks for a database.
func New() *Server { return &Server{binGlob: binGlob} }

// Start starts a server for one test (stopped when the test ends) and returns
// the DSN of a fresh database on it.
func Start(t testing.TB) (dsn string) {
	t.Helper()
	s := New()
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("while stopping the test PostgreSQL: %v", err)
		}
	})
	return s.NewDatabase(t)
}

// NewDatabase creates a fresh, empty database for t on the shared server and
// returns its DSN. The database is dropped when t ends. When the server
// binaries are missing the test fails, with a message saying how to install
// them: a test that skipped would let a run pass without ever touching
// PostgreSQL. Only go test -short skips it, on purpose.
func (s *Server) NewDatabase(t testing.TB) (dsn string) {
	t.Helper()
	if testing.Short() {
		t.Skip(SkipReason)
	}
	if err := s.ensureStarted(); err != nil {
		t.Fatalf("while starting the test PostgreSQL: %v", err)
	}
	s.mu.Lock()
	s.nextDB++
	name := fmt.Sprintf("test_%d", s.nextDB)
	s.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.admin(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("while creating database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// FORCE ends connections a test left open (a leak the test's own
		// checks should catch, not this cleanup).
		if err := s.admin(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("while dropping database %s: %v", name, err)
		}
	})
	return s.DSN(name)
}

// DSN returns the connection string of database db on the server. It is only
// meaningful after the server started (NewDatabase starts it).
func (s *Server) DSN(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, db)
}

func (s *Server) admin(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, s.DSN("postgres"))
	if err != nil {
		return fmt.Errorf("while connecting as admin: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("while running %q: %w", sql, err)
	}
	return nil
}

// Close stops the server (fast shutdown) and removes its files. It is safe
// to call on a server that never started, and more than once.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started || s.err != nil {
		return nil
	}
	s.err = errors.New("test PostgreSQL already closed")
	var errs []error
	if s.cmd != nil {
		// SIGINT is PostgreSQL's fast shutdown: roll back, close clients, stop.
		if err := s.cmd.Process.Signal(syscall.SIGINT); err != nil {
			errs = append(errs, fmt.Errorf("while signalling postgres: %w", err))
		}
		select {
		case <-s.exited:
		case <-time.After(30 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
			errs = append(errs, errors.New("postgres did not stop within 30s; killed"))
		}
	}
	if err := os.RemoveAll(s.dir); err != nil {
		errs = append(errs, fmt.Errorf("while removing %s: %w", s.dir, err))
	}
	return errors.Join(errs...)
}

func (s *Server) ensureStarted() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return s.err
	}
	s.started = true
	s.err = s.start()
	if s.err != nil && s.dir != "" {
		_ = os.RemoveAll(s.dir)
	}
	return s.err
}

// BinDir returns the newest installed PostgreSQL server binary directory.
func BinDir() (string, error) { return binDir(binGlob) }

func binDir(glob string) (string, error) {
	dirs, _ := filepath.Glob(glob)
	type cand struct {
		dir string
		ver int
	}
	var cs []cand
	for _, d := range dirs {
		v, err := strconv.Atoi(filepath.Base(filepath.Dir(d)))
		if err != nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(d, "initdb")); err != nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(d, "postgres")); err != nil {
			continue
		}
		cs = append(cs, cand{d, v})
	}
	if len(cs) == 0 {
		return "", ErrNotInstalled
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].ver > cs[j].ver })
	return cs[0].dir, nil
}

// binariesAndUser finds the server binaries and the identity to run them as.
func (s *Server) binariesAndUser() (bin string, cred *syscall.Credential, err error) {
	if bin, err = binDir(s.binGlob); err != nil {
		return "", nil, err
	}
	cred, err = credential()
	return bin, cred, err
}

func (s *Server) start() error {
	bin, cred, err := s.binariesAndUser()
	if err != nil {
		return err
	}
	// os.MkdirTemp rather than t.TempDir: the server outlives single tests,
	// and the postgres user must be able to enter the directory.
	s.dir, err = os.MkdirTemp("", "trackstack-pgtest-")
	if err != nil {
		return fmt.Errorf("while creating the data directory: %w", err)
	}
	data := filepath.Join(s.dir, "data")
	if cred != nil {
		if err := os.Chown(s.dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return fmt.Errorf("while handing %s to the postgres user: %w", s.dir, err)
		}
	}

	// -N only skips fsyncing initdb's own files; the server itself keeps
	// fsync on.
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres",
		"--auth=trust", "-E", "UTF8", "--locale=C", "-N")
	if out, err := run(initdb, cred); err != nil {
		return fmt.Errorf("while running initdb: %w\n%s", err, out)
	}

	// The port comes from the kernel, then is released for postgres to bind:
	// another process may take it in between, so a failed start is retried.
	for attempt := 0; ; attempt++ {
		err = s.launch(bin, data, cred)
		if err == nil || attempt == 2 {
			return err
		}
	}
}

func (s *Server) launch(bin, data string, cred *syscall.Credential) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	return s.launchOn(bin, data, cred, port)
}

// launchOn starts postgres on data and port and waits until it accepts
// connections (after crash recovery, when it restarts). The port may have
// been taken by another process meanwhile: then the start fails with the
// server's log.
func (s *Server) launchOn(bin, data string, cred *syscall.Credential, port int) error {
	logPath := filepath.Join(s.dir, "postgres.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("while opening the server log: %w", err)
	}
	defer logFile.Close()
	// The postgres binary runs as our child (not daemonized by pg_ctl) so
	// that Pdeathsig stops it even when the test binary is killed.
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", data,
		"-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories="+s.dir,
		"-c", "max_connections=200",
		"-c", "log_min_messages=warning",
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT, Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("while starting postgres: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	s.cmd, s.exited, s.port = cmd, exited, port

	deadline := time.Now().Add(2 * time.Minute)
	for {
		select {
		case <-exited:
			s.cmd = nil
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("postgres exited during start on port %d:\n%s", port, log)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn, err := pgx.Connect(ctx, s.DSN("postgres"))
		cancel()
		if err == nil {
			_ = conn.Close(context.Background())
			return nil
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exited
			s.cmd = nil
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("postgres did not accept connections within 2 minutes: %w\n%s", err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// credential returns the identity to run the server binaries as: PostgreSQL
// refuses to run as root, so root runs them as the postgres user that the
// Debian package creates.
func credential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("while looking up the postgres user (running as root, PostgreSQL must run as another user; `apt-get install postgresql` creates it): %w", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("while parsing the postgres user's ids: %w", err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func run(cmd *exec.Cmd, cred *syscall.Credential) ([]byte, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	// initdb runs as another user: a working directory it cannot read
	// would make it warn, so start it from /.
	cmd.Dir = "/"
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	return []byte(strings.TrimSpace(string(out))), err
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("while finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// CPUTime returns the CPU time (user and system) the server's processes have
// used so far: the postmaster, its live children, and the children it has
// reaped. Benchmarks report it per event, a cost that other load on a shared
// machine distorts far less than wall time.
func (s *Server) CPUTime() (time.Duration, error) {
	s.mu.Lock()
	cmd := s.cmd
	s.mu.Unlock()
	if cmd == nil {
		return 0, errors.New("test PostgreSQL is not running")
	}
	postmaster := cmd.Process.Pid
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, fmt.Errorf("while listing processes: %w", err)
	}
	const ticksPerSecond = 100 // USER_HZ on Linux
	var ticks int64
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // exited meanwhile
		}
		// Fields after the parenthesized command name, which may hold spaces.
		rest := string(b)
		if i := strings.LastIndexByte(rest, ')'); i >= 0 {
			rest = rest[i+1:]
		}
		f := strings.Fields(rest)
		if len(f) < 15 {
			continue
		}
		// f[0] is field 3 (state): ppid is field 4, utime..cstime 14..17.
		// Backends start their own sessions, so the parent, not the
		// process group, tells them.
		if ppid, _ := strconv.Atoi(f[1]); pid != postmaster && ppid != postmaster {
			continue
		}
		times := f[11:13] // utime, stime
		if pid == postmaster {
			times = f[11:15] // and cutime, cstime: backends that have exited
		}
		for _, v := range times {
			t, _ := strconv.ParseInt(v, 10, 64)
			ticks += t
		}
	}
	return time.Duration(ticks) * time.Second / ticksPerSecond, nil
}
