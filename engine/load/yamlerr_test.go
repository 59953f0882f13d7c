package load

import (
	"strings"
	"testing"

	"github.com/alpha-orion/runbook/engine/diag"
)

// TestYAMLErrorPositions loads broken YAML through yaml.v3 and checks the
// position and hint of the finding: the line is the one at fault, not
// yaml.v3's 0-based context line.
func TestYAMLErrorPositions(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		pos       diag.Pos
		hint      string
	}{
		{"unquoted template in flow mapping", "a: 1\nb: { message: ${{ env.X }} }\n", diag.Pos{Line: 2, Col: 15}, `quote a value holding ${{ }}`},
		{"unquoted template in flow sequence", "a: 1\nb: [ ${{ x }} ]\n", diag.Pos{Line: 2, Col: 6}, `quote a value holding ${{ }}`},
		{"template on a later line of a flow mapping", "a: 1\nb: {\n  c: 1,\n  d: ${{ x }}\n}\n", diag.Pos{Line: 4, Col: 6}, `quote a value holding ${{ }}`},
		{"quoted template, unclosed mapping", "a: 1\nb: { c: \"${{ x }}\"\n", diag.Pos{Line: 2, Col: 1}, "left open"},
		{"trailing question mark", "a: 1\nb: { message: Proceed? }\n", diag.Pos{Line: 2, Col: 22}, `quote a value ending in '?'`},
		{"bad indentation", "a:\n  b: 1\n c: 2\n", diag.Pos{Line: 3, Col: 1}, ""},
		{"scanner error keeps its line", "a: 1\nb: c: d\n", diag.Pos{Line: 2, Col: 1}, ""},
		{"tab", "a: 1\n\tb: c\n", diag.Pos{Line: 2, Col: 1}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := Bytes("x.yaml", []byte(tc.src))
			if len(diags) != 1 || diags[0].Rule != RuleYAML {
				t.Fatalf("want one yaml finding, got %v", diags)
			}
			d := diags[0]
			if d.Pos != tc.pos {
				t.Errorf("position = %d:%d, want %d:%d (%s)", d.Pos.Line, d.Pos.Col, tc.pos.Line, tc.pos.Col, d.Message)
			}
			if tc.hint == "" && len(d.Message) > 0 && strings.Contains(d.Message, "quote") {
				t.Errorf("unexpected hint in %q", d.Message)
			}
			if tc.hint != "" && !strings.Contains(d.Message, tc.hint) {
				t.Errorf("message %q lacks hint %q", d.Message, tc.hint)
			}
		})
	}
}
