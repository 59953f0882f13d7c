// Package schemagen compiles the runbook language's JSON Schema into a Go
// table at build time (go generate in engine/schemacheck), so that the
// runbook binary validates documents without linking a JSON Schema library
// or compiling the schema when it starts. It accepts exactly the keywords
// the schema uses and fails on any other, so a schema change that needs a
// keyword the table cannot express is caught when it is generated; the
// schemacheck tests compare the table's verdicts with a JSON Schema library's.
package schemagen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/format"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// annotations are keywords that do not constrain a value.
var annotations = map[string]bool{
	"$schema": true, "$id": true, "title": true, "description": true, "examples": true, "default": true,
	"$comment": true, "deprecated": true, "markdownDescription": true,
}

// typeOrder is the order messages name JSON types in.
var typeOrder = []string{"null", "boolean", "number", "integer", "string", "array", "object"}

// node is one schema object of the document, at its JSON pointer.
type node struct {
	loc         string
	types       []string
	props       []prop
	patterns    []prop // patternProperties: name is the regular expression
	additional  string // "any", "none", or "node"
	addNode     int
	required    []string
	items       int
	enum        []any
	hasConst    bool
	constVal    any
	pattern     string
	minItems    int
	hasMinimum  bool
	minimum     float64
	uniqueItems bool
	ref         int
	allOf       []int
	anyOf       []int
	ifNode      int // -1 when absent
	thenNode    int // -1 when absent
}

type prop struct {
	name string
	node int
}

type compiler struct {
	root  map[string]any
	nodes []*node
	byLoc map[string]int
}

// Generate returns the Go source of package pkg holding the table for the
// schema src.
func Generate(src []byte, pkg, origin string) ([]byte, error) {
	var root map[string]any
	dec := json.NewDecoder(bytes.NewReader(src))
	dec.UseNumber()
	if err := dec.Decode(&root); err != nil {
		return nil, fmt.Errorf("schemagen: %w", err)
	}
	if s, _ := root["$schema"].(string); s != "https://json-schema.org/draft/2020-12/schema" {
		return nil, fmt.Errorf("schemagen: $schema is %q; only draft 2020-12 is compiled", s)
	}
	c := &compiler{root: root, byLoc: map[string]int{}}
	if _, err := c.compile(root, "#"); err != nil {
		return nil, err
	}
	return c.emit(pkg, origin)
}

// compile adds the schema v at loc (once) and returns its index.
func (c *compiler) compile(v any, loc string) (int, error) {
	if i, ok := c.byLoc[loc]; ok {
		return i, nil
	}
	if b, ok := v.(bool); ok {
		// true accepts anything; false is not used by the schema.
		if !b {
			return 0, fmt.Errorf("schemagen: %s: the false schema is not supported", loc)
		}
		v = map[string]any{}
	}
	m, ok := v.(map[string]any)
	if !ok {
		return 0, fmt.Errorf("schemagen: %s: a schema must be an object or true", loc)
	}
	n := &node{loc: loc, additional: "any", items: -1, minItems: -1, ref: -1, ifNode: -1, thenNode: -1}
	idx := len(c.nodes)
	c.nodes = append(c.nodes, n)
	c.byLoc[loc] = idx
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		val := m[k]
		at := loc + "/" + escape(k)
		var err error
		switch k {
		case "$defs":
			defs, _ := val.(map[string]any)
			for _, name := range sortedKeys(defs) {
				if _, err := c.compile(defs[name], at+"/"+escape(name)); err != nil {
					return 0, err
				}
			}
		case "type":
			switch t := val.(type) {
			case string:
				n.types = []string{t}
			case []any:
				for _, e := range t {
					s, _ := e.(string)
					n.types = append(n.types, s)
				}
			}
			for _, t := range n.types {
				if !slices.Contains(typeOrder, t) {
					return 0, fmt.Errorf("schemagen: %s: unknown type %q", at, t)
				}
			}
			// Messages name the types in one order, whatever the schema's.
			slices.SortFunc(n.types, func(a, b string) int { return slices.Index(typeOrder, a) - slices.Index(typeOrder, b) })
		case "properties":
			props, _ := val.(map[string]any)
			for _, name := range sortedKeys(props) {
				i, err := c.compile(props[name], at+"/"+escape(name))
				if err != nil {
					return 0, err
				}
				n.props = append(n.props, prop{name, i})
			}
		case "patternProperties":
			pats, _ := val.(map[string]any)
			for _, re := range sortedKeys(pats) {
				i, err := c.compile(pats[re], at+"/"+escape(re))
				if err != nil {
					return 0, err
				}
				n.patterns = append(n.patterns, prop{re, i})
			}
		case "additionalProperties":
			if b, ok := val.(bool); ok {
				if !b {
					n.additional = "none"
				}
				break
			}
			n.additional = "node"
			n.addNode, err = c.compile(val, at)
		case "required":
			for _, e := range val.([]any) {
				n.required = append(n.required, e.(string))
			}
		case "items":
			n.items, err = c.compile(val, at)
		case "enum":
			for _, e := range val.([]any) {
				n.enum = append(n.enum, plainJSON(e))
			}
		case "const":
			n.hasConst, n.constVal = true, plainJSON(val)
		case "pattern":
			n.pattern = val.(string)
		case "minItems":
			v, _ := strconv.Atoi(string(val.(json.Number)))
			n.minItems = v
		case "minimum":
			n.hasMinimum = true
			n.minimum, _ = val.(json.Number).Float64()
		case "uniqueItems":
			n.uniqueItems, _ = val.(bool)
		case "allOf", "anyOf":
			list, ok := val.([]any)
			if !ok || len(list) == 0 {
				return 0, fmt.Errorf("schemagen: %s: %s must be a non-empty list", at, k)
			}
			for j, sub := range list {
				i, err := c.compile(sub, at+"/"+strconv.Itoa(j))
				if err != nil {
					return 0, err
				}
				if k == "allOf" {
					n.allOf = append(n.allOf, i)
				} else {
					n.anyOf = append(n.anyOf, i)
				}
			}
		case "if":
			n.ifNode, err = c.compile(val, at)
		case "then":
			n.thenNode, err = c.compile(val, at)
		case "$ref":
			ref, _ := val.(string)
			target, ok := c.resolve(ref)
			if !ok {
				return 0, fmt.Errorf("schemagen: %s: cannot resolve $ref %q (only local #/$defs/NAME references are compiled)", at, ref)
			}
			n.ref, err = c.compile(target, ref)
		default:
			if !annotations[k] {
				return 0, fmt.Errorf("schemagen: %s: keyword %q is not compiled; add it to schemagen and to the schemacheck validator", at, k)
			}
		}
		if err != nil {
			return 0, err
		}
	}
	if (n.ifNode >= 0) != (n.thenNode >= 0) {
		return 0, fmt.Errorf("schemagen: %s: if and then must come together (else is not compiled)", loc)
	}
	return idx, nil
}

