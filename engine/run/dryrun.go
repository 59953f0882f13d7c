package run

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/engine/journal"
	"github.com/alpha-orion/runbook/engine/load"
	"github.com/alpha-orion/runbook/plugins/sdk"
)

// Planned is what a dry run says about one step.
type Planned struct {
	ID     string
	Phase  string
	Action string
	// Decision is "run", "skip" or "unknown" (a guard could not be decided).
	Decision string
	Reason   string
	Summary  string
	Confirm  string
	Inputs   map[string]any
	Outputs  map[string]any
}

// DryRun walks the runbook without changing anything: plugins answer their
// plan calls, approvals are assumed granted, and planned outputs feed later
// guards, so the plan shows which steps would run and what each would do.
func DryRun(ctx context.Context, o Options) ([]Planned, error) {
	r, err := newRunner(o)
	if err != nil {
		return nil, err
	}
	r.started = r.o.Now()
	r.runID = "plan"
	r.initBase()
	var out []Planned
	for _, l := range r.graph.Lists() {
		for _, i := range l.Order {
			s := l.Steps[i]
			p := r.planStep(ctx, s)
			p.Phase = l.Phase.String()
			out = append(out, p)
		}
	}
	return out, nil
}

func (r *runner) planStep(ctx context.Context, s *load.Step) Planned {
	id := s.ID.Value
	p := Planned{ID: id, Action: s.Uses.Value, Decision: "run"}
	if s.When != nil {
		ok, err := r.truth(s.When.Source, nil)
		switch {
		case err != nil:
			p.Decision, p.Reason = "unknown", "guard: "+r.o.Redactor.String(err.Error())
		case !ok:
			p.Decision, p.Reason = "skip", "guard is false: "+s.When.Source
			r.setState(id, journal.StatusSkipped, nil)
			return p
		}
	}
	inputs, err := r.inputs(s)
	if err != nil {
		p.Decision, p.Reason = "unknown", r.o.Redactor.String(err.Error())
		return p
	}
	p.Inputs, _ = r.o.Redactor.Value(inputs).(map[string]any)
	if kind, msg, err := r.gate(s, inputs); err == nil && kind != "" {
		p.Confirm = r.o.Redactor.String(msg)
	}
	var outputs map[string]any
	switch {
	case catalog.IsBuiltin(s.Uses.Value):
		outputs, p.Summary = r.planBuiltin(s, inputs)
	case r.o.Dispatcher != nil:
		plugin, action, _ := strings.Cut(s.Uses.Value, ".")
		pl, err := r.o.Dispatcher.Plan(ctx, plugin, sdk.Request{RunID: r.runID, StepID: id, Action: action, Inputs: inputs, Attempt: 1})
		if err != nil {
			p.Decision, p.Reason = "unknown", r.o.Redactor.String(err.Error())
		}
		p.Summary, outputs = r.o.Redactor.String(pl.Summary), pl.Outputs
	}
	if outputs != nil {
		if typed, err := r.typeOutputs(s, outputs); err == nil {
			outputs = typed
		}
	}
	p.Outputs, _ = r.o.Redactor.Value(outputs).(map[string]any)
	r.setState(id, journal.StatusSucceeded, outputs)
	return p
}

func (r *runner) planBuiltin(s *load.Step, inputs map[string]any) (map[string]any, string) {
	now := r.o.Now()
	switch s.Uses.Value {
	case catalog.BuiltinLog:
		return map[string]any{"message": fmt.Sprint(inputs["message"])}, "log: " + r.o.Redactor.String(fmt.Sprint(inputs["message"]))
	case catalog.BuiltinWait:
		d, _ := inputs["duration"].(time.Duration)
		return map[string]any{}, "wait " + d.String()
	case catalog.BuiltinAssert:
		if ok, _ := inputs["that"].(bool); !ok {
			return map[string]any{}, "assertion would FAIL: " + fmt.Sprint(inputs["message"])
		}
		return map[string]any{}, "assertion holds"
	case catalog.BuiltinManual:
		return map[string]any{"confirmed_by": r.o.User, "confirmed_at": now}, "a person does: " + fmt.Sprint(inputs["instructions"])
	case catalog.BuiltinApproval:
		return map[string]any{"approved_by": r.o.User, "approved_at": now}, "approval gate: " + fmt.Sprint(inputs["message"])
	}
	return nil, ""
}
