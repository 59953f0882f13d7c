package diag

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// sarifSchema is the OASIS SARIF 2.1.0 schema (rtm.5, the final
// version), as shipped in lib/schemas/ of the npm package
// @microsoft/jest-sarif 1.0.0-beta.0; see testdata/README.md.
const sarifSchema = "testdata/sarif-2.1.0-rtm.5.json"

func compileSARIFSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(sarifSchema)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("sarif.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("sarif.json")
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func sampleList(dir string) List {
	var l List
	l.Add(filepath.Join(dir, "runbooks", "db restore.yaml"), Pos{Line: 3, Col: 5}, "unknown-key", "unknown key %q", "colour")
	l.Warn(filepath.Join(dir, "runbooks", "db restore.yaml"), Pos{Line: 9, Col: 3}, "confirm", "add confirm")
	l.Add(filepath.Join(dir, "runbooks", "100%.yaml"), Pos{}, "no-such-rule", "a rule without docs")
	return l
}

// TestSARIFValidatesAgainstSchema checks the log against the official schema.
func TestSARIFValidatesAgainstSchema(t *testing.T) {
	sch := compileSARIFSchema(t)
	root := t.TempDir()
	for _, tc := range []struct {
		name string
		l    List
	}{
		{"findings", sampleList(root)},
		{"none", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteSARIF(&b, tc.l, SARIFOptions{ToolVersion: "v1.2.3", Root: root}); err != nil {
				t.Fatal(err)
			}
			v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(v); err != nil {
				t.Fatalf("SARIF log breaks the 2.1.0 schema: %v\n%s", err, b.String())
			}
		})
	}
}

// TestSARIFSchemaCatchesBreakage proves the schema test can fail.
func TestSARIFSchemaCatchesBreakage(t *testing.T) {
	sch := compileSARIFSchema(t)
	for _, bad := range []string{
		`{"version": "2.1.0", "runs": [{"tool": {"driver": {}}}]}`,
		`{"version": "2.0.0", "runs": []}`,
		`{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"message": {"text": "m"}, "level": "fatal"}]}]}`,
	} {
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(bad)))
		if err != nil {
			t.Fatal(err)
		}
		if sch.Validate(v) == nil {
			t.Errorf("schema accepts %s", bad)
		}
	}
}

func TestSARIFRulesAndLocations(t *testing.T) {
	root := t.TempDir()
	var b bytes.Buffer
	if err := WriteSARIF(&b, sampleList(root), SARIFOptions{Root: root}); err != nil {
		t.Fatal(err)
	}
	var log sarifLog
	if err := json.Unmarshal(b.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	run := log.Runs[0]
	for _, r := range run.Tool.Driver.Rules {
		doc, ok := Rule(r.ID)
		if !ok {
			if r.HelpURI != "" {
				t.Errorf("undocumented rule %s has a help URI", r.ID)
			}
			continue
		}
		if r.ShortDescription.Text != doc.Short || r.FullDescription == nil || r.FullDescription.Text != doc.Full ||
			r.Help == nil || r.HelpURI != RulesURL+"#"+r.ID {
			t.Errorf("rule %s lacks its documentation: %+v", r.ID, r)
		}
	}
	for i, res := range run.Results {
		if got := run.Tool.Driver.Rules[res.RuleIndex].ID; got != res.RuleID {
			t.Errorf("result %d: ruleIndex points at %s, want %s", i, got, res.RuleID)
		}
	}
	want := []string{"runbooks/db%20restore.yaml", "runbooks/db%20restore.yaml", "runbooks/100%25.yaml"}
	for i, res := range run.Results {
		loc := res.Locations[0].PhysicalLocation.ArtifactLocation
		if loc.URI != want[i] || loc.URIBaseID != "%SRCROOT%" {
			t.Errorf("result %d: uri %q base %q, want %q based at %%SRCROOT%%", i, loc.URI, loc.URIBaseID, want[i])
		}
	}
}

func TestArtifactURI(t *testing.T) {
	root := filepath.FromSlash("/repo")
	for _, tc := range []struct {
		file, uri, base string
	}{
		{"/repo/runbooks/a.yaml", "runbooks/a.yaml", "%SRCROOT%"},
		{"/repo/runbooks/a b#c?.yaml", "runbooks/a%20b%23c%3F.yaml", "%SRCROOT%"},
		{"/repo/c:d.yaml", "c%3Ad.yaml", "%SRCROOT%"},
		{"/repo/sub/../x.yaml", "x.yaml", "%SRCROOT%"},
		{"/elsewhere/a b.yaml", "file:///elsewhere/a%20b.yaml", ""},
		{"/repository/a.yaml", "file:///repository/a.yaml", ""},
	} {
		got := artifact(filepath.FromSlash(tc.file), root)
		if got.URI != tc.uri || got.URIBaseID != tc.base {
			t.Errorf("artifact(%q) = %q base %q, want %q base %q", tc.file, got.URI, got.URIBaseID, tc.uri, tc.base)
		}
	}
}

func TestRulesSortedAndComplete(t *testing.T) {
	for i := range rules {
		if i > 0 && rules[i-1].ID >= rules[i].ID {
			t.Errorf("rules not sorted by ID at %q", rules[i].ID)
		}
		r := rules[i]
		if r.Short == "" || r.Full == "" {
			t.Errorf("rule %s lacks a description", r.ID)
		}
		found := false
		for _, s := range Stages {
			found = found || s == r.Stage
		}
		if !found {
			t.Errorf("rule %s has unknown stage %q", r.ID, r.Stage)
		}
		if got, ok := Rule(r.ID); !ok || got != r {
			t.Errorf("Rule(%q) = %v, %v", r.ID, got, ok)
		}
	}
	if _, ok := Rule("no-such-rule"); ok {
		t.Error("Rule finds an unknown id")
	}
}
