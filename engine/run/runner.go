package run

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/alpha-orion/runbook/engine/eval"
	"github.com/alpha-orion/runbook/engine/journal"
	"github.com/alpha-orion/runbook/engine/load"
	"github.com/alpha-orion/runbook/engine/plan"
	"github.com/alpha-orion/runbook/engine/redact"
)

// runner is the state of one run while it executes.
type runner struct {
	o       Options
	rb      *load.Runbook
	graph   *plan.Graph
	progs   *eval.Programs
	jw      journal.Log
	runID   string
	started time.Time

	// envMu guards stepsEnv: readers evaluate expressions under RLock.
	envMu    sync.RWMutex
	stepsEnv map[string]any
	base     eval.Env

	mu        sync.Mutex
	steps     map[string]*StepState
	order     []string
	approvals map[string]string // step id -> digest approved
	approvers map[string]approvalInfo
	rerun     map[string]string // steps whose re-run needs an approval, with why (resume)
	keys      map[string]string // idempotency keys
	pause     *Pause
	failed    bool
	failErr   error
	// journalErr is set once a journal write failed or the lock was lost:
	// from then on no plugin call starts and the run ends failed with it.
	journalErr error
	// lock is the runbook's lock while the run holds it.
	lock journal.Lock
}

func newRunner(o Options) (*runner, error) {
	if o.Runbook == nil || o.Catalog == nil {
		return nil, errors.New("run: a runbook and a catalogue are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	if o.Redactor == nil {
		o.Redactor = redact.New()
	}
	for _, v := range o.Secrets {
		o.Redactor.Add(v)
	}
	g, diags := plan.Build(o.Runbook)
	if err := diags.Err(); err != nil {
		return nil, err
	}
	r := &runner{
		o: o, rb: o.Runbook, graph: g,
		steps: map[string]*StepState{}, approvals: map[string]string{}, rerun: map[string]string{}, keys: map[string]string{},
		stepsEnv: map[string]any{},
	}
	ids := map[string]bool{}
	for _, s := range r.rb.AllSteps() {
		id := s.ID.Value
		ids[id] = true
		r.steps[id] = &StepState{ID: id, Status: journal.StatusPending}
		r.stepsEnv[id] = map[string]any{"outputs": map[string]any{}, "status": StatusNotRun}
	}
	r.progs = eval.NewPrograms(func(s string) bool { return ids[s] })
	r.progs.OnSecret = o.Redactor.Add // a value computed from a secret is secret
	return r, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// NewRunID returns a new run id: sortable by time, unique by a random tail.
func NewRunID(name string, now time.Time) string {
	var b [3]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s-%s-%s", now.UTC().Format("20060102T150405Z"), name, hex.EncodeToString(b[:]))
}

// Digest returns the SHA-256 of a runbook's source, recorded with each run.
func Digest(src []byte) string {
	sum := sha256.Sum256(src)
	return hex.EncodeToString(sum[:])
}

func (r *runner) key(step string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if k, ok := r.keys[step]; ok {
		return k
	}
	sum := sha256.Sum256([]byte(r.runID + "/" + step))
	k := hex.EncodeToString(sum[:16])
	r.keys[step] = k
	return k
}

// record journals an event (when there is a journal) and shows it. It
// returns an error once the journal cannot be written: the event is then not
// recorded, and the caller must not start what it announces.
func (r *runner) record(e journal.Event, durable bool) error {
	if r.jw != nil {
		var err error
		e, err = r.jw.Write(e, durable)
		if err != nil {
			return r.journalFailed(err)
		}
	} else if e.Time.IsZero() {
		e.Time = r.o.Now().UTC()
	}
	if r.o.Observe != nil {
		e.Message = r.o.Redactor.String(e.Message)
		if e.Inputs != nil {
			e.Inputs, _ = r.o.Redactor.Value(e.Inputs).(map[string]any)
		}
		if e.Outputs != nil {
			e.Outputs, _ = r.o.Redactor.Value(e.Outputs).(map[string]any)
		}
		r.o.Observe(e)
	}
	return nil
}

// journalFailed stops the run on a failed journal write or a lost lock and
// returns the run's stop error, which names the store.
func (r *runner) journalFailed(err error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.journalErr == nil {
		if !errors.Is(err, journal.ErrUnavailable) && !errors.Is(err, journal.ErrLockLost) {
			err = fmt.Errorf("%w: %w", journal.ErrUnavailable, err)
		}
		r.journalErr = fmt.Errorf("%w (state %s)", err, r.o.store())
	}
	r.failed = true
	r.failErr = r.journalErr
	return r.journalErr
}

// stopped returns why no plugin call may start any more: the journal
// cannot be written, or the runbook's lock was lost; nil while all is well.
func (r *runner) stopped() error {
	r.mu.Lock()
	err, lock := r.journalErr, r.lock
	r.mu.Unlock()
	if err != nil || lock == nil {
		return err
	}
	if err := lock.Check(); err != nil {
		return r.journalFailed(err)
	}
	return nil
}

func (r *runner) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = true
	if r.failErr == nil {
		r.failErr = err
	}
}

func (r *runner) isFailed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}

