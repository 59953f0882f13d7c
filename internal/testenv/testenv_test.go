package testenv

import (
	"errors"
	"testing"
)

func TestMissingIn(t *testing.T) {
	missing := errors.New("terraform is not on PATH")
	for _, tc := range []struct {
		name                    string
		err                     error
		ci                      bool
		wantSkipped, wantFailed bool
	}{
		{"present", nil, true, false, false},
		{"missing, local run", missing, false, true, false},
		{"missing, CI", missing, true, false, true},
	} {
		r := &Recorder{TB: t}
		MissingIn(r, "terraform", tc.err, tc.ci)
		if r.SawSkip != tc.wantSkipped || r.SawFatal != tc.wantFailed {
			t.Errorf("%s: skipped, failed = %v, %v; want %v, %v", tc.name, r.SawSkip, r.SawFatal, tc.wantSkipped, tc.wantFailed)
		}
	}
}
