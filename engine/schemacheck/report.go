package schemacheck

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/alpha-orion/runbook/engine/diag"
)

// reporter turns a validation error tree into diagnostics phrased for the
// person who wrote the YAML.
type reporter struct {
	file string
	root *yaml.Node
	doc  any // root converted to plain values
	list diag.List
	// seen holds the findings made, by node and what is wrong with it: a
	// value reached through several aliases is reported once.
	seen map[finding]bool
}

type finding struct {
	node *yaml.Node
	what string
}

// report adds one diagnostic per violation, leaving out findings inside a
// value that already has the wrong type.
func (r *reporter) report(vs []violation) {
	var typed [][]string
	for _, v := range vs {
		if v.keyword == "type" {
			typed = append(typed, v.path)
		}
	}
	// Report in document order, so that a value shared through aliases is
	// named after the first path that reaches it.
	slices.SortStableFunc(vs, func(a, b violation) int {
		return comparePaths(a.path, b.path)
	})
	for _, v := range vs {
		if !inside(v.path, typed) && !catalogued(v.node) {
			r.leaf(v)
		}
	}
}

// catalogued reports whether a violation is of the schema's part generated
// from the action catalogue: an action's inputs (and the `with` that
// requires them), a plugin's configuration, or a value's type there. That
// part is for editors; validate leaves it to the lint pass, which checks
// the same against the catalogue with the types of ${{ }} expressions and
// third-party plugins, in its own words (unknown-input, missing-input,
// input-type, plugin-config).
func catalogued(n *schemaNode) bool {
	return strings.HasPrefix(n.loc, "#/$defs/with.") || strings.HasPrefix(n.loc, "#/$defs/config.") ||
		strings.HasPrefix(n.loc, "#/$defs/template") || strings.Contains(n.loc, "/allOf/")
}

// comparePaths orders instance locations token by token, list indexes numerically.
func comparePaths(a, b []string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] == b[i] {
			continue
		}
		x, errx := strconv.Atoi(a[i])
		y, erry := strconv.Atoi(b[i])
		if errx == nil && erry == nil {
			return x - y
		}
		return strings.Compare(a[i], b[i])
	}
	return len(a) - len(b)
}

// inside reports whether path lies strictly below one of the parents.
func inside(path []string, parents [][]string) bool {
	for _, p := range parents {
		if len(p) < len(path) && slices.Equal(p, path[:len(p)]) {
			return true
		}
	}
	return false
}

// add reports what is wrong with n, unless it was reported already.
func (r *reporter) add(n *yaml.Node, what, rule, format string, args ...any) {
	f := finding{n, what}
	if r.seen[f] {
		return
	}
	if r.seen == nil {
		r.seen = map[finding]bool{}
	}
	r.seen[f] = true
	r.list.Add(r.file, pos(n), rule, format, args...)
}

func (r *reporter) leaf(v violation) {
	path := v.path
	_, n := locate(r.root, path)
	switch v.keyword {
	case "additionalProperties":
		for _, p := range v.names {
			r.unknownKey(v.node, path, p)
		}
	case "required":
		for _, m := range v.names {
			r.add(n, "missing "+m, RuleRequiredKey, "missing required key %q%s", m, r.where(path))
		}
	case "type":
		r.typeError(v.node, path, n, v.node.types)
	case "enum":
		r.enum(path, n, v.node.enum)
	case "const":
		r.add(n, RuleEnum, RuleEnum, "%s must be %s, got %s", r.label(path), plain(v.node.constVal), text(n))
	case "pattern":
		r.pattern(path, n, v.node.pattern)
	case "minItems":
		r.minItems(path, n, v.node.minItems)
	case "minimum":
		r.add(n, "minimum", RuleSchema, "%s must be at least %s, got %s", r.label(path), strconv.FormatFloat(v.node.minimum, 'f', -1, 64), text(n))
	case "uniqueItems":
		dup := append(slices.Clip(path), strconv.Itoa(v.dup))
		_, d := locate(r.root, dup)
		r.add(d, "unique", RuleSchema, "%s lists %s twice", r.label(path), text(d))
	default:
		r.add(n, v.keyword, RuleSchema, "%s breaks the schema's %q rule", r.label(path), v.keyword)
	}
}

