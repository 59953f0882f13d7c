// Package pgserver starts throwaway PostgreSQL servers from the binaries
// installed on the machine, for tests and for `runbook drill`.
//
// A server lives in its own temporary folder (data directory, unix socket,
// log), listens on a free loopback port with trust authentication and no
// fsync, and is removed, folder and all, by Stop. When the process runs as
// root, initdb and postgres run as the `postgres` OS user, since both refuse
// to run as root.
package pgserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Options configures Start; the zero value is ready to use.
type Options struct {
	// BinDir is the folder holding initdb and postgres; empty means search (see FindBinDir).
	BinDir string
	// Dir is where the server's temporary folder is created; empty means os.TempDir().
	Dir string
	// Port is the loopback TCP port; 0 picks a free one.
	Port int
	// Superuser is the database superuser initdb creates; empty means "postgres".
	Superuser string
	// RunAs is the OS user that runs initdb and postgres when this process is root; empty means "postgres".
	RunAs string
	// StartTimeout bounds initdb plus server start-up; 0 means one minute.
	StartTimeout time.Duration
	// Settings are extra server settings passed as `-c name=value`.
	Settings map[string]string
	// Template, when set, is a Template whose data folder is copied
	// instead of running initdb: a copy takes milliseconds, initdb about
	// a second. Its Superuser is the one the template was made with.
	Template *Template
}

// Server is one running PostgreSQL server; its methods are safe for concurrent use.
type Server struct {
	binDir  string
	dir     string
	dataDir string
	logPath string
	port    int
	user    string
	cred    *credential
	version int

	cmd      *exec.Cmd
	exited   chan struct{}
	waitErr  error
	stopOnce sync.Once
	stopErr  error
}

// ownerFile holds the pid of the process that started a server, so stale
// folders left by crashed processes can be recognised (see ReapStale).
const ownerFile = "owner.pid"

// folderPrefix starts the name of every server folder.
const folderPrefix = "pgserver-"

// Start runs initdb in a new temporary folder and starts postgres on it,
// returning once the server accepts connections. ctx bounds start-up only.
func Start(ctx context.Context, opts Options) (*Server, error) {
	opts = withDefaults(opts)
	ctx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()
	binDir, cred, dir, err := newFolder(opts, folderPrefix)
	if err != nil {
		return nil, err
	}
	s := &Server{
		binDir:  binDir,
		dir:     dir,
		dataDir: filepath.Join(dir, "data"),
		logPath: filepath.Join(dir, "postgres.log"),
		user:    opts.Superuser,
		cred:    cred,
	}
	if opts.Template != nil {
		s.user = opts.Template.user
	}
	if err := s.setUp(ctx, opts); err != nil {
		_ = s.Stop()
		return nil, err
	}
	return s, nil
}

// newFolder finds the binaries and the user they run as, and makes the
// temporary folder of a server or template, reachable by that user.
func newFolder(opts Options, prefix string) (binDir string, cred *credential, dir string, err error) {
	if binDir, err = FindBinDir(opts.BinDir); err != nil {
		return "", nil, "", err
	}
	if cred, err = credentialFor(opts.RunAs); err != nil {
		return "", nil, "", err
	}
	parent := socketSafeDir(opts.Dir)
	if err := checkReachable(parent, cred, opts.RunAs); err != nil {
		return "", nil, "", err
	}
	if dir, err = os.MkdirTemp(parent, prefix); err != nil {
		return "", nil, "", fmt.Errorf("pgserver: create folder: %w", err)
	}
	return binDir, cred, dir, nil
}

// withDefaults fills the zero fields of opts.
func withDefaults(opts Options) Options {
	if opts.Superuser == "" {
		opts.Superuser = "postgres"
	}
	if opts.RunAs == "" {
		opts.RunAs = "postgres"
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = time.Minute
	}
	return opts
}

