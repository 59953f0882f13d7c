package run

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/engine/journal"
	"github.com/alpha-orion/runbook/engine/load"
	"github.com/alpha-orion/runbook/plugins/sdk"
)

// Defaults of a retry policy when the runbook gives `retry` without them.
const (
	DefaultAttempts = 3
	DefaultDelay    = time.Second
	DefaultMaxDelay = 5 * time.Minute
)

// errNotYet marks an attempt whose outputs do not satisfy retry.until yet.
var errNotYet = errors.New("retry.until does not hold yet")

// stepError is a step failure with the kind that decides retrying.
type stepError struct {
	kind sdk.Kind
	msg  string
}

func (e *stepError) Error() string { return e.msg }

func stepErr(kind sdk.Kind, format string, args ...any) error {
	return &stepError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

func kindOf(err error) sdk.Kind {
	var se *stepError
	if errors.As(err, &se) {
		return se.kind
	}
	if errors.Is(err, errNotYet) {
		return sdk.KindRetryable
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return sdk.KindDeadlineExceeded
	}
	if errors.Is(err, context.Canceled) {
		return sdk.KindCanceled
	}
	return sdk.KindOf(err)
}

// execStep runs one step to its end: guard, inputs, approval, attempts.
func (r *runner) execStep(ctx context.Context, s *load.Step) {
	id := s.ID.Value
	phase := s.Phase.String()
	if s.When != nil {
		ok, err := r.truth(s.When.Source, nil)
		if err != nil {
			r.finishFailed(s, 0, stepErr(sdk.KindBadInput, "when: %v", err))
			return
		}
		if !ok {
			r.setState(id, journal.StatusSkipped, nil)
			r.record(journal.Event{Type: journal.StepSkipped, Step: id, Phase: phase, Message: "guard is false: " + s.When.Source}, false)
			return
		}
	}
	inputs, err := r.inputs(s)
	if err != nil {
		r.finishFailed(s, 0, err)
		return
	}
	if ok := r.gates(ctx, s, inputs); !ok {
		return
	}
	prev := r.state(id).Attempts
	r.mu.Lock()
	r.steps[id].Started = r.o.Now()
	r.mu.Unlock()
	outputs, attempts, err := r.attempts(ctx, s, inputs, prev)
	var unknown *unknownOutcome
	for errors.As(err, &unknown) {
		// Nobody knows whether the step took effect: a person decides, and
		// only an approval given for this (not --yes, not the approval
		// the step had) lets it run again.
		r.rerunOrAsk(s.Uses.Value, id, unknown.why)
		if ok := r.gates(ctx, s, inputs); !ok {
			return
		}
		outputs, attempts, err = r.attempts(ctx, s, inputs, attempts)
	}
	if err != nil {
		if ctx.Err() != nil {
			// Cancelled: journaled, left pending so resume runs it again.
			r.record(journal.Event{Type: journal.StepFailed, Step: id, Phase: phase, Attempt: attempts, Kind: string(sdk.KindCanceled), Message: "cancelled: " + err.Error()}, true)
			r.setState(id, journal.StatusPending, nil)
			return
		}
		r.finishFailed(s, attempts, err)
		return
	}
	r.finishSucceeded(s, attempts, outputs)
}

func (r *runner) finishFailed(s *load.Step, attempts int, err error) {
	id := s.ID.Value
	msg := r.o.Redactor.String(err.Error())
	r.mu.Lock()
	st := r.steps[id]
	st.Err, st.Kind = msg, string(kindOf(err))
	if attempts > 0 {
		st.Attempts = attempts
	}
	r.mu.Unlock()
	r.setState(id, journal.StatusFailed, nil)
	r.record(journal.Event{Type: journal.StepFailed, Step: id, Phase: s.Phase.String(), Attempt: attempts, Kind: string(kindOf(err)), Message: msg}, false)
}

func (r *runner) finishSucceeded(s *load.Step, attempts int, outputs map[string]any) {
	id := s.ID.Value
	secret := r.secretOutputs(s, outputs)
	r.mu.Lock()
	st := r.steps[id]
	st.Attempts, st.Secret = attempts, secret
	started := st.Started
	r.mu.Unlock()
	r.setState(id, journal.StatusSucceeded, outputs)
	r.record(journal.Event{Type: journal.StepSucceeded, Step: id, Phase: s.Phase.String(), Attempt: attempts,
		Outputs: journalOutputs(outputs, secret), SecretOutputs: secret, DurationMS: r.o.Now().Sub(started).Milliseconds()}, false)
}

// secretOutputs teaches the redactor the step's secret output values and names them.
func (r *runner) secretOutputs(s *load.Step, outputs map[string]any) []string {
	a, ok := r.o.Catalog.Action(s.Uses.Value)
	if !ok {
		return nil
	}
	var names []string
	for _, f := range a.Outputs {
		if v, has := outputs[f.Name]; f.Secret && has {
			names = append(names, f.Name)
			r.o.Redactor.Add(leaves(nil, v)...)
		}
	}
	return names
}

// leaves collects every string inside v (maps and lists included), so a
// secret map such as Terraform's sensitive outputs is masked value by value.
func leaves(out []string, v any) []string {
	switch x := v.(type) {
	case string:
		out = append(out, x)
	case []any:
		for _, e := range x {
			out = leaves(out, e)
		}
	case map[string]any:
		for _, e := range x {
			out = leaves(out, e)
		}
	case nil:
	default:
		out = append(out, fmt.Sprint(x))
	}
	return out
}

func journalOutputs(outputs map[string]any, secret []string) map[string]any {
	if len(secret) == 0 {
		return outputs
	}
	out := make(map[string]any, len(outputs))
	for k, v := range outputs {
		out[k] = v
	}
	for _, k := range secret {
		out[k] = "***"
	}
	return out
}

// inputs resolves a step's `with`, typed as its action declares.
func (r *runner) inputs(s *load.Step) (map[string]any, error) {
	a, _ := r.o.Catalog.Action(s.Uses.Value)
	out := make(map[string]any, len(s.With))
	for _, kv := range s.With {
		v, err := r.resolve(kv.Value)
		if err != nil {
			return nil, stepErr(sdk.KindBadInput, "input %s: %v", kv.Key.Value, err)
		}
		if a != nil {
			if f, ok := a.Input(kv.Key.Value); ok && v != nil {
				if v, err = f.Type.Coerce(v); err != nil {
					return nil, stepErr(sdk.KindBadInput, "input %s: %v", kv.Key.Value, err)
				}
				if f.Secret {
					// A secret input may come from a param or an output nobody
					// declared secret: mask it from here on all the same.
					r.o.Redactor.Add(leaves(nil, v)...)
				}
			}
		}
		out[kv.Key.Value] = v
	}
	if a != nil {
		for _, f := range a.Inputs {
			if _, ok := out[f.Name]; f.Required && (!ok || out[f.Name] == nil) {
				return nil, stepErr(sdk.KindBadInput, "input %s is required but empty", f.Name)
			}
		}
	}
	return out, nil
}

// policy is a step's retry policy with defaults applied.
type policy struct {
	attempts int
	delay    time.Duration
	maxDelay time.Duration
	exp      bool
	jitter   bool
	until    string
}

func policyOf(s *load.Step) policy {
	p := policy{attempts: 1, delay: DefaultDelay, maxDelay: DefaultMaxDelay}
	rt := s.Retry
	if rt == nil {
		return p
	}
	p.attempts = DefaultAttempts
	if rt.Attempts.Set {
		p.attempts = rt.Attempts.Value
	}
	if rt.Delay.Set && rt.Delay.Err == nil {
		p.delay = rt.Delay.D
	}
	if rt.MaxDelay.Set && rt.MaxDelay.Err == nil {
		p.maxDelay = rt.MaxDelay.D
	}
	p.exp = rt.Backoff.Value == "exponential"
	p.jitter = p.exp
	if rt.Jitter != nil {
		p.jitter = *rt.Jitter
	}
	if rt.Until != nil {
		p.until = rt.Until.Source
	}
	return p
}

// wait returns the pause before attempt n+1: constant or doubling up to
// max_delay, with jitter drawing from the upper half so retries spread out.
func (p policy) wait(n int) time.Duration {
	d := p.delay
	if p.exp {
		for i := 1; i < n && d < p.maxDelay; i++ {
			d *= 2
		}
		d = min(d, p.maxDelay)
	}
	if p.jitter && d > 1 {
		d = d/2 + rand.N(d/2+1)
	}
	return d
}

// attempts runs attempts until one succeeds, the error is not retryable or
// the policy is spent. prev counts attempts of earlier sessions of the run.
func (r *runner) attempts(ctx context.Context, s *load.Step, inputs map[string]any, prev int) (map[string]any, int, error) {
	p := policyOf(s)
	id := s.ID.Value
	key := r.key(id)
	for n := 1; ; n++ {
		attempt := prev + n
		r.mu.Lock()
		r.steps[id].Attempts = attempt
		r.mu.Unlock()
		r.setState(id, journal.StatusRunning, nil)
		if err := r.stopped(); err != nil {
			return nil, attempt, err
		}
		// Write-ahead: the call starts only once its announcement is durable.
		if err := r.record(journal.Event{Type: journal.StepStarted, Step: id, Phase: s.Phase.String(), Action: s.Uses.Value, Attempt: attempt, Key: key, Inputs: inputs}, true); err != nil {
			return nil, attempt, err
		}
		out, err := r.attempt(ctx, s, inputs, attempt, key)
		if err == nil {
			err = r.o.checkOutputSize(s.Uses.Value, out)
		}
		if err == nil {
			out, err = r.verify(s, out, p)
		}
		if err == nil {
			return out, attempt, nil
		}
		if ctx.Err() != nil {
			return nil, attempt, err
		}
		if outcomeUnknown(err) && !r.idempotent(s.Uses.Value) && r.stopped() == nil {
			// The call was sent and no answer came: ask the plugin whether
			// it took effect before anything runs it again.
			switch state, out, why := r.reconcileNow(ctx, s, inputs, attempt, key, err); state {
			case sdk.Applied:
				return out, attempt, nil
			case sdk.NotApplied:
				// safe to run again, as the retry policy allows
			default:
				return nil, attempt, &unknownOutcome{why: why}
			}
		}
		if n >= p.attempts || !kindOf(err).Retryable() || r.stopped() != nil {
			if errors.Is(err, errNotYet) {
				err = stepErr(sdk.KindPermanent, "retry.until (%s) did not hold after %d attempts", p.until, n)
			}
			return nil, attempt, err
		}
		d := p.wait(n)
		r.record(journal.Event{Type: journal.StepRetrying, Step: id, Phase: s.Phase.String(), Attempt: attempt, Kind: string(kindOf(err)), Message: r.o.Redactor.String(err.Error()), DelayMS: d.Milliseconds()}, false)
		if err := r.o.Sleep(ctx, d); err != nil {
			return nil, attempt, err
		}
	}
}

// verify types the outputs, then applies retry.until and check.
func (r *runner) verify(s *load.Step, out map[string]any, p policy) (map[string]any, error) {
	out, err := r.typeOutputs(s, out)
	if err != nil {
		return nil, err
	}
	if p.until != "" {
		ok, err := r.truth(p.until, out)
		if err != nil {
			return nil, stepErr(sdk.KindBadInput, "retry.until: %v", err)
		}
		if !ok {
			return nil, errNotYet
		}
	}
	if s.Check != nil {
		ok, err := r.truth(s.Check.Source, out)
		if err != nil {
			return nil, stepErr(sdk.KindBadInput, "check: %v", err)
		}
		if !ok {
			return nil, stepErr(sdk.KindRetryable, "check failed: %s", s.Check.Source)
		}
	}
	return out, nil
}

func (r *runner) typeOutputs(s *load.Step, out map[string]any) (map[string]any, error) {
	if out == nil {
		out = map[string]any{}
	}
	a, ok := r.o.Catalog.Action(s.Uses.Value)
	if !ok {
		return out, nil
	}
	for _, f := range a.Outputs {
		if v, has := out[f.Name]; has && v != nil {
			tv, err := f.Type.Coerce(v)
			if err != nil {
				return nil, stepErr(sdk.KindPermanent, "output %s of %s: %v", f.Name, s.Uses.Value, err)
			}
			out[f.Name] = tv
		}
	}
	return out, nil
}

// attempt makes one call: a built-in or a plugin action.
func (r *runner) attempt(ctx context.Context, s *load.Step, inputs map[string]any, attempt int, key string) (map[string]any, error) {
	if s.Timeout.Set && s.Timeout.Err == nil && s.Timeout.D > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.Timeout.D)
		defer cancel()
	}
	uses := s.Uses.Value
	if catalog.IsBuiltin(uses) {
		return r.builtin(ctx, s, inputs)
	}
	plugin, action, _ := strings.Cut(uses, ".")
	if r.o.Dispatcher == nil {
		return nil, stepErr(sdk.KindPermanent, "no plugin host to run %s", uses)
	}
	req := sdk.Request{RunID: r.runID, StepID: s.ID.Value, Action: action, Inputs: inputs, IdempotencyKey: key, Attempt: attempt}
	out, err := r.o.Dispatcher.Execute(ctx, plugin, req, func(l sdk.LogLine) {
		r.record(journal.Event{Type: journal.StepLog, Step: s.ID.Value, Message: l.Message, Kind: l.Level.String()}, false)
	})
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return nil, stepErr(sdk.KindDeadlineExceeded, "%s: timed out after %s", uses, s.Timeout.D)
		}
		return nil, fmt.Errorf("%s: %w", uses, err)
	}
	return out, nil
}

