package run

import (
	"context"

	"github.com/alpha-orion/runbook/engine/journal"
	"github.com/alpha-orion/runbook/engine/load"
	"github.com/alpha-orion/runbook/engine/plan"
)

// runList runs one step list as a DAG, at most concurrency steps at once.
// When a step fails (without continue_on_error), no new step starts;
// running ones finish. A step that pauses for a person stops the main list
// the same way; in on_failure and finally only the steps that need it
// wait, so cleanup never waits on an unrelated question. It returns
// whether a step of the list failed.
func (r *runner) runList(ctx context.Context, l *plan.List) (failed bool) {
	n := len(l.Steps)
	if n == 0 {
		return false
	}
	const (
		pending = iota
		running
		waiting // paused for a person: neither started again nor done
		done
	)
	state := make([]int, n)
	for i, s := range l.Steps {
		switch r.state(s.ID.Value).Status {
		case journal.StatusSucceeded, journal.StatusSkipped:
			state[i] = done
		}
	}
	finished := make(chan int)
	active := 0
	listFailed := false
	blocked := func(i int) (string, bool) {
		for _, d := range l.Deps[i] {
			dep := l.Steps[d]
			if st := r.state(dep.ID.Value); st.Status == journal.StatusFailed && !dep.ContinueOnError {
				return dep.ID.Value, true
			}
		}
		return "", false
	}
	ready := func(i int) bool {
		for _, d := range l.Deps[i] {
			if state[d] != done {
				return false
			}
		}
		return true
	}
	for {
		stop := listFailed || (r.paused() && l.Phase == load.Main) || ctx.Err() != nil || r.stopped() != nil
		for progress := true; progress; {
			progress = false
			for _, i := range l.Order {
				if state[i] != pending || !ready(i) {
					continue
				}
				s := l.Steps[i]
				if dep, ok := blocked(i); ok {
					r.setState(s.ID.Value, journal.StatusSkipped, nil)
					r.record(journal.Event{Type: journal.StepSkipped, Step: s.ID.Value, Phase: l.Phase.String(), Message: "dependency " + dep + " failed"}, false)
					state[i] = done
					progress = true
					continue
				}
				if stop || active >= r.concurrency() {
					continue
				}
				state[i] = running
				active++
				go func(i int) {
					r.execStep(ctx, l.Steps[i])
					finished <- i
				}(i)
			}
		}
		if active == 0 {
			break
		}
		i := <-finished
		active--
		st := r.state(l.Steps[i].ID.Value)
		switch st.Status {
		case journal.StatusFailed:
			state[i] = done
			if !l.Steps[i].ContinueOnError {
				listFailed = true
			}
		case journal.StatusPaused:
			state[i] = waiting // its dependents wait with it
		case journal.StatusPending, journal.StatusRunning:
			state[i] = pending // not finished: cancelled
		default:
			state[i] = done
		}
	}
	return listFailed
}
