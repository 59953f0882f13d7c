// Package lint checks a loaded runbook against the language's rules and the
// action catalogue. Each rule is a pass in its own file: the linter walks the
// runbook once and calls every rule's visit methods, so adding a rule touches
// one file and one test.
package lint

import (
	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/engine/diag"
	"github.com/alpha-orion/runbook/engine/eval"
	"github.com/alpha-orion/runbook/engine/load"
	"github.com/alpha-orion/runbook/engine/plan"
	"github.com/alpha-orion/runbook/engine/schemacheck"
)

// Rule is one lint pass. Embed Base to get no-op defaults.
type Rule interface {
	// Name is the rule's name as shown in [brackets]; a rule may report several.
	Name() string
	// VisitRunbook is called once, before the steps.
	VisitRunbook(c *Context)
	// VisitStep is called for every step of every list, in file order.
	VisitStep(c *Context, s *load.Step)
}

// Base gives a Rule no-op visit methods.
type Base struct{}

// VisitRunbook does nothing.
func (Base) VisitRunbook(*Context) {}

// VisitStep does nothing.
func (Base) VisitStep(*Context, *load.Step) {}

// Context is what rules see and where they report.
type Context struct {
	Runbook *load.Runbook
	Graph   *plan.Graph
	Catalog *catalog.Catalog
	Checker *eval.Checker
	diags   diag.List
}

// Error reports an error finding.
func (c *Context) Error(p diag.Pos, rule, format string, args ...any) {
	c.diags.Add(c.Runbook.File, p, rule, format, args...)
}

// Warn reports a warning finding.
func (c *Context) Warn(p diag.Pos, rule, format string, args ...any) {
	c.diags.Warn(c.Runbook.File, p, rule, format, args...)
}

// Action returns the catalogue entry a step uses, if known.
func (c *Context) Action(s *load.Step) (*catalog.Action, bool) {
	if !s.Uses.Set {
		return nil, false
	}
	return c.Catalog.Action(s.Uses.Value)
}

// Rules returns a fresh instance of every rule, in the order they run.
func Rules() []Rule {
	return []Rule{
		&fileName{},
		&durations{},
		&retries{},
		&params{},
		&plugins{},
		&actions{},
		&inputs{},
		&expressions{},
		&confirms{},
		&sqlTemplates{},
	}
}

// Runbook lints one loaded runbook, schema included, and returns every finding, sorted.
func Runbook(rb *load.Runbook, cat *catalog.Catalog) diag.List {
	var out diag.List
	if rb.Doc == nil {
		return out
	}
	out = append(out, schemacheck.Check(rb.File, rb.Doc)...)
	g, gd := plan.Build(rb)
	out = append(out, gd...)
	c := &Context{Runbook: rb, Graph: g, Catalog: cat, Checker: eval.NewChecker(ScopeOf(rb, cat))}
	rules := Rules()
	for _, r := range rules {
		r.VisitRunbook(c)
	}
	for _, s := range rb.AllSteps() {
		for _, r := range rules {
			r.VisitStep(c, s)
		}
	}
	out = append(out, c.diags...)
	out.Sort()
	return out
}

// Bytes loads and lints one file's content.
func Bytes(file string, src []byte, cat *catalog.Catalog) (*load.Runbook, diag.List) {
	rb, diags := load.Bytes(file, src)
	diags = append(diags, Runbook(rb, cat)...)
	diags = Suppress(rb, diags)
	diags.Sort()
	return rb, diags
}

// ScopeOf builds the expression scope of a runbook from its declarations and the catalogue.
func ScopeOf(rb *load.Runbook, cat *catalog.Catalog) *eval.Scope {
	sc := &eval.Scope{}
	for _, p := range rb.Params {
		t := catalog.Type(p.Type.Value)
		if !t.Valid() {
			t = catalog.Any
		}
		sc.Params = append(sc.Params, catalog.Field{Name: p.Name, Type: t})
	}
	seen := map[string]bool{}
	for _, s := range rb.Secrets {
		if !seen[s.Value] {
			seen[s.Value] = true
			sc.Secrets = append(sc.Secrets, s.Value)
		}
	}
	ids := map[string]bool{}
	for _, s := range rb.AllSteps() {
		if !s.ID.Set || ids[s.ID.Value] {
			continue
		}
		ids[s.ID.Value] = true
		st := eval.StepScope{ID: s.ID.Value, Open: true}
		if a, ok := cat.Action(s.Uses.Value); ok && s.Uses.Set {
			st.Open, st.Outputs = false, a.Outputs
		}
		sc.Steps = append(sc.Steps, st)
	}
	return sc
}
