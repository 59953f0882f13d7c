package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/alpha-orion/runbook/engine/eval"
	"github.com/alpha-orion/runbook/engine/load"
	"github.com/alpha-orion/runbook/plugins/host"
)

// Preflight runs before the first step of a run (and in plan): it checks
// everything the run will need and reports every problem at once, naming
// what to set, so nothing in the world changes for a run that would stop
// at its third step on a missing variable. It checks the declared secrets
// and params (in prepare), every environment variable the runbook reads,
// and each plugin the run will call: its executable is found and started,
// and it validates its configuration (Configure has no side effects).
// The state store and the lock are checked as the run starts, before any
// step.

// preflight returns the problems found, the session's own first.
func (c *Command) preflight(ctx context.Context, sess *session, m *host.Manager, plugins []string) []string {
	problems := append([]string(nil), sess.problems...)
	overridden := func(plugin, key string) bool { _, ok := sess.overrides[plugin][key]; return ok }
	for _, r := range envReads(sess.rb, overridden) {
		if sess.env[r.name] == "" {
			problems = append(problems, fmt.Sprintf("environment variable %s is not set (read by %s)", r.name, strings.Join(r.where, ", ")))
		}
	}
	if err := m.Start(ctx, plugins...); err != nil {
		for _, e := range unjoin(err) {
			problems = append(problems, sess.redactor.String(e.Error()))
		}
	}
	return problems
}

// reportPreflight prints the problems, and says nothing was changed.
func reportPreflight(w io.Writer, problems []string) {
	fmt.Fprintf(w, "runbook: preflight found %s; nothing was changed:\n", plural(len(problems), "problem"))
	for _, p := range problems {
		fmt.Fprintf(w, "  - %s\n", printable(p))
	}
}

// unjoin splits an errors.Join into its errors.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			if e != nil {
				out = append(out, unjoin(e)...)
			}
		}
		return out
	}
	return []error{err}
}

// envRead is one environment variable a runbook reads, and where.
type envRead struct {
	name  string
	where []string
}

// envReads lists the environment variables the runbook's expressions read
// without a fallback: an expression with ?? gives its own default, so a
// variable it reads may be unset. Plugin settings overridden (a drill
// points plugins at its stand-ins) are not read.
func envReads(rb *load.Runbook, overridden func(plugin, key string) bool) []envRead {
	var out []envRead
	index := map[string]int{}
	add := func(src, where string) {
		if strings.Contains(src, "??") {
			return
		}
		names, err := eval.EnvRefs(src)
		if err != nil {
			return
		}
		for _, n := range names {
			i, ok := index[n]
			if !ok {
				i = len(out)
				index[n] = i
				out = append(out, envRead{name: n})
			}
			out[i].where = append(out[i].where, where)
		}
	}
	value := func(v *load.Value, where string) {
		v.Walk(func(x *load.Value) {
			if x.Template == nil {
				return
			}
			for _, p := range x.Template.Parts {
				if p.Expr != nil {
					add(p.Expr.Source, where)
				}
			}
		})
	}
	for _, b := range rb.Plugins {
		for _, kv := range b.Config {
			if !overridden(b.Name.Value, kv.Key.Value) {
				value(kv.Value, "plugins."+b.Name.Value+"."+kv.Key.Value)
			}
		}
	}
	var step func(s *load.Step, label string)
	step = func(s *load.Step, label string) {
		if s == nil {
			return
		}
		for _, kv := range s.With {
			value(kv.Value, label+" input "+kv.Key.Value)
		}
		if s.When != nil {
			add(s.When.Source, label+" when")
		}
		if s.Check != nil {
			add(s.Check.Source, label+" check")
		}
		if s.Confirm != nil {
			value(s.Confirm, label+" confirm")
		}
		step(s.Undo, label+" undo")
	}
	for _, s := range rb.AllSteps() {
		step(s, "step "+s.ID.Value)
	}
	return out
}
