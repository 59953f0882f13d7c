package cli

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/engine/journal"
	"github.com/alpha-orion/runbook/engine/load"
	"github.com/alpha-orion/runbook/engine/run"
	"github.com/alpha-orion/runbook/internal/chaos"
	"github.com/alpha-orion/runbook/internal/sandbox"
)

// A game-day drill (--chaos SEED) injects provider faults while the
// runbook runs (internal/chaos plans them, the sandbox's stand-ins apply
// them). A runbook may then reach its end state, or fail safely: the run
// failed, the undo of every step that had changed the world ran, a person
// was paged (an on_failure manual step was issued), and the scenario's
// checks of a safe failure hold. Anything else is unsafe.

// Kinds of a chaos verdict, as drill_report's outputs.chaos.verdict names them.
const (
	verdictEndState     = "end_state"
	verdictFailedSafely = "failed_safely"
	verdictUnsafe       = "unsafe"
)

// chaosVerdict is how a chaos drill ended.
type chaosVerdict struct {
	kind   string // verdictEndState, verdictFailedSafely or verdictUnsafe
	detail string // why, for failed_safely and unsafe
}

// pass reports whether the drill passes.
func (v chaosVerdict) pass() bool { return v.kind != verdictUnsafe }

// String is the verdict as the report prints it.
func (v chaosVerdict) String() string {
	switch v.kind {
	case verdictEndState:
		return "PASS (end state)"
	case verdictFailedSafely:
		return "PASS (failed safely: " + v.detail + ")"
	}
	return "FAIL (unsafe: " + v.detail + ")"
}

// parseSeed reads --chaos's value.
func parseSeed(v string) (uint64, error) {
	n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("--chaos takes a seed, a whole number from 0 to %d, not %q", uint64(1<<64-1), v)
	}
	return n, nil
}

// chaosPlan plans the faults of rb's drill under seed, for the actions its
// steps and their undo steps use.
func chaosPlan(seed uint64, rb *load.Runbook) *chaos.Plan {
	var actions []string
	for _, s := range rb.AllSteps() {
		actions = append(actions, s.Uses.Value)
		if s.Undo != nil {
			actions = append(actions, s.Undo.Uses.Value)
		}
	}
	p := chaos.New(seed, rb.Metadata.Name.Value, actions)
	return &p
}

// judgeChaos classifies a chaos drill from its run and the sandbox's
// checks: the end-state checks when the run succeeded, the run's undo, page
// and the checks of a safe failure when it failed.
func judgeChaos(rb *load.Runbook, res *run.Result, checks []sandbox.Check) chaosVerdict {
	end, safe := splitChecks(checks)
	switch res.Status {
	case journal.StatusSucceeded:
		if failed := failedNames(end); len(failed) > 0 || len(end) == 0 {
			return chaosVerdict{verdictUnsafe, "the run succeeded but the end state is wrong: " + orNone(failed, "no end-state checks ran")}
		}
		return chaosVerdict{kind: verdictEndState}
	case journal.StatusPaused:
		// A run that stops to ask a person (a step that may have taken
		// effect, an approval) has paged them; it can be resumed.
		if failed := failedNames(safe); len(failed) > 0 {
			return chaosVerdict{verdictUnsafe, "paused with " + strings.Join(failed, ", ")}
		}
		step := ""
		if res.Pause != nil {
			step = fmt.Sprintf(" at %s (%s)", res.Pause.Step, res.Pause.Kind)
		}
		return chaosVerdict{verdictFailedSafely, "paused for a person" + step}
	case journal.StatusFailed:
	default:
		return chaosVerdict{verdictUnsafe, "the run ended " + res.Status}
	}
	var why []string
	if notUndone := notUndone(rb, res); len(notUndone) > 0 {
		why = append(why, "not undone: "+strings.Join(notUndone, ", "))
	}
	paged, unpaged := pages(rb, res)
	if len(paged) == 0 {
		why = append(why, "nobody was paged (no on_failure manual step ran)")
	}
	if len(unpaged) > 0 {
		why = append(why, "page not issued: "+strings.Join(unpaged, ", "))
	}
	why = append(why, failedNames(safe)...)
	if len(why) > 0 {
		return chaosVerdict{verdictUnsafe, "the run failed; " + strings.Join(why, "; ")}
	}
	detail := "step " + strings.Join(failedSteps(res), ", ") + " failed"
	if undone := undone(res); len(undone) > 0 {
		detail += "; undone: " + strings.Join(undone, ", ")
	}
	detail += "; paged: " + strings.Join(paged, ", ")
	return chaosVerdict{verdictFailedSafely, detail}
}

// splitChecks separates the end-state checks from those of a safe failure.
func splitChecks(checks []sandbox.Check) (end, safe []sandbox.Check) {
	for _, c := range checks {
		if c.Safe {
			safe = append(safe, c)
		} else {
			end = append(end, c)
		}
	}
	return end, safe
}

func failedNames(checks []sandbox.Check) []string {
	var out []string
	for _, c := range checks {
		if !c.OK {
			out = append(out, c.Name)
		}
	}
	return out
}

func orNone(list []string, none string) string {
	if len(list) == 0 {
		return none
	}
	return strings.Join(list, ", ")
}

// notUndone lists the main steps that succeeded and have an undo that did
// not run to success.
func notUndone(rb *load.Runbook, res *run.Result) []string {
	var out []string
	for _, s := range rb.Steps {
		st, ok := res.Steps[s.ID.Value]
		if ok && s.Undo != nil && st.Status == journal.StatusSucceeded && !st.Undone {
			out = append(out, s.ID.Value)
		}
	}
	return out
}

// undone lists the steps whose undo ran.
func undone(res *run.Result) []string {
	var out []string
	for id, st := range res.Steps {
		if st.Undone {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// pages lists the on_failure manual steps that were issued, and those
// that were not (a step its guard skipped is neither: the failure did not
// call for it).
func pages(rb *load.Runbook, res *run.Result) (issued, not []string) {
	for _, s := range rb.OnFailure {
		if s.Uses.Value != catalog.BuiltinManual {
			continue
		}
		st, ok := res.Steps[s.ID.Value]
		switch {
		case ok && st.Status == journal.StatusSucceeded:
			issued = append(issued, s.ID.Value)
		case ok && st.Status == journal.StatusSkipped && s.When != nil:
			// Its guard said this failure needs no such page (e.g. a
			// warning about an apply that never succeeded).
		default:
			not = append(not, s.ID.Value)
		}
	}
	return issued, not
}

// countHits counts the faults the sandbox reports as having hit the run.
func countHits(lines []string) int {
	n := 0
	for _, l := range lines {
		if strings.HasPrefix(l, "hit ") {
			n++
		}
	}
	return n
}
