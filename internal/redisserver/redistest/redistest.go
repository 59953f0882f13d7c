// Package redistest gives tests throwaway Redis servers (see redisserver).
//
// When redis-server is missing, tests are skipped with a hint on how to
// install it, except in CI (CI=true), where a skipped test would hide a
// hole: there they fail.
package redistest

import (
	"context"
	"errors"
	"github.com/alpha-orion/runbook/internal/testenv"
	"testing"
	"time"

	"github.com/alpha-orion/runbook/internal/redisserver"
)

// Start starts a server for this test, stopped when the test ends. It
// skips the test when redis-server is not installed, or fails it under CI.
func Start(t testing.TB) *redisserver.Server { return StartWith(t, redisserver.Options{}) }

// StartWith is Start with options, e.g. a password.
func StartWith(t testing.TB, opts redisserver.Options) *redisserver.Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := redisserver.StartWith(ctx, opts)
	if err != nil {
		skipOrFail(t, err, testenv.InCI())
		return nil
	}
	t.Cleanup(func() {
		if err := srv.Stop(); err != nil {
			t.Errorf("redistest: %v", err)
		}
	})
	return srv
}

// skipOrFail ends the test for a server that could not start: a skip when
// redis-server is simply not installed outside CI, a failure otherwise.
func skipOrFail(t testing.TB, err error, ci bool) {
	t.Helper()
	switch {
	case !errors.Is(err, redisserver.ErrNotInstalled):
		t.Fatalf("redistest: %v", err)
	default:
		testenv.MissingIn(t, "redistest", err, ci)
	}
}
