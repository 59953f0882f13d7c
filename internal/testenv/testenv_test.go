package testenv

import (
	"errors"
	"testing"
)

// recorder is a testing.TB that records how a test would end.
type recorder struct {
	testing.TB
	skipped, failed bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Skipf(string, ...any)  { r.skipped = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true }

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
		r := &recorder{TB: t}
		MissingIn(r, "terraform", tc.err, tc.ci)
		if r.skipped != tc.wantSkipped || r.failed != tc.wantFailed {
			t.Errorf("%s: skipped, failed = %v, %v; want %v, %v", tc.name, r.skipped, r.failed, tc.wantSkipped, tc.wantFailed)
		}
	}
}