func (r *reporter) unknownKey(node *schemaNode, path []string, key string) {
	k, _ := locate(r.root, append(slices.Clip(path), key))
	obj := objectOf(node)
	if len(obj.patterns) > 0 {
		// A map whose keys are names (params): the name is wrong, not the key.
		re := strings.Join(obj.patterns, " or ")
		if slices.Equal(path, []string{"params"}) {
			r.add(k, RulePattern, RulePattern, "param name %q must match %s", key, re)
		} else {
			r.add(k, RulePattern, RulePattern, "key %q%s must match %s", key, r.where(path), re)
		}
		return
	}
	where := r.where(path)
	if where == "" {
		where = " at top level"
	}
	msg := fmt.Sprintf("unknown key %q%s", key, where)
	if s := suggest(key, obj.keys); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	}
	r.add(k, RuleUnknownKey, RuleUnknownKey, "%s", msg)
}

func (r *reporter) typeError(node *schemaNode, path []string, n *yaml.Node, want []string) {
	got := deref(n)
	phrase := wantPhrase(want)
	duration := node.loc == "#/$defs/duration"
	if duration {
		phrase = "a duration such as 30s or 10m"
	}
	msg := fmt.Sprintf("%s must be %s, got %s", r.label(path), phrase, typeName(got))
	if got.Kind == yaml.ScalarNode && got.ShortTag() != "!!null" {
		switch {
		case slices.Contains(want, "string") && !duration:
			msg += fmt.Sprintf("; quote it: %q", got.Value)
		case slices.Equal(want, []string{"array"}):
			msg += fmt.Sprintf("; write [%s]", got.Value)
		}
	}
	r.add(n, RuleType, RuleType, "%s", msg)
}

func (r *reporter) enum(path []string, n *yaml.Node, want []any) {
	names := make([]string, len(want))
	for i, w := range want {
		names[i] = plain(w)
	}
	msg := fmt.Sprintf("%s must be one of %s, got %s", r.label(path), strings.Join(names, ", "), text(n))
	if got := deref(n); got.Kind == yaml.ScalarNode {
		if s := suggest(got.Value, names); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		}
	}
	r.add(n, RuleEnum, RuleEnum, "%s", msg)
}

func (r *reporter) pattern(path []string, n *yaml.Node, re string) {
	got := deref(n).Value
	switch {
	case len(path) == 3 && isStepList(path[0]) && path[2] == "id":
		r.add(n, RulePattern, RulePattern, "step id %q must match %s", got, re)
	case slices.Equal(path, []string{"metadata", "name"}):
		r.add(n, RulePattern, RulePattern, "runbook name %q must match %s", got, re)
	case len(path) == 2 && path[0] == "secrets":
		r.add(n, RulePattern, RulePattern, "secret name %q must match %s", got, re)
	default:
		r.add(n, RulePattern, RulePattern, "%s must match %s, got %q", r.label(path), re, got)
	}
}

func (r *reporter) minItems(path []string, n *yaml.Node, want int) {
	if want == 1 {
		r.add(n, "minItems", RuleSchema, "%s must not be empty", r.label(path))
		return
	}
	r.add(n, "minItems", RuleSchema, "%s must have at least %d entries", r.label(path), want)
}

// isStepList reports whether a top-level key holds a list of steps.
func isStepList(key string) bool {
	return key == "steps" || key == "on_failure" || key == "finally"
}

