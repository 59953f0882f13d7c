// Package report turns what the journal says about a run into something to
// hand to people: a timeline, an incident report (Markdown, or self-contained
// HTML with a Gantt chart against the RTO) and, for a runbook, a picture of
// its step graph (Mermaid or Graphviz). It reads journals only through
// run.Replay and the events themselves; values are printed as journaled, so
// secrets stay masked (***).
package report

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/engine/eval"
	"github.com/alpha-orion/runbook/engine/journal"
	"github.com/alpha-orion/runbook/engine/load"
	"github.com/alpha-orion/runbook/engine/run"
)

// Run is one run as a report shows it. Offsets are from the run's start.
type Run struct {
	ID       string        `json:"id"`
	Runbook  string        `json:"runbook"`
	File     string        `json:"file"`
	Digest   string        `json:"digest"`
	User     string        `json:"user"`
	Status   string        `json:"status"`
	Started  time.Time     `json:"started"`
	Updated  time.Time     `json:"updated"`
	Duration time.Duration `json:"duration_ns"`
	// RTO and RPO are zero when the runbook sets none. The RTO is journaled
	// at run_started; the RPO is read from the runbook file (RPONote says
	// whether that file still has the run's digest).
	RTO     time.Duration  `json:"rto_ns,omitempty"`
	RPO     time.Duration  `json:"rpo_ns,omitempty"`
	RPONote string         `json:"rpo_note,omitempty"`
	Params  map[string]any `json:"params,omitempty"`
	Steps   []Step         `json:"steps"`
	// Approvals are the approval_granted events, in journal order.
	Approvals []Approval `json:"approvals,omitempty"`
	// Problems are failed attempts, failed steps and failed undos, in journal order.
	Problems []Problem     `json:"problems,omitempty"`
	Restore  *RestorePoint `json:"restore,omitempty"`
	Pause    *run.Pause    `json:"pause,omitempty"`
	// Drill is set for a rehearsal (runbook drill); DrillStatus is its
	// verdict, passed or failed, once the drill journaled it.
	Drill       bool   `json:"drill,omitempty"`
	DrillStatus string `json:"drill_status,omitempty"`
	DrillNote   string `json:"drill_note,omitempty"`
}

// Step is one step's line of the timeline.
type Step struct {
	ID       string        `json:"id"`
	Phase    string        `json:"phase"`
	Action   string        `json:"action,omitempty"`
	Status   string        `json:"status"`
	Attempts int           `json:"attempts"`
	Start    time.Duration `json:"start_ns"`
	Duration time.Duration `json:"duration_ns"`
	// Open is set for a step with no end recorded (running or crashed).
	Open    bool     `json:"open,omitempty"`
	Undone  bool     `json:"undone,omitempty"`
	Error   string   `json:"error,omitempty"`
	Outputs []Output `json:"outputs,omitempty"`
	// Secret names outputs that were secret and so never journaled.
	Secret []string `json:"secret_outputs,omitempty"`
	// Waits are the spans the step waited for a person: from its
	// approval_requested to the approval (open when none came).
	Waits []Wait `json:"waits,omitempty"`
	// started is false for steps the journal never saw start (skipped, pending).
	started bool
}

// Wait is a span a step waited for a person.
type Wait struct {
	Kind     string        `json:"kind"`
	Start    time.Duration `json:"start_ns"`
	Duration time.Duration `json:"duration_ns"`
	// Open is set when no approval has come yet.
	Open bool `json:"open,omitempty"`
}

// Waited sums the time the run's steps waited for people.
func (r *Run) Waited() time.Duration {
	var d time.Duration
	for _, s := range r.Steps {
		for _, w := range s.Waits {
			d += w.Duration
		}
	}
	return d
}

// Output is one step output, formatted for people.
type Output struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Approval is one granted approval.
type Approval struct {
	Step   string        `json:"step"`
	Kind   string        `json:"kind"`
	By     string        `json:"by"`
	At     time.Time     `json:"at"`
	Offset time.Duration `json:"offset_ns"`
	Digest string        `json:"digest"`
}

