package run

import (
	"fmt"
	"sort"
	"strings"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/engine/load"
)

// Params checks given params against a runbook's declarations and returns
// them typed, with defaults applied. values come from a params file or a
// journal (decoded JSON or YAML); text from --param k=v and wins over values.
func Params(rb *load.Runbook, values map[string]any, text map[string]string) (map[string]any, error) {
	out := map[string]any{}
	var problems []string
	for name := range values {
		if rb.Param(name) == nil {
			problems = append(problems, fmt.Sprintf("unknown param %q", name))
		}
	}
	for name := range text {
		if rb.Param(name) == nil {
			problems = append(problems, fmt.Sprintf("unknown param %q", name))
		}
	}
	for _, p := range rb.Params {
		t := catalog.Type(p.Type.Value)
		if !t.Valid() {
			t = catalog.String
		}
		var (
			v   any
			err error
		)
		if s, ok := text[p.Name]; ok {
			v, err = t.Parse(s)
		} else if raw, ok := values[p.Name]; ok {
			v, err = t.Coerce(raw)
		} else if p.Default != nil {
			v, err = t.Coerce(p.Default.Plain())
		}
		switch {
		case err != nil:
			problems = append(problems, fmt.Sprintf("param %s: %v", p.Name, err))
			continue
		case v == nil && p.Required:
			problems = append(problems, fmt.Sprintf("param %s is required (%s): pass --param %s=VALUE", p.Name, t, p.Name))
			continue
		case v == nil:
			continue
		}
		if len(p.Enum) > 0 && !inEnum(v, p.Enum, t) {
			problems = append(problems, fmt.Sprintf("param %s: %v is not one of %s", p.Name, v, enumText(p.Enum)))
			continue
		}
		out[p.Name] = v
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return nil, fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return out, nil
}

func inEnum(v any, enum []*load.Value, t catalog.Type) bool {
	for _, e := range enum {
		ev, err := t.Coerce(e.Plain())
		if err == nil && fmt.Sprint(ev) == fmt.Sprint(v) {
			return true
		}
	}
	return false
}

func enumText(enum []*load.Value) string {
	parts := make([]string, len(enum))
	for i, e := range enum {
		parts[i] = fmt.Sprint(e.Plain())
	}
	return strings.Join(parts, ", ")
}