// label names the value at path for a message: `"timeout" in step "restore"`,
// `"needs[1]" in step "verify"`, `param "region"`, `the runbook`.
func (r *reporter) label(path []string) string {
	if len(path) == 0 {
		return "the runbook"
	}
	if len(path) == 2 && path[0] == "params" {
		return fmt.Sprintf("param %q", path[1])
	}
	if len(path) == 2 && path[0] == "plugins" {
		return fmt.Sprintf("plugin %q", path[1])
	}
	idx := r.indexes(path)
	j := len(path) - 1
	for j > 0 && idx[j] {
		j--
	}
	return strconv.Quote(dotted(path[j:], idx[j:])) + r.where(path[:j])
}

// where says which object path is, as a suffix for a message: ` in step
// "restore"`, ` in retry of step "restore"`, ` in metadata`; "" at the top.
func (r *reporter) where(path []string) string {
	switch {
	case len(path) == 0:
		return ""
	case len(path) >= 2 && isStepList(path[0]):
		step := r.step(path[0], path[1])
		if len(path) == 2 {
			return " in " + step
		}
		return " in " + dotted(path[2:], r.indexes(path)[2:]) + " of " + step
	case len(path) == 2 && path[0] == "params":
		return fmt.Sprintf(" in param %q", path[1])
	case len(path) == 2 && path[0] == "plugins":
		return fmt.Sprintf(" in plugin %q", path[1])
	}
	return " in " + dotted(path, r.indexes(path))
}

// step names the step at list[i]: `step "restore"`, or `steps[2]` when it has no usable id.
func (r *reporter) step(list, i string) string {
	top, _ := r.doc.(map[string]any)
	steps, _ := top[list].([]any)
	n, err := strconv.Atoi(i)
	if err == nil && n >= 0 && n < len(steps) {
		if s, ok := steps[n].(map[string]any); ok {
			if id, ok := s["id"].(string); ok && id != "" {
				return fmt.Sprintf("step %q", id)
			}
		}
	}
	return list + "[" + i + "]"
}

// indexes reports, for each token of path, whether it indexes a list.
func (r *reporter) indexes(path []string) []bool {
	idx := make([]bool, len(path))
	v := r.doc
	for i, tok := range path {
		switch x := v.(type) {
		case map[string]any:
			v = x[tok]
		case []any:
			idx[i] = true
			n, _ := strconv.Atoi(tok)
			if n < 0 || n >= len(x) {
				return idx
			}
			v = x[n]
		default:
			return idx
		}
	}
	return idx
}

// dotted writes a relative path as keys joined by dots, list indexes in brackets.
func dotted(path []string, idx []bool) string {
	var b strings.Builder
	for i, tok := range path {
		switch {
		case idx[i]:
			b.WriteString("[" + tok + "]")
		case i > 0:
			b.WriteString("." + tok)
		default:
			b.WriteString(tok)
		}
	}
	return b.String()
}

// wantPhrase names the JSON types a schema wants in YAML terms: "an integer", "a list".
func wantPhrase(want []string) string {
	names := make([]string, len(want))
	for i, w := range want {
		switch w {
		case "object":
			names[i] = "a mapping"
		case "array":
			names[i] = "a list"
		case "integer":
			names[i] = "an integer"
		case "null":
			names[i] = "null"
		default:
			names[i] = "a " + w
		}
	}
	return strings.Join(names, " or ")
}

// typeName names the YAML type of n: string, integer, number, boolean, null, mapping, list.
func typeName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	}
	switch t := n.ShortTag(); t {
	case "!!str", "!!binary":
		return "string"
	case "!!int":
		return "integer"
	case "!!float":
		return "number"
	case "!!bool":
		return "boolean"
	case "!!null":
		return "null"
	case "!!timestamp":
		return "timestamp"
	default:
		return "value tagged " + t
	}
}

// text shows the value n holds: strings quoted, other scalars as written.
func text(n *yaml.Node) string {
	n = deref(n)
	switch {
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case n.ShortTag() == "!!null":
		return "null"
	case n.ShortTag() == "!!str":
		return strconv.Quote(n.Value)
	}
	return n.Value
}

// plain shows a constant from the schema: strings unquoted.
func plain(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}
