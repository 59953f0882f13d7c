package host

import (
	"fmt"
	"strings"

	"github.com/alpha-orion/runbook/engine/catalog"
)

// CheckSpec compares what a plugin says about itself (got) with the
// catalogue's entry (want), which the linter used to check the runbook.
// Every configuration key and action in want must be in got with the same
// type, required and secret flags, and actions with the same destructive
// and idempotent flags. got may have more: a newer plugin may add things.
func CheckSpec(want, got catalog.Plugin) error {
	var diffs []string
	diffs = append(diffs, fieldDiffs("config", want.Config, got.Config)...)
	for _, wa := range want.Actions {
		ga, ok := findAction(got.Actions, wa.Name)
		if !ok {
			diffs = append(diffs, fmt.Sprintf("action %s is missing", wa.Name))
			continue
		}
		if wa.Destructive != ga.Destructive {
			diffs = append(diffs, fmt.Sprintf("action %s: destructive is %t, the catalogue says %t", wa.Name, ga.Destructive, wa.Destructive))
		}
		if wa.Idempotent != ga.Idempotent {
			diffs = append(diffs, fmt.Sprintf("action %s: idempotent is %t, the catalogue says %t", wa.Name, ga.Idempotent, wa.Idempotent))
		}
		diffs = append(diffs, fieldDiffs("action "+wa.Name+": input", wa.Inputs, ga.Inputs)...)
		diffs = append(diffs, fieldDiffs("action "+wa.Name+": output", wa.Outputs, ga.Outputs)...)
	}
	if len(diffs) > 0 {
		return fmt.Errorf("plugin %s does not match the catalogue: %s", want.Name, strings.Join(diffs, "; "))
	}
	return nil
}

func fieldDiffs(what string, want, got []catalog.Field) []string {
	var diffs []string
	for _, w := range want {
		g, ok := findField(got, w.Name)
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("%s %s is missing", what, w.Name))
		case g.Type != w.Type:
			diffs = append(diffs, fmt.Sprintf("%s %s is a %s, the catalogue says %s", what, w.Name, g.Type, w.Type))
		case g.Required != w.Required:
			diffs = append(diffs, fmt.Sprintf("%s %s: required is %t, the catalogue says %t", what, w.Name, g.Required, w.Required))
		case g.Secret != w.Secret:
			diffs = append(diffs, fmt.Sprintf("%s %s: secret is %t, the catalogue says %t", what, w.Name, g.Secret, w.Secret))
		}
	}
	// A required key the catalogue does not know would never be given.
	for _, g := range got {
		if _, ok := findField(want, g.Name); !ok && g.Required {
			diffs = append(diffs, fmt.Sprintf("%s %s is required but not in the catalogue", what, g.Name))
		}
	}
	return diffs
}

func findAction(as []catalog.Action, name string) (catalog.Action, bool) {
	for _, a := range as {
		if a.Name == name {
			return a, true
		}
	}
	return catalog.Action{}, false
}

func findField(fs []catalog.Field, name string) (catalog.Field, bool) {
	for _, f := range fs {
		if f.Name == name {
			return f, true
		}
	}
	return catalog.Field{}, false
}
