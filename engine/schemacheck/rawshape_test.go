package schemacheck

import (
	"fmt"
	"sort"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// TestRawShapeMatches checks that the shapes read from the schema's JSON
// are those reduced from the library's compiled schema.
func TestRawShapeMatches(t *testing.T) {
	raw, _ := shapes()
	lib := newShape(validator(), map[*jsonschema.Schema]*shape{})
	if err := sameShape(raw, lib, "#", map[[2]*shape]bool{}); err != nil {
		t.Fatal(err)
	}
}

func sameShape(a, b *shape, at string, seen map[[2]*shape]bool) error {
	if a == nil || b == nil {
		if a != b {
			return fmt.Errorf("%s: one shape is nil", at)
		}
		return nil
	}
	if seen[[2]*shape{a, b}] {
		return nil
	}
	seen[[2]*shape{a, b}] = true
	str := func(re jsonschema.Regexp) string {
		if re == nil {
			return ""
		}
		return re.String()
	}
	if a.never != b.never || a.types != b.types || a.hasEnum != b.hasEnum || fmt.Sprint(a.enum) != fmt.Sprint(b.enum) ||
		str(a.pattern) != str(b.pattern) || a.minimum != b.minimum || a.hasMinimum != b.hasMinimum ||
		fmt.Sprint(a.required) != fmt.Sprint(b.required) || a.closed != b.closed || a.minItems != b.minItems ||
		a.unique != b.unique || len(a.props) != len(b.props) || len(a.patterns) != len(b.patterns) {
		return fmt.Errorf("%s: raw %+v != library %+v", at, *a, *b)
	}
	for k, p := range a.props {
		if err := sameShape(p, b.props[k], at+"/properties/"+k, seen); err != nil {
			return err
		}
	}
	byRe := func(ps []patternShape) []patternShape {
		out := append([]patternShape(nil), ps...)
		sort.Slice(out, func(i, j int) bool { return out[i].re.String() < out[j].re.String() })
		return out
	}
	pa, pb := byRe(a.patterns), byRe(b.patterns)
	for i := range pa {
		if pa[i].re.String() != pb[i].re.String() {
			return fmt.Errorf("%s: patternProperties %s != %s", at, pa[i].re, pb[i].re)
		}
		if err := sameShape(pa[i].shape, pb[i].shape, at+"/patternProperties/"+pa[i].re.String(), seen); err != nil {
			return err
		}
	}
	for _, p := range []struct {
		name string
		a, b *shape
	}{{"$ref", a.ref, b.ref}, {"additionalProperties", a.additional, b.additional}, {"propertyNames", a.propNames, b.propNames}, {"items", a.items, b.items}} {
		if err := sameShape(p.a, p.b, at+"/"+p.name, seen); err != nil {
			return err
		}
	}
	return nil
}