// builtin runs the engine's own actions.
func (r *runner) builtin(ctx context.Context, s *load.Step, inputs map[string]any) (map[string]any, error) {
	switch s.Uses.Value {
	case catalog.BuiltinLog:
		msg := fmt.Sprint(inputs["message"])
		r.record(journal.Event{Type: journal.StepLog, Step: s.ID.Value, Message: msg, Kind: "info"}, false)
		return map[string]any{"message": msg}, nil
	case catalog.BuiltinWait:
		d, _ := inputs["duration"].(time.Duration)
		if err := r.o.Sleep(ctx, d); err != nil {
			return nil, err
		}
		return map[string]any{}, nil
	case catalog.BuiltinAssert:
		if ok, _ := inputs["that"].(bool); ok {
			return map[string]any{}, nil
		}
		msg := "assertion failed"
		if m, ok := inputs["message"].(string); ok && m != "" {
			msg += ": " + m
		}
		return nil, stepErr(sdk.KindPermanent, "%s", msg)
	case catalog.BuiltinManual, catalog.BuiltinApproval:
		return r.approvalOutputs(s), nil
	}
	return nil, stepErr(sdk.KindPermanent, "unknown built-in %s", s.Uses.Value)
}

// unknownOutcome ends a step's attempts when its plugin cannot tell
// whether an attempt that got no answer took effect.
type unknownOutcome struct{ why string }

