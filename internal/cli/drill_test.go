package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	for _, want := range []string{"staged: incident at", "RPO        restore point", "ok   DATABASE_URL reaches the restored data: 120 users"} {
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
	if !strings.Contains(out, "FAIL DATABASE_URL reaches the restored data: 20 users") {
		t.Errorf("the failing check is not reported:\n%s", out)
	}
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
