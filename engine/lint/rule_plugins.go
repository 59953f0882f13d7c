package lint

import (
	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/engine/diag"
	"github.com/alpha-orion/runbook/engine/load"
)

// plugins checks the `plugins:` configuration blocks against what each plugin declares.
type plugins struct{ Base }

func (*plugins) Name() string { return "plugin-config" }

func (r *plugins) VisitRunbook(c *Context) {
	for _, b := range c.Runbook.Plugins {
		p, ok := c.Catalog.Plugin(b.Name.Value)
		if !ok {
			c.Error(b.Name.Pos, "unknown-plugin", "unknown plugin %q%s", b.Name.Value, diag.Suggest(b.Name.Value, c.Catalog.PluginNames()))
			continue
		}
		given := map[string]bool{}
		for _, kv := range b.Config {
			given[kv.Key.Value] = true
			f, ok := p.ConfigField(kv.Key.Value)
			if !ok {
				c.Error(kv.Key.Pos, r.Name(), "plugin %q has no setting %q%s", p.Name, kv.Key.Value, diag.Suggest(kv.Key.Value, fieldNames(p.Config)))
				continue
			}
			checkSecretLiteral(c, r.Name(), "setting", f, kv.Value)
			if f.Secret {
				secretParams(c, "setting", f, kv.Value)
			}
		}
		for _, f := range p.Config {
			if f.Required && !given[f.Name] {
				c.Error(b.Name.Pos, r.Name(), "plugin %q needs setting %q", p.Name, f.Name)
			}
		}
	}
	reported := map[string]bool{}
	for _, s := range c.Runbook.AllSteps() {
		for _, st := range []*load.Step{s, s.Undo} {
			if st == nil || !st.Uses.Set || catalog.IsBuiltin(st.Uses.Value) {
				continue
			}
			r.needsConfig(c, st, reported)
		}
	}
}

// needsConfig reports a step whose plugin has required settings but no block.
func (r *plugins) needsConfig(c *Context, s *load.Step, reported map[string]bool) {
	name, _, ok := splitUses(s.Uses.Value)
	if !ok || reported[name] {
		return
	}
	reported[name] = true
	p, known := c.Catalog.Plugin(name)
	if !known || c.Runbook.PluginBlock(name) != nil {
		return
	}
	for _, f := range p.Config {
		if f.Required {
			c.Error(s.Uses.Pos, r.Name(), "plugin %q needs setting %q: add a plugins.%s block", name, f.Name, name)
			return
		}
	}
}

func fieldNames(fs []catalog.Field) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Name
	}
	return out
}

// checkSecretLiteral reports a secret field given as plain text in YAML.
func checkSecretLiteral(c *Context, rule, what string, f catalog.Field, v *load.Value) {
	if f.Secret && v.Kind == load.Scalar && v.Template == nil && v.Scalar != nil {
		c.Error(v.Pos, rule, "%s %q is secret: never write it in YAML; declare it under secrets and use ${{ secrets.NAME }}", what, f.Name)
	}
}
