package schemacheck

import (
	"math"
	"strconv"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

// The fast path. Most runbooks are valid, and the library validator costs
// about 10 µs a step (it allocates for every value it visits, and the YAML
// must first be converted to maps). quick walks the yaml.Node tree itself
// against the compiled schema, allocating nothing, and answers only "surely
// valid" or "don't know": on "don't know" Check takes the library path, which
// finds and explains the errors. quick must never accept what the library
// would reject; it supports the keywords runbook.schema.json uses and gives
// up on any other, on aliases and on merge keys. TestQuickAgrees checks it
// against the library on every test document and on mutations of them.

// Bits of shape.types: the JSON types a value may have.
const (
	tNull = 1 << iota
	tBool
	tInt // an integral number
	tNum // any number
	tStr
	tArr
	tObj
)

// shape is a compiled schema reduced to what quick checks. A nil *shape
// accepts anything.
type shape struct {
	never      bool   // quick cannot accept any value: a false schema or an unsupported keyword
	types      int    // allowed types; 0 means any
	ref        *shape // $ref, applied beside the other keywords
	enum       []string
	hasEnum    bool
	pattern    jsonschema.Regexp
	minimum    int64
	hasMinimum bool
	required   []string
	props      map[string]*shape
	patterns   []patternShape // patternProperties
	additional *shape         // schema of other properties when closed is false
	closed     bool           // additionalProperties: false
	propNames  *shape
	items      *shape
	minItems   int
	unique     bool
}

// patternShape is one entry of patternProperties.
type patternShape struct {
	re    jsonschema.Regexp
	shape *shape
}

// newShape reduces a compiled schema; memo handles schemas that refer to themselves.
func newShape(s *jsonschema.Schema, memo map[*jsonschema.Schema]*shape) *shape {
	if s == nil {
		return nil
	}
	if sh, ok := memo[s]; ok {
		return sh
	}
	sh := &shape{never: !supported(s)}
	memo[s] = sh
	if s.Bool != nil {
		sh.never = !*s.Bool
		return sh
	}
	sh.ref = newShape(s.Ref, memo)
	if s.Types != nil {
		sh.types = typeBits(s.Types.ToStrings())
	}
	if s.Enum != nil {
		sh.hasEnum = true
		sh.enum, sh.never = strs(s.Enum.Values, sh.never)
	}
	if s.Const != nil {
		sh.hasEnum = true
		sh.enum, sh.never = strs([]any{*s.Const}, sh.never)
	}
	sh.pattern = s.Pattern
	if s.Minimum != nil {
		if !s.Minimum.IsInt() || !s.Minimum.Num().IsInt64() {
			sh.never = true
		} else {
			sh.minimum, sh.hasMinimum = s.Minimum.Num().Int64(), true
		}
	}
	sh.required = s.Required
	if len(s.Properties) > 0 {
		sh.props = make(map[string]*shape, len(s.Properties))
		for k, p := range s.Properties {
			sh.props[k] = newShape(p, memo)
		}
	}
	for re, p := range s.PatternProperties {
		sh.patterns = append(sh.patterns, patternShape{re, newShape(p, memo)})
	}
	switch a := s.AdditionalProperties.(type) {
	case bool:
		sh.closed = !a
	case *jsonschema.Schema:
		sh.additional = newShape(a, memo)
	}
	sh.propNames = newShape(s.PropertyNames, memo)
	sh.items = newShape(s.Items2020, memo)
	if s.MinItems != nil {
		sh.minItems = *s.MinItems
	}
	sh.unique = s.UniqueItems
	return sh
}

// supported reports whether quick implements every assertion s makes.
func supported(s *jsonschema.Schema) bool {
	return s.RecursiveRef == nil && s.DynamicRef == nil && s.Not == nil &&
		s.AllOf == nil && s.AnyOf == nil && s.OneOf == nil &&
		s.If == nil && s.Then == nil && s.Else == nil && s.Format == nil &&
		s.MaxProperties == nil && s.MinProperties == nil &&
		s.Dependencies == nil && s.DependentRequired == nil && s.DependentSchemas == nil &&
		s.UnevaluatedProperties == nil && s.MaxItems == nil && s.Contains == nil &&
		s.MinContains == nil && s.MaxContains == nil && s.Items == nil &&
		s.AdditionalItems == nil && s.PrefixItems == nil && s.UnevaluatedItems == nil &&
		s.MinLength == nil && s.MaxLength == nil && s.ContentEncoding == nil &&
		s.ContentMediaType == nil && s.ContentSchema == nil && s.Maximum == nil &&
		s.ExclusiveMaximum == nil && s.ExclusiveMinimum == nil && s.MultipleOf == nil &&
		len(s.Extensions) == 0
}

func typeBits(names []string) int {
	bits := 0
	for _, n := range names {
		switch n {
		case "null":
			bits |= tNull
		case "boolean":
			bits |= tBool
		case "integer":
			bits |= tInt
		case "number":
			bits |= tNum | tInt
		case "string":
			bits |= tStr
		case "array":
			bits |= tArr
		case "object":
			bits |= tObj
		}
	}
	return bits
}

// strs returns vals as strings; never becomes true when one is not a string.
func strs(vals []any, never bool) ([]string, bool) {
	out := make([]string, 0, len(vals))
	for _, v := range vals {
		s, ok := v.(string)
		if !ok {
			return nil, true
		}
		out = append(out, s)
	}
	return out, never
}

// typeOf returns the type bit of n as the converter would convert it, and
// its integer value; 0 when quick does not handle n.
func typeOf(n *yaml.Node) (int, int64) {
	switch n.Kind {
	case yaml.MappingNode:
		return tObj, 0
	case yaml.SequenceNode:
		return tArr, 0
	case yaml.ScalarNode:
	default:
		return 0, 0
	}
	switch n.ShortTag() {
	case "!!str":
		return tStr, 0
	case "!!null":
		return tNull, 0
	case "!!bool":
		switch n.Value {
		case "true", "True", "TRUE", "false", "False", "FALSE":
			return tBool, 0
		}
	case "!!int":
		if i, err := strconv.ParseInt(n.Value, 0, 64); err == nil {
			return tInt, i
		}
	case "!!float":
		if f, err := strconv.ParseFloat(n.Value, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return tNum, 0
		}
	}
	return 0, 0
}

// quick reports whether n surely satisfies s; false means "invalid, or not sure".
func quick(n *yaml.Node, s *shape) bool {
	if s == nil {
		return scan(n)
	}
	if s.never {
		return false
	}
	t, i := typeOf(n)
	if t == 0 {
		// A scalar quick does not type (a timestamp, a custom tag): fine
		// where nothing is asserted about it, as in a param's default.
		return n.Kind == yaml.ScalarNode && s.ref == nil && s.types == 0 && !s.hasEnum &&
			s.pattern == nil && !s.hasMinimum
	}
	if s.types != 0 && s.types&t == 0 {
		return false
	}
	if s.ref != nil && !quick(n, s.ref) {
		return false
	}
	if s.hasEnum && (t != tStr || !contains(s.enum, n.Value)) {
		return false
	}
	switch t {
	case tStr:
		return s.pattern == nil || s.pattern.MatchString(n.Value)
	case tInt:
		return !s.hasMinimum || i >= s.minimum
	case tNum:
		return !s.hasMinimum
	case tObj:
		return quickObject(n, s)
	case tArr:
		return quickArray(n, s)
	}
	return true
}

func quickObject(n *yaml.Node, s *shape) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Tag == "!!merge" {
			return false
		}
		if s.propNames != nil && !quickName(k.Value, s.propNames) {
			return false
		}
		p, matched := s.props[k.Value]
		if matched && !quick(v, p) {
			return false
		}
		for _, pp := range s.patterns {
			if pp.re.MatchString(k.Value) {
				if matched = true; !quick(v, pp.shape) {
					return false
				}
			}
		}
		if !matched && (s.closed || !quick(v, s.additional)) {
			return false
		}
	}
	for _, r := range s.required {
		if !hasKey(n, r) {
			return false
		}
	}
	return true
}

