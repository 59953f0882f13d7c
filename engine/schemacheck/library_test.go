package schemacheck

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"github.com/alpha-orion/runbook/engine/schemacheck/internal/schemagen"
	"github.com/alpha-orion/runbook/schema"
)

// The product validates with the table schemagen compiles from the schema
// at build time. These tests hold that table to a JSON Schema library
// (santhosh-tekuri/jsonschema, linked by the tests only): the schema is a
// valid draft 2020-12 schema, the table is generated from the schema as it
// is now, and both say the same of every document the tests have.

// library compiles the embedded schema with the library.
func library(t testing.TB) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema.JSON))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(schema.ID, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(schema.ID)
	if err != nil {
		t.Fatalf("the library does not compile the embedded schema: %v", err)
	}
	return sch
}

// TestTableIsGenerated checks schema_gen.go is what go generate would write.
func TestTableIsGenerated(t *testing.T) {
	want, err := schemagen.Generate(schema.JSON, "schemacheck", "schema/runbook.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("schema_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("schema_gen.go is stale: run go generate ./engine/schemacheck")
	}
	for _, n := range schemaNodes { // every regular expression compiles
		patterns()
		_ = n
	}
}

// verdicts lists "keyword at /path" for every violation, sorted.
func tableVerdicts(v any) []string {
	var vs []violation
	validate(0, v, nil, &vs)
	var out []string
	for _, x := range vs {
		out = append(out, x.keyword+" at /"+strings.Join(x.path, "/"))
	}
	sort.Strings(out)
	return slices.Compact(out)
}

func libraryVerdicts(sch *jsonschema.Schema, v any) []string {
	err := sch.Validate(v)
	if err == nil {
		return nil
	}
	verr, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return []string{"error: " + err.Error()}
	}
	var out []string
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			kw := e.ErrorKind.KeywordPath()
			out = append(out, kw[len(kw)-1]+" at /"+strings.Join(e.InstanceLocation, "/"))
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(verr)
	sort.Strings(out)
	return slices.Compact(out)
}

// agree fails t when the table and the library judge src differently.
func agree(t *testing.T, sch *jsonschema.Schema, name string, src []byte) {
	t.Helper()
	var doc yaml.Node
	if yaml.Unmarshal(src, &doc) != nil || len(doc.Content) == 0 {
		return
	}
	c := newConverter()
	v := c.value(doc.Content[0])
	if c.bad != nil {
		return
	}
	got, want := tableVerdicts(v), libraryVerdicts(sch, v)
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n table:   %q\n library: %q", name, got, want)
	}
}

// corpus is every YAML file of the repository's tests, runbooks and examples.
func corpus(t testing.TB) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, pattern := range []string{"testdata/*/*.yaml", "../lint/testdata/*/*.yaml", "../load/testdata/*/*.yaml",
		"../../runbooks/*.yaml", "../../examples/*.yaml", "../../internal/cli/testdata/runbooks/*.yaml"} {
		files, _ := filepath.Glob(pattern)
		for _, f := range files {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			out[f] = src
		}
	}
	if len(out) < 30 {
		t.Fatalf("only %d YAML files found", len(out))
	}
	return out
}

// TestTableAgreesWithLibrary compares verdicts on every file of the
// corpus, and on mutants of the runbooks: each scalar replaced in turn by
// values of other types and by a near-miss key.
func TestTableAgreesWithLibrary(t *testing.T) {
	sch := library(t)
	files := corpus(t)
	for name, src := range files {
		agree(t, sch, name, src)
	}
	mutants := 0
	for name, src := range files {
		if !strings.Contains(name, "runbooks/") {
			continue
		}
		var doc yaml.Node
		if yaml.Unmarshal(src, &doc) != nil {
			continue
		}
		var scalars []*yaml.Node
		var walk func(n *yaml.Node)
		walk = func(n *yaml.Node) {
			if n.Kind == yaml.ScalarNode {
				scalars = append(scalars, n)
			}
			for _, c := range n.Content {
				walk(c)
			}
		}
		walk(&doc)
		for i, s := range scalars {
			old, oldTag, oldStyle := s.Value, s.Tag, s.Style
			for _, m := range []struct{ tag, value string }{{"!!int", "-1"}, {"!!bool", "true"}, {"!!str", old + "x"}, {"!!null", "null"}, {"!!float", "1.5"}} {
				s.Tag, s.Value, s.Style = m.tag, m.value, 0
				out, err := yaml.Marshal(&doc)
				if err == nil {
					agree(t, sch, fmt.Sprintf("%s, scalar %d (%q) as %s %s", name, i, old, m.tag, m.value), out)
					mutants++
				}
			}
			s.Value, s.Tag, s.Style = old, oldTag, oldStyle
		}
	}
	t.Logf("%d files, %d mutants", len(files), mutants)
}

// FuzzTableAgreesWithLibrary compares verdicts on arbitrary YAML.
func FuzzTableAgreesWithLibrary(f *testing.F) {
	for _, src := range corpus(f) {
		f.Add(src)
	}
	sch := library(f)
	f.Fuzz(func(t *testing.T, src []byte) {
		if len(src) > 1<<16 {
			return
		}
		agree(t, sch, "input", src)
	})
}
