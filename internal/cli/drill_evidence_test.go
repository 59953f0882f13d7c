package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDrillsLeaveEvidence drills neon-pitr with --output json into a state
// folder: stdout is JSON lines only, ending with the drill's verdict; the
// drill is journaled as a drill (history --drills lists it, plain history
// does not, report renders it) and list shows it as the last drill.
func TestDrillsLeaveEvidence(t *testing.T) {
	drillNeeds(t, "postgres")
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	env := []string{"RUNBOOK_STATE=" + state}
	code, out, errOut := cli(t, dir, env, "drill", "--dir", runbooksDir(t), "neon-pitr", "-o", "json")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var last map[string]any
	for _, line := range lines {
		if err := json.Unmarshal([]byte(line), &last); err != nil {
			t.Fatalf("stdout is not JSON lines: %q", line)
		}
	}
	if last["type"] != "drill_report" || last["status"] != "passed" {
		t.Errorf("the stream does not end with the verdict: %v", last)
	}
	if !strings.Contains(errOut, "drill neon-pitr PASSED") {
		t.Errorf("the report for people is not on stderr:\n%s", errOut)
	}
	code, out, _ = cli(t, dir, env, "history", "--drills")
	if code != ExitOK || !strings.Contains(out, "-neon-pitr-drill-") || !strings.Contains(out, "passed (run succeeded)") {
		t.Errorf("history --drills: exit %d\n%s", code, out)
	}
	if _, out, _ := cli(t, dir, env, "history"); strings.Contains(out, "-drill-") {
		t.Errorf("plain history lists a drill as an incident:\n%s", out)
	}
	report := filepath.Join(dir, "drill.md")
	if code, out, errOut := cli(t, dir, env, "report", "latest", "-o", report); code != ExitOK {
		t.Errorf("report of the drill: exit %d\n%s\n%s", code, out, errOut)
	} else if b, _ := os.ReadFile(report); !strings.Contains(string(b), "neon-pitr") {
		t.Errorf("report of the drill:\n%s", b)
	}
	code, out, _ = cli(t, dir, env, "list", runbooksDir(t))
	var neon string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "neon-pitr ") {
			neon = line
		}
	}
	if code != ExitOK || !strings.Contains(neon, " passed in ") || strings.Contains(neon, "(due)") {
		t.Errorf("list does not show neon-pitr's drill:\n%s", out)
	}
	if !strings.Contains(out, "not drilled in the last 90 days") {
		t.Errorf("list does not flag the runbooks never drilled:\n%s", out)
	}
}
