package run

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/engine/eval"
	"github.com/alpha-orion/runbook/engine/journal"
	"github.com/alpha-orion/runbook/engine/load"
	"github.com/alpha-orion/runbook/plugins/sdk"
)

// Planned is what a dry run says about one step.
type Planned struct {
	ID     string `json:"id"`
	Phase  string `json:"phase"`
	Action string `json:"action"`
	// Decision is "run", "skip", "fail" (the step is predicted to fail:
	// an assertion that would not hold, inputs a plugin refuses) or
	// "unknown" (it depends on what only the run can tell).
	Decision string `json:"decision"`
	Reason   string `json:"reason,omitempty"`
	// DependsOn lists what the step's guard or inputs read that only the
	// run can tell: "restore.new_endpoint", "plan.status".
	DependsOn []string       `json:"depends_on,omitempty"`
	Summary   string         `json:"summary,omitempty"`
	Confirm   string         `json:"confirm,omitempty"`
	Inputs    map[string]any `json:"inputs,omitempty"`
	Outputs   map[string]any `json:"outputs,omitempty"`
}

// Predicted decisions of a Planned step.
const (
	PlanRun     = "run"
	PlanSkip    = "skip"
	PlanFail    = "fail"
	PlanUnknown = "unknown"
)

// PlannedRunID is what run.id reads in a dry run: no run exists yet.
const PlannedRunID = "<run id>"

// DryRun walks the runbook without changing anything: plugins answer their
// plan calls, approvals are assumed granted, and planned outputs feed later
// guards, so the plan shows which steps would run and what each would do.
// It invents nothing: a guard or input that reads a status, or an output no
// plan call promised, makes the step "unknown", naming what it depends on.
func DryRun(ctx context.Context, o Options) ([]Planned, error) {
	r, err := newRunner(o)
	if err != nil {
		return nil, err
	}
	r.started = r.o.Now()
	r.runID = PlannedRunID
	r.initBase()
	d := &dryRun{r: r, known: map[string]map[string]bool{}}
	var out []Planned
	for _, l := range r.graph.Lists() {
		for _, i := range l.Order {
			s := l.Steps[i]
			p := d.planStep(ctx, s)
			p.Phase = l.Phase.String()
			out = append(out, p)
		}
	}
	return out, nil
}

// dryRun is one DryRun's knowledge: the outputs each planned step's plan
// call promised. A step's status is never known before the run.
type dryRun struct {
	r     *runner
	known map[string]map[string]bool // step id -> output keys its plan call gave
}

// unknowns lists what the expressions of v read that only the run can
// tell, as "step.output" or "step.status".
func (d *dryRun) unknowns(v *load.Value) []string {
	var out []string
	seen := map[string]bool{}
	v.Walk(func(x *load.Value) {
		if x.Template == nil {
			return
		}
		for _, part := range x.Template.Parts {
			if part.Expr != nil {
				for _, u := range d.unknownIn(part.Expr.Source) {
					if !seen[u] {
						seen[u] = true
						out = append(out, u)
					}
				}
			}
		}
	})
	return out
}

func (d *dryRun) unknownIn(src string) []string {
	refs, err := eval.Refs(src, func(id string) bool { _, ok := d.r.graph.Step(id); return ok })
	if err != nil {
		return nil // the run reports a bad expression as it always does
	}
	// The parser reports each step of a chain (steps.a, steps.a.outputs,
	// steps.a.outputs.b): keep the deepest.
	deeper := func(r eval.Ref) bool {
		for _, o := range refs {
			if o.Root == "steps" && o.Name == r.Name && (r.Field == "" && o.Field != "" || r.Field == "outputs" && r.Key == "" && o.Key != "") {
				return true
			}
		}
		return false
	}
	var out []string
	for _, ref := range refs {
		if ref.Root != "steps" || deeper(ref) {
			continue
		}
		switch {
		case ref.Field == "":
			out = append(out, ref.Name)
		case ref.Field == "status":
			out = append(out, ref.Name+".status")
		case ref.Field == "outputs" && ref.Key == "":
			out = append(out, ref.Name+".outputs")
		case ref.Field == "outputs" && !d.known[ref.Name][ref.Key]:
			out = append(out, ref.Name+"."+ref.Key)
		}
	}
	return out
}