func (r *runner) paused() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pause != nil
}

// setState records a step's outcome and exposes it to expressions.
func (r *runner) setState(id, status string, outputs map[string]any) {
	r.mu.Lock()
	st := r.steps[id]
	st.Status = status
	if outputs != nil {
		st.Outputs = outputs
	}
	if status == journal.StatusSucceeded || status == journal.StatusFailed || status == journal.StatusSkipped {
		st.Ended = r.o.Now()
		r.order = append(r.order, id)
	}
	out := st.Outputs
	r.mu.Unlock()
	if out == nil {
		out = map[string]any{}
	}
	envStatus := status
	if status == journal.StatusPending || status == journal.StatusRunning || status == journal.StatusPaused {
		envStatus = StatusNotRun
	}
	r.envMu.Lock()
	r.stepsEnv[id] = map[string]any{"outputs": out, "status": envStatus}
	r.envMu.Unlock()
}

func (r *runner) state(id string) StepState {
	r.mu.Lock()
	defer r.mu.Unlock()
	return *r.steps[id]
}

// env returns the expression environment; outputs is the current step's
// (for check and until). Callers must hold envMu.RLock while evaluating.
func (r *runner) env(outputs map[string]any) eval.Env {
	env := make(eval.Env, len(r.base)+2)
	for k, v := range r.base {
		env[k] = v
	}
	env["steps"] = r.stepsEnv
	env["run"] = map[string]any{"id": r.runID, "runbook": r.rb.Metadata.Name.Value, "started_at": r.started, "elapsed": r.o.Now().Sub(r.started)}
	if outputs != nil {
		env["outputs"] = outputs
	}
	return env
}

func (r *runner) initBase() {
	secrets := make(map[string]any, len(r.o.Secrets))
	for k, v := range r.o.Secrets {
		secrets[k] = v
	}
	envVars := make(map[string]any, len(r.o.Env))
	for k, v := range r.o.Env {
		envVars[k] = v
	}
	params := make(map[string]any, len(r.o.Params))
	for k, v := range r.o.Params {
		params[k] = v
	}
	r.base = eval.Env{
		"params":     params,
		"secrets":    secrets,
		"env":        envVars,
		"objectives": map[string]any{"rto": r.rb.Objectives.RTO.D, "rpo": r.rb.Objectives.RPO.D},
		"outputs":    map[string]any{},
	}
}

// value evaluates an expression under the environment lock.
func (r *runner) value(src string, outputs map[string]any) (any, error) {
	r.envMu.RLock()
	defer r.envMu.RUnlock()
	return r.progs.Value(src, r.env(outputs))
}

func (r *runner) truth(src string, outputs map[string]any) (bool, error) {
	v, err := r.value(src, outputs)
	return eval.Truthy(v), err
}

func (r *runner) resolve(v *load.Value) (any, error) {
	r.envMu.RLock()
	defer r.envMu.RUnlock()
	return r.progs.Resolve(v, r.env(nil))
}

func (r *runner) concurrency() int {
	switch {
	case r.o.Concurrency > 0:
		return r.o.Concurrency
	case r.rb.Concurrency.Set && r.rb.Concurrency.Value > 0:
		return r.rb.Concurrency.Value
	}
	return DefaultConcurrency
}

// StatusNotRun is what steps.ID.status reads for a step that has not
// finished (never started, waiting, or running): a message such as
// "apply: ${{ steps.apply.status }}" then says so instead of nothing.
const StatusNotRun = "not run"
