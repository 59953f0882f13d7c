package run

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/engine/journal"
	"github.com/alpha-orion/runbook/engine/lint"
	"github.com/alpha-orion/runbook/engine/load"
	"github.com/alpha-orion/runbook/engine/redact"
	"github.com/alpha-orion/runbook/plugins/host"
	"github.com/alpha-orion/runbook/plugins/sdk"
	"github.com/alpha-orion/runbook/plugins/testplugin"
	"github.com/hashicorp/go-plugin"
)

// The test binary serves the test plugin when the host re-executes it.
func TestMain(m *testing.M) {
	if served, err := host.ServeIfPlugin(os.Args[1:], map[string]func() sdk.Plugin{"test": testplugin.New}); served {
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	code := m.Run()
	plugin.CleanupClients()
	os.Exit(code)
}

var testCatalog = catalog.MustNew(testplugin.Spec)

// fixture is one runbook ready to run against the real test plugin.
type fixture struct {
	t       *testing.T
	rb      *load.Runbook
	dir     string
	mgr     *host.Manager
	events  []journal.Event
	mu      sync.Mutex
	secrets map[string]string
}

const header = "apiVersion: runbook/v1\nkind: Runbook\nmetadata: {name: %s}\n"

func newFixture(t *testing.T, name, body string) *fixture {
	t.Helper()
	dir := t.TempDir()
	src := fmt.Sprintf(header, name) + strings.ReplaceAll(body, "RECORD_FILE", filepath.Join(dir, "record.jsonl"))
	rb, diags := lint.Bytes(name+".yaml", []byte(src), testCatalog)
	if e, _ := diags.Count(); e > 0 {
		t.Fatalf("runbook has errors:\n%s", diags.Err())
	}
	f := &fixture{t: t, rb: rb, dir: dir}
	return f
}

func (f *fixture) options(approver Approver) Options {
	cfg := map[string]any{"record_file": filepath.Join(f.dir, "record.jsonl")}
	if f.secrets != nil {
		cfg["token"] = f.secrets["TOKEN"]
	}
	f.mgr = host.New(host.Options{Builtins: []string{"test"}, Config: map[string]map[string]any{"test": cfg}, Catalog: testCatalog})
	f.t.Cleanup(func() { f.mgr.Close() })
	return Options{
		Runbook: f.rb, Catalog: testCatalog, Dispatcher: f.mgr, Approver: approver, StateDir: filepath.Join(f.dir, ".runbook"),
		User: "tester", Secrets: f.secrets, Redactor: redact.New(),
		Observe: func(e journal.Event) { f.mu.Lock(); f.events = append(f.events, e); f.mu.Unlock() },
		Sleep:   func(ctx context.Context, d time.Duration) error { return sleep(ctx, min(d, 20*time.Millisecond)) },
	}
}

func (f *fixture) run(params map[string]string, approver Approver) *Result {
	f.t.Helper()
	o := f.options(approver)
	p, err := Params(f.rb, nil, params)
	if err != nil {
		f.t.Fatal(err)
	}
	o.Params = p
	res, err := Start(context.Background(), o)
	if err != nil {
		f.t.Fatal(err)
	}
	return res
}

func (f *fixture) types() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, e := range f.events {
		if e.Type == journal.StepLog || e.Type == journal.StepStarted || e.Type == journal.StepRetrying {
			continue
		}
		s := string(e.Type)
		if e.Step != "" {
			s += ":" + e.Step
		}
		out = append(out, s)
	}
	return out
}

func want(t *testing.T, res *Result, status string) {
	t.Helper()
	if res.Status != status {
		var b strings.Builder
		for id, st := range res.Steps {
			fmt.Fprintf(&b, "  %s: %s %s\n", id, st.Status, st.Err)
		}
		t.Fatalf("status = %s (%v), want %s\n%s", res.Status, res.Err, status, b.String())
	}
}

