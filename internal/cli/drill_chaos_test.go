package cli

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/alpha-orion/runbook/engine/journal"
	"github.com/alpha-orion/runbook/engine/load"
	"github.com/alpha-orion/runbook/engine/run"
	"github.com/alpha-orion/runbook/internal/sandbox"
)

// TestJudgeChaos: a game-day drill passes when the runbook reached its end
// state or failed safely (undone, paged, the checks of a safe failure
// hold), and fails on anything else.
func TestJudgeChaos(t *testing.T) {
	t.Parallel()
	rb, _, err := load.ReadFile(filepath.Join(runbooksDir(t), "neon-pitr.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	ok := sandbox.Check{Name: "end", OK: true}
	bad := sandbox.Check{Name: "end", OK: false}
	safeOK := sandbox.Check{Name: "not suspended", OK: true, Safe: true}
	safeBad := sandbox.Check{Name: "not suspended", OK: false, Safe: true}
	step := func(status string, undone bool) *run.StepState {
		return &run.StepState{Status: status, Undone: undone}
	}
	failedRun := func(undone bool, paged string) *run.Result {
		steps := map[string]*run.StepState{
			"stop-api": step(journal.StatusSucceeded, undone), "stop-monitor": step(journal.StatusSucceeded, undone),
			"restore": step(journal.StatusFailed, false),
		}
		if paged != "" {
			steps["page-db-oncall"] = step(paged, false)
		}
		return &run.Result{Status: journal.StatusFailed, Steps: steps}
	}
	tests := []struct {
		name   string
		res    *run.Result
		checks []sandbox.Check
		kind   string
		words  string
	}{
		{"end state", &run.Result{Status: journal.StatusSucceeded}, []sandbox.Check{ok, safeOK}, verdictEndState, ""},
		{"succeeded, wrong end state", &run.Result{Status: journal.StatusSucceeded}, []sandbox.Check{bad, safeOK}, verdictUnsafe, "end state is wrong: end"},
		{"succeeded, no checks", &run.Result{Status: journal.StatusSucceeded}, nil, verdictUnsafe, "no end-state checks ran"},
		{"failed safely", failedRun(true, journal.StatusSucceeded), []sandbox.Check{bad, safeOK}, verdictFailedSafely,
			"step restore failed; undone: stop-api, stop-monitor; paged: page-db-oncall"},
		{"not undone", failedRun(false, journal.StatusSucceeded), []sandbox.Check{bad, safeOK}, verdictUnsafe, "not undone: stop-api, stop-monitor"},
		{"nobody paged", failedRun(true, ""), []sandbox.Check{bad, safeOK}, verdictUnsafe, "page not issued: page-db-oncall"},
		{"page failed", failedRun(true, journal.StatusFailed), []sandbox.Check{bad, safeOK}, verdictUnsafe, "page not issued: page-db-oncall"},
		{"half state", failedRun(true, journal.StatusSucceeded), []sandbox.Check{bad, safeBad}, verdictUnsafe, "not suspended"},
		{"paused for a person", &run.Result{Status: journal.StatusPaused, Pause: &run.Pause{Step: "restore", Kind: "rerun"}}, []sandbox.Check{bad, safeOK},
			verdictFailedSafely, "paused for a person at restore (rerun)"},
		{"cancelled", &run.Result{Status: journal.StatusCancelled}, []sandbox.Check{ok}, verdictUnsafe, "ended cancelled"},
	}
	for _, tc := range tests {
		v := judgeChaos(rb, tc.res, tc.checks)
		if v.kind != tc.kind || !strings.Contains(v.String(), tc.words) {
			t.Errorf("%s: %s, want %s saying %q", tc.name, v, tc.kind, tc.words)
		}
		if v.pass() != (tc.kind != verdictUnsafe) {
			t.Errorf("%s: pass = %t", tc.name, v.pass())
		}
	}
}

// TestDrillChaosFlags: bad seeds and mixing with sabotage are usage errors.
func TestDrillChaosFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"neon-pitr", "--chaos", "soon"}, "--chaos takes a seed"},
		{[]string{"neon-pitr", "--chaos", "-1"}, "--chaos takes a seed"},
		{[]string{"neon-pitr", "--chaos", "1", "--sabotage", "restore"}, "do not mix"},
		{[]string{"--all", "--chaos", "1", "--sabotage-each"}, "do not mix"},
	} {
		code, _, errOut := cli(t, t.TempDir(), nil, append([]string{"drill", "--dir", runbooksDir(t)}, tc.args...)...)
		if code != ExitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, %q; want %d saying %q", tc.args, code, errOut, ExitUsage, tc.want)
		}
	}
}

