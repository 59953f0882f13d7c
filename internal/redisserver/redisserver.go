// Package redisserver starts throwaway Redis servers from the redis-server
// binary installed on the machine, for tests and for `runbook drill`.
//
// A server lives in its own temporary folder (configuration, log), listens
// on a free loopback port with persistence off, and is removed, folder and
// all, by Stop. Should this process die without calling Stop, the server
// gets SIGTERM from the kernel (on Linux).
package redisserver

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrNotInstalled reports that no redis-server binary was found.
var ErrNotInstalled = errors.New("redis-server not found: install it with `apt-get install redis-server` " +
	"(Debian/Ubuntu; then `service redis-server stop`, the tests start their own) or `brew install redis` (macOS), " +
	"or point " + BinaryEnv + " at the binary")

// BinaryEnv names the environment variable that overrides where redis-server is looked for.
const BinaryEnv = "REDISSERVER_BINARY"

// Options configures StartWith; the zero value is ready to use.
type Options struct {
	// Binary is the redis-server to run; empty means $REDISSERVER_BINARY, then PATH.
	Binary string
	// Dir is where the server's temporary folder is created; empty means os.TempDir().
	Dir string
	// Port is the loopback TCP port; 0 picks a free one.
	Port int
	// Password, when set, is required of clients (requirepass, user "default").
	Password string
	// TLS serves TLS only, with a self-signed certificate for 127.0.0.1
	// made at start-up; URL then starts with rediss://.
	TLS bool
	// StartTimeout bounds start-up; 0 means 30 seconds.
	StartTimeout time.Duration
}

// Server is one running redis-server; its methods are safe for concurrent use.
type Server struct {
	dir      string
	logPath  string
	port     int
	password string
	tls      bool

	cmd      *exec.Cmd
	exited   chan struct{}
	waitErr  error
	stopOnce sync.Once
	stopErr  error
}

// Start starts a server with the default options and returns once it
// answers PING. ctx bounds start-up only.
func Start(ctx context.Context) (*Server, error) { return StartWith(ctx, Options{}) }

// StartWith starts a server with opts and returns once it answers PING.
func StartWith(ctx context.Context, opts Options) (*Server, error) {
	bin, err := FindBinary(opts.Binary)
	if err != nil {
		return nil, err
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, opts.StartTimeout)
	defer cancel()
	dir, err := os.MkdirTemp(opts.Dir, "redisserver-")
	if err != nil {
		return nil, fmt.Errorf("redisserver: create folder: %w", err)
	}
	s := &Server{dir: dir, logPath: filepath.Join(dir, "redis.log"), password: opts.Password, tls: opts.TLS}
	if s.tls {
		if err := writeCertificate(dir); err != nil {
			_ = s.Stop()
			return nil, err
		}
	}
	// A free port can be taken between choosing and binding it: retry then.
	for attempt := 0; ; attempt++ {
		port := opts.Port
		if port == 0 {
			if port, err = freePort(); err != nil {
				break
			}
		}
		err = s.start(ctx, bin, port)
		if err == nil || opts.Port != 0 || attempt == 2 || !strings.Contains(s.logTail(), "Address already in use") {
			break
		}
	}
	if err != nil {
		_ = s.Stop()
		return nil, err
	}
	return s, nil
}

// FindBinary returns the redis-server to run: bin when given, else
// $REDISSERVER_BINARY, else the one on PATH. The error wraps ErrNotInstalled.
func FindBinary(bin string) (string, error) {
	if bin == "" {
		bin = os.Getenv(BinaryEnv)
	}
	if bin == "" {
		p, err := exec.LookPath("redis-server")
		if err != nil {
			return "", fmt.Errorf("%w (looked in PATH)", ErrNotInstalled)
		}
		return p, nil
	}
	if fi, err := os.Stat(bin); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		return "", fmt.Errorf("%w (%s is not an executable file)", ErrNotInstalled, bin)
	}
	return bin, nil
}