func TestChainPassesTypedOutputs(t *testing.T) {
	f := newFixture(t, "chain", `
params:
  n: {type: int, default: 41}
  at: {type: timestamp, required: true}
steps:
  - id: first
    uses: test.echo
    with: {n: "${{ params.n + 1 }}", at: "${{ params.at }}", text: "hello ${{ params.n }}"}
  - id: second
    uses: test.echo
    with: {n: "${{ steps.first.outputs.n * 2 }}", text: "${{ steps.first.outputs.text }}!", flag: "${{ steps.first.outputs.at < now() }}"}
    check: outputs.n == 84 && outputs.flag
  - id: done
    uses: log
    with: {message: "n=${{ steps.second.outputs.n }}"}
`)
	res := f.run(map[string]string{"at": "2024-05-20T10:00:00Z"}, nil)
	want(t, res, journal.StatusSucceeded)
	if got := res.Steps["second"].Outputs["n"]; got != 84 {
		t.Errorf("second.n = %#v, want int 84", got)
	}
	if got := res.Steps["second"].Outputs["text"]; got != "hello 41!" {
		t.Errorf("second.text = %#v", got)
	}
	if got := res.Steps["done"].Outputs["message"]; got != "n=84" {
		t.Errorf("message = %#v", got)
	}
	if got, want := strings.Join(res.Order, ","), "first,second,done"; got != want {
		t.Errorf("order = %s, want %s", got, want)
	}
}

func TestConcurrencyBoundsParallelSteps(t *testing.T) {
	for _, limit := range []int{1, 3} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			var b strings.Builder
			fmt.Fprintf(&b, "concurrency: %d\nsteps:\n", limit)
			for i := 0; i < 6; i++ {
				fmt.Fprintf(&b, "  - {id: s%d, uses: test.sleep, with: {duration: 150ms}, needs: []}\n", i)
			}
			b.WriteString("  - {id: join, uses: log, with: {message: done}, needs: [s0, s1, s2, s3, s4, s5]}\n")
			f := newFixture(t, "wide", b.String())
			res := f.run(nil, nil)
			want(t, res, journal.StatusSucceeded)
			running, peak := 0, 0
			for _, e := range f.events {
				switch e.Type {
				case journal.StepStarted:
					if e.Step != "join" {
						running++
					}
				case journal.StepSucceeded:
					if e.Step != "join" {
						running--
					}
				}
				peak = max(peak, running)
			}
			if peak > limit {
				t.Errorf("peak concurrency %d exceeds %d", peak, limit)
			}
			if limit > 1 && peak < 2 {
				t.Errorf("peak concurrency %d: independent steps did not run in parallel", peak)
			}
			if res.Order[len(res.Order)-1] != "join" {
				t.Errorf("join finished before its needs: %v", res.Order)
			}
		})
	}
}

func TestGuardsSkipAndSkippedCountsAsSatisfied(t *testing.T) {
	f := newFixture(t, "guards", `
params:
  go: {type: bool, default: false}
steps:
  - id: maybe
    uses: test.echo
    when: params.go
    with: {text: x}
  - id: after
    uses: log
    with: {message: "maybe was ${{ steps.maybe.status }}"}
  - id: never
    uses: log
    when: steps.maybe.outputs.text == "x"
    with: {message: no}
`)
	res := f.run(nil, nil)
	want(t, res, journal.StatusSucceeded)
	if res.Steps["maybe"].Status != journal.StatusSkipped || res.Steps["never"].Status != journal.StatusSkipped {
		t.Errorf("statuses: maybe=%s never=%s", res.Steps["maybe"].Status, res.Steps["never"].Status)
	}
	if got := res.Steps["after"].Outputs["message"]; got != "maybe was skipped" {
		t.Errorf("after = %v", got)
	}
}

