package run

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alpha-orion/runbook/engine/journal"
)

// TestFinallyAlwaysRuns covers the steps of on_failure and finally that
// need a person when nobody can answer: a manual step delivers its
// instructions and is recorded as notified; an approval waits (the run
// pauses, resumable) while the other steps, finally's included, run.
func TestFinallyAlwaysRuns(t *testing.T) {
	const fail = "  - {id: boom, uses: test.fail, with: {kind: PERMANENT, message: broken}}\n"
	const ok = "  - {id: fine, uses: log, with: {message: fine}}\n"
	tests := []struct {
		name      string
		main      string
		onFailure string
		finally   string
		status    string
		ran       []string // steps that must have succeeded
		waiting   string   // the step the run waits on
	}{
		{
			name: "manual in on_failure is notified, finally runs", main: fail,
			onFailure: "  - {id: page, uses: manual, with: {instructions: PAGE THE ON-CALL}}\n",
			finally:   "  - {id: cleanup, uses: log, with: {message: cleaned}}\n",
			status:    journal.StatusFailed, ran: []string{"page", "cleanup"},
		},
		{
			name: "manual in finally is notified", main: ok,
			finally: "  - {id: tell, uses: manual, with: {instructions: TELL THE USERS}}\n",
			status:  journal.StatusSucceeded, ran: []string{"fine", "tell"},
		},
		{
			name: "approval in on_failure waits, finally runs", main: fail,
			onFailure: "  - {id: gate, uses: approval, with: {message: \"ROLL BACK?\"}}\n  - {id: page, needs: [], uses: manual, with: {instructions: PAGE}}\n",
			finally:   "  - {id: cleanup, uses: log, with: {message: cleaned}}\n",
			status:    journal.StatusPaused, ran: []string{"page", "cleanup"}, waiting: "gate",
		},
		{
			name: "approval in finally waits, its siblings run", main: ok,
			finally: "  - {id: gate, uses: approval, with: {message: \"DELETE THE OLD BRANCH?\"}}\n  - {id: cleanup, needs: [], uses: log, with: {message: cleaned}}\n",
			status:  journal.StatusPaused, ran: []string{"fine", "cleanup"}, waiting: "gate",
		},
		{
			name: "approval in the main list pauses before finally", main: "  - {id: gate, uses: approval, with: {message: \"GO?\"}}\n",
			finally: "  - {id: cleanup, uses: log, with: {message: cleaned}}\n",
			status:  journal.StatusPaused, waiting: "gate",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := "steps:\n" + tt.main
			if tt.onFailure != "" {
				body += "on_failure:\n" + tt.onFailure
			}
			if tt.finally != "" {
				body += "finally:\n" + tt.finally
			}
			f := newFixture(t, "fin", body)
			res := f.run(nil, &approver{})
			want(t, res, tt.status)
			for _, id := range tt.ran {
				if st := res.Steps[id]; st == nil || st.Status != journal.StatusSucceeded {
					t.Errorf("step %s: %+v, want succeeded", id, st)
				}
			}
			if tt.waiting != "" && (res.Pause == nil || res.Pause.Step != tt.waiting) {
				t.Errorf("pause = %+v, want step %s", res.Pause, tt.waiting)
			}
			if tt.waiting == "" {
				return
			}
			// Resumed with the approval, the waiting step runs; nothing runs twice.
			res2, _, err := Resume(context.Background(), f.options(&approver{yes: true}), res.RunID)
			if err != nil {
				t.Fatal(err)
			}
			if st := res2.Steps[tt.waiting]; st.Status != journal.StatusSucceeded {
				t.Errorf("after resume, %s: %+v", tt.waiting, st)
			}
			for _, id := range tt.ran {
				if n := res2.Steps[id].Attempts; n != 1 {
					t.Errorf("after resume, %s ran %d times", id, n)
				}
			}
		})
	}
	// The notified manual step's instructions are in the journal in full.
	f := newFixture(t, "fin", "steps:\n"+fail+"on_failure:\n  - {id: page, uses: manual, with: {instructions: \"PAGE THE ON-CALL\\nthen write it down\"}}\n")
	f.run(nil, &approver{})
	var found bool
	for _, e := range f.events {
		if e.Type == journal.StepLog && e.Step == "page" && strings.Contains(e.Message, "PAGE THE ON-CALL\nthen write it down") {
			found = true
		}
	}
	if !found {
		t.Error("the manual step's instructions were not delivered in full")
	}
}

