// Package schemacheck validates a runbook's YAML against the JSON Schema of the
// runbook language (schema/runbook.schema.json) and reports each violation as a
// diagnostic at the YAML line:col it concerns.
//
// It is the first lint pass: it checks shape only (known keys, required keys,
// types, enums, patterns). Meaning — durations that parse, ids that exist,
// expressions that type-check — belongs to the passes after it.
//
// The schema is compiled at build time, by go generate, into a table
// (schema_gen.go, made by internal/schemagen): the binary links no JSON
// Schema library and pays nothing for the schema when it starts. The tests
// check the table's verdicts against a JSON Schema library's, and that the
// table is up to date with runbook.schema.json.
package schemacheck

import (
	"gopkg.in/yaml.v3"

	"github.com/alpha-orion/runbook/engine/diag"
)

// Rule names of the findings Check reports, shown as "[rule]".
const (
	// RuleUnknownKey marks a key the language does not define.
	RuleUnknownKey = "unknown-key"
	// RuleRequiredKey marks a missing required key.
	RuleRequiredKey = "required-key"
	// RuleType marks a value of the wrong type.
	RuleType = "type"
	// RuleEnum marks a value that is not one of the allowed constants.
	RuleEnum = "enum"
	// RulePattern marks a name or id that does not match its pattern.
	RulePattern = "pattern"
	// RuleSchema marks any other violation of the schema.
	RuleSchema = "schema"
)

// Check validates one runbook document against the language's schema and
// returns the findings, sorted. doc is the yaml DocumentNode or its root node;
// nil, a zero node or an empty document yields none (the loader reports empty
// files). Check is safe for concurrent use.
func Check(file string, doc *yaml.Node) diag.List {
	if doc == nil || doc.Kind == 0 {
		return nil
	}
	root := doc
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return nil
		}
		root = doc.Content[0]
	}
	c := newConverter()
	v := c.value(root)
	if c.bad != nil {
		var l diag.List
		l.Add(file, pos(c.bad), RuleSchema, "%s", c.why)
		return l
	}
	var vs []violation
	validate(0, v, nil, &vs)
	if len(vs) == 0 {
		return nil
	}
	r := reporter{file: file, root: root, doc: v}
	r.report(vs)
	r.list.Sort()
	return r.list
}
