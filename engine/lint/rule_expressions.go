package lint

import (
	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/engine/eval"
	"github.com/alpha-orion/runbook/engine/load"
	"github.com/alpha-orion/runbook/engine/plan"
)

// expressions compiles and type-checks every guard and template, checks
// templated inputs against their declared types, and reports a step that
// reads the outputs of a step it does not depend on (a race).
type expressions struct{ Base }

func (*expressions) Name() string { return "expression" }

// RuleRace names findings about reading a step that may not have run yet.
const RuleRace = "step-race"

func (r *expressions) VisitRunbook(c *Context) {
	for _, b := range c.Runbook.Plugins {
		for _, kv := range b.Config {
			kv.Value.Walk(func(v *load.Value) {
				if v.Template == nil {
					return
				}
				for _, e := range v.Template.Exprs() {
					res := r.check(c, e, nil)
					for _, ref := range res.Refs {
						if ref.Root == "steps" {
							c.Error(eval.ExprPos(e.Pos, ref.Offset), RuleRace, "plugin configuration is read before any step runs; it cannot use steps.%s", ref.Name)
						}
					}
				}
			})
		}
	}
}

func (r *expressions) VisitStep(c *Context, s *load.Step) {
	var own *eval.StepScope
	if s.ID.Set {
		own = &eval.StepScope{ID: s.ID.Value, Open: true}
		if a, ok := c.Action(s); ok {
			own.Open, own.Outputs = false, a.Outputs
		}
	}
	guard := func(e *load.Expr, outputs *eval.StepScope) {
		if e != nil {
			r.refs(c, s, e, r.check(c, e, outputs), false)
		}
	}
	guard(s.When, nil)
	guard(s.Check, own)
	if s.Retry != nil {
		guard(s.Retry.Until, own)
	}
	r.values(c, s, s, s.Name, catalog.Field{Name: "name", Type: catalog.String}, false)
	r.values(c, s, s, s.Confirm, catalog.Field{Name: "confirm", Type: catalog.String}, false)
	r.with(c, s, s, false)
	if s.Undo != nil {
		r.with(c, s, s.Undo, true)
		r.values(c, s, s.Undo, s.Undo.Name, catalog.Field{Name: "name", Type: catalog.String}, true)
	}
}

func (r *expressions) with(c *Context, owner, body *load.Step, undo bool) {
	a, known := c.Action(body)
	for _, kv := range body.With {
		f := catalog.Field{Name: kv.Key.Value, Type: catalog.Any}
		if known {
			if decl, ok := a.Input(kv.Key.Value); ok {
				f = decl
			}
		}
		r.values(c, owner, body, kv.Value, f, undo)
	}
}

// values checks every template inside v; a value that is exactly one
// expression must have a type the field accepts.
func (r *expressions) values(c *Context, owner, body *load.Step, v *load.Value, f catalog.Field, undo bool) {
	v.Walk(func(x *load.Value) {
		if x.Template == nil {
			return
		}
		for _, e := range x.Template.Exprs() {
			res := r.check(c, e, nil)
			r.refs(c, owner, e, res, undo)
			if x == v && x.Template.Single() == e && res.Type != nil {
				got := catalog.TypeOfGo(res.Type)
				if !f.Type.Accepts(got) {
					c.Error(e.Pos, "input-type", "%s: want %s, got %s from ${{ %s }}", fieldOf(body, f), f.Type, got, e.Source)
				}
			}
		}
	})
}

func fieldOf(s *load.Step, f catalog.Field) string {
	if f.Name == "name" || f.Name == "confirm" || !s.Uses.Set {
		return f.Name
	}
	return "input \"" + f.Name + "\" of " + s.Uses.Value
}

func (r *expressions) check(c *Context, e *load.Expr, outputs *eval.StepScope) eval.Result {
	res := c.Checker.Check(e.Source, outputs)
	for _, p := range res.Problems {
		c.Error(eval.ExprPos(e.Pos, p.Offset), p.Rule, "%s", p.Message)
	}
	return res
}

// refs reports reads of steps that may not have finished when s runs.
// An undo body runs after its own step, so it may read that step too.
func (r *expressions) refs(c *Context, s *load.Step, e *load.Expr, res eval.Result, undo bool) {
	for _, ref := range res.Refs {
		if ref.Root != "steps" || ref.Field == "" {
			continue
		}
		target, ok := c.Graph.Step(ref.Name)
		if !ok {
			continue
		}
		if msg := raceMessage(c.Graph, s, target, undo); msg != "" {
			c.Error(eval.ExprPos(e.Pos, ref.Offset), RuleRace, "%s", msg)
		}
	}
}

func raceMessage(g *plan.Graph, s, target *load.Step, undo bool) string {
	id, tid := s.ID.Value, target.ID.Value
	if target == s {
		if undo {
			return ""
		}
		return "step \"" + id + "\" reads its own steps." + tid + "; use outputs in check and retry.until"
	}
	if target.Phase != s.Phase {
		if target.Phase < s.Phase {
			return "" // earlier lists have finished when later ones run
		}
		return "step \"" + id + "\" reads step \"" + tid + "\" of " + target.Phase.String() + ", which runs after it"
	}
	l := g.ListOf(s)
	i, ok1 := l.Index(id)
	j, ok2 := l.Index(tid)
	if !ok1 || !ok2 || l.DependsOn(i, j) {
		return ""
	}
	return "step \"" + id + "\" reads step \"" + tid + "\" but does not depend on it, so it may not have run; add \"" + tid + "\" to needs"
}
