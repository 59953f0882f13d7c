package lint

import (
	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/engine/load"
)

// params checks that declared params' defaults and enums fit their types.
type params struct{ Base }

func (*params) Name() string { return "param" }

func (r *params) VisitRunbook(c *Context) {
	for _, p := range c.Runbook.Params {
		t := catalog.Type(p.Type.Value)
		if !p.Type.Set || !t.Valid() {
			continue
		}
		if p.Default != nil {
			r.value(c, p, "default", t, p.Default)
			if p.Required {
				c.Warn(p.Default.Pos, r.Name(), "param %q is required and has a default; the default is never used", p.Name)
			}
		}
		for _, e := range p.Enum {
			r.value(c, p, "enum value", t, e)
		}
		if p.Default != nil && len(p.Enum) > 0 && !inEnum(p.Default, p.Enum) {
			c.Error(p.Default.Pos, r.Name(), "default of param %q is not one of its enum values", p.Name)
		}
	}
}

func (r *params) value(c *Context, p *load.Param, what string, t catalog.Type, v *load.Value) {
	if v.Template != nil {
		c.Error(v.Pos, r.Name(), "%s of param %q cannot use ${{ }}", what, p.Name)
		return
	}
	if _, err := t.Coerce(v.Plain()); err != nil {
		c.Error(v.Pos, r.Name(), "%s of param %q: %v", what, p.Name, err)
	}
}

func inEnum(v *load.Value, enum []*load.Value) bool {
	for _, e := range enum {
		if e.Kind == load.Scalar && v.Kind == load.Scalar && e.Scalar == v.Scalar {
			return true
		}
	}
	return false
}
