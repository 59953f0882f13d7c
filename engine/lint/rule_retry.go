package lint

import "github.com/alpha-orion/runbook/engine/load"

// MaxAttempts bounds retry.attempts: more is a loop, not a retry.
const MaxAttempts = 1000

// retries checks retry policies.
type retries struct{ Base }

func (*retries) Name() string { return "retry" }

func (r *retries) VisitStep(c *Context, s *load.Step) {
	rt := s.Retry
	if rt == nil {
		return
	}
	if a := rt.Attempts; a.Set && (a.Value < 1 || a.Value > MaxAttempts) {
		c.Error(a.Pos, r.Name(), "retry.attempts must be between 1 and %d, got %d", MaxAttempts, a.Value)
	}
	if rt.Delay.Set && rt.MaxDelay.Set && rt.Delay.Err == nil && rt.MaxDelay.Err == nil && rt.MaxDelay.D < rt.Delay.D {
		c.Error(rt.MaxDelay.Pos, r.Name(), "retry.max_delay (%s) is shorter than retry.delay (%s)", rt.MaxDelay.D, rt.Delay.D)
	}
	if rt.MaxDelay.Set && rt.Backoff.Value != "exponential" {
		c.Warn(rt.MaxDelay.Pos, r.Name(), "retry.max_delay has no effect without backoff: exponential")
	}
	if rt.Until != nil && !rt.Attempts.Set {
		c.Warn(rt.Pos, r.Name(), "retry.until polls only once without retry.attempts; set how many polls to make")
	}
}
