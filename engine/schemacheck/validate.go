package schemacheck

import (
	"encoding/json"
	"math"
	"regexp"
	"slices"
	"strconv"
	"sync"
)

//go:generate go run ./internal/schemagen/cmd -in ../../schema/runbook.schema.json -out schema_gen.go

// schemaNode is one schema of the compiled table (schema_gen.go), made by
// schemagen from runbook.schema.json at build time. Its fields are the
// keywords the schema uses; schemagen refuses any other.
type schemaNode struct {
	loc         string   // the schema's JSON pointer, "#/$defs/step"
	types       []string // "type"; empty means any
	props       []schemaProp
	patterns    []schemaProp // patternProperties: name is the regular expression
	additional  int          // anyAdditional, noAdditional, or the node extra keys must match
	required    []string
	items       int // the node every item must match, or -1
	ref         int // the node "$ref" names, or -1
	minItems    int // -1 when absent
	enum        []any
	hasConst    bool
	constVal    any
	pattern     string
	hasMinimum  bool
	minimum     float64
	uniqueItems bool
	allOf       []int // every node must match
	anyOf       []int // one node at least must match
	ifNode      int   // when v matches ifNode (not 0), it must match thenNode
	thenNode    int
}

// schemaProp is one entry of properties or patternProperties.
type schemaProp struct {
	name string
	node int
}

// Values of schemaNode.additional that are not node indexes.
const (
	anyAdditional = -1
	noAdditional  = -2
)

// violation is one keyword a value breaks.
type violation struct {
	keyword string   // "type", "required", "additionalProperties", ...
	path    []string // where the value is, as JSON pointer tokens
	node    *schemaNode
	names   []string // additionalProperties: the extra keys; required: the missing ones
	dup     int      // uniqueItems: the index of the second of two equal items
}

// patterns holds the compiled regular expressions of the table, compiled
// together the first time a document is validated.
var patterns = sync.OnceValue(func() map[string]*regexp.Regexp {
	out := map[string]*regexp.Regexp{}
	for _, n := range schemaNodes {
		res := []string{n.pattern}
		for _, p := range n.patterns {
			res = append(res, p.name)
		}
		for _, re := range res {
			if re != "" {
				out[re] = regexp.MustCompile(re) // schemagen's tests compile them all
			}
		}
	}
	return out
})

// validate appends to out what v breaks of schemaNodes[i], and of the
// schemas below it, at path.
func validate(i int, v any, path []string, out *[]violation) {
	n := &schemaNodes[i]
	// The library this table stands in for stops at the first of type,
	// const and enum that fails; so does the table.
	if len(n.types) > 0 && !slices.ContainsFunc(n.types, func(t string) bool { return hasType(v, t) }) {
		*out = append(*out, violation{keyword: "type", path: path, node: n})
		return
	}
	if n.hasConst && !equal(v, n.constVal) {
		*out = append(*out, violation{keyword: "const", path: path, node: n})
		return
	}
	if len(n.enum) > 0 && !slices.ContainsFunc(n.enum, func(e any) bool { return equal(v, e) }) {
		*out = append(*out, violation{keyword: "enum", path: path, node: n})
		return
	}
	if n.ref >= 0 {
		validate(n.ref, v, path, out)
	}
	for _, a := range n.allOf {
		validate(a, v, path, out)
	}
	if len(n.anyOf) > 0 && !slices.ContainsFunc(n.anyOf, func(a int) bool { return valid(a, v) }) {
		for _, a := range n.anyOf {
			validate(a, v, path, out)
		}
	}
	if n.ifNode > 0 && valid(n.ifNode, v) {
		validate(n.thenNode, v, path, out)
	}
	switch x := v.(type) {
	case string:
		if n.pattern != "" && !patterns()[n.pattern].MatchString(x) {
			*out = append(*out, violation{keyword: "pattern", path: path, node: n})
		}
	case map[string]any:
		if len(n.required) > 0 || len(n.props) > 0 || len(n.patterns) > 0 || n.additional != anyAdditional {
			validateObject(n, x, path, out)
		}
	case []any:
		if n.minItems >= 0 && len(x) < n.minItems {
			*out = append(*out, violation{keyword: "minItems", path: path, node: n})
		}
		if n.uniqueItems {
			if dup := duplicate(x); dup > 0 {
				*out = append(*out, violation{keyword: "uniqueItems", path: path, node: n, dup: dup})
			}
		}
		if n.items >= 0 {
			for j, e := range x {
				validate(n.items, e, append(slices.Clip(path), strconv.Itoa(j)), out)
			}
		}
	default:
		if f, ok := number(v); ok && n.hasMinimum && f < n.minimum {
			*out = append(*out, violation{keyword: "minimum", path: path, node: n})
		}
	}
}