// TestDrillChaosEndToEnd drills neon-pitr under CI's seed: the plan is
// printed, its faults hit the run, the runbook still reaches its end
// state, and -o json carries the verdict.
func TestDrillChaosEndToEnd(t *testing.T) {
	rb, _, err := load.ReadFile(filepath.Join(runbooksDir(t), "neon-pitr.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	plan := chaosPlan(ciSeed, rb)
	code, out, errOut := cli(t, t.TempDir(), nil, "drill", "--dir", runbooksDir(t), "neon-pitr", "--chaos", strconv.Itoa(ciSeed), "-o", "json")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, l := range plan.Lines() {
		if !strings.Contains(errOut, "  "+l+"\n") {
			t.Errorf("the printed plan lacks %q:\n%s", l, errOut)
		}
		if !strings.Contains(errOut, "hit     "+l+"\n") {
			t.Errorf("fault %q did not hit the run:\n%s", l, errOut)
		}
	}
	if !strings.Contains(errOut, "drill neon-pitr PASS (end state)") {
		t.Errorf("no verdict in the report:\n%s", errOut)
	}
	rep := drillReportLine(t, out)
	ch, _ := rep.Outputs["chaos"].(map[string]any)
	if rep.Status != "passed" || ch["verdict"] != verdictEndState || ch["seed"] != strconv.Itoa(ciSeed) || ch["faults_hit"] != float64(len(plan.Faults)) {
		t.Errorf("drill_report = %+v", rep)
	}
}

// ciSeed is the seed .ci/run drills every runbook with.
const ciSeed = 20261259

// TestDrillChaosFailsSafely: a run that fails under chaos passes as a safe
// failure only when the drill's checks of a safe failure hold. neon-pitr
// whose data check can never pass fails; its undo resumes both services
// and the on-call is paged, which is safe; without the undo the services
// stay suspended, and the drill says the failure is unsafe. cache-rehydrate
// whose spot check can never pass is safe; one that also flushes every key
// (sessions too) is not. dump-restore whose download never verifies is
// safe; one that points DATABASE_URL at the recovery database before
// restoring into it leaves the services on an empty database, and is not.
// jwt-secret-rotation whose old token is never refused is safe; one that
// writes the new secret over DATABASE_URL and restarts leaves the API
// unable to serve, and is not.
func TestDrillChaosFailsSafely(t *testing.T) {
	edit := func(name string, pairs ...string) string {
		t.Helper()
		src, err := os.ReadFile(filepath.Join(runbooksDir(t), name+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		out := string(src)
		for i := 0; i < len(pairs); i += 2 {
			changed := strings.Replace(out, pairs[i], pairs[i+1], 1)
			if changed == out {
				t.Fatalf("%s no longer has %q, which this test changes", name, pairs[i])
			}
			out = changed
		}
		return out
	}
	failingCheck := []string{"check: outputs.rows[0].users > 0 &&", "check: outputs.rows[0].users > 1000000 &&"}
	noUndo := []string{`    undo:
      uses: render.resume
      with: { service: user-api-service }
`, "", `    undo:
      uses: render.resume
      with: { service: blockchain-monitor }
`, ""}
	failingSpot := []string{"check: outputs.exists &&", "check: outputs.exists && false &&"}
	flushAll := []string{`with: { pattern: "ratelimit:*" }`, `with: { pattern: "*" }`}
	failingDownload := []string{"check: outputs.size == steps.find-dump.outputs.size &&", "check: outputs.size == 0 && outputs.size == steps.find-dump.outputs.size &&"}
	earlyURL := []string{"  - id: update-url\n", "  - id: update-url\n    needs: [create-db, database-url]\n"}
	tokenNeverRefused := []string{"expect_status: 401", "expect_status: 418"}
	secretAsDatabaseURL := []string{"      key: JWT_SECRET\n", "      key: DATABASE_URL\n"}
	for _, tc := range []struct {
		name, runbook, src string
		code               int
		verdict            string
	}{
		{"undone and paged", "neon-pitr", edit("neon-pitr", failingCheck...), ExitOK,
			"drill neon-pitr PASS (failed safely: step verify-data failed; undone: stop-api, stop-monitor; paged: page-db-oncall)"},
		{"left suspended", "neon-pitr", edit("neon-pitr", append(failingCheck, noUndo...)...), ExitFailed,
			"drill neon-pitr FAIL (unsafe: the run failed; user-api-service not left suspended (Render API); blockchain-monitor not left suspended (Render API))"},
		{"cache flushed, sessions kept", "cache-rehydrate", edit("cache-rehydrate", failingSpot...), ExitOK,
			"drill cache-rehydrate PASS (failed safely: step spot-check failed; paged: page-oncall)"},
		{"sessions flushed too", "cache-rehydrate", edit("cache-rehydrate", append(failingSpot, flushAll...)...), ExitFailed,
			"drill cache-rehydrate FAIL (unsafe: the run failed; session keys intact)"},
		{"DATABASE_URL kept", "dump-restore", edit("dump-restore", failingDownload...), ExitOK,
			"drill dump-restore PASS (failed safely: step download failed"},
		{"DATABASE_URL moved before the restore", "dump-restore", edit("dump-restore", append(failingDownload, earlyURL...)...), ExitFailed,
			"drill dump-restore FAIL (unsafe: the run failed; DATABASE_URL never points at a partial restore)"},
		{"services kept serving", "jwt-secret-rotation", edit("jwt-secret-rotation", tokenNeverRefused...), ExitOK,
			"drill jwt-secret-rotation PASS (failed safely: step old-token-rejected failed"},
		{"the secret written over DATABASE_URL", "jwt-secret-rotation", edit("jwt-secret-rotation", append(tokenNeverRefused, secretAsDatabaseURL...)...), ExitFailed,
			"drill jwt-secret-rotation FAIL (unsafe: the run failed; user-api-service still serving)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, tc.runbook+".yaml"), []byte(tc.src), 0o644); err != nil {
				t.Fatal(err)
			}
			code, out, errOut := cli(t, t.TempDir(), nil, "drill", "--dir", dir, tc.runbook, "--chaos", "7")
			if code != tc.code || !strings.Contains(out, tc.verdict) {
				t.Fatalf("exit %d, want %d and %q\n%s\n%s", code, tc.code, tc.verdict, out, errOut)
			}
		})
	}
}

// drillReportLine finds the drill_report event in a JSON-lines stream.
func drillReportLine(t *testing.T, stream string) journal.Event {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(stream))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var e journal.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("not a JSON line: %q", sc.Text())
		}
		if e.Type == journal.DrillReport {
			return e
		}
	}
	t.Fatalf("no drill_report in\n%s", stream)
	return journal.Event{}
}

var updateChaos = flag.Bool("update-chaos", false, "rewrite testdata/chaos-plans.golden")

// TestChaosPlansGolden pins the plan CI's seed gives every runbook: a
// change to the planner or to a runbook's actions changes CI's game day,
// and shows here (go test ./internal/cli -run ChaosPlansGolden -update-chaos).
func TestChaosPlansGolden(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join(runbooksDir(t), "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no runbooks: %v", err)
	}
	var b strings.Builder
	for _, f := range files {
		rb, _, err := load.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		plan := chaosPlan(ciSeed, rb)
		fmt.Fprintf(&b, "%s (seed %d): %d faults\n", rb.Metadata.Name.Value, plan.Seed, len(plan.Faults))
		for _, l := range plan.Lines() {
			fmt.Fprintf(&b, "  %s\n", l)
		}
	}
	golden := filepath.Join("testdata", "chaos-plans.golden")
	if *updateChaos {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("plans under seed %d changed (rerun with -update-chaos if intended):\n%s", ciSeed, b.String())
	}
}
