package schemacheck

import (
	"slices"
	"testing"
)

// TestCataloguedLeftToLint: the table checks an action's inputs and a
// plugin's configuration as the generated schema says (editors show the
// same), but Check reports none of it: the lint pass does, in its words.
func TestCataloguedLeftToLint(t *testing.T) {
	const head = "apiVersion: runbook/v1\nkind: Runbook\nmetadata: {name: x}\n"
	for _, tc := range []struct {
		name, src string
		verdict   string // what the table finds
	}{
		{"unknown input", head + "steps:\n  - {id: a, uses: wait, with: {duration: 1s, duratoin: 2s}}\n", "additionalProperties at /steps/0/with"},
		{"missing input", head + "steps:\n  - {id: a, uses: redis.get, with: {}}\n", "required at /steps/0/with"},
		{"missing with", head + "steps:\n  - {id: a, uses: redis.get}\n", "required at /steps/0"},
		{"input type", head + "steps:\n  - {id: a, uses: render.scale, with: {service: api, instances: many}}\n", "type at /steps/0/with/instances"},
		{"undo input", head + "steps:\n  - {id: a, uses: log, with: {message: m}, undo: {uses: wait, with: {}}}\n", "required at /steps/0/undo/with"},
		{"plugin setting", head + "plugins:\n  redis: {url: x, urll: y}\nsteps:\n  - {id: a, uses: redis.ping}\n", "additionalProperties at /plugins/redis"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := parse(t, []byte(tc.src))
			c := newConverter()
			if got := tableVerdicts(c.value(doc.Content[0])); !slices.Contains(got, tc.verdict) {
				t.Errorf("table verdicts %q lack %q", got, tc.verdict)
			}
			if l := Check("x.yaml", doc); len(l) > 0 {
				t.Errorf("Check reports what lint does:\n%s", lines(l))
			}
		})
	}
	// The generated part's type check stops where the base schema's does:
	// a with that is not a mapping is still reported.
	doc := parse(t, []byte(head+"steps:\n  - {id: a, uses: wait, with: soon}\n"))
	if l := Check("x.yaml", doc); len(l) != 1 || l[0].Rule != RuleType {
		t.Errorf("want one type finding for a scalar with, got:\n%s", lines(l))
	}
}