// valid reports whether v matches schemaNodes[i], as validate would find
// no violation, without collecting them: the table asks it of every step
// for every action's if, so it stops at the first failure and allocates
// nothing.
func valid(i int, v any) bool {
	n := &schemaNodes[i]
	switch {
	case len(n.types) > 0 && !slices.ContainsFunc(n.types, func(t string) bool { return hasType(v, t) }):
		return false
	case n.hasConst && !equal(v, n.constVal):
		return false
	case len(n.enum) > 0 && !slices.ContainsFunc(n.enum, func(e any) bool { return equal(v, e) }):
		return false
	case n.ref >= 0 && !valid(n.ref, v):
		return false
	case len(n.anyOf) > 0 && !slices.ContainsFunc(n.anyOf, func(a int) bool { return valid(a, v) }):
		return false
	case n.ifNode > 0 && valid(n.ifNode, v) && !valid(n.thenNode, v):
		return false
	}
	for _, a := range n.allOf {
		if !valid(a, v) {
			return false
		}
	}
	switch x := v.(type) {
	case string:
		return n.pattern == "" || patterns()[n.pattern].MatchString(x)
	case map[string]any:
		return validObject(n, x)
	case []any:
		if n.minItems >= 0 && len(x) < n.minItems || n.uniqueItems && duplicate(x) > 0 {
			return false
		}
		if n.items >= 0 {
			for _, e := range x {
				if !valid(n.items, e) {
					return false
				}
			}
		}
		return true
	}
	f, ok := number(v)
	return !ok || !n.hasMinimum || f >= n.minimum
}

func validObject(n *schemaNode, m map[string]any) bool {
	for _, r := range n.required {
		if _, ok := m[r]; !ok {
			return false
		}
	}
	if n.additional == anyAdditional && len(n.patterns) == 0 {
		// Only the declared properties constrain: look them up (an if
		// names one) rather than walk every key.
		for _, p := range n.props {
			if e, ok := m[p.name]; ok && !valid(p.node, e) {
				return false
			}
		}
		return true
	}
	for k, e := range m {
		known := false
		for _, p := range n.props {
			if p.name == k {
				if known = true; !valid(p.node, e) {
					return false
				}
			}
		}
		for _, p := range n.patterns {
			if patterns()[p.name].MatchString(k) {
				if known = true; !valid(p.node, e) {
					return false
				}
			}
		}
		switch {
		case known || n.additional == anyAdditional:
		case n.additional == noAdditional:
			return false
		case !valid(n.additional, e):
			return false
		}
	}
	return true
}

func validateObject(n *schemaNode, m map[string]any, path []string, out *[]violation) {
	var missing []string
	for _, r := range n.required {
		if _, ok := m[r]; !ok {
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		*out = append(*out, violation{keyword: "required", path: path, node: n, names: missing})
	}
	var extra []string
	for _, k := range sortedKeys(m) {
		at := append(slices.Clip(path), k)
		known := false
		for _, p := range n.props {
			if p.name == k {
				known = true
				validate(p.node, m[k], at, out)
			}
		}
		for _, p := range n.patterns {
			if patterns()[p.name].MatchString(k) {
				known = true
				validate(p.node, m[k], at, out)
			}
		}
		switch {
		case known || n.additional == anyAdditional:
		case n.additional == noAdditional:
			extra = append(extra, k)
		default:
			validate(n.additional, m[k], at, out)
		}
	}
	if len(extra) > 0 {
		*out = append(*out, violation{keyword: "additionalProperties", path: path, node: n, names: extra})
	}
}

// hasType reports whether v, a value as the converter makes them, is of
// the JSON type t.
func hasType(v any, t string) bool {
	switch t {
	case "null":
		return v == nil
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "number":
		_, ok := number(v)
		return ok
	case "integer":
		f, ok := number(v)
		return ok && f == math.Trunc(f)
	}
	return false
}

// number returns a numeric value as a float64.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// equal is JSON equality: numbers by value, lists and mappings deeply.
func equal(a, b any) bool {
	if x, ok := number(a); ok {
		y, ok := number(b)
		return ok && x == y
	}
	switch x := a.(type) {
	case []any:
		y, ok := b.([]any)
		return ok && slices.EqualFunc(x, y, equal)
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, e := range x {
			f, ok := y[k]
			if !ok || !equal(e, f) {
				return false
			}
		}
		return true
	}
	return a == b
}

// duplicate returns the index of the first item equal to an earlier one,
// or 0. Items are keyed by their JSON text, so a long list costs linear time.
func duplicate(items []any) int {
	seen := make(map[string]bool, len(items))
	for j, e := range items {
		key, err := json.Marshal(canonical(e))
		if err != nil {
			continue
		}
		if seen[string(key)] {
			return j
		}
		seen[string(key)] = true
	}
	return 0
}

// canonical makes numbers of equal value encode alike: 3 and 3.0.
func canonical(v any) any {
	switch x := v.(type) {
	case int64, uint64, float64:
		f, _ := number(x)
		return f
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = canonical(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = canonical(e)
		}
		return out
	}
	return v
}
