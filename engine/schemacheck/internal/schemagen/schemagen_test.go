package schemagen

import (
	"strings"
	"testing"
)

func TestGenerateRefuses(t *testing.T) {
	const head = `{"$schema": "https://json-schema.org/draft/2020-12/schema", `
	for _, tc := range []struct{ name, schema, want string }{
		{"unknown keyword", head + `"oneOf": [{"type": "string"}]}`, `keyword "oneOf" is not compiled`},
		{"if without then", head + `"if": {"type": "string"}}`, "if and then must come together"},
		{"then without if", head + `"then": {"type": "string"}}`, "if and then must come together"},
		{"else", head + `"if": {"type": "string"}, "then": {}, "else": {}}`, `keyword "else" is not compiled`},
		{"empty allOf", head + `"allOf": []}`, "allOf must be a non-empty list"},
		{"anyOf not a list", head + `"anyOf": {"type": "string"}}`, "anyOf must be a non-empty list"},
		{"remote ref", head + `"$ref": "https://example.com/s.json"}`, "cannot resolve $ref"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Generate([]byte(tc.schema), "p", "s.json")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestGenerateCombinators(t *testing.T) {
	src := `{"$schema": "https://json-schema.org/draft/2020-12/schema",
		"allOf": [{"if": {"required": ["a"]}, "then": {"required": ["b"]}}],
		"anyOf": [{"type": "integer"}, {"type": "string"}]}`
	out, err := Generate([]byte(src), "p", "s.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"allOf: []int{1}", "anyOf: []int{", "ifNode: 2, thenNode: 3"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}
