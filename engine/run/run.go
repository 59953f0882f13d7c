package run

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/engine/journal"
	"github.com/alpha-orion/runbook/engine/load"
)

// Start runs a runbook from its first step.
func Start(ctx context.Context, o Options) (*Result, error) {
	r, err := newRunner(o)
	if err != nil {
		return nil, err
	}
	r.started = r.o.Now()
	r.runID = NewRunID(r.lockName(), r.started)
	release, err := r.open(ctx, 0, true)
	if err != nil {
		return nil, err
	}
	defer release()
	r.record(journal.Event{Type: journal.RunStarted, Run: r.runID, Runbook: r.rb.Metadata.Name.Value, File: r.rb.File,
		Digest: Digest(r.rb.Source), Params: catalog.DurationsAsText(r.o.Params).(map[string]any), User: r.o.User, RTO: r.rb.Objectives.RTO.Value, Drill: r.o.Drill}, true)
	return r.execute(ctx), nil
}

// open takes the runbook's lock and opens the journal; release undoes both.
func (r *runner) open(ctx context.Context, lastSeq int, create bool) (release func(), err error) {
	st := r.o.store()
	if st == nil {
		return func() {}, nil
	}
	host, _ := os.Hostname()
	lock, err := st.Acquire(ctx, journal.Holder{Run: r.runID, User: r.o.User, Host: host, PID: os.Getpid(), Since: r.o.Now().UTC(), Runbook: r.lockName()})
	if err != nil {
		return nil, err
	}
	if create {
		r.jw, err = st.Create(ctx, r.runID, r.o.Redactor)
	} else {
		r.jw, err = st.Append(ctx, r.runID, lastSeq, r.o.Redactor)
	}
	if err != nil {
		lock.Release()
		return nil, err
	}
	if f, ok := r.jw.(journal.Fencer); ok {
		f.Fence(lock) // the store refuses this journal's writes once the lock is gone
	}
	r.mu.Lock()
	r.lock = lock
	r.mu.Unlock()
	return func() {
		r.jw.Close()
		lock.Release()
	}, nil
}

// execute runs the main list, then undo and on_failure when it failed, then finally.
func (r *runner) execute(ctx context.Context) *Result {
	r.initBase()
	runCtx := ctx
	if t := r.rb.Timeout; t.Set && t.Err == nil && t.D > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, t.D-r.o.Now().Sub(r.started))
		defer cancel()
	}
	r.progs.Context = runCtx // expressions stop when the run does
	if r.stopped() == nil && r.runList(runCtx, r.graph.Main) {
		r.fail(errors.New("a step failed"))
	}
	if err := r.stopped(); err != nil {
		// No plugin call may start: no undo, on_failure or finally either.
		return r.result(&Result{RunID: r.runID, Started: r.started, Status: journal.StatusFailed, Err: err})
	}
	cancelled := ctx.Err() != nil
	if !cancelled && runCtx.Err() != nil {
		r.fail(fmt.Errorf("the run timed out after %s", r.rb.Timeout.D))
	}
	res := &Result{RunID: r.runID, Started: r.started}
	switch {
	case cancelled:
		res.Status = journal.StatusCancelled
		res.Err = ctx.Err()
		if err := r.record(journal.Event{Type: journal.RunFinished, Status: res.Status, Message: "cancelled by the operator; resume to continue"}, true); err != nil {
			res.Status, res.Err = journal.StatusFailed, err
		}
		return r.result(res)
	case r.paused() && !r.isFailed():
		res.Status = journal.StatusPaused
		res.Pause = r.pause
		if err := r.record(journal.Event{Type: journal.RunPaused, Step: r.pause.Step, Kind: r.pause.Kind, Digest: r.pause.Digest, Message: r.pause.Message}, true); err != nil {
			res.Status, res.Err, res.Pause = journal.StatusFailed, err, nil
		}
		return r.result(res)
	}
	if r.isFailed() {
		r.undo(ctx)
		r.record(journal.Event{Type: journal.PhaseStarted, Phase: load.OnFailure.String()}, false)
		r.runList(ctx, r.graph.OnFailure)
	}
	if len(r.graph.Finally.Steps) > 0 {
		r.record(journal.Event{Type: journal.PhaseStarted, Phase: load.Finally.String()}, false)
		if r.runList(ctx, r.graph.Finally) {
			r.fail(errors.New("a finally step failed"))
		}
	}
	if err := r.stopped(); err != nil {
		res.Status, res.Err = journal.StatusFailed, err
		return r.result(res)
	}
	if r.paused() && ctx.Err() == nil {
		// An on_failure or finally step waits for a person; everything
		// else, finally included, has run. Resuming with the approval
		// runs the steps that waited.
		res.Status = journal.StatusPaused
		res.Pause = r.pause
		if err := r.record(journal.Event{Type: journal.RunPaused, Step: r.pause.Step, Kind: r.pause.Kind, Digest: r.pause.Digest, Message: r.pause.Message}, true); err != nil {
			res.Status, res.Err, res.Pause = journal.StatusFailed, err, nil
		}
		return r.result(res)
	}
	res.Status = journal.StatusSucceeded
	msg := ""
	if r.isFailed() {
		res.Status = journal.StatusFailed
		res.Err = r.failErr
		msg = r.failure()
		res.Err = errors.New(msg)
	}
	if err := r.record(journal.Event{Type: journal.RunFinished, Status: res.Status, Message: msg, DurationMS: r.o.Now().Sub(r.started).Milliseconds()}, true); err != nil {
		// The journal does not say how the run ended: report it failed.
		res.Status, res.Err = journal.StatusFailed, err
	}
	return r.result(res)
}

