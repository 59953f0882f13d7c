// Package schemacheck validates a runbook's YAML against the JSON Schema of the
// runbook language (schema/runbook.schema.json) and reports each violation as a
// diagnostic at the YAML line:col it concerns.
//
// It is the first lint pass: it checks shape only (known keys, required keys,
// types, enums, patterns). Meaning — durations that parse, ids that exist,
// expressions that type-check — belongs to the passes after it.
package schemacheck

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"github.com/alpha-orion/runbook/engine/diag"
	"github.com/alpha-orion/runbook/schema"
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

var (
	compileOnce sync.Once
	compiled    *jsonschema.Schema
	// objects maps the location of each object schema to its keys, for
	// "did you mean" hints.
	objects map[string]objectSchema
)

// validator returns the compiled schema, compiling it on first use; the
// fast path's shapes are built too.
func validator() *jsonschema.Schema {
	compileOnce.Do(func() {
		var err error
		compiled, objects, err = compile()
		if err != nil {
			// The schema is embedded at build time: a failure is a bug in
			// runbook.schema.json, caught by TestSchemaCompiles.
			panic(fmt.Sprintf("schemacheck: compile embedded schema: %v", err))
		}
	})
	shapes()
	return compiled
}

// compile compiles the embedded schema and indexes its object schemas.
func compile() (*jsonschema.Schema, map[string]objectSchema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema.JSON))
	if err != nil {
		return nil, nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(schema.ID, doc); err != nil {
		return nil, nil, err
	}
	sch, err := c.Compile(schema.ID)
	if err != nil {
		return nil, nil, err
	}
	objs := map[string]objectSchema{}
	indexObjects(doc, schema.ID+"#", objs)
	return sch, objs, nil
}

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
	fast, step := shapes()
	if quick(root, fast) {
		return nil // the common case: valid, decided without allocating or compiling the schema
	}
	return slowCheck(file, root, step)
}

// slowCheck validates root with the library and explains its findings.
// Steps quick accepts are stood in for when step, their schema, is not nil.
func slowCheck(file string, root *yaml.Node, step *shape) diag.List {
	c := newConverter()
	c.root, c.step = root, step
	v := c.value(root)
	if c.bad != nil {
		var l diag.List
		l.Add(file, pos(c.bad), RuleSchema, "%s", c.why)
		return l
	}
	err := validator().Validate(v)
	if err == nil {
		return nil
	}
	r := reporter{file: file, root: root, doc: v}
	if verr, ok := err.(*jsonschema.ValidationError); ok {
		r.report(verr)
	} else {
		r.list.Add(file, pos(root), RuleSchema, "cannot validate: %v", err)
	}
	r.list.Sort()
	return r.list
}
