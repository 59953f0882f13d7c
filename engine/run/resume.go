package run

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/engine/journal"
	"github.com/alpha-orion/runbook/engine/load"
	"github.com/alpha-orion/runbook/plugins/sdk"
)

// ErrRunbookChanged is returned when a run is resumed with a runbook whose
// content differs from the one it started with.
var ErrRunbookChanged = errors.New("the runbook changed since the run started")

// Replayed is what a journal says about a run.
type Replayed struct {
	RunID   string
	Runbook string
	File    string
	Digest  string
	User    string
	Params  map[string]any
	Started time.Time
	// Drill is set for a rehearsal against stand-ins (runbook drill).
	Drill bool
	// Status is the last status the journal records: running (crashed),
	// paused, succeeded, failed or cancelled.
	Status  string
	Updated time.Time
	Steps   map[string]*StepState
	// Order lists steps in the order they finished.
	Order     []string
	Pause     *Pause
	LastSeq   int
	approvals map[string]string
	// reruns are the steps waiting for a person to decide whether to run
	// them again after an attempt whose outcome nobody knows.
	reruns    map[string]bool
	approvers map[string]approvalInfo
	keys      map[string]string
}

// Replay rebuilds a run's state from its events.
func Replay(events []journal.Event) (*Replayed, error) {
	if len(events) == 0 {
		return nil, errors.New("journal does not start with run_started: it has no records (the run stopped before storing its first, so nothing ran)")
	}
	if events[0].Type != journal.RunStarted {
		return nil, errors.New("journal does not start with run_started")
	}
	first := events[0]
	rp := &Replayed{RunID: first.Run, Runbook: first.Runbook, File: first.File, Digest: first.Digest, User: first.User,
		Params: first.Params, Started: first.Time, Drill: first.Drill, Status: journal.StatusRunning, Steps: map[string]*StepState{},
		approvals: map[string]string{}, approvers: map[string]approvalInfo{}, keys: map[string]string{}, reruns: map[string]bool{}}
	step := func(id string) *StepState {
		st, ok := rp.Steps[id]
		if !ok {
			st = &StepState{ID: id, Status: journal.StatusPending}
			rp.Steps[id] = st
		}
		return st
	}
	for _, e := range events {
		rp.LastSeq, rp.Updated = e.Seq, e.Time
		switch e.Type {
		case journal.RunResumed:
			rp.Status, rp.Pause = journal.StatusRunning, nil
		case journal.RunPaused:
			rp.Status = journal.StatusPaused
			rp.Pause = &Pause{Step: e.Step, Kind: e.Kind, Message: e.Message, Digest: e.Digest}
		case journal.RunFinished:
			rp.Status = e.Status
		case journal.StepStarted:
			st := step(e.Step)
			st.Status, st.Attempts, st.Err = journal.StatusRunning, e.Attempt, ""
			if st.Started.IsZero() || e.Attempt == 1 {
				st.Started = e.Time
			}
			rp.keys[e.Step] = e.Key
		case journal.StepSucceeded:
			st := step(e.Step)
			st.Status, st.Outputs, st.Secret, st.Ended, st.Undone = journal.StatusSucceeded, e.Outputs, e.SecretOutputs, e.Time, false
			rp.Order = append(rp.Order, e.Step)
		case journal.StepFailed:
			st := step(e.Step)
			st.Status, st.Err, st.Kind, st.Ended = journal.StatusFailed, e.Message, e.Kind, e.Time
			if e.Kind == string(sdk.KindCanceled) {
				st.Status = journal.StatusPending
			} else {
				rp.Order = append(rp.Order, e.Step)
			}
		case journal.StepSkipped:
			st := step(e.Step)
			st.Status, st.Ended, st.Err = journal.StatusSkipped, e.Time, e.Message
			rp.Order = append(rp.Order, e.Step)
		case journal.ApprovalRequested:
			step(e.Step).Status = journal.StatusPaused
			if e.Kind == "rerun" {
				rp.reruns[e.Step] = true
			}
		case journal.ApprovalGranted:
			delete(rp.reruns, e.Step)
			rp.approvals[e.Step] = e.Digest
			rp.approvers[e.Step] = approvalInfo{by: e.By, at: e.Time}
		case journal.UndoSucceeded:
			step(e.Step).Undone = true
		}
	}
	return rp, nil
}

// Resume continues a paused, failed, cancelled or crashed run. Steps that
// finished are not run again; a step that was in flight is reconciled with
// its plugin, and where the plugin cannot tell and the action is not
// idempotent, the operator is asked before it runs again.
func Resume(ctx context.Context, o Options, runID string) (*Result, *Replayed, error) {
	st := o.store()
	if st == nil {
		return nil, nil, errors.New("resume needs a state folder or database")
	}
	events, err := st.Read(ctx, runID)
	if err != nil {
		return nil, nil, err
	}
	rp, err := Replay(events)
	if err != nil {
		return nil, nil, fmt.Errorf("run %s: %w", runID, err)
	}
	if rp.Status == journal.StatusSucceeded {
		return &Result{RunID: runID, Status: rp.Status, Steps: rp.Steps, Order: rp.Order, Started: rp.Started, Elapsed: rp.Updated.Sub(rp.Started)}, rp, nil
	}
	o.Drill = rp.Drill // a drill resumes as a drill, under its own lock
	if d := Digest(o.Runbook.Source); d != rp.Digest {
		return nil, rp, fmt.Errorf("run %s: %w (started with sha256 %.12s, now %.12s); restore the original file to resume, or start a new run", runID, ErrRunbookChanged, rp.Digest, d)
	}
	params, err := Params(o.Runbook, rp.Params, nil)
	if err != nil {
		return nil, rp, fmt.Errorf("run %s: journaled params: %w", runID, err)
	}
	o.Params = params
	r, err := newRunner(o)
	if err != nil {
		return nil, rp, err
	}
	r.runID, r.started = runID, rp.Started
	release, err := r.open(ctx, rp.LastSeq, false)
	if err != nil {
		return nil, rp, err
	}
	defer release()
	r.initBase()
	if r.record(journal.Event{Type: journal.RunResumed, By: o.User, Message: "resumed from " + rp.Status}, true) == nil {
		r.restore(ctx, rp)
	}
	return r.execute(ctx), rp, nil
}

