package lint

import (
	"strings"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/engine/diag"
	"github.com/alpha-orion/runbook/engine/load"
)

// actions checks that `uses` names a known built-in or plugin action.
type actions struct{ Base }

func (*actions) Name() string { return "unknown-action" }

func splitUses(uses string) (plugin, action string, ok bool) {
	return strings.Cut(uses, ".")
}

func (r *actions) VisitStep(c *Context, s *load.Step) {
	r.check(c, s)
	if s.Undo != nil {
		r.check(c, s.Undo)
	}
}

func (r *actions) check(c *Context, s *load.Step) {
	if !s.Uses.Set {
		return
	}
	uses := s.Uses.Value
	if _, ok := c.Catalog.Action(uses); ok {
		return
	}
	plugin, _, dotted := splitUses(uses)
	if !dotted {
		c.Error(s.Uses.Pos, r.Name(), "unknown action %q: use a built-in (%s) or PLUGIN.ACTION%s", uses,
			strings.Join([]string{catalog.BuiltinLog, catalog.BuiltinWait, catalog.BuiltinAssert, catalog.BuiltinManual, catalog.BuiltinApproval}, ", "),
			diag.Suggest(uses, c.Catalog.ActionNames()))
		return
	}
	if _, ok := c.Catalog.Plugin(plugin); !ok {
		c.Error(s.Uses.Pos, "unknown-plugin", "unknown plugin %q in %q%s", plugin, uses, diag.Suggest(plugin, c.Catalog.PluginNames()))
		return
	}
	c.Error(s.Uses.Pos, r.Name(), "plugin %q has no action %q%s", plugin, uses, diag.Suggest(uses, c.Catalog.ActionNames()))
}
