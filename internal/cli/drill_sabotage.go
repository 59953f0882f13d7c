package cli

import (
	"context"
	"fmt"
	"io"
	"maps"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/engine/load"
	"github.com/alpha-orion/runbook/engine/run"
	"github.com/alpha-orion/runbook/plugins/sdk"
)

// A drill's sabotage turns one world-changing step into a no-op that
// reports success with the outputs its plan predicts. The drill must then
// fail: if it passes, its checks (or the runbook's own) do not observe what
// the step does, and a runbook whose step silently did nothing would pass
// its drill too.
//
// A step changes the world when it calls a plugin action that its catalogue
// entry does not declare read-only (catalog.Action.ReadOnly): built-in
// actions (assert, approval, manual, log, wait) run in the engine and change
// nothing a drill can observe, and read-only actions (checks, queries,
// terraform plan and output) only observe. Every other action is
// world-changing by default, so a new action is sabotaged until its author
// declares it read-only.

// worldChanging lists the steps of rb, in order, that change the world.
func worldChanging(rb *load.Runbook, cat *catalog.Catalog) []string {
	var out []string
	for _, s := range rb.AllSteps() {
		if catalog.IsBuiltin(s.Uses.Value) {
			continue
		}
		if a, ok := cat.Action(s.Uses.Value); ok && !a.ReadOnly {
			out = append(out, s.ID.Value)
		}
	}
	return out
}

// sabotager wraps a dispatcher: the step it names is planned, never executed.
type sabotager struct {
	run.Dispatcher
	step string

	mu  sync.Mutex
	hit int
}

// Execute answers the sabotaged step with its plan's predicted outputs.
func (s *sabotager) Execute(ctx context.Context, plugin string, req sdk.Request, onLog func(sdk.LogLine)) (map[string]any, error) {
	if req.StepID != s.step {
		return s.Dispatcher.Execute(ctx, plugin, req, onLog)
	}
	s.mu.Lock()
	s.hit++
	s.mu.Unlock()
	pl, err := s.Dispatcher.Plan(ctx, plugin, req)
	if err != nil {
		return nil, err
	}
	if onLog != nil {
		onLog(sdk.LogLine{Level: sdk.LevelWarn, Message: "SABOTAGED by the drill: nothing was done; outputs are the plan's prediction"})
	}
	out := map[string]any{}
	maps.Copy(out, pl.Outputs)
	return out, nil
}

// ran reports whether the sabotaged step was called at all.
func (s *sabotager) ran() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hit > 0
}

// drillOutcome is what one drill found, for the sabotage matrix.
type drillOutcome struct {
	code int
	// failedSteps are the run's steps that failed; failedChecks the end-state checks that did.
	failedSteps, failedChecks []string
	// sabotageRan is false when the sabotaged step never ran (a `when` skipped it).
	sabotageRan bool
	// chaos is a game-day drill's verdict, nil for other drills.
	chaos *chaosVerdict
}

// caughtBy names what failed the drill.
func (o drillOutcome) caughtBy() string {
	var parts []string
	if len(o.failedSteps) > 0 {
		parts = append(parts, "step "+strings.Join(o.failedSteps, ", "))
	}
	if len(o.failedChecks) > 0 {
		parts = append(parts, "check "+strings.Join(o.failedChecks, "; "))
	}
	if len(parts) == 0 && o.code != ExitOK {
		return fmt.Sprintf("exit %d", o.code)
	}
	return strings.Join(parts, " + ")
}

// failedSteps lists a result's failed steps, sorted.
func failedSteps(res *run.Result) []string {
	var out []string
	for id, st := range res.Steps {
		if st.Status == "failed" {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// matrixRow is one sabotaged drill.
type matrixRow struct {
	runbook, step string
	out           drillOutcome
}

// hole reports a sabotage the drill did not catch.
func (r matrixRow) hole() bool { return r.out.code == ExitOK || !r.out.sabotageRan }

// verdict is the matrix's "caught" column.
func (r matrixRow) verdict() string {
	switch {
	case !r.out.sabotageRan:
		return "HOLE: the step never ran in the drill"
	case r.out.code == ExitOK:
		return "HOLE: the drill passed"
	}
	return "caught"
}

// printMatrix writes the sabotage matrix and returns how many holes it has.
func printMatrix(w io.Writer, rows []matrixRow) int {
	fmt.Fprintln(w, "\nSabotage matrix (each world-changing step made a no-op; the drill must fail):")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  RUNBOOK\tSTEP\tRESULT\tCAUGHT BY")
	holes := 0
	per := map[string][2]int{}
	var order []string
	for _, r := range rows {
		c := per[r.runbook]
		if _, seen := per[r.runbook]; !seen {
			order = append(order, r.runbook)
		}
		c[1]++
		if r.hole() {
			holes++
		} else {
			c[0]++
		}
		per[r.runbook] = c
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", r.runbook, r.step, r.verdict(), r.out.caughtBy())
	}
	tw.Flush()
	for _, rb := range order {
		fmt.Fprintf(w, "  %s: %d/%d world-changing steps caught\n", rb, per[rb][0], per[rb][1])
	}
	fmt.Fprintf(w, "sabotage: %d caught, %d holes\n", len(rows)-holes, holes)
	return holes
}
