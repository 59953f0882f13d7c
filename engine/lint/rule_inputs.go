package lint

import (
	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/engine/diag"
	"github.com/alpha-orion/runbook/engine/load"
)

// inputs checks a step's `with` against its action's declared inputs:
// missing required ones, unknown ones, and values of the wrong type.
type inputs struct{ Base }

func (*inputs) Name() string { return "input" }

func (r *inputs) VisitStep(c *Context, s *load.Step) {
	r.check(c, s)
	if s.Undo != nil {
		r.check(c, s.Undo)
	}
}

func (r *inputs) check(c *Context, s *load.Step) {
	a, ok := c.Action(s)
	if !ok {
		return
	}
	given := map[string]bool{}
	for _, kv := range s.With {
		given[kv.Key.Value] = true
		f, ok := a.Input(kv.Key.Value)
		if !ok {
			c.Error(kv.Key.Pos, "unknown-input", "%s has no input %q%s", s.Uses.Value, kv.Key.Value, diag.Suggest(kv.Key.Value, fieldNames(a.Inputs)))
			continue
		}
		checkSecretLiteral(c, "secret-literal", "input", f, kv.Value)
		if f.Secret {
			secretParams(c, "input", f, kv.Value)
		}
		r.typeOf(c, s, f, kv.Value)
	}
	for _, f := range a.Inputs {
		if f.Required && !given[f.Name] {
			p := s.Uses.Pos
			if s.WithPos.Line > 0 {
				p = s.WithPos
			}
			c.Error(p, "missing-input", "%s needs input %q (%s)", s.Uses.Value, f.Name, f.Type)
		}
	}
}

// typeOf checks a literal value against the declared type; templated values
// are checked by the expressions rule, which knows their static types.
func (r *inputs) typeOf(c *Context, s *load.Step, f catalog.Field, v *load.Value) {
	if v.Template != nil || v.Scalar == nil && v.Kind == load.Scalar || f.Type == catalog.Any {
		return
	}
	if !hasTemplate(v) {
		if _, err := f.Type.Coerce(v.Plain()); err != nil && !f.Type.Accepts(v.Type()) {
			c.Error(v.Pos, "input-type", "input %q of %s: %v", f.Name, s.Uses.Value, err)
		} else if err != nil && (f.Type == catalog.Timestamp || f.Type == catalog.Duration) {
			c.Error(v.Pos, "input-type", "input %q of %s: %v", f.Name, s.Uses.Value, err)
		}
		return
	}
	if !f.Type.Accepts(v.Type()) {
		c.Error(v.Pos, "input-type", "input %q of %s: want %s, got %s", f.Name, s.Uses.Value, f.Type, v.Type())
	}
}

func hasTemplate(v *load.Value) bool {
	found := false
	v.Walk(func(x *load.Value) { found = found || x.Template != nil })
	return found
}

// secretParams warns when a param feeds a secret input: params are journaled
// with the run, so a secret belongs under secrets, where it is masked everywhere.
func secretParams(c *Context, what string, f catalog.Field, v *load.Value) {
	v.Walk(func(x *load.Value) {
		if x.Template == nil {
			return
		}
		for _, e := range x.Template.Exprs() {
			for _, ref := range c.Checker.Check(e.Source, nil).Refs {
				if ref.Root == "params" {
					c.Warn(e.Pos, "secret-param", "param %q feeds secret %s %q: declare it under secrets instead, so its value is masked everywhere, the journal included", ref.Name, what, f.Name)
				}
			}
		}
	})
}
