// Package journal is the durable record of runs: an append-only sequence of
// events per run, one per state change, made durable where it matters, plus
// the lock that keeps two runs of one runbook apart. The journal is the
// run's truth: status, history and resume are all read back from it. A Store
// keeps both in a local folder (JSON lines, fdatasync, flock) or in a
// PostgreSQL database a team shares (rows, commits, advisory locks).
package journal

import "time"

// Type names an event.
type Type string

// The events of a run.
const (
	RunStarted        Type = "run_started"
	RunResumed        Type = "run_resumed"
	RunPaused         Type = "run_paused"
	RunFinished       Type = "run_finished"
	StepStarted       Type = "step_started"
	StepLog           Type = "step_log"
	StepRetrying      Type = "step_retrying"
	StepSucceeded     Type = "step_succeeded"
	StepFailed        Type = "step_failed"
	StepSkipped       Type = "step_skipped"
	StepReconciled    Type = "step_reconciled"
	ApprovalRequested Type = "approval_requested"
	ApprovalGranted   Type = "approval_granted"
	UndoStarted       Type = "undo_started"
	UndoSucceeded     Type = "undo_succeeded"
	UndoFailed        Type = "undo_failed"
	PhaseStarted      Type = "phase_started"
	// JournalRepaired says a torn final record was cut before appending.
	JournalRepaired Type = "journal_repaired"
	// DrillReport is a drill's verdict on the end state, appended after
	// its run (runbook drill).
	DrillReport Type = "drill_report"
)

// Run and step statuses as the journal and expressions name them.
const (
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
	StatusSkipped   = "skipped"
	StatusRunning   = "running"
	StatusPaused    = "paused"
	StatusCancelled = "cancelled"
	StatusPending   = "pending"
)

// Event is one line of a journal. Fields are set as the Type needs them.
type Event struct {
	Seq  int       `json:"seq"`
	Time time.Time `json:"time"`
	Type Type      `json:"type"`

	// run_started
	Run     string         `json:"run,omitempty"`
	Runbook string         `json:"runbook,omitempty"`
	File    string         `json:"file,omitempty"`
	Digest  string         `json:"digest,omitempty"`
	Params  map[string]any `json:"params,omitempty"`
	User    string         `json:"user,omitempty"`
	RTO     string         `json:"rto,omitempty"`
	// Drill marks a rehearsal against stand-ins, not an incident.
	Drill bool `json:"drill,omitempty"`

	// steps
	Step    string         `json:"step,omitempty"`
	Phase   string         `json:"phase,omitempty"`
	Action  string         `json:"action,omitempty"`
	Attempt int            `json:"attempt,omitempty"`
	Key     string         `json:"key,omitempty"`
	Inputs  map[string]any `json:"inputs,omitempty"`
	Outputs map[string]any `json:"outputs,omitempty"`
	// SecretOutputs names outputs whose values were secret and so not journaled.
	SecretOutputs []string `json:"secret_outputs,omitempty"`
	DelayMS       int64    `json:"delay_ms,omitempty"`
	DurationMS    int64    `json:"duration_ms,omitempty"`

	// outcomes, approvals, pauses
	Status  string `json:"status,omitempty"`
	Kind    string `json:"kind,omitempty"`
	Message string `json:"message,omitempty"`
	By      string `json:"by,omitempty"`
	State   string `json:"state,omitempty"`
}

// isEnd reports whether the event ends a step or an undo.
func (t Type) isEnd() bool {
	switch t {
	case StepSucceeded, StepFailed, StepSkipped, UndoSucceeded, UndoFailed:
		return true
	}
	return false
}
