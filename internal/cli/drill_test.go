package cli

import (
	"os"
	"path/filepath"
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

// TestDrillCatchesAnIncompleteRunbook drills a copy of neon-pitr whose
// update-url step never runs: every step succeeds, but the services still
// read the damaged database, and the drill must say so.
func TestDrillCatchesAnIncompleteRunbook(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(runbooksDir(t), "neon-pitr.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(src), "when: steps.restore.outputs.new_endpoint", "when: false && steps.restore.outputs.new_endpoint", 1)
	if broken == string(src) {
		t.Fatal("the runbook no longer has the guard this test disables")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "neon-pitr.yaml"), []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := cli(t, t.TempDir(), nil, "drill", "--dir", dir, "neon-pitr")
	if code != ExitFailed || !strings.Contains(out, "drill neon-pitr FAILED") {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "FAIL user-api-service works on the restored data: GET user-api-service/data: 200 users=20") {
		t.Errorf("the failing check is not reported:\n%s", out)
	}
}

// TestDrillNeonPITRSabotage: each sabotaged step fails the drill, caught by
// the check that observes its effect; a step that changes nothing cannot be
// sabotaged.
func TestDrillNeonPITRSabotage(t *testing.T) {
	for _, tc := range []struct {
		step, caught string
	}{
		{"stop-monitor", "FAIL blockchain-monitor works on the restored data: GET blockchain-monitor/data: 200 users=20"},
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