// failure describes why the run failed, naming the failed steps.
func (r *runner) failure() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var parts []string
	for _, id := range r.order {
		st := r.steps[id]
		if st.Status == journal.StatusFailed {
			parts = append(parts, fmt.Sprintf("step %s failed: %s", id, st.Err))
		}
	}
	if len(parts) == 0 && r.failErr != nil {
		return r.o.Redactor.String(r.failErr.Error())
	}
	return strings.Join(parts, "; ")
}

func (r *runner) result(res *Result) *Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	res.Steps = make(map[string]*StepState, len(r.steps))
	for id, st := range r.steps {
		c := *st
		res.Steps[id] = &c
	}
	res.Order = append([]string(nil), r.order...)
	res.Elapsed = r.o.Now().Sub(r.started)
	return res
}

// undo runs the undo of every succeeded main step, newest first.
func (r *runner) undo(ctx context.Context) {
	r.mu.Lock()
	order := append([]string(nil), r.order...)
	r.mu.Unlock()
	for i := len(order) - 1; i >= 0; i-- {
		id := order[i]
		s, ok := r.graph.Step(id)
		st := r.state(id)
		if !ok || s.Undo == nil || s.Phase != load.Main || st.Status != journal.StatusSucceeded || st.Undone {
			continue
		}
		r.undoOne(ctx, s)
	}
}

func (r *runner) undoOne(ctx context.Context, s *load.Step) {
	id := s.ID.Value
	u := s.Undo
	key := r.key(id + "/undo")
	inputs := make(map[string]any, len(u.With))
	a, _ := r.o.Catalog.Action(u.Uses.Value)
	for _, kv := range u.With {
		v, err := r.resolve(kv.Value)
		if err == nil && a != nil {
			if f, ok := a.Input(kv.Key.Value); ok && v != nil {
				v, err = f.Type.Coerce(v)
			}
		}
		if err != nil {
			r.record(journal.Event{Type: journal.UndoFailed, Step: id, Action: u.Uses.Value, Message: r.o.Redactor.String(fmt.Sprintf("input %s: %v", kv.Key.Value, err))}, true)
			return
		}
		inputs[kv.Key.Value] = v
	}
	if r.stopped() != nil {
		return
	}
	if r.record(journal.Event{Type: journal.UndoStarted, Step: id, Action: u.Uses.Value, Key: key, Inputs: inputs}, true) != nil {
		return // write-ahead: no undo call without its record
	}
	body := &load.Step{ID: s.ID, Uses: u.Uses, Timeout: u.Timeout, Phase: s.Phase}
	var err error
	if catalog.IsBuiltin(u.Uses.Value) {
		_, err = r.builtin(ctx, body, inputs)
	} else {
		_, err = r.attempt(ctx, body, inputs, 1, key)
	}
	if err != nil {
		r.record(journal.Event{Type: journal.UndoFailed, Step: id, Action: u.Uses.Value, Kind: string(kindOf(err)), Message: r.o.Redactor.String(err.Error())}, true)
		return
	}
	r.mu.Lock()
	r.steps[id].Undone = true
	r.mu.Unlock()
	r.record(journal.Event{Type: journal.UndoSucceeded, Step: id, Action: u.Uses.Value}, true)
}

// lockName is what the run locks, and names its run id after: the
// runbook's name, or NAME-drill for a drill.
func (r *runner) lockName() string {
	if r.o.Drill {
		return r.rb.Metadata.Name.Value + "-drill"
	}
	return r.rb.Metadata.Name.Value
}
