package redisserver_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"github.com/alpha-orion/runbook/internal/testenv"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alpha-orion/runbook/internal/redisserver"
	"github.com/alpha-orion/runbook/internal/redisserver/redistest"
)

// send writes one command in RESP and returns the first line of the answer.
func send(t *testing.T, addr string, args ...string) string {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	var b strings.Builder
	b.WriteString("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		b.WriteString("$" + strconv.Itoa(len(a)) + "\r\n" + a + "\r\n")
	}
	if _, err := conn.Write([]byte(b.String())); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(line)
}

func TestStartAndStop(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	if got := send(t, srv.Addr(), "PING"); got != "+PONG" {
		t.Fatalf("PING = %q", got)
	}
	if got, want := srv.URL(), "redis://"+srv.Addr()+"/0"; got != want {
		t.Fatalf("URL() = %q, want %q", got, want)
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(srv.Dir()); !os.IsNotExist(err) {
		t.Fatalf("folder %s still there after Stop (%v)", srv.Dir(), err)
	}
	if _, err := net.DialTimeout("tcp", srv.Addr(), time.Second); err == nil {
		t.Fatal("server still accepts connections after Stop")
	}
	if err := srv.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
}

func TestPassword(t *testing.T) {
	t.Parallel()
	srv := redistest.StartWith(t, redisserver.Options{Password: "s3cret pass"})
	if got := send(t, srv.Addr(), "PING"); !strings.HasPrefix(got, "-NOAUTH") {
		t.Fatalf("PING without a password = %q, want NOAUTH", got)
	}
	if got := send(t, srv.Addr(), "AUTH", "default", "s3cret pass"); got != "+OK" {
		t.Fatalf("AUTH = %q", got)
	}
	if got, want := srv.URL(), "redis://default:s3cret%20pass@"+srv.Addr()+"/0"; got != want {
		t.Fatalf("URL() = %q, want %q", got, want)
	}
	if got := srv.URLWithPassword("wrong"); !strings.Contains(got, "default:wrong@") {
		t.Fatalf("URLWithPassword = %q", got)
	}
}

func TestNotInstalled(t *testing.T) {
	t.Parallel()
	_, err := redisserver.StartWith(context.Background(), redisserver.Options{Binary: "/nonexistent/redis-server"})
	if !errors.Is(err, redisserver.ErrNotInstalled) || !strings.Contains(err.Error(), "apt-get install redis-server") {
		t.Fatalf("err = %v, want ErrNotInstalled with an install hint", err)
	}
}

func TestBadBinary(t *testing.T) {
	t.Parallel()
	_, err := redisserver.FindBinary("")
	testenv.Missing(t, "redis-server", err)
	// /bin/false starts and exits at once: the error says so.
	_, err = redisserver.StartWith(context.Background(), redisserver.Options{Binary: "/bin/false", StartTimeout: 5 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "exited during start-up") {
		t.Fatalf("err = %v, want an early exit", err)
	}
}

func TestTLS(t *testing.T) {
	t.Parallel()
	srv := redistest.StartWith(t, redisserver.Options{TLS: true, Password: "pw"})
	if got, want := srv.URL(), "rediss://default:pw@"+srv.Addr()+"/0"; got != want {
		t.Fatalf("URL() = %q, want %q", got, want)
	}
	conn, err := tls.Dial("tcp", srv.Addr(), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "-NOAUTH") {
		t.Fatalf("PING over TLS = %q, %v; want NOAUTH", line, err)
	}
}
