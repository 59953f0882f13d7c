package redistest

import (
	"errors"
	"fmt"
	"github.com/alpha-orion/runbook/internal/testenv"
	"testing"

	"github.com/alpha-orion/runbook/internal/redisserver"
)

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
			r := &testenv.Recorder{TB: t}
			skipOrFail(r, tc.err, tc.ci)
			if r.SawSkip != tc.wantSkipped || r.SawFatal != tc.wantFailed {
				t.Errorf("skipped, failed = %v, %v; want %v, %v", r.SawSkip, r.SawFatal, tc.wantSkipped, tc.wantFailed)
			}
		})
	}
}