// quickName checks a property name, a string, against a propertyNames schema.
func quickName(name string, s *shape) bool {
	for ; s != nil; s = s.ref {
		if s.never || s.types != 0 && s.types&tStr == 0 || s.props != nil || s.required != nil ||
			s.hasEnum && !contains(s.enum, name) || s.pattern != nil && !s.pattern.MatchString(name) {
			return false
		}
	}
	return true
}

func quickArray(n *yaml.Node, s *shape) bool {
	if len(n.Content) < s.minItems {
		return false
	}
	for _, e := range n.Content {
		if !quick(e, s.items) {
			return false
		}
	}
	if s.unique {
		return uniqueStrings(n.Content)
	}
	return true
}

// uniqueStrings reports whether items are distinct strings; other items make it give up.
func uniqueStrings(items []*yaml.Node) bool {
	for i, a := range items {
		if t, _ := typeOf(a); t != tStr {
			return false
		}
		for _, b := range items[:i] {
			if a.Value == b.Value {
				return false
			}
		}
	}
	return true
}

// scan reports whether a value no schema constrains converts plainly: no
// aliases and no merge keys, which only the converter handles.
func scan(n *yaml.Node) bool {
	switch n.Kind {
	case yaml.AliasNode:
		return false
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i]; k.Kind != yaml.ScalarNode || k.Tag == "!!merge" {
				return false
			}
		}
	}
	for _, c := range n.Content {
		if !scan(c) {
			return false
		}
	}
	return true
}

func hasKey(n *yaml.Node, key string) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// stepShape returns the shape of the items of "steps" when it is a plain
// object schema with required keys, of which the converter's stand-ins are
// made; otherwise nil, and steps are converted whole.
func stepShape(root *shape) *shape {
	if root == nil || root.props["steps"] == nil {
		return nil
	}
	s := root.props["steps"].items
	for s != nil && s.ref != nil && s.types == 0 && s.props == nil && s.required == nil {
		s = s.ref
	}
	if s == nil || s.never || s.ref != nil || s.types != tObj || len(s.required) == 0 {
		return nil
	}
	return s
}
