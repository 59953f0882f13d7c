package load

import (
	"math"
	"strconv"
	"strings"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/engine/diag"
	"gopkg.in/yaml.v3"
)

var parseDuration = catalog.ParseDuration

func (d *decoder) runbook(rb *Runbook, root *yaml.Node) {
	d.pairs(root, func(key string, k, v *yaml.Node) {
		switch key {
		case "apiVersion":
			rb.APIVersion = d.str(v)
		case "kind":
			rb.Kind = d.str(v)
		case "metadata":
			rb.Metadata = d.metadata(v)
		case "objectives":
			rb.Objectives.Pos = pos(v)
			d.pairs(v, func(key string, _, v *yaml.Node) {
				switch key {
				case "rto":
					rb.Objectives.RTO = d.duration(v)
				case "rpo":
					rb.Objectives.RPO = d.duration(v)
				}
			})
		case "params":
			d.pairs(v, func(name string, k, v *yaml.Node) { rb.Params = append(rb.Params, d.param(name, k, v)) })
		case "secrets":
			rb.Secrets = d.strings(v)
		case "plugins":
			d.pairs(v, func(name string, k, v *yaml.Node) {
				rb.Plugins = append(rb.Plugins, &PluginBlock{Name: String{Value: name, Pos: pos(k), Set: true}, Config: d.fields(v, 0)})
			})
		case "concurrency":
			rb.Concurrency = d.integer(v)
		case "timeout":
			rb.Timeout = d.duration(v)
		case "steps":
			rb.Steps = d.steps(v, Main)
		case "on_failure":
			rb.OnFailure = d.steps(v, OnFailure)
		case "finally":
			rb.Finally = d.steps(v, Finally)
		}
	})
}

func (d *decoder) metadata(n *yaml.Node) Metadata {
	m := Metadata{Pos: pos(n)}
	d.pairs(n, func(key string, _, v *yaml.Node) {
		switch key {
		case "name":
			m.Name = d.str(v)
		case "title":
			m.Title = d.str(v)
		case "section":
			m.Section = d.str(v)
			if !m.Section.Set && v.Kind == yaml.ScalarNode && v.Tag == "!!float" {
				// section: 3.1 unquoted is a number to YAML but means the text.
				m.Section = String{Value: v.Value, Pos: pos(v), Set: true}
			}
		case "description":
			m.Description = d.str(v)
		case "owner":
			m.Owner = d.str(v)
		case "tags":
			m.Tags = d.strings(v)
		}
	})
	return m
}

func (d *decoder) param(name string, k, n *yaml.Node) *Param {
	p := &Param{Name: name, Pos: pos(k)}
	d.pairs(n, func(key string, _, v *yaml.Node) {
		switch key {
		case "type":
			p.Type = d.str(v)
		case "required":
			p.Required, _ = d.boolean(v)
		case "default":
			p.Default = d.value(v, 0)
		case "enum":
			if v.Kind == yaml.SequenceNode {
				for _, c := range v.Content {
					if val := d.value(c, 1); val != nil {
						p.Enum = append(p.Enum, val)
					}
				}
			}
		case "description":
			p.Description = d.str(v).Value
		}
	})
	return p
}

func (d *decoder) steps(n *yaml.Node, phase Phase) []*Step {
	if n.Kind != yaml.SequenceNode {
		return nil
	}
	out := make([]*Step, 0, len(n.Content))
	for i, c := range n.Content {
		c = resolve(c)
		if c == nil || c.Kind != yaml.MappingNode {
			continue
		}
		s := d.step(c)
		s.Phase, s.Index = phase, i
		out = append(out, s)
	}
	return out
}

