// Package gen writes schema/runbook.schema.json: the hand-written language
// schema (schema/base.schema.json) plus what the action catalogue says, so
// editors complete and check every action's inputs and every plugin's
// configuration:
//
//   - $defs/uses offers every action by name, with its description;
//   - $defs/with.ACTION describes an action's inputs, and the step and undo
//     definitions apply it to `with` when `uses` names that action;
//   - $defs/config.PLUGIN describes a plugin's configuration keys, under
//     plugins.PLUGIN.
//
// Inputs typed int, number, bool, list or map also accept a ${{ }}
// expression, as the runbook language does.
package gen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/alpha-orion/runbook/engine/catalog"
)

// Generated definitions' names start with these; engine/schemacheck leaves
// their findings to the lint pass, which checks the same with expression types.
const (
	WithPrefix   = "with."
	ConfigPrefix = "config."
)

// Generate returns the schema: base with the catalogue of plugins (and
// the built-in actions) added.
func Generate(base []byte, plugins []catalog.Plugin) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(base, &doc); err != nil {
		return nil, fmt.Errorf("gen: base schema: %w", err)
	}
	defs, ok := doc["$defs"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("gen: base schema has no $defs")
	}
	defs["template"] = map[string]any{
		"description": "A ${{ expression }} whose value is checked when the runbook is validated.",
		"type":        "string",
		"pattern":     `\$\{\{`,
	}
	var actions []entry
	for i := range catalog.Builtins {
		actions = append(actions, entry{catalog.Builtins[i].Name, &catalog.Builtins[i]})
	}
	pluginProps := map[string]any{}
	for _, p := range plugins {
		for i := range p.Actions {
			actions = append(actions, entry{p.Name + "." + p.Actions[i].Name, &p.Actions[i]})
		}
		defs[ConfigPrefix+p.Name] = fields(p.Config)
		pluginProps[p.Name] = map[string]any{
			"description": p.Description,
			"type":        "object",
			"$ref":        "#/$defs/" + ConfigPrefix + p.Name,
		}
	}
	var choices, branches []any
	for _, e := range actions {
		choices = append(choices, map[string]any{"const": e.uses, "description": actionSummary(e.action)})
		with := fields(e.action.Inputs)
		with["description"] = "Inputs of " + e.uses + ". " + e.action.Description
		defs[WithPrefix+e.uses] = with
		then := map[string]any{"properties": map[string]any{"with": map[string]any{"$ref": "#/$defs/" + WithPrefix + e.uses}}}
		if _, needs := with["required"]; needs {
			then["required"] = []any{"with"}
		}
		branches = append(branches, map[string]any{
			"if":   map[string]any{"properties": map[string]any{"uses": map[string]any{"const": e.uses}}, "required": []any{"uses"}},
			"then": then,
		})
	}
	choices = append(choices, map[string]any{"type": "string", "description": "An action of a third-party plugin: PLUGIN.ACTION."})
	uses, ok := defs["uses"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("gen: base schema has no $defs/uses")
	}
	uses["anyOf"] = choices
	for _, name := range []string{"step", "undo"} {
		d, ok := defs[name].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("gen: base schema has no $defs/%s", name)
		}
		d["allOf"] = branches
	}
	props, _ := doc["properties"].(map[string]any)
	plugs, ok := props["plugins"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("gen: base schema has no properties/plugins")
	}
	plugs["properties"] = pluginProps
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

type entry struct {
	uses   string
	action *catalog.Action
}

func actionSummary(a *catalog.Action) string {
	var marks []string
	if a.Destructive {
		marks = append(marks, "destructive")
	}
	if a.Idempotent {
		marks = append(marks, "idempotent")
	}
	if len(marks) == 0 {
		return a.Description
	}
	return a.Description + " (" + strings.Join(marks, ", ") + ")"
}

// fields is the object schema of inputs or configuration keys: those
// declared, the required ones required, no others.
func fields(fs []catalog.Field) map[string]any {
	props := map[string]any{}
	var required []any
	for _, f := range fs {
		s := typeSchema(f.Type)
		s["description"] = fieldSummary(f)
		props[f.Name] = s
		if f.Required {
			required = append(required, f.Name)
		}
	}
	out := map[string]any{"properties": props, "additionalProperties": false}
	if len(required) > 0 {
		out["required"] = required
	}
	return out
}

func fieldSummary(f catalog.Field) string {
	s := string(f.Type)
	if f.Required {
		s += ", required"
	}
	if f.Secret {
		s += ", secret: give ${{ secrets.NAME }}"
	}
	if f.Description != "" {
		s += ". " + f.Description
	}
	return s
}

// typeSchema is the JSON Schema of a value of type t as YAML may give it.
func typeSchema(t catalog.Type) map[string]any {
	orTemplate := func(jsonType string) map[string]any {
		return map[string]any{"anyOf": []any{map[string]any{"type": jsonType}, map[string]any{"$ref": "#/$defs/template"}}}
	}
	switch t {
	case catalog.String:
		// numbers and booleans are rendered as text
		return map[string]any{"type": []any{"string", "number", "boolean"}}
	case catalog.Int:
		return orTemplate("integer")
	case catalog.Number:
		return orTemplate("number")
	case catalog.Bool:
		return orTemplate("boolean")
	case catalog.Timestamp, catalog.Duration:
		return map[string]any{"type": "string"}
	case catalog.List, catalog.Rows:
		return orTemplate("array")
	case catalog.Map:
		return orTemplate("object")
	}
	return map[string]any{}
}
