package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPreflightReportsEverythingAtOnce runs the real neon-pitr runbook with
// nothing set: every missing thing is named in one report, with what to
// set, and no run starts (no journal, no lock).
func TestPreflightReportsEverythingAtOnce(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	env := []string{"RUNBOOK_STATE=" + state, "NEON_PROJECT_ID=", "RUNBOOK_SECRET_NEON_API_KEY=", "RUNBOOK_SECRET_RENDER_API_KEY="}
	code, out, errOut := cli(t, dir, env, "run", "--dir", runbooksDir(t), "neon-pitr")
	if code != ExitUsage {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, ExitUsage, out, errOut)
	}
	for _, want := range []string{
		"nothing was changed",
		"NEON_API_KEY, RENDER_API_KEY",
		"param restore_to is required",
		"environment variable NEON_PROJECT_ID is not set (read by plugins.neon.project_id)",
		"configure plugin neon: missing required config",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("the report lacks %q:\n%s", want, errOut)
		}
	}
	if entries, _ := os.ReadDir(state); len(entries) > 0 {
		t.Errorf("a run left state behind although preflight failed: %v", entries)
	}
	if strings.Contains(out, "start ") {
		t.Errorf("a step started:\n%s", out)
	}
}

const planRunbook = `apiVersion: runbook/v1
kind: Runbook
metadata: {name: planned}
params:
  ok: {type: bool, default: true}
steps:
  - {id: probe, uses: log, with: {message: probing}}
  - {id: gate, uses: assert, needs: [probe], with: {that: "${{ params.ok }}", message: "not ok"}}
  - {id: follow, uses: log, needs: [gate], when: 'steps.gate.status == "succeeded"', with: {message: done}}
`

// TestPlanExitCodes: 0 when nothing is predicted to go wrong, 1 when a
// step is predicted to fail, and --output json is one JSON object saying
// so; a guard over a status is unknown, not made up.
func TestPlanExitCodes(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "planned.yaml"), []byte(planRunbook), 0o644)
	tests := []struct {
		args      []string
		code      int
		predicted string
	}{
		{[]string{"plan", "planned.yaml", "-o", "json"}, ExitOK, "ok"},
		{[]string{"plan", "planned.yaml", "-o", "json", "-p", "ok=false"}, ExitFailed, "fail"},
	}
	for _, tt := range tests {
		code, out, errOut := cli(t, dir, nil, tt.args...)
		if code != tt.code {
			t.Errorf("%v: exit %d, want %d\n%s\n%s", tt.args, code, tt.code, out, errOut)
			continue
		}
		var rep struct {
			Predicted string `json:"predicted"`
			Steps     []struct {
				ID, Decision string
				DependsOn    []string `json:"depends_on"`
			} `json:"steps"`
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("%v: not one JSON object: %v\n%s", tt.args, err, out)
		}
		if rep.Predicted != tt.predicted || len(rep.Steps) != 3 {
			t.Errorf("%v: %+v", tt.args, rep)
		}
		if f := rep.Steps[2]; f.Decision != "unknown" || len(f.DependsOn) != 1 || f.DependsOn[0] != "gate.status" {
			t.Errorf("%v: a guard over a status: %+v", tt.args, f)
		}
	}
	code, out, _ := cli(t, dir, nil, "plan", "planned.yaml", "-p", "ok=false")
	if code != ExitFailed || !strings.Contains(out, "! gate") || !strings.Contains(out, "assertion would FAIL") {
		t.Errorf("text plan: exit %d\n%s", code, out)
	}
}
