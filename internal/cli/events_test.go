package cli

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alpha-orion/runbook/engine/journal"
	"github.com/alpha-orion/runbook/engine/redact"
)

// journalTypes reads the event types engine/journal declares.
func journalTypes(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "../../engine/journal/event.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Type" {
				continue
			}
			for _, v := range vs.Values {
				if lit, ok := v.(*ast.BasicLit); ok {
					name, _ := strconv.Unquote(lit.Value)
					types = append(types, name)
				}
			}
		}
	}
	if len(types) < 10 {
		t.Fatalf("found only %d event types in engine/journal/event.go", len(types))
	}
	return types
}

// TestEveryEventTypeIsDocumented checks docs/events.md has a section for
// every event type the journal declares.
func TestEveryEventTypeIsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/events.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range journalTypes(t) {
		if !bytes.Contains(doc, []byte("\n### "+typ+"\n")) {
			t.Errorf("event type %s is not documented in docs/events.md (add a ### %s section)", typ, typ)
		}
	}
}

// TestStreamIsVersionedWithOneDurationUnit prints events as --output json
// does: every line carries the schema version, and a duration input is
// text, not nanoseconds.
func TestStreamIsVersionedWithOneDurationUnit(t *testing.T) {
	var out bytes.Buffer
	v := newView(&out, "json", redact.New(), 0, nil)
	v.event(journal.Event{Seq: 1, Type: journal.StepStarted, Step: "pause", Action: "wait",
		Inputs: map[string]any{"duration": 90 * time.Second, "nested": map[string]any{"every": []any{250 * time.Millisecond}}}})
	v.event(journal.Event{Seq: 2, Type: journal.StepSucceeded, Step: "pause", DurationMS: 90000})
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 lines, got %q", out.String())
	}
	for _, line := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not JSON: %q", line)
		}
		if m["schema_version"] != float64(StreamSchemaVersion) {
			t.Errorf("schema_version %v in %s", m["schema_version"], line)
		}
	}
	if !strings.Contains(lines[0], `"duration":"1m30s"`) || !strings.Contains(lines[0], `"every":["250ms"]`) {
		t.Errorf("durations are not text: %s", lines[0])
	}
	if !strings.Contains(lines[1], `"duration_ms":90000`) {
		t.Errorf("duration_ms missing: %s", lines[1])
	}
}