func (d *decoder) step(n *yaml.Node) *Step {
	s := &Step{Pos: pos(n)}
	d.pairs(n, func(key string, _, v *yaml.Node) {
		switch key {
		case "id":
			s.ID = d.str(v)
		case "name":
			s.Name = d.value(v, 0)
		case "uses":
			s.Uses = d.str(v)
		case "with":
			s.WithPos = pos(v)
			s.With = d.fields(v, 0)
		case "needs":
			if v.Kind == yaml.SequenceNode {
				s.NeedsSet = true
				s.Needs = d.strings(v)
			}
		case "when":
			s.When = d.expr(v)
		case "confirm":
			s.Confirm = d.value(v, 0)
		case "timeout":
			s.Timeout = d.duration(v)
		case "retry":
			s.Retry = d.retry(v)
		case "check":
			s.Check = d.expr(v)
		case "continue_on_error":
			s.ContinueOnError, _ = d.boolean(v)
		case "undo":
			if v.Kind == yaml.MappingNode {
				u := d.step(v)
				s.Undo = u
			}
		}
	})
	return s
}

func (d *decoder) retry(n *yaml.Node) *Retry {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	r := &Retry{Pos: pos(n)}
	d.pairs(n, func(key string, _, v *yaml.Node) {
		switch key {
		case "attempts":
			r.Attempts = d.integer(v)
		case "delay":
			r.Delay = d.duration(v)
		case "backoff":
			r.Backoff = d.str(v)
		case "max_delay":
			r.MaxDelay = d.duration(v)
		case "jitter":
			if b, ok := d.boolean(v); ok {
				r.Jitter = &b
			}
		case "until":
			r.Until = d.expr(v)
		}
	})
	return r
}

func (d *decoder) fields(n *yaml.Node, depth int) []KeyValue {
	var out []KeyValue
	d.pairs(n, func(key string, k, v *yaml.Node) {
		if val := d.value(v, depth+1); val != nil {
			out = append(out, KeyValue{Key: String{Value: key, Pos: pos(k), Set: true}, Value: val})
		}
	})
	return out
}

// value converts any YAML node, expanding aliases within the node budget.
func (d *decoder) value(n *yaml.Node, depth int) *Value {
	n = resolve(n)
	if n == nil {
		return nil
	}
	if depth > MaxDepth {
		d.diags.Add(d.file, pos(n), RuleNesting, "values nest deeper than %d levels", MaxDepth)
		return nil
	}
	if d.budget--; d.budget < 0 {
		if d.budget == -1 {
			d.diags.Add(d.file, pos(n), RuleAlias, "file expands to more than %d values (aliases included); is an alias repeated many times?", MaxNodes)
		}
		return nil
	}
	v := &Value{Pos: pos(n)}
	switch n.Kind {
	case yaml.SequenceNode:
		v.Kind = List
		v.Items = make([]*Value, 0, len(n.Content))
		for _, c := range n.Content {
			if it := d.value(c, depth+1); it != nil {
				v.Items = append(v.Items, it)
			}
		}
	case yaml.MappingNode:
		v.Kind = Map
		v.Fields = d.fields(n, depth)
	case yaml.ScalarNode:
		v.Scalar = scalar(n)
		if s, ok := v.Scalar.(string); ok && HasTemplate(s) {
			tpl, err := ParseTemplate(s, d.offsetter(n))
			if err != nil {
				d.diags.Add(d.file, pos(n), RuleTemplate, "%v", err)
			} else {
				v.Template = tpl
			}
		}
	default:
		return nil
	}
	return v
}

// scalar converts a scalar node to string, int, float64, bool or nil by its tag.
func scalar(n *yaml.Node) any {
	switch n.Tag {
	case "!!null":
		return nil
	case "!!bool":
		b, err := strconv.ParseBool(strings.ToLower(n.Value))
		if err == nil {
			return b
		}
	case "!!int":
		i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
		if err == nil && i >= math.MinInt && i <= math.MaxInt {
			return int(i)
		}
	case "!!float":
		switch strings.ToLower(n.Value) {
		case ".inf", "+.inf":
			return math.Inf(1)
		case "-.inf":
			return math.Inf(-1)
		case ".nan":
			return math.NaN()
		}
		f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
		if err == nil {
			return f
		}
	}
	return n.Value
}

// PosOf is a convenience for passes holding a raw node.
func PosOf(n *yaml.Node) diag.Pos { return pos(n) }