// restore applies a replayed state: finished steps keep their outputs,
// failed and undone ones run again, in-flight ones are reconciled.
func (r *runner) restore(ctx context.Context, rp *Replayed) {
	for id, d := range rp.approvals {
		r.approvals[id] = d
		r.approvedBy()[id] = rp.approvers[id]
	}
	for id, k := range rp.keys {
		r.keys[id] = k
	}
	for id := range rp.reruns {
		r.rerun[id] = "an attempt got no answer and its plugin could not tell whether it took effect"
	}
	for _, id := range rp.Order {
		if _, ok := r.steps[id]; ok && !contains(r.order, id) {
			r.order = append(r.order, id)
		}
	}
	// First the steps that finished, so in-flight ones resolve their inputs
	// from their dependencies' outputs; then reconcile the in-flight ones.
	var inflight []string
	for id, old := range rp.Steps {
		s, ok := r.graph.Step(id)
		if !ok {
			continue
		}
		r.mu.Lock()
		st := r.steps[id]
		st.Attempts, st.Started, st.Secret = old.Attempts, old.Started, old.Secret
		r.mu.Unlock()
		switch {
		case old.Status == journal.StatusSucceeded && !old.Undone && len(old.Secret) == 0:
			r.setState(id, journal.StatusSucceeded, old.Outputs)
			r.mu.Lock()
			st.Ended = old.Ended
			r.mu.Unlock()
		case old.Status == journal.StatusSucceeded && len(old.Secret) > 0 && !old.Undone:
			// Secret outputs were never journaled: run the step again.
			r.rerunOrAsk(s.Uses.Value, id, "its secret outputs are not kept in the journal")
		case old.Status == journal.StatusSkipped && !strings.HasPrefix(old.Err, "dependency "):
			r.setState(id, journal.StatusSkipped, nil)
			r.mu.Lock()
			st.Ended = old.Ended
			r.mu.Unlock()
		case old.Status == journal.StatusRunning:
			inflight = append(inflight, id)
		}
	}
	sort.Strings(inflight)
	for _, id := range inflight {
		s, _ := r.graph.Step(id)
		r.reconcile(ctx, s)
	}
	r.mu.Lock()
	kept := r.order[:0]
	for _, id := range r.order {
		if st := r.steps[id].Status; st == journal.StatusSucceeded || st == journal.StatusSkipped {
			kept = append(kept, id)
		}
	}
	r.order = kept
	r.mu.Unlock()
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// reconcile decides what to do with a step that was in flight at the crash.
func (r *runner) reconcile(ctx context.Context, s *load.Step) {
	id, uses := s.ID.Value, s.Uses.Value
	if catalog.IsBuiltin(uses) {
		return // built-ins are safe to run again; manual and approval ask again
	}
	plugin, action, _ := strings.Cut(uses, ".")
	state := sdk.Unknown
	var outputs map[string]any
	msg := ""
	// The plugin gets the step's inputs as they resolve now: the same as at
	// the crash, since every step they depend on had finished.
	inputs, err := r.inputs(s)
	if err != nil {
		msg = r.o.Redactor.String(err.Error())
	} else if r.o.Dispatcher != nil {
		rec, err := r.o.Dispatcher.Reconcile(ctx, plugin, sdk.Request{RunID: r.runID, StepID: id, Action: action, Inputs: inputs, IdempotencyKey: r.key(id), Attempt: r.state(id).Attempts})
		if err != nil {
			msg = r.o.Redactor.String(err.Error())
		} else {
			state, outputs = rec.State, rec.Outputs
		}
	}
	r.record(journal.Event{Type: journal.StepReconciled, Step: id, Action: uses, State: state.String(), Message: msg}, true)
	switch state {
	case sdk.Applied:
		out, err := r.typeOutputs(s, outputs)
		if err != nil {
			out = outputs
		}
		r.finishSucceeded(s, r.state(id).Attempts, out)
	case sdk.NotApplied:
		// safe to run again
	default:
		r.rerunOrAsk(uses, id, "its plugin cannot tell whether it took effect")
	}
}

// rerunOrAsk lets an idempotent step run again, and makes any other ask first.
func (r *runner) rerunOrAsk(uses, id, why string) {
	if a, ok := r.o.Catalog.Action(uses); ok && a.Idempotent {
		return
	}
	r.mu.Lock()
	r.rerun[id] = why
	r.mu.Unlock()
}
