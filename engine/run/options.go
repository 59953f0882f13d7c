// Package run interprets a runbook: it walks the step DAG, evaluates guards
// and templates, dispatches steps to plugins, retries, times out, asks for
// approvals, undoes on failure, and journals every state change so a crashed
// or paused run can be resumed without doing anything twice.
package run

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/engine/journal"
	"github.com/alpha-orion/runbook/engine/load"
	"github.com/alpha-orion/runbook/engine/redact"
	"github.com/alpha-orion/runbook/plugins/sdk"
)

// Dispatcher sends steps to plugins; plugins/host.Manager implements it.
type Dispatcher interface {
	Plan(ctx context.Context, plugin string, req sdk.Request) (sdk.Plan, error)
	Execute(ctx context.Context, plugin string, req sdk.Request, onLog func(sdk.LogLine)) (map[string]any, error)
	Reconcile(ctx context.Context, plugin string, req sdk.Request) (sdk.Reconciliation, error)
}

// ApprovalRequest is what a person is asked to approve.
type ApprovalRequest struct {
	Step string
	// Kind is "confirm", "approval", "manual" or "rerun".
	Kind    string
	Message string
	// Digest identifies the exact resolved inputs being approved.
	Digest string
	// Inputs are the step's resolved inputs, secrets masked, for display.
	Inputs map[string]any
}

// Approver decides approvals. It returns who approved, ErrDenied when a
// person said no, or ErrNeedsApproval when nobody can answer now (no TTY):
// the run then pauses and can be resumed with the approval given.
type Approver interface {
	Approve(ctx context.Context, req ApprovalRequest) (by string, err error)
}

// Errors an Approver returns.
var (
	ErrDenied        = errors.New("approval denied")
	ErrNeedsApproval = errors.New("approval needed")
)

// Options configures a run.
type Options struct {
	Runbook *load.Runbook
	Catalog *catalog.Catalog
	// Params are the typed, checked params (see Params); defaults applied.
	Params  map[string]any
	Secrets map[string]string
	Env     map[string]string

	Dispatcher Dispatcher
	Approver   Approver
	// Store holds journals and locks (a folder or a PostgreSQL database);
	// nil means StateDir's folder.
	Store journal.Store
	// StateDir is a state folder, used when Store is nil; both unset means
	// no journal (tests, plan).
	StateDir string
	// User is who started or resumed the run.
	User string
	// Observe receives every event as it is journaled (for live views).
	Observe func(journal.Event)
	// Redactor masks secrets; New adds the Secrets values to it.
	Redactor *redact.Redactor
	// Concurrency overrides the runbook's; 0 keeps it.
	Concurrency int
	// Drill marks a rehearsal against stand-ins (runbook drill): its
	// run_started says so, its run id carries "-drill", and it takes a lock
	// of its own, so a drill never keeps a real run of the runbook out.
	Drill bool
	// MaxOutputBytes limits the size of one step's outputs, encoded as JSON;
	// 0 means DefaultMaxOutputBytes. Over it the step fails.
	MaxOutputBytes int
	// Now and Sleep are the clock; nil means the real one.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// DefaultMaxOutputBytes is the default limit on one step's outputs: they
// are journaled, replayed and shown, and a journal is read whole.
const DefaultMaxOutputBytes = 1 << 20

// checkOutputSize fails a step whose outputs are over the limit.
func (o *Options) checkOutputSize(uses string, out map[string]any) error {
	limit := o.MaxOutputBytes
	if limit <= 0 {
		limit = DefaultMaxOutputBytes
	}
	data, err := json.Marshal(out)
	if err != nil {
		return stepErr(sdk.KindPermanent, "outputs of %s cannot be encoded: %v", uses, err)
	}
	if len(data) > limit {
		return stepErr(sdk.KindPermanent, "outputs of %s are %d bytes, over the limit of %d bytes; raise it with --max-output if they are meant to be this large", uses, len(data), limit)
	}
	return nil
}

// DefaultConcurrency is the number of steps run at once when the runbook does not say.
const DefaultConcurrency = 4

// Pause says why a run stopped before its end and how to continue it.
type Pause struct {
	Step    string
	Kind    string
	Message string
	Digest  string
}

// Result is the outcome of Start or Resume.
type Result struct {
	RunID  string
	Status string // succeeded, failed, paused or cancelled
	Err    error
	Pause  *Pause
	Steps  map[string]*StepState
	// Order lists step ids in the order they finished.
	Order   []string
	Started time.Time
	Elapsed time.Duration
}

// StepState is where one step stands.
type StepState struct {
	ID       string
	Status   string
	Outputs  map[string]any
	Attempts int
	Started  time.Time
	Ended    time.Time
	Err      string
	Kind     string
	// Undone is set when the step's undo ran successfully.
	Undone bool
	// Secret lists outputs whose values are secret (not journaled).
	Secret []string
}

// store returns where the run's journal and lock live, or nil for none.
func (o *Options) store() journal.Store {
	switch {
	case o.Store != nil:
		return o.Store
	case o.StateDir != "":
		return journal.Folder(o.StateDir)
	}
	return nil
}
