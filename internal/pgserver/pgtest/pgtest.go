// Package pgtest shares one throwaway PostgreSQL server (see pgserver) among
// the tests of a test binary, with a fresh database per test.
//
// When the server binaries are missing, tests are skipped with a hint on how
// to install them, except in CI (CI=true), where a skipped test would hide a
// hole: there they fail.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"github.com/alpha-orion/runbook/internal/testenv"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alpha-orion/runbook/internal/pgserver"
)

var (
	once   sync.Once
	shared *pgserver.Server
	errSrv error
	dbSeq  atomic.Int64
)

// Start returns the test binary's shared server, starting it on first use.
// It skips the test when PostgreSQL is not installed, or fails it under CI.
func Start(t testing.TB) *pgserver.Server {
	t.Helper()
	once.Do(func() {
		_, _ = pgserver.ReapStale("")
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		shared, errSrv = pgserver.Start(ctx, pgserver.Options{})
	})
	if errSrv != nil {
		skipOrFail(t, errSrv, testenv.InCI())
	}
	return shared
}

// skipOrFail ends the test for a server that could not start: a skip when
// PostgreSQL is simply not installed outside CI, a failure otherwise.
func skipOrFail(t testing.TB, err error, ci bool) {
	t.Helper()
	switch {
	case !errors.Is(err, pgserver.ErrNotInstalled):
		t.Fatalf("pgtest: %v", err)
	default:
		testenv.MissingIn(t, "pgtest", err, ci)
	}
}

// NewDatabase creates an empty database for this test on the shared server,
// dropped when the test ends, and returns the server and the database name.
func NewDatabase(t testing.TB) (*pgserver.Server, string) {
	t.Helper()
	srv := Start(t)
	name := fmt.Sprintf("t%d_%d_%s", os.Getpid(), dbSeq.Add(1), sanitize(t.Name()))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.CreateDatabase(ctx, name); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := srv.DropDatabase(ctx, name); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return srv, name
}

// Main runs the tests and then stops the shared server; call it from TestMain
// so the server's folder is removed as soon as the tests end. Without it the
// server stops when the test binary exits and a later Start removes the folder.
func Main(m *testing.M) {
	code := m.Run()
	if shared != nil {
		if err := shared.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
		}
	}
	os.Exit(code)
}

// sanitize makes a test name usable in a database name: lower case, at most 30 runes.
func sanitize(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if b.Len() >= 30 {
			break
		}
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}
