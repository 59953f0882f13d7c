package schema

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"github.com/alpha-orion/runbook/plugins/providers"
	"github.com/alpha-orion/runbook/schema/internal/gen"
)

// TestGenerated fails when runbook.schema.json is not what go generate
// makes of base.schema.json and the shipped catalogue.
func TestGenerated(t *testing.T) {
	base, err := os.ReadFile("base.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	want, err := gen.Generate(base, providers.Specs())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(JSON, want) {
		t.Error("runbook.schema.json is stale: run go generate ./schema ./engine/schemacheck")
	}
}

func TestJSONHasID(t *testing.T) {
	var doc struct {
		ID     string `json:"$id"`
		Schema string `json:"$schema"`
	}
	if err := json.Unmarshal(JSON, &doc); err != nil {
		t.Fatalf("runbook.schema.json is not JSON: %v", err)
	}
	if got, want := doc.ID, ID; got != want {
		t.Errorf("$id = %q, want %q", got, want)
	}
	if got, want := doc.Schema, "https://json-schema.org/draft/2020-12/schema"; got != want {
		t.Errorf("$schema = %q, want %q", got, want)
	}
}

// TestEveryPropertyIsDescribed keeps hover help complete: every property has a
// description, its own or that of the definition it refers to.
func TestEveryPropertyIsDescribed(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(JSON, &doc); err != nil {
		t.Fatal(err)
	}
	defs, _ := doc["$defs"].(map[string]any)
	var walk func(loc string, v any)
	walk = func(loc string, v any) {
		switch x := v.(type) {
		case map[string]any:
			if props, ok := x["properties"].(map[string]any); ok {
				for name, p := range props {
					if !described(p, defs) {
						t.Errorf("%s/properties/%s has no description", loc, name)
					}
				}
			}
			for k, e := range x {
				if k == "if" {
					continue // a condition, never shown on hover
				}
				walk(loc+"/"+k, e)
			}
		case []any:
			for _, e := range x {
				walk(loc, e)
			}
		}
	}
	walk("#", doc)
}

func described(p any, defs map[string]any) bool {
	m, _ := p.(map[string]any)
	if _, ok := m["description"].(string); ok {
		return true
	}
	ref, _ := m["$ref"].(string)
	const prefix = "#/$defs/"
	if len(ref) > len(prefix) && ref[:len(prefix)] == prefix {
		return described(defs[ref[len(prefix):]], defs)
	}
	return false
}
