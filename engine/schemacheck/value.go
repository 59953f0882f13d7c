package schemacheck

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"gopkg.in/yaml.v3"
)

// maxExpanded bounds the values aliases may expand to in one document.
// Aliases are expanded by walking their anchor again, so "billion laughs"
// documents stop here instead of exhausting memory and time.
const maxExpanded = 1 << 20

// converter turns a yaml.Node tree into the plain values a JSON Schema
// validator understands: map[string]any, []any, string, int64, uint64,
// float64, bool and nil.
type converter struct {
	left    int          // values aliases may still expand to
	anchors []*yaml.Node // anchors being expanded, innermost last
	outer   *yaml.Node   // the alias whose expansion the anchors serve
	bad     *yaml.Node   // where conversion gave up, if it did
	why     string       // why it gave up
}

func newConverter() *converter { return &converter{left: maxExpanded} }

// fail records the first reason conversion gave up.
func (c *converter) fail(n *yaml.Node, why string) {
	if c.bad == nil {
		c.bad, c.why = n, why
	}
}

func (c *converter) value(n *yaml.Node) any {
	if len(c.anchors) > 0 {
		if c.left--; c.left < 0 {
			c.fail(c.outer, fmt.Sprintf("aliases expand the document to more than %d values", maxExpanded))
			return nil
		}
	}
	switch n.Kind {
	case yaml.ScalarNode:
		return scalar(n)
	case yaml.MappingNode:
		return c.mapping(n)
	case yaml.SequenceNode:
		s := make([]any, len(n.Content))
		for i, e := range n.Content {
			s[i] = c.value(e)
		}
		return s
	case yaml.AliasNode:
		return c.alias(n)
	case yaml.DocumentNode:
		if len(n.Content) > 0 {
			return c.value(n.Content[0])
		}
	}
	return nil
}

// alias expands an alias again rather than sharing the anchor's value: a
// shared value would still be walked once per path by the validator, and the
// node budget is what keeps that bounded.
func (c *converter) alias(n *yaml.Node) any {
	a := n.Alias
	if a == nil {
		return nil
	}
	if slices.Contains(c.anchors, a) {
		c.fail(n, "alias *"+n.Value+" refers to an anchor that contains it")
		return nil
	}
	if len(c.anchors) == 0 {
		c.outer = n
	}
	c.anchors = append(c.anchors, a)
	v := c.value(a)
	c.anchors = c.anchors[:len(c.anchors)-1]
	return v
}

func (c *converter) mapping(n *yaml.Node) map[string]any {
	m := make(map[string]any, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if isMerge(k) {
			c.merge(m, v)
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch {
		case isMerge(k):
		default:
			m[k.Value] = c.value(v)
		}
	}
	return m
}

// merge adds the keys of a merge key's value ("<<: *defaults", or a list of
// such) to m; keys written in the mapping itself are set afterwards and win,
// and later sources win over earlier ones, as gopkg.in/yaml.v3 decodes them.
func (c *converter) merge(m map[string]any, src *yaml.Node) {
	switch v := c.value(src).(type) {
	case map[string]any:
		for k, x := range v {
			m[k] = x
		}
	case []any:
		for _, e := range v {
			if em, ok := e.(map[string]any); ok {
				for k, x := range em {
					m[k] = x
				}
			}
		}
	}
}

// isMerge reports whether k is the "<<" merge key (plain, not quoted).
func isMerge(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Value == "<<" && k.Tag == "!!merge"
}

// scalar converts a scalar by its resolved tag: the validator must see
// `concurrency: "4"` as a string and `concurrency: 4` as an integer.
func scalar(n *yaml.Node) any {
	switch n.ShortTag() {
	case "!!str":
		return n.Value
	case "!!int":
		if i, err := strconv.ParseInt(n.Value, 0, 64); err == nil {
			return i
		}
	case "!!float":
		if f, err := strconv.ParseFloat(n.Value, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return f
		}
	case "!!bool":
		switch n.Value {
		case "true", "True", "TRUE":
			return true
		case "false", "False", "FALSE":
			return false
		}
	case "!!null":
		return nil
	default:
		return n.Value
	}
	return slowScalar(n)
}

// slowScalar lets yaml.v3 decode what strconv does not: 0o17, 1_000,
// .inf, explicitly tagged values, integers beyond int64.
func slowScalar(n *yaml.Node) any {
	var v any
	if err := n.Decode(&v); err != nil {
		return n.Value
	}
	switch x := v.(type) {
	case int:
		return int64(x)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			// JSON has no NaN or infinity; any non-integral number fails
			// the same integer checks and passes the same "any" ones.
			return 0.5
		}
	case time.Time:
		return n.Value
	}
	return v
}
