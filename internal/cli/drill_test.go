package cli

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func runbooksDir(t *testing.T) string {
	t.Helper()
	abs, err := filepath.Abs("../../runbooks")
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

func TestDrillNeonPITRPasses(t *testing.T) {
	code, out, errOut := cli(t, t.TempDir(), nil, "drill", "--dir", runbooksDir(t), "neon-pitr")
	if code != ExitOK || !strings.Contains(out, "drill neon-pitr PASSED") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"staged: incident at", "RPO        restore point", "ok   user-api-service works on the restored data: GET user-api-service/data: 200 users=120", "ok   restore point within the RPO, measured from the data"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

// TestDrillCatchesAnIncompleteRunbook drills a copy of neon-pitr that
// leaves blockchain-monitor running through the restore: every step
// succeeds and DATABASE_URL is still right (Neon restores in place), but
// the restore ended the monitor's database session and nothing restarted
// it, and the drill must say so.
func TestDrillCatchesAnIncompleteRunbook(t *testing.T) {
	dir := runbookVariant(t, "neon-pitr", func(doc *yaml.Node) {
		dropSteps(t, doc, "stop-monitor", "start-monitor")
	})
	out := drillFailed(t, dir, "neon-pitr", "blockchain-monitor works on the restored data: GET blockchain-monitor/data: 503")
	if !strings.Contains(out, " succeeded in ") {
		t.Errorf("the run itself should succeed, every step of it:\n%s", out)
	}
}

// dropSteps removes the main steps with ids, and their mentions in the
// other steps' needs.
func dropSteps(t *testing.T, doc *yaml.Node, ids ...string) {
	t.Helper()
	steps := yamlKey(doc, "steps")
	kept := steps.Content[:0]
	for _, s := range steps.Content {
		if id := yamlKey(s, "id"); id != nil && slices.Contains(ids, id.Value) {
			continue
		}
		if needs := yamlKey(s, "needs"); needs != nil {
			var left []*yaml.Node
			for _, n := range needs.Content {
				if !slices.Contains(ids, n.Value) {
					left = append(left, n)
				}
			}
			needs.Content = left
		}
		kept = append(kept, s)
	}
	if len(kept) != len(steps.Content)-len(ids) {
		t.Fatalf("the runbook lacks one of the steps %v", ids)
	}
	steps.Content = kept
}

// TestDrillNeonPITRSabotage: each sabotaged step fails the drill, caught by
// the check that observes its effect; a step that changes nothing cannot be
// sabotaged.
func TestDrillNeonPITRSabotage(t *testing.T) {
	for _, tc := range []struct {
		step, caught string
	}{
		{"stop-monitor", "FAIL blockchain-monitor works on the restored data: GET blockchain-monitor/data: 503 database: the session was ended by the server"},
		{"restore", "FAIL the deleted users are back on the default branch"},
	} {
		code, out, errOut := cli(t, t.TempDir(), nil, "drill", "--dir", runbooksDir(t), "neon-pitr", "--sabotage", tc.step)
		if code != ExitFailed || !strings.Contains(out, "SABOTAGED by the drill") || !strings.Contains(out, tc.caught) {
			t.Errorf("--sabotage %s: exit %d, want %d and %q\n%s\n%s", tc.step, code, ExitFailed, tc.caught, out, errOut)
		}
	}
	code, _, errOut := cli(t, t.TempDir(), nil, "drill", "--dir", runbooksDir(t), "neon-pitr", "--sabotage", "verify-data")
	if code != ExitUsage || !strings.Contains(errOut, "not a world-changing step") {
		t.Errorf("--sabotage verify-data: exit %d, stderr %q", code, errOut)
	}
}

// TestDrillNeonPITRWrongRestorePoint restores to an hour before the chosen
// restore point: the runbook's own checks pass (there are users, none newer
// than restore_to), but the drill sees the missing users and measures the
// data loss from the newest surviving row.
func TestDrillNeonPITRWrongRestorePoint(t *testing.T) {
	dir := runbookVariant(t, "neon-pitr", func(doc *yaml.Node) {
		setScalar(t, yamlStep(t, doc, "restore"), "${{ params.restore_to - objectives.rpo }}", "with", "timestamp")
	})
	drillFailed(t, dir, "neon-pitr", "the deleted users are back on the default branch", "restore point within the RPO, measured from the data")
}

func TestDrillContractEmergency(t *testing.T) {
	code, out, errOut := cli(t, t.TempDir(), nil, "drill", "--dir", runbooksDir(t), "contract-emergency")
	if code != ExitOK || !strings.Contains(out, "drill contract-emergency PASSED") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if strings.Count(out, "    ok   ") < 6 {
		t.Errorf("fewer end-state checks than expected:\n%s", out)
	}
}

func TestDrillUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"drill"}, "name a runbook"},
		{[]string{"drill", "--dir", "../../runbooks", "no-such"}, `no drill scenario for "no-such"`},
		{[]string{"drill", "--all", "neon-pitr"}, "not both"},
	} {
		code, _, errOut := cli(t, t.TempDir(), nil, tc.args...)
		if code != ExitUsage || !strings.Contains(errOut, tc.msg) {
			t.Errorf("%v: exit %d, stderr %q", tc.args, code, errOut)
		}
	}
}
