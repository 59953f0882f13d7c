package lint

import "github.com/alpha-orion/runbook/engine/load"

// confirms warns about destructive actions that run without a person's confirmation.
type confirms struct{ Base }

func (*confirms) Name() string { return "confirm" }

func (r *confirms) VisitStep(c *Context, s *load.Step) {
	a, ok := c.Action(s)
	if ok && a.Destructive && s.Confirm == nil {
		c.Warn(s.Uses.Pos, r.Name(), "%s is destructive: add confirm: with a message a person must approve", s.Uses.Value)
	}
}