// Problem is one error the run met.
type Problem struct {
	Step    string        `json:"step"`
	What    string        `json:"what"` // "attempt failed", "failed", "undo failed"
	Attempt int           `json:"attempt,omitempty"`
	Kind    string        `json:"kind,omitempty"`
	Offset  time.Duration `json:"offset_ns"`
	Message string        `json:"message"`
}

// RestorePoint is the moment the run restored data to, against the RPO.
type RestorePoint struct {
	At time.Time `json:"at"`
	// Source says where At comes from, e.g. "output restore_point of step restore".
	Source string `json:"source"`
	// Loss is the run's start minus At: the most data (in time) the restore
	// can have lost, since the incident happened before the run started.
	Loss time.Duration `json:"loss_ns"`
	// Within is set when an RPO is known and Loss is inside it.
	Within bool `json:"within"`
}

// RestoreOutput and RestoreParam name what the restore point is read from:
// first a step output restore_point holding an RFC 3339 timestamp (what
// neon.restore_branch returns), else the param restore_to. A step's
// restored_at is not used: it is when the restore happened, not the moment
// restored to.
const (
	RestoreOutput = "restore_point"
	RestoreParam  = "restore_to"
)

// New builds a Run from a journal's events. rb, when not nil, is the runbook
// the run used (read from the journaled file) and gives the RPO.
func New(events []journal.Event, rb *load.Runbook) (*Run, error) {
	rp, err := run.Replay(events)
	if err != nil {
		return nil, err
	}
	r := &Run{ID: rp.RunID, Runbook: rp.Runbook, File: rp.File, Digest: rp.Digest, User: rp.User, Status: rp.Status,
		Started: rp.Started, Updated: rp.Updated, Duration: rp.Updated.Sub(rp.Started), Params: rp.Params, Pause: rp.Pause, Drill: rp.Drill}
	if d, err := catalog.ParseDuration(events[0].RTO); err == nil {
		r.RTO = d
	}
	if rb != nil && rb.Objectives.RPO.Set && rb.Objectives.RPO.Err == nil {
		r.RPO = rb.Objectives.RPO.D
		r.RPONote = "from " + rb.File
		if run.Digest(rb.Source) != rp.Digest {
			r.RPONote += ", which changed since the run"
		}
	}
	meta := map[string]journal.Event{} // the first step_started of each step: phase and action
	waits := map[string][]Wait{}
	asked := map[string]journal.Event{} // the approval_requested not answered yet, by step
	for _, e := range events {
		r.event(e, meta)
		switch e.Type {
		case journal.ApprovalRequested:
			if _, ok := asked[e.Step]; !ok {
				asked[e.Step] = e
			}
		case journal.ApprovalGranted, journal.StepStarted, journal.StepFailed:
			if q, ok := asked[e.Step]; ok {
				waits[e.Step] = append(waits[e.Step], Wait{Kind: q.Kind, Start: q.Time.Sub(r.Started), Duration: e.Time.Sub(q.Time)})
				delete(asked, e.Step)
			}
		}
	}
	for step, q := range asked {
		waits[step] = append(waits[step], Wait{Kind: q.Kind, Start: q.Time.Sub(r.Started), Duration: rp.Updated.Sub(q.Time), Open: true})
	}
	r.steps(rp, meta)
	for i := range r.Steps {
		r.Steps[i].Waits = waits[r.Steps[i].ID]
	}
	r.restorePoint()
	return r, nil
}