// resolve finds a local reference's target: "#/$defs/NAME".
func (c *compiler) resolve(ref string) (any, bool) {
	name, ok := strings.CutPrefix(ref, "#/$defs/")
	if !ok || strings.Contains(name, "/") {
		return nil, false
	}
	defs, _ := c.root["$defs"].(map[string]any)
	v, ok := defs[name]
	return v, ok
}

// plainJSON turns a json.Number into float64 for the table.
func plainJSON(v any) any {
	if n, ok := v.(json.Number); ok {
		f, _ := n.Float64()
		return f
	}
	return v
}

func (c *compiler) emit(pkg, origin string) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by schemagen from %s; DO NOT EDIT.\n\npackage %s\n\n", origin, pkg)
	b.WriteString("// schemaNodes is the compiled schema: schemaNodes[0] is the root.\nvar schemaNodes = []schemaNode{\n")
	for i, n := range c.nodes {
		fmt.Fprintf(&b, "\t%d: {loc: %q", i, n.loc)
		if len(n.types) > 0 {
			fmt.Fprintf(&b, ", types: %#v", n.types)
		}
		if len(n.props) > 0 {
			b.WriteString(", props: []schemaProp{")
			for _, p := range n.props {
				fmt.Fprintf(&b, "{%q, %d}, ", p.name, p.node)
			}
			b.WriteString("}")
		}
		if len(n.patterns) > 0 {
			b.WriteString(", patterns: []schemaProp{")
			for _, p := range n.patterns {
				fmt.Fprintf(&b, "{%q, %d}, ", p.name, p.node)
			}
			b.WriteString("}")
		}
		switch n.additional {
		case "none":
			b.WriteString(", additional: noAdditional")
		case "node":
			fmt.Fprintf(&b, ", additional: %d", n.addNode)
		default:
			b.WriteString(", additional: anyAdditional")
		}
		if len(n.required) > 0 {
			fmt.Fprintf(&b, ", required: %#v", n.required)
		}
		fmt.Fprintf(&b, ", items: %d, ref: %d, minItems: %d", n.items, n.ref, n.minItems)
		if len(n.enum) > 0 {
			b.WriteString(", enum: []any{")
			for _, e := range n.enum {
				b.WriteString(goValue(e) + ", ")
			}
			b.WriteString("}")
		}
		if n.hasConst {
			fmt.Fprintf(&b, ", hasConst: true, constVal: %s", goValue(n.constVal))
		}
		if n.pattern != "" {
			fmt.Fprintf(&b, ", pattern: %q", n.pattern)
		}
		if n.hasMinimum {
			fmt.Fprintf(&b, ", hasMinimum: true, minimum: %s", goValue(n.minimum))
		}
		if n.uniqueItems {
			b.WriteString(", uniqueItems: true")
		}
		if len(n.allOf) > 0 {
			fmt.Fprintf(&b, ", allOf: %#v", n.allOf)
		}
		if len(n.anyOf) > 0 {
			fmt.Fprintf(&b, ", anyOf: %#v", n.anyOf)
		}
		if n.ifNode >= 0 {
			fmt.Fprintf(&b, ", ifNode: %d, thenNode: %d", n.ifNode, n.thenNode)
		}
		b.WriteString("},\n")
	}
	b.WriteString("}\n")
	return format.Source(b.Bytes())
}

// goValue writes a JSON constant as a Go literal.
func goValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "nil"
	case string:
		return strconv.Quote(x)
	case bool:
		return strconv.FormatBool(x)
	case float64:
		if x == math.Trunc(x) {
			return "float64(" + strconv.FormatFloat(x, 'f', -1, 64) + ")"
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	return fmt.Sprintf("%#v", v)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// escape escapes a JSON pointer token.
func escape(tok string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(tok)
}