func (u *unknownOutcome) Error() string { return u.why }

// outcomeUnknown reports whether an attempt's error leaves its effect
// unknown: the plugin died during the call, or the call timed out after
// it was sent. A refusal, a bad input or a failure the plugin reported is
// an answer.
func outcomeUnknown(err error) bool {
	switch kindOf(err) {
	case sdk.KindCrashed, sdk.KindDeadlineExceeded, sdk.KindUnknown:
		return true
	}
	return false
}

// idempotent reports whether running the action twice is the same as once.
func (r *runner) idempotent(uses string) bool {
	if catalog.IsBuiltin(uses) {
		return true
	}
	a, ok := r.o.Catalog.Action(uses)
	return ok && a.Idempotent
}

// reconcileNow asks the plugin whether the attempt that ended in err took
// effect, journals the answer, and returns it with the typed outputs when
// it did.
func (r *runner) reconcileNow(ctx context.Context, s *load.Step, inputs map[string]any, attempt int, key string, cause error) (sdk.State, map[string]any, string) {
	id, uses := s.ID.Value, s.Uses.Value
	plugin, action, _ := strings.Cut(uses, ".")
	state, msg := sdk.Unknown, ""
	var outputs map[string]any
	rec, err := r.o.Dispatcher.Reconcile(ctx, plugin, sdk.Request{RunID: r.runID, StepID: id, Action: action, Inputs: inputs, IdempotencyKey: key, Attempt: attempt})
	if err != nil {
		msg = r.o.Redactor.String(err.Error())
	} else {
		state, outputs = rec.State, rec.Outputs
	}
	r.record(journal.Event{Type: journal.StepReconciled, Step: id, Action: uses, Attempt: attempt, State: state.String(), Message: msg}, true)
	if state == sdk.Applied {
		if typed, err := r.typeOutputs(s, outputs); err == nil {
			outputs = typed
		}
		return state, outputs, ""
	}
	why := fmt.Sprintf("attempt %d got no answer (%s) and its plugin cannot tell whether it took effect", attempt, r.o.Redactor.String(cause.Error()))
	if msg != "" {
		why += " (reconcile: " + msg + ")"
	}
	return state, nil, why
}