// start writes the configuration, runs the server on port and waits until it answers.
func (s *Server) start(ctx context.Context, bin string, port int) error {
	conf := filepath.Join(s.dir, "redis.conf")
	if err := os.WriteFile(conf, []byte(s.config(port)), 0o600); err != nil {
		return fmt.Errorf("redisserver: %w", err)
	}
	cmd := exec.Command(bin, conf)
	cmd.Dir = s.dir
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("redisserver: start %s: %w", bin, err)
	}
	s.cmd, s.port, s.exited = cmd, port, make(chan struct{})
	go func() { s.waitErr = cmd.Wait(); close(s.exited) }()
	return s.waitReady(ctx)
}

// config is the server's configuration: loopback only, nothing on disk.
func (s *Server) config(port int) string {
	lines := []string{
		"bind 127.0.0.1",
		"daemonize no",
		"save \"\"",
		"appendonly no",
		"dir " + quote(s.dir),
		"logfile " + quote(s.logPath),
		"databases 16",
	}
	if s.tls {
		lines = append(lines, "port 0", "tls-port "+strconv.Itoa(port), "tls-auth-clients no",
			"tls-cert-file "+quote(filepath.Join(s.dir, certFile)), "tls-key-file "+quote(filepath.Join(s.dir, keyFile)))
	} else {
		lines = append(lines, "port "+strconv.Itoa(port))
	}
	if s.password != "" {
		lines = append(lines, "requirepass "+quote(s.password))
	} else {
		lines = append(lines, "protected-mode no")
	}
	return strings.Join(lines, "\n") + "\n"
}

// quote writes a configuration argument as a double-quoted string.
func quote(s string) string { return strconv.Quote(s) }

// waitReady polls the server until it answers PING, exits, or ctx ends.
func (s *Server) waitReady(ctx context.Context) error {
	for {
		err := s.ping(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("redisserver: redis-server exited during start-up (%v):\n%s", s.waitErr, s.logTail())
		case <-ctx.Done():
			return fmt.Errorf("redisserver: redis-server not ready: %w (last error: %v)\n%s", ctx.Err(), err, s.logTail())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// ping sends PING over a raw connection; NOAUTH counts as an answer.
func (s *Server) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	var d net.Dialer
	var conn net.Conn
	var err error
	if s.tls {
		td := tls.Dialer{NetDialer: &d, Config: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // our own self-signed server
		conn, err = td.DialContext(ctx, "tcp", s.Addr())
	} else {
		conn, err = d.DialContext(ctx, "tcp", s.Addr())
	}
	if err != nil {
		return err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	if _, err := conn.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.HasPrefix(line, "+PONG") || strings.HasPrefix(line, "-NOAUTH") {
		return nil
	}
	return fmt.Errorf("unexpected answer %q", strings.TrimSpace(line))
}

// Addr returns the host:port the server listens on.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Port returns the TCP port the server listens on.
func (s *Server) Port() int { return s.port }

// URL returns a redis:// URL (rediss:// with TLS) for database 0, with the
// password if one is set.
func (s *Server) URL() string { return s.URLWithPassword(s.password) }

// URLWithPassword returns a redis:// URL as URL does, with another
// password, e.g. a wrong one for a test.
func (s *Server) URLWithPassword(password string) string {
	u := url.URL{Scheme: "redis", Host: s.Addr(), Path: "/0"}
	if s.tls {
		u.Scheme = "rediss"
	}
	if password != "" {
		u.User = url.UserPassword("default", password)
	}
	return u.String()
}

// Dir returns the server's folder.
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

// shutdown asks redis-server to exit (SIGTERM), then insists.
func (s *Server) shutdown() error {
	if s.cmd == nil || s.cmd.Process == nil {
		return nil
	}
	for _, sig := range []os.Signal{syscall.SIGTERM, os.Kill} {
		if err := s.cmd.Process.Signal(sig); err != nil {
			break // already gone
		}
		select {
		case <-s.exited:
			return nil
		case <-time.After(5 * time.Second):
		}
	}
	select {
	case <-s.exited:
		return nil
	case <-time.After(time.Second):
		return fmt.Errorf("redisserver: redis-server (pid %d) did not exit", s.cmd.Process.Pid)
	}
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

// freePort asks the kernel for a free loopback TCP port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("redisserver: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