func (r *Run) event(e journal.Event, meta map[string]journal.Event) {
	off := e.Time.Sub(r.Started)
	switch e.Type {
	case journal.StepStarted:
		if _, ok := meta[e.Step]; !ok {
			meta[e.Step] = e
		}
	case journal.StepSkipped:
		if _, ok := meta[e.Step]; !ok {
			meta[e.Step] = journal.Event{Phase: e.Phase}
		}
	case journal.DrillReport:
		r.DrillStatus, r.DrillNote = e.Status, e.Message
	case journal.RunFinished:
		r.Duration = e.Time.Sub(r.Started) // a drill's verdict comes after the run ends
	case journal.ApprovalGranted:
		r.Approvals = append(r.Approvals, Approval{Step: e.Step, Kind: e.Kind, By: e.By, At: e.Time, Offset: off, Digest: e.Digest})
	case journal.StepRetrying:
		r.Problems = append(r.Problems, Problem{Step: e.Step, What: "attempt failed", Attempt: e.Attempt, Kind: e.Kind, Offset: off, Message: e.Message})
	case journal.StepFailed:
		r.Problems = append(r.Problems, Problem{Step: e.Step, What: "failed", Attempt: e.Attempt, Kind: e.Kind, Offset: off, Message: e.Message})
	case journal.UndoFailed:
		r.Problems = append(r.Problems, Problem{Step: e.Step, What: "undo failed", Kind: e.Kind, Offset: off, Message: e.Message})
	}
}

// steps fills the timeline: started steps by start time, then the others.
func (r *Run) steps(rp *run.Replayed, meta map[string]journal.Event) {
	for id, st := range rp.Steps {
		m := meta[id]
		s := Step{ID: id, Phase: m.Phase, Action: m.Action, Status: st.Status, Attempts: st.Attempts, Error: st.Err,
			Undone: st.Undone, Secret: st.Secret, started: !st.Started.IsZero()}
		if s.Phase == "" {
			s.Phase = "steps"
		}
		switch {
		case s.started && !st.Ended.IsZero() && !st.Ended.Before(st.Started):
			s.Start, s.Duration = st.Started.Sub(r.Started), st.Ended.Sub(st.Started)
		case s.started:
			s.Start, s.Duration, s.Open = st.Started.Sub(r.Started), rp.Updated.Sub(st.Started), true
		case !st.Ended.IsZero():
			s.Start = st.Ended.Sub(r.Started)
		}
		keys := make([]string, 0, len(st.Outputs))
		for k := range st.Outputs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			s.Outputs = append(s.Outputs, Output{Key: k, Value: text(st.Outputs[k])})
		}
		r.Steps = append(r.Steps, s)
	}
	sort.Slice(r.Steps, func(i, j int) bool {
		a, b := r.Steps[i], r.Steps[j]
		if a.started != b.started {
			return a.started
		}
		if a.Start != b.Start {
			return a.Start < b.Start
		}
		return a.ID < b.ID
	})
}

// restorePoint finds the restore point (see RestoreOutput) and weighs it against the RPO.
func (r *Run) restorePoint() {
	for _, s := range r.Steps {
		for _, o := range s.Outputs {
			if o.Key != RestoreOutput {
				continue
			}
			if t, err := time.Parse(time.RFC3339Nano, o.Value); err == nil {
				r.setRestore(t, fmt.Sprintf("output %s of step %s", RestoreOutput, s.ID))
				return
			}
		}
	}
	if v, ok := r.Params[RestoreParam].(string); ok {
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			r.setRestore(t, "param "+RestoreParam)
		}
	}
}

func (r *Run) setRestore(t time.Time, source string) {
	loss := r.Started.Sub(t)
	r.Restore = &RestorePoint{At: t, Source: source, Loss: loss, Within: r.RPO > 0 && loss <= r.RPO}
}

// RTOUsed is the run's duration as a percentage of its RTO, or -1 without one.
func (r *Run) RTOUsed() int {
	if r.RTO <= 0 {
		return -1
	}
	return int(100 * r.Duration / r.RTO)
}

// Step returns the timeline line of a step.
func (r *Run) Step(id string) (Step, bool) {
	for _, s := range r.Steps {
		if s.ID == id {
			return s, true
		}
	}
	return Step{}, false
}

// Dur formats a duration for people: 1.2s, 3m4s, 250ms.
func Dur(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	}
	return eval.ShortDuration(d.Round(time.Second))
}

// text formats an output value: strings as they are, other values as JSON.
func text(v any) string {
	switch v.(type) {
	case string, nil:
		return eval.Text(v)
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(data)
}

// oneLine flattens a message to one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