func (d *dryRun) planStep(ctx context.Context, s *load.Step) Planned {
	r := d.r
	id := s.ID.Value
	p := Planned{ID: id, Action: s.Uses.Value, Decision: PlanRun}
	if s.When != nil {
		if deps := d.unknownIn(s.When.Source); len(deps) > 0 {
			p.Decision, p.DependsOn = PlanUnknown, deps
			p.Reason = "runs only if " + s.When.Source + "; depends on " + strings.Join(deps, ", ") + " (known at run time)"
		} else {
			ok, err := r.truth(s.When.Source, nil)
			switch {
			case err != nil:
				p.Decision, p.Reason = PlanFail, "guard cannot be evaluated: "+r.o.Redactor.String(err.Error())
				return p
			case !ok:
				p.Decision, p.Reason = PlanSkip, "guard is false: "+s.When.Source
				r.setState(id, journal.StatusSkipped, nil)
				return p
			}
		}
	}
	var deps []string
	for _, kv := range s.With {
		deps = append(deps, d.unknowns(kv.Value)...)
	}
	if len(deps) > 0 {
		// The plugin cannot plan with inputs nobody knows yet: say so
		// rather than plan with made-up ones.
		p.DependsOn = append(p.DependsOn, deps...)
		p.Summary = "inputs depend on " + strings.Join(deps, ", ") + " (known at run time)"
		if p.Decision == PlanRun {
			p.Decision = PlanUnknown
		}
		d.known[id] = nil
		return p
	}
	inputs, err := r.inputs(s)
	if err != nil {
		p.Decision, p.Reason = PlanFail, r.o.Redactor.String(err.Error())
		return p
	}
	p.Inputs, _ = r.o.Redactor.Value(inputs).(map[string]any)
	if s.Confirm != nil && len(d.unknowns(s.Confirm)) > 0 {
		p.Confirm = r.o.Redactor.String(confirmSource(s.Confirm))
	} else if kind, msg, err := r.gate(s, inputs); err == nil && kind != "" {
		p.Confirm = r.o.Redactor.String(msg)
	}
	var outputs map[string]any
	switch {
	case catalog.IsBuiltin(s.Uses.Value):
		var fails bool
		outputs, p.Summary, fails = r.planBuiltin(s, inputs)
		if fails {
			p.Decision = PlanFail
		}
	case r.o.Dispatcher != nil:
		plugin, action, _ := strings.Cut(s.Uses.Value, ".")
		pl, err := r.o.Dispatcher.Plan(ctx, plugin, sdk.Request{RunID: r.runID, StepID: id, Action: action, Inputs: inputs, Attempt: 1})
		if err != nil {
			p.Decision, p.Reason = PlanFail, r.o.Redactor.String(err.Error())
		}
		p.Summary, outputs = r.o.Redactor.String(pl.Summary), pl.Outputs
	}
	if outputs != nil {
		if typed, err := r.typeOutputs(s, outputs); err == nil {
			outputs = typed
		}
	}
	known := map[string]bool{}
	for k := range outputs {
		known[k] = true
	}
	d.known[id] = known
	p.Outputs, _ = r.o.Redactor.Value(outputs).(map[string]any)
	r.setState(id, journal.StatusSucceeded, outputs)
	return p
}

// confirmSource writes a confirm: text as written, its ${{ }} unrendered.
func confirmSource(v *load.Value) string {
	if v.Template != nil {
		return v.Template.Raw
	}
	return fmt.Sprint(v.Scalar)
}

// planBuiltin says what a built-in action would do, and whether it would
// fail (an assertion that does not hold).
func (r *runner) planBuiltin(s *load.Step, inputs map[string]any) (map[string]any, string, bool) {
	switch s.Uses.Value {
	case catalog.BuiltinLog:
		return map[string]any{"message": fmt.Sprint(inputs["message"])}, "log: " + r.o.Redactor.String(fmt.Sprint(inputs["message"])), false
	case catalog.BuiltinWait:
		d, _ := inputs["duration"].(time.Duration)
		return map[string]any{}, "wait " + d.String(), false
	case catalog.BuiltinAssert:
		if ok, _ := inputs["that"].(bool); !ok {
			return map[string]any{}, "assertion would FAIL: " + fmt.Sprint(inputs["message"]), true
		}
		return map[string]any{}, "assertion holds", false
	case catalog.BuiltinManual:
		// Who confirms, and when, only the run can tell.
		return map[string]any{}, "a person does: " + fmt.Sprint(inputs["instructions"]), false
	case catalog.BuiltinApproval:
		return map[string]any{}, "approval gate: " + fmt.Sprint(inputs["message"]), false
	}
	return nil, "", false
}