// TestDrillRunsAreMarkedAndLockedApart: a drill's journal says it is one,
// its id carries -drill, and it does not hold the runbook's own lock, so a
// real run can start while a drill of the same runbook runs.
func TestDrillRunsAreMarkedAndLockedApart(t *testing.T) {
	f := newFixture(t, "rehearsed", "steps:\n  - {id: gate, uses: approval, with: {message: \"go?\"}}\n")
	o := f.options(&approver{})
	o.Drill = true
	drill, err := Start(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(drill.RunID, "-rehearsed-drill-") {
		t.Errorf("drill run id %q", drill.RunID)
	}
	// The drill holds its lock while it runs; a real run takes the runbook's.
	lock, err := journal.Acquire(o.StateDir, journal.Holder{Run: "drill-like", User: "t", Runbook: "rehearsed-drill"})
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Release()
	real := f.options(&approver{})
	res, err := Start(context.Background(), real)
	if err != nil {
		t.Fatalf("a real run was kept out by a drill's lock: %v", err)
	}
	events, err := journal.Read(o.StateDir, drill.RunID)
	if err != nil || len(events) == 0 || !events[0].Drill {
		t.Errorf("the drill's run_started is not marked: %v %+v", err, events)
	}
	events, _ = journal.Read(o.StateDir, res.RunID)
	if len(events) == 0 || events[0].Drill {
		t.Errorf("a real run is marked as a drill")
	}
}

// TestUnknownOutcomeIsReconciledNotRetried: a plugin that dies after its
// side effect, on a step with retries. When the plugin can tell, the step
// takes the recorded effect's outputs and is not run again; when it
// cannot, the run pauses for a person instead of retrying, and runs the
// step again only once approved.
func TestUnknownOutcomeIsReconciledNotRetried(t *testing.T) {
	tests := []struct {
		name      string
		unknown   bool
		status    string
		records   int
		reconcile string
	}{
		{"the plugin can tell: applied", false, journal.StatusSucceeded, 1, "applied"},
		{"the plugin cannot tell: ask", true, journal.StatusPaused, 1, "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, "unknown", fmt.Sprintf(`
steps:
  - id: write
    uses: test.record
    confirm: write?
    retry: {attempts: 3, delay: 1ms}
    with: {value: 1, crash_after: true, reconcile_unknown: %t}
`, tt.unknown))
			res := f.run(nil, &approveOnce{})
			want(t, res, tt.status)
			if n := countRecords(t, f); n != tt.records {
				t.Fatalf("the side effect happened %d times, want %d", n, tt.records)
			}
			var states []string
			for _, e := range f.events {
				if e.Type == journal.StepReconciled {
					states = append(states, e.State)
				}
				if e.Type == journal.StepRetrying {
					t.Errorf("retried blindly after an attempt with no answer: %+v", e)
				}
			}
			if len(states) != 1 || states[0] != tt.reconcile {
				t.Errorf("reconciled %v, want [%s]", states, tt.reconcile)
			}
			if !tt.unknown {
				return
			}
			if res.Pause == nil || res.Pause.Kind != "rerun" || !strings.Contains(res.Pause.Message, "--approve write") {
				t.Fatalf("pause = %+v", res.Pause)
			}
			// The earlier confirm does not cover running it again; a person's
			// approval of the rerun does.
			res2, _, err := Resume(context.Background(), f.options(&approveOnce{}), res.RunID)
			if err != nil {
				t.Fatal(err)
			}
			want(t, res2, journal.StatusPaused)
			res3, _, err := Resume(context.Background(), f.options(&approver{yes: true}), res.RunID)
			if err != nil {
				t.Fatal(err)
			}
			want(t, res3, journal.StatusSucceeded)
			if n := countRecords(t, f); n != 2 {
				t.Errorf("after the person approved the rerun: %d records, want 2", n)
			}
		})
	}
}

// approveOnce approves every kind of approval but a rerun, as --yes does.
type approveOnce struct{}

func (approveOnce) Approve(_ context.Context, req ApprovalRequest) (string, error) {
	if req.Kind == "rerun" {
		return "", ErrNeedsApproval
	}
	return "yes-flag", nil
}

func countRecords(t *testing.T, f *fixture) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(f.dir, "record.jsonl"))
	if err != nil {
		return 0
	}
	return strings.Count(string(b), "\n")
}

// TestStatusOfAStepThatNeverRan reads "not run", not empty text.
func TestStatusOfAStepThatNeverRan(t *testing.T) {
	f := newFixture(t, "notrun", `
concurrency: 1
steps:
  - {id: boom, uses: test.fail, with: {kind: PERMANENT, message: broken}}
  - {id: other, needs: [], uses: log, with: {message: never}}
on_failure:
  - {id: tell, uses: log, with: {message: "boom: ${{ steps.boom.status }}, other: ${{ steps.other.status }}"}}
`)
	res := f.run(nil, nil)
	want(t, res, journal.StatusFailed)
	if got := res.Steps["tell"].Outputs["message"]; got != "boom: failed, other: not run" {
		t.Errorf("message = %q", got)
	}
}
