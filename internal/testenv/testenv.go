// Package testenv holds the one rule for tests that need a program on the
// machine (a PostgreSQL server, redis-server, terraform, Chromium): outside CI
// a missing program skips the test with a message saying how to get it; under
// CI=true it fails the test, because a test that skips in CI hides a hole.
package testenv

import (
	"os"
	"testing"
)

// InCI reports whether the tests run in CI (CI=true).
func InCI() bool { return os.Getenv("CI") == "true" }

// Missing ends the test because what is missing (err says why): a skip
// outside CI, a failure in CI. It does nothing when err is nil.
func Missing(t testing.TB, what string, err error) {
	t.Helper()
	MissingIn(t, what, err, InCI())
}

// MissingIn is Missing with the CI decision given, for tests of callers.
func MissingIn(t testing.TB, what string, err error, ci bool) {
	t.Helper()
	switch {
	case err == nil:
	case ci:
		t.Fatalf("%s: %v (CI=true: a skipped test would hide a hole, so this fails)", what, err)
	default:
		t.Skipf("%s: skipping: %v", what, err)
	}
}

// Recorder is a testing.TB that records how a test would have ended, for
// testing helpers that skip or fail.
type Recorder struct {
	testing.TB
	SawSkip, SawFatal bool
}

// Helper does nothing.
func (r *Recorder) Helper() {}

// Skipf records a skip.
func (r *Recorder) Skipf(string, ...any) { r.SawSkip = true }

// Fatalf records a failure.
func (r *Recorder) Fatalf(string, ...any) { r.SawFatal = true }
