package sdk

import (
	"context"
	"time"

	"github.com/alpha-orion/runbook/engine/catalog"
)

// Plugin is what a plugin author implements. The SDK calls Spec once, then
// Configure once, then Plan, Execute and Reconcile for the steps, possibly
// several at a time from different goroutines.
//
// Every method gets inputs already checked against Spec: required values
// are present and each value has its declared type's Go type (see
// catalog.Type). Return errors made with Errorf and its helpers to give them
// a Kind; a plain error arrives as KindUnknown.
type Plugin interface {
	// Spec returns the plugin's catalogue entry: its name, configuration
	// keys and actions.
	Spec() catalog.Plugin
	// Configure receives the plugin's configuration, secrets included.
	Configure(ctx context.Context, config map[string]any) error
	// Plan says what a step would do, without doing anything.
	Plan(ctx context.Context, req Request) (Plan, error)
	// Execute runs one attempt of a step and returns its outputs. It must
	// return promptly once ctx is done. Lines written to log reach the
	// operator while the step runs.
	Execute(ctx context.Context, req Request, log Logger) (map[string]any, error)
	// Reconcile tells whether the step with req.IdempotencyKey already took
	// effect, for instance because the plugin died before it could answer.
	Reconcile(ctx context.Context, req Request) (Reconciliation, error)
}

// Request is one attempt of one step.
type Request struct {
	RunID  string
	StepID string
	// Action is the action's name within the plugin, e.g. "restore_branch".
	Action string
	// Inputs holds the step's `with` values, typed as the action declares.
	Inputs map[string]any
	// IdempotencyKey is the same for every attempt of a step in a run; a
	// plugin may pass it on to APIs that de-duplicate requests.
	IdempotencyKey string
	// Attempt counts from 1.
	Attempt int
}

// Plan is what a step would do.
type Plan struct {
	// Summary is one or a few lines for the operator.
	Summary string
	// Outputs are the outputs the step is expected to produce, where known.
	Outputs map[string]any
}

// State says whether a step already took effect.
type State int

// The answers Reconcile can give. The zero value is Unknown.
const (
	Unknown    State = iota // the plugin cannot tell
	Applied                 // the step took effect; Outputs holds its outputs
	NotApplied              // the step did not take effect; running it is safe
)

// String returns "unknown", "applied" or "not_applied".
func (s State) String() string {
	switch s {
	case Applied:
		return "applied"
	case NotApplied:
		return "not_applied"
	}
	return "unknown"
}

// Reconciliation is Reconcile's answer.
type Reconciliation struct {
	State State
	// Outputs are the step's outputs when State is Applied.
	Outputs map[string]any
}

// Logger writes a step's progress; the lines reach the operator while the
// step runs. Secret configuration and input values are masked.
type Logger interface {
	// Printf writes an informational line.
	Printf(format string, args ...any)
	// Warnf writes a warning.
	Warnf(format string, args ...any)
}

// Level says how loud a log line is.
type Level int

// The levels of a log line.
const (
	LevelInfo Level = iota // progress
	LevelWarn              // something the operator should notice
)

// String returns "info" or "warn".
func (l Level) String() string {
	if l == LevelWarn {
		return "warn"
	}
	return "info"
}

// LogLine is one line a step wrote, as the host receives it.
type LogLine struct {
	Time    time.Time
	Level   Level
	Message string
}

// Base gives a Plugin the defaults: Configure accepts anything, Plan says
// "would run ACTION", Reconcile cannot tell. Embed it and override what the
// plugin can do better.
type Base struct{}

// Configure accepts the configuration and ignores it.
func (Base) Configure(context.Context, map[string]any) error { return nil }

// Plan returns "would run ACTION" and no expected outputs.
func (Base) Plan(_ context.Context, req Request) (Plan, error) {
	return Plan{Summary: "would run " + req.Action}, nil
}

// Reconcile answers Unknown.
func (Base) Reconcile(context.Context, Request) (Reconciliation, error) {
	return Reconciliation{State: Unknown}, nil
}