func TestRetries(t *testing.T) {
	for _, tc := range []struct {
		name, with, retry string
		status            string
		attempts          int
	}{
		{"recovers", "{times: 2}", "{attempts: 3, delay: 1ms}", journal.StatusSucceeded, 3},
		{"exhausted", "{times: 5}", "{attempts: 2, delay: 1ms, backoff: exponential}", journal.StatusFailed, 2},
		{"not retryable", "{times: 5, kind: bad_input}", "{attempts: 4, delay: 1ms}", journal.StatusFailed, 1},
		{"no retry block", "{times: 1}", "", journal.StatusFailed, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			retry := ""
			if tc.retry != "" {
				retry = "\n    retry: " + tc.retry
			}
			f := newFixture(t, "retry", "steps:\n  - id: flaky\n    uses: test.fail\n    with: "+tc.with+retry+"\n")
			res := f.run(nil, nil)
			want(t, res, tc.status)
			if got := res.Steps["flaky"].Attempts; got != tc.attempts {
				t.Errorf("attempts = %d, want %d", got, tc.attempts)
			}
		})
	}
}

func TestUntilPollsAndCheckFails(t *testing.T) {
	f := newFixture(t, "poll", `
steps:
  - id: poll
    uses: test.fail
    with: {times: 0}
    retry: {attempts: 5, delay: 1ms, until: outputs.attempts >= 3}
  - id: checked
    uses: test.echo
    with: {n: 1}
    check: outputs.n == 2
    retry: {attempts: 2, delay: 1ms}
`)
	res := f.run(nil, nil)
	want(t, res, journal.StatusFailed)
	if st := res.Steps["poll"]; st.Status != journal.StatusSucceeded || st.Outputs["attempts"] != 3 {
		t.Errorf("poll: %s after %v calls", st.Status, st.Outputs["attempts"])
	}
	if st := res.Steps["checked"]; st.Status != journal.StatusFailed || st.Attempts != 2 || !strings.Contains(st.Err, "check failed") {
		t.Errorf("checked: %+v", st)
	}
}

func TestStepTimeoutAndContinueOnError(t *testing.T) {
	f := newFixture(t, "timeout", `
steps:
  - id: slow
    uses: test.sleep
    with: {duration: 10s}
    timeout: 100ms
    continue_on_error: true
  - id: after
    uses: log
    with: {message: "slow ${{ steps.slow.status }}"}
`)
	res := f.run(nil, nil)
	want(t, res, journal.StatusSucceeded)
	st := res.Steps["slow"]
	if st.Status != journal.StatusFailed || st.Kind != string(sdk.KindDeadlineExceeded) {
		t.Errorf("slow = %s/%s: %s", st.Status, st.Kind, st.Err)
	}
	if got := res.Steps["after"].Outputs["message"]; got != "slow failed" {
		t.Errorf("after = %v", got)
	}
}

func TestFailureRunsUndoInReverseThenOnFailureThenFinally(t *testing.T) {
	f := newFixture(t, "undo", `
steps:
  - id: one
    uses: test.echo
    with: {text: one}
    undo: {uses: log, with: {message: "undo ${{ steps.one.outputs.text }}"}}
  - id: two
    uses: test.echo
    with: {text: two}
    undo: {uses: test.echo, with: {text: undo-two}}
  - id: boom
    uses: test.fail
    with: {times: 9, kind: permanent}
  - id: unreached
    uses: log
    with: {message: never}
on_failure:
  - id: page
    uses: log
    with: {message: "paging: ${{ steps.boom.status }}"}
finally:
  - id: bye
    uses: log
    with: {message: bye}
`)
	res := f.run(nil, nil)
	want(t, res, journal.StatusFailed)
	got := strings.Join(f.types(), " ")
	wantSeq := "run_started step_succeeded:one step_succeeded:two step_failed:boom step_skipped:unreached undo_started:two undo_succeeded:two undo_started:one undo_succeeded:one phase_started step_succeeded:page phase_started step_succeeded:bye run_finished"
	if got != wantSeq {
		t.Errorf("events:\n got %s\nwant %s", got, wantSeq)
	}
	if !strings.Contains(res.Err.Error(), "step boom failed") {
		t.Errorf("error = %v", res.Err)
	}
}

