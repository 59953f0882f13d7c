// Package schema holds the JSON Schema of the runbook language (runbook/v1).
//
// runbook.schema.json is the machine-readable form of docs/language.md, made
// by go generate from base.schema.json (the language) and the action
// catalogue (every action's inputs, every plugin's configuration):
// editors use it for completion and hover help through a
// "# yaml-language-server: $schema=../schema/runbook.schema.json" line, and
// engine/schemacheck validates every runbook against it before the lint passes.
package schema

import _ "embed"

//go:generate go run ./internal/gen/cmd -base base.schema.json -out runbook.schema.json

// JSON is the runbook language's JSON Schema (draft 2020-12), as shipped in runbook.schema.json.
//
//go:embed runbook.schema.json
var JSON []byte

// ID is the schema's $id, the URL it is compiled under.
const ID = "https://raw.githubusercontent.com/alpha-orion/runbook/main/schema/runbook.schema.json"
