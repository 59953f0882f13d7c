package redistest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/alpha-orion/runbook/internal/redisserver"
)

// recorder is a testing.TB that records how a test would end.
type recorder struct {
	testing.TB
	skipped, failed bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Skipf(string, ...any)  { r.skipped = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true }

func TestSkipOrFail(t *testing.T) {
	t.Parallel()
	missing := fmt.Errorf("%w (looked in PATH)", redisserver.ErrNotInstalled)
	broken := errors.New("redis-server exited during start-up")
	tests := []struct {
		name        string
		err         error
		ci          bool
		wantSkipped bool
		wantFailed  bool
	}{
		{"not installed, local run", missing, false, true, false},
		{"not installed, CI", missing, true, false, true},
		{"broken install, local run", broken, false, false, true},
		{"broken install, CI", broken, true, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &recorder{TB: t}
			skipOrFail(r, tc.err, tc.ci)
			if r.skipped != tc.wantSkipped || r.failed != tc.wantFailed {
				t.Errorf("skipped, failed = %v, %v; want %v, %v", r.skipped, r.failed, tc.wantSkipped, tc.wantFailed)
			}
		})
	}
}
