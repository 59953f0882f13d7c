package cli

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/alpha-orion/runbook/engine/load"
)

// TestWorldChangingSteps: the steps the sabotage matrix covers are the
// plugin calls not declared read-only; checks, queries and built-ins are not.
func TestWorldChangingSteps(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		runbook string
		want    []string
	}{
		{"neon-pitr", []string{"stop-api", "stop-monitor", "restore", "start-api", "start-monitor"}},
		{"jwt-secret-rotation", []string{"set-secret", "restart-api", "restart-monitor"}},
		{"render-region-failover", []string{"set-region", "forget-old", "apply"}},
		{"cache-rehydrate", []string{"flush-cache", "flush-ratelimit", "rehydrate"}},
	} {
		rb, _, err := load.ReadFile(filepath.Join(runbooksDir(t), tc.runbook+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if got := worldChanging(rb, DefaultCatalog()); !slices.Equal(got, tc.want) {
			t.Errorf("%s: world-changing steps = %v, want %v", tc.runbook, got, tc.want)
		}
	}
}

// TestMatrixHoles: a sabotage the drill passed, or a step that never ran,
// is a hole; the count decides the exit code.
func TestMatrixHoles(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		out  drillOutcome
		hole bool
	}{
		{"caught by a check", drillOutcome{code: ExitFailed, failedChecks: []string{"x"}, sabotageRan: true}, false},
		{"caught by a step", drillOutcome{code: ExitFailed, failedSteps: []string{"health"}, sabotageRan: true}, false},
		{"drill passed", drillOutcome{code: ExitOK, sabotageRan: true}, true},
		{"step never ran", drillOutcome{code: ExitFailed, sabotageRan: false}, true},
	} {
		if got := (matrixRow{runbook: "r", step: "s", out: tc.out}).hole(); got != tc.hole {
			t.Errorf("%s: hole = %t, want %t", tc.name, got, tc.hole)
		}
	}
}
