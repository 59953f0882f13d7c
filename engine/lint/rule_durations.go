package lint

import "github.com/alpha-orion/runbook/engine/load"

// durations reports durations that do not parse or make no sense.
type durations struct{ Base }

func (*durations) Name() string { return "duration" }

func (r *durations) check(c *Context, what string, d load.Duration) {
	if d.Set && d.Err != nil {
		c.Error(d.Pos, r.Name(), "%s: %v", what, d.Err)
	} else if d.Set && d.D == 0 {
		c.Error(d.Pos, r.Name(), "%s must be longer than zero", what)
	}
}

func (r *durations) VisitRunbook(c *Context) {
	rb := c.Runbook
	r.check(c, "objectives.rto", rb.Objectives.RTO)
	r.check(c, "objectives.rpo", rb.Objectives.RPO)
	r.check(c, "timeout", rb.Timeout)
}

func (r *durations) VisitStep(c *Context, s *load.Step) {
	r.check(c, "timeout", s.Timeout)
	if s.Undo != nil {
		r.check(c, "undo.timeout", s.Undo.Timeout)
	}
	if s.Retry != nil {
		if s.Retry.Delay.Set && s.Retry.Delay.Err != nil {
			c.Error(s.Retry.Delay.Pos, r.Name(), "retry.delay: %v", s.Retry.Delay.Err)
		}
		r.check(c, "retry.max_delay", s.Retry.MaxDelay)
	}
}