// setUp prepares the folder, runs initdb and starts the server.
func (s *Server) setUp(ctx context.Context, opts Options) error {
	pid := []byte(strconv.Itoa(os.Getpid()) + "\n")
	if err := os.WriteFile(filepath.Join(s.dir, ownerFile), pid, 0o644); err != nil {
		return fmt.Errorf("pgserver: %w", err)
	}
	if err := s.chown(s.dir); err != nil {
		return err
	}
	if opts.Template != nil {
		if err := opts.Template.copyTo(ctx, s.dataDir); err != nil {
			return err
		}
	} else if err := s.initdb(ctx); err != nil {
		return err
	}
	if err := s.writeHBA(); err != nil {
		return err
	}
	// A free port can be taken between choosing and binding it: retry then.
	for attempt := 0; ; attempt++ {
		port := opts.Port
		if port == 0 {
			p, err := freePort()
			if err != nil {
				return err
			}
			port = p
		}
		err := s.startPostgres(ctx, port, opts.Settings)
		if err == nil || opts.Port != 0 || attempt == 2 || !strings.Contains(s.logTail(), "could not bind") {
			return err
		}
	}
}

// initdb creates the cluster: UTF-8, C locale, trust auth, no fsync.
func (s *Server) initdb(ctx context.Context) error {
	cmd := exec.CommandContext(ctx, filepath.Join(s.binDir, "initdb"),
		"-D", s.dataDir, "-U", s.user, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
	s.prepare(cmd, false)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("pgserver: initdb: %w\n%s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// writeHBA limits trust authentication to the socket and the loopback addresses.
func (s *Server) writeHBA() error {
	const hba = "# written by pgserver: trust, loopback only\n" +
		"local all all trust\n" +
		"host all all 127.0.0.1/32 trust\n" +
		"host all all ::1/128 trust\n"
	path := filepath.Join(s.dataDir, "pg_hba.conf")
	if err := os.WriteFile(path, []byte(hba), 0o600); err != nil {
		return fmt.Errorf("pgserver: %w", err)
	}
	return s.chown(path)
}

// startPostgres runs the server on port and waits until it accepts connections.
func (s *Server) startPostgres(ctx context.Context, port int, settings map[string]string) error {
	logFile, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("pgserver: %w", err)
	}
	defer logFile.Close()
	args := []string{"-D", s.dataDir, "-k", s.dir, "-h", "127.0.0.1", "-p", strconv.Itoa(port),
		"-F", "-c", "full_page_writes=off", "-c", "synchronous_commit=off"}
	keys := make([]string, 0, len(settings))
	for k := range settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, "-c", k+"="+settings[k])
	}
	cmd := exec.Command(filepath.Join(s.binDir, "postgres"), args...)
	s.prepare(cmd, true)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("pgserver: start postgres: %w", err)
	}
	s.cmd, s.port, s.exited = cmd, port, make(chan struct{})
	go func() { s.waitErr = cmd.Wait(); close(s.exited) }()
	if err := s.waitReady(ctx); err != nil {
		return err
	}
	return s.readVersion(ctx)
}

// waitReady polls the server until a connection succeeds, it exits, or ctx ends.
func (s *Server) waitReady(ctx context.Context) error {
	for {
		pingCtx, cancel := context.WithTimeout(ctx, time.Second)
		err := s.ping(pingCtx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("pgserver: postgres exited during start-up (%v):\n%s", s.waitErr, s.logTail())
		case <-ctx.Done():
			return fmt.Errorf("pgserver: postgres not ready: %w (last error: %v)\n%s", ctx.Err(), err, s.logTail())
		case <-time.After(15 * time.Millisecond):
		}
	}
}

// prepare sets the working folder, environment and credentials of a child process.
func (s *Server) prepare(cmd *exec.Cmd, server bool) {
	cmd.Dir = s.dir
	cmd.Env = childEnv()
	cmd.SysProcAttr = sysProcAttr(s.cred, server)
}

// childEnv is this process's environment without PG* variables, in the C locale.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") || strings.HasPrefix(kv, "LC_") || strings.HasPrefix(kv, "LANG=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "LC_ALL=C", "LANG=C")
}