// approver approves what it is told to, and records what it was asked.
type approver struct {
	mu    sync.Mutex
	yes   bool
	asked []ApprovalRequest
}

func (a *approver) Approve(_ context.Context, req ApprovalRequest) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.asked = append(a.asked, req)
	if !a.yes {
		return "", ErrNeedsApproval
	}
	return "alice", nil
}

func TestConfirmPausesThenResumeWithApproval(t *testing.T) {
	f := newFixture(t, "confirm", `
params:
  target: {type: string, default: main}
steps:
  - id: prepare
    uses: test.echo
    with: {text: "${{ params.target }}"}
  - id: restore
    uses: test.record
    confirm: "Restore ${{ steps.prepare.outputs.text }}?"
    with: {value: "${{ steps.prepare.outputs.text }}"}
  - id: gate
    uses: approval
    with: {message: "Proceed?"}
  - id: who
    uses: log
    with: {message: "approved by ${{ steps.gate.outputs.approved_by }}"}
`)
	res := f.run(nil, &approver{})
	want(t, res, journal.StatusPaused)
	if res.Pause == nil || res.Pause.Step != "restore" || res.Pause.Message != "Restore main?" {
		t.Fatalf("pause = %+v", res.Pause)
	}
	if _, err := os.Stat(filepath.Join(f.dir, "record.jsonl")); err == nil {
		t.Fatal("the destructive step ran before it was approved")
	}
	a := &approver{yes: true}
	o := f.options(a)
	res2, _, err := Resume(context.Background(), o, res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	want(t, res2, journal.StatusSucceeded)
	if len(a.asked) != 2 || a.asked[0].Step != "restore" || a.asked[1].Step != "gate" {
		t.Errorf("asked: %+v", a.asked)
	}
	if got := res2.Steps["who"].Outputs["message"]; got != "approved by alice" {
		t.Errorf("who = %v", got)
	}
	if res2.Steps["prepare"].Attempts != 1 {
		t.Errorf("prepare ran again on resume: %d attempts", res2.Steps["prepare"].Attempts)
	}
	events, _ := journal.Read(o.StateDir, res.RunID)
	var grants int
	for _, e := range events {
		if e.Type == journal.ApprovalGranted {
			grants++
			if e.By != "alice" || e.Digest == "" {
				t.Errorf("approval event %+v", e)
			}
		}
	}
	if grants != 2 {
		t.Errorf("approvals journaled: %d", grants)
	}
}

func TestApprovalDigestBindsInputs(t *testing.T) {
	a := ApprovalDigest("restore", "confirm", "Restore?", map[string]any{"branch": "main"})
	b := ApprovalDigest("restore", "confirm", "Restore?", map[string]any{"branch": "dev"})
	c := ApprovalDigest("restore", "confirm", "Restore?", map[string]any{"branch": "main"})
	if a == b || a != c {
		t.Errorf("digests: %s %s %s", a, b, c)
	}
}

func TestCrashedPluginFailsAttemptAndRestarts(t *testing.T) {
	f := newFixture(t, "crash", `
steps:
  - id: crashy
    uses: test.crash
    with: {first_only: true}
    retry: {attempts: 2, delay: 1ms}
  - id: after
    uses: test.echo
    with: {n: 1}
`)
	res := f.run(nil, nil)
	want(t, res, journal.StatusSucceeded)
	if st := res.Steps["crashy"]; st.Attempts != 2 || st.Outputs["survived"] != true {
		t.Errorf("crashy: %+v", st)
	}
	var retried bool
	for _, e := range f.events {
		retried = retried || e.Type == journal.StepRetrying && e.Kind == string(sdk.KindCrashed)
	}
	if !retried {
		t.Error("no retry of kind crashed was journaled")
	}
}

func TestCancelStopsAndResumeFinishes(t *testing.T) {
	f := newFixture(t, "cancel", `
steps:
  - id: long
    uses: test.sleep
    with: {duration: 30s, marker: MARKER}
  - id: after
    uses: log
    with: {message: after}
`)
	marker := filepath.Join(f.dir, "cancelled")
	f.rb.Steps[0].With[1].Value.Scalar = marker
	o := f.options(nil)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for {
			f.mu.Lock()
			started := false
			for _, e := range f.events {
				started = started || e.Type == journal.StepLog && e.Step == "long"
			}
			f.mu.Unlock()
			if started {
				cancel()
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	res, err := Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	want(t, res, journal.StatusCancelled)
	// The plugin writes the marker when its context ends, a moment after the host returns.
	var statErr error
	for i := 0; i < 100; i++ {
		if _, statErr = os.Stat(marker); statErr == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if statErr != nil {
		t.Errorf("the plugin did not see the cancellation: %v", statErr)
	}
	f.rb.Steps[0].With[0].Value.Scalar = "1ms"
	res2, _, err := Resume(context.Background(), f.options(nil), res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	want(t, res2, journal.StatusSucceeded)
}

func TestSecondRunIsLockedOut(t *testing.T) {
	f := newFixture(t, "locked", "steps:\n  - {id: a, uses: log, with: {message: a}}\n")
	o := f.options(nil)
	lock, err := journal.Acquire(o.StateDir, journal.Holder{Run: "other-run", User: "bob", Runbook: "locked"})
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Release()
	_, err = Start(context.Background(), o)
	var le *journal.LockedError
	if !errors.As(err, &le) || le.Holder.User != "bob" || le.Holder.Run != "other-run" {
		t.Fatalf("err = %v, want a lock error naming bob", err)
	}
}

func TestSecretsNeverStored(t *testing.T) {
	const canary = "canary-5ecret-value-xyz"
	f := newFixture(t, "secrets", `
secrets: [TOKEN]
plugins:
  test: {token: "${{ secrets.TOKEN }}"}
steps:
  - id: leak
    uses: test.echo
    with: {secret: "${{ secrets.TOKEN }}", text: "token is ${{ secrets.TOKEN }}", leak: true, logs: 1}
  - id: fail
    uses: test.fail
    with: {times: 1, kind: permanent, message: "bad token ${{ secrets.TOKEN }}"}
`)
	f.secrets = map[string]string{"TOKEN": canary}
	res := f.run(nil, nil)
	want(t, res, journal.StatusFailed)
	filepath.Walk(f.dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return nil
		}
		data, _ := os.ReadFile(path)
		if strings.Contains(string(data), canary) {
			t.Errorf("%s holds the secret", path)
		}
		return nil
	})
	for _, e := range f.events {
		if s := fmt.Sprintf("%+v", e); strings.Contains(s, canary) {
			t.Errorf("event holds the secret: %s", s)
		}
	}
	if strings.Contains(res.Err.Error(), canary) || strings.Contains(res.Steps["fail"].Err, canary) {
		t.Errorf("error holds the secret: %v", res.Err)
	}
}

func TestSecretInputsAreMaskedWhateverTheirSource(t *testing.T) {
	const canary = "param-borne-5ecret-42"
	f := newFixture(t, "secret-input", `
params:
  token: {type: string, required: true}
steps:
  - id: use
    uses: test.echo
    with: {secret: "${{ params.token }}"}
  - id: say
    uses: log
    with: {message: "token ${{ params.token }}"}
`)
	res := f.run(map[string]string{"token": canary}, nil)
	want(t, res, journal.StatusSucceeded)
	data, err := os.ReadFile(journal.Path(filepath.Join(f.dir, ".runbook"), res.RunID))
	if err != nil {
		t.Fatal(err)
	}
	// The param itself is journaled with the run (lint warns: such a value
	// belongs under secrets); from the step that uses it on, it is masked.
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n")[1:] {
		if strings.Contains(line, canary) {
			t.Errorf("a step record holds a secret input's value: %s", line)
		}
	}
	if got := res.Steps["say"].Outputs["message"]; got != "token "+canary {
		t.Errorf("the step itself must still get the real value, got %v", got)
	}
}

func TestLeavesOfSecretMaps(t *testing.T) {
	got := leaves(nil, map[string]any{"hook": "https://hook.example/s3cret", "list": []any{"token-1", 42}, "nil": nil})
	want := map[string]bool{"https://hook.example/s3cret": true, "token-1": true, "42": true}
	if len(got) != len(want) {
		t.Fatalf("leaves = %v", got)
	}
	for _, g := range got {
		if !want[g] {
			t.Errorf("unexpected leaf %q", g)
		}
	}
}

func TestDryRunFeedsPlannedOutputsToGuards(t *testing.T) {
	f := newFixture(t, "dry", `
steps:
  - id: probe
    uses: test.echo
    with: {flag: false, text: probe}
  - id: restore
    uses: test.record
    when: steps.probe.outputs.flag
    confirm: really?
    with: {value: 1}
  - id: note
    uses: log
    with: {message: "probe said ${{ steps.probe.outputs.text }}"}
`)
	o := f.options(nil)
	plan, err := DryRun(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range plan {
		got[p.ID] = p.Decision
	}
	if got["probe"] != "run" || got["restore"] != "skip" || got["note"] != "run" {
		t.Errorf("plan decisions = %v", got)
	}
	if _, err := os.Stat(filepath.Join(f.dir, "record.jsonl")); err == nil {
		t.Error("the dry run had a side effect")
	}
}

// TestDryRunInventsNothing plans steps that read what only the run can
// tell: each is "unknown" and names what it depends on; an assertion that
// would not hold is "fail"; run.id is not made up.
func TestDryRunInventsNothing(t *testing.T) {
	f := newFixture(t, "honest", `
steps:
  - id: restore
    uses: test.record
    confirm: really?
    with: {value: 1}
  - id: repoint
    uses: test.echo
    when: steps.restore.outputs.key != ""
    with: {text: "x"}
  - id: after-status
    uses: log
    when: steps.restore.status == "succeeded"
    with: {message: "restored"}
  - id: uses-output
    uses: test.echo
    with: {text: "${{ steps.restore.outputs.line }}"}
  - id: names-run
    uses: log
    with: {message: "run ${{ run.id }}"}
  - id: check
    uses: assert
    with: {that: "${{ 1 > 2 }}", message: "one is not more than two"}
`)
	plan, err := DryRun(context.Background(), f.options(nil))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Planned{}
	for _, p := range plan {
		got[p.ID] = p
	}
	tests := []struct {
		id, decision string
		dependsOn    []string
		summaryHas   string
	}{
		{"restore", PlanRun, nil, "would append a record"},
		{"repoint", PlanUnknown, []string{"restore.key"}, ""},
		{"after-status", PlanUnknown, []string{"restore.status"}, ""},
		{"uses-output", PlanUnknown, []string{"restore.line"}, "known at run time"},
		{"names-run", PlanRun, nil, "run " + PlannedRunID},
		{"check", PlanFail, nil, "assertion would FAIL"},
	}
	for _, tt := range tests {
		p := got[tt.id]
		if p.Decision != tt.decision || !slices.Equal(p.DependsOn, tt.dependsOn) || !strings.Contains(p.Summary, tt.summaryHas) {
			t.Errorf("%s: decision %q depends on %v summary %q; want %q, %v, containing %q", tt.id, p.Decision, p.DependsOn, p.Summary, tt.decision, tt.dependsOn, tt.summaryHas)
		}
	}
}