// credential is the OS user and group children run as.
type credential struct{ uid, gid uint32 }

// credentialFor returns the credential to run children with: nil unless this process is root.
func credentialFor(runAs string) (*credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup(runAs)
	if err != nil {
		return nil, fmt.Errorf("pgserver: running as root, and initdb/postgres refuse to: "+
			"need the OS user %q to run them as (apt-get install postgresql creates it): %w", runAs, err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("pgserver: user %q: %w", runAs, err)
	}
	return &credential{uid: uint32(uid), gid: uint32(gid)}, nil
}

// chown gives path to the user the children run as, if any.
func (s *Server) chown(path string) error {
	if s.cred == nil {
		return nil
	}
	if err := os.Lchown(path, int(s.cred.uid), int(s.cred.gid)); err != nil {
		return fmt.Errorf("pgserver: %w", err)
	}
	return nil
}

// checkReachable fails early, and clearly, when the user the children run as
// could not reach dir: every ancestor must be searchable by others.
func checkReachable(dir string, cred *credential, runAs string) error {
	if cred == nil {
		return nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("pgserver: %w", err)
	}
	for d := abs; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("pgserver: %w", err)
		}
		if fi.Mode().Perm()&0o001 == 0 && !ownedBy(fi, cred.uid) {
			return fmt.Errorf("pgserver: %s is not reachable by the OS user %q that runs postgres "+
				"(it needs o+x on %s); choose another Options.Dir", abs, runAs, d)
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

// socketSafeDir returns dir (or the temp dir), falling back to /tmp when a
// socket path inside it would exceed the ~107-byte unix socket limit.
func socketSafeDir(dir string) string {
	if dir == "" {
		dir = os.TempDir()
	}
	// folder name (pgserver-NNNNNNNNNN) plus /.s.PGSQL.NNNNN
	if len(dir)+len(folderPrefix)+12+len("/.s.PGSQL.65535") > 100 {
		return "/tmp"
	}
	return dir
}

// freePort asks the kernel for a free loopback TCP port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgserver: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// logTail returns the end of the server log, for error messages.
func (s *Server) logTail() string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return ""
	}
	const max = 2000
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return strings.TrimSpace(string(b))
}

// URL returns a connection URL for database db as the superuser over TCP.
func (s *Server) URL(db string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User(s.user),
		Host:     net.JoinHostPort(s.Host(), strconv.Itoa(s.port)),
		Path:     "/" + db,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// Host returns the address the server listens on.
func (s *Server) Host() string { return "127.0.0.1" }

// Port returns the TCP port the server listens on.
func (s *Server) Port() int { return s.port }

// Superuser returns the name of the database superuser.
func (s *Server) Superuser() string { return s.user }

// Dir returns the server's folder, which also holds its unix socket.
func (s *Server) Dir() string { return s.dir }

// LogPath returns the path of the server log.
func (s *Server) LogPath() string { return s.logPath }

// Stop shuts the server down and removes its folder; calling it again is a no-op.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		s.stopErr = errors.Join(s.shutdown(), os.RemoveAll(s.dir))
	})
	return s.stopErr
}

// shutdown asks postgres for a fast shutdown, then insists.
func (s *Server) shutdown() error {
	if s.cmd == nil || s.cmd.Process == nil {
		return nil
	}
	steps := []struct {
		sig  os.Signal
		wait time.Duration
	}{{syscall.SIGINT, 10 * time.Second}, {syscall.SIGQUIT, 5 * time.Second}, {os.Kill, 5 * time.Second}}
	for _, step := range steps {
		if err := s.cmd.Process.Signal(step.sig); err != nil {
			break // already gone
		}
		select {
		case <-s.exited:
			return nil
		case <-time.After(step.wait):
		}
	}
	select {
	case <-s.exited:
		return nil
	case <-time.After(time.Second):
		return fmt.Errorf("pgserver: postgres (pid %d) did not stop", s.cmd.Process.Pid)
	}
}
