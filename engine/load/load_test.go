package load

import (
	"strings"
	"testing"
)

func TestHostileInput(t *testing.T) {
	aliasBomb := "x-anchors:\n" + indent(anchors(), "  ") + "apiVersion: runbook/v1\nkind: Runbook\nmetadata: {name: bomb}\nsteps:\n  - id: a\n    uses: log\n    with:\n      message: *h\n"

	deep := "apiVersion: runbook/v1\nkind: Runbook\nmetadata: {name: deep}\nsteps:\n  - id: a\n    uses: log\n    with:\n      message: " + strings.Repeat("[", 200) + strings.Repeat("]", 200) + "\n"

	for _, tc := range []struct {
		name, src, rule string
	}{
		{"empty", "", RuleEmpty},
		{"blank", "  \n\n", RuleEmpty},
		{"comment only", "# nothing\n", RuleEmpty},
		{"binary", "\x00\x01\x02ELF", RuleEncoding},
		{"bad utf8", "name: \xff\xfe\n", RuleEncoding},
		{"huge", "a: " + strings.Repeat("x", MaxFileSize) + "\n", RuleSize},
		{"not yaml", "a: [b\n", RuleYAML},
		{"tabs", "a:\n\tb: c\n", RuleYAML},
		{"two documents", "a: 1\n---\nb: 2\n", RuleDocuments},
		{"duplicate keys", "a: 1\na: 2\n", RuleDuplicateKey},
		{"alias bomb", aliasBomb, RuleAlias},
		{"deep nesting", deep, RuleNesting},
		{"scalar document", "just text\n", "type"},
		{"unterminated template", "steps:\n  - id: a\n    with: {m: \"${{ x\"}\n", RuleTemplate},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := Bytes("x.yaml", []byte(tc.src))
			if len(diags) == 0 {
				t.Fatalf("no findings, want [%s]", tc.rule)
			}
			found := false
			for _, d := range diags {
				found = found || d.Rule == tc.rule
				if d.Pos.Line < 1 || d.Pos.Col < 1 {
					t.Errorf("finding without a position: %s", d)
				}
			}
			if !found {
				t.Errorf("findings %v lack rule [%s]", diags, tc.rule)
			}
		})
	}
}

func anchors() string {
	var b strings.Builder
	b.WriteString("a: &a [x, x, x, x, x, x, x, x, x, x]\n")
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h"} {
		b.WriteString(n + ": &" + n + " [" + strings.TrimSuffix(strings.Repeat("*"+prev+", ", 10), ", ") + "]\n")
		prev = n
	}
	return b.String()
}

func indent(s, pre string) string {
	lines := strings.SplitAfter(s, "\n")
	var b strings.Builder
	for _, l := range lines {
		if l != "" {
			b.WriteString(pre + l)
		}
	}
	return b.String()
}

func TestPositionsAndModel(t *testing.T) {
	src := `apiVersion: runbook/v1
kind: Runbook
metadata:
  name: demo
  section: 3.1
params:
  at: { type: timestamp, required: true }
steps:
  - id: first
    uses: log
    with:
      message: "at ${{ params.at }} and ${{ 1 + 2 }}"
  - id: second
    needs: []
    uses: log
    when: ${{ params.at != nil }}
    with:
      message: |
        line one
        value ${{ steps.first.outputs.message }}
    retry: { attempts: 3, delay: 1s, until: outputs.message != "" }
    undo: { uses: log, with: { message: undo } }
`
	rb, diags := Bytes("demo.yaml", []byte(src))
	if len(diags) > 0 {
		t.Fatalf("findings: %v", diags)
	}
	if got, want := rb.Metadata.Section.Value, "3.1"; got != want {
		t.Errorf("section = %q, want %q", got, want)
	}
	if len(rb.Steps) != 2 {
		t.Fatalf("steps = %d", len(rb.Steps))
	}
	first, second := rb.Steps[0], rb.Steps[1]
	if first.NeedsSet || !second.NeedsSet || len(second.Needs) != 0 {
		t.Errorf("needs: first set=%v, second set=%v len=%d", first.NeedsSet, second.NeedsSet, len(second.Needs))
	}
	tpl := first.Input("message").Template
	if tpl == nil || len(tpl.Exprs()) != 2 {
		t.Fatalf("template = %+v", tpl)
	}
	e := tpl.Exprs()[0]
	if e.Source != "params.at" || e.Pos.Line != 12 || e.Pos.Col != 24 {
		t.Errorf("first expr = %q at %d:%d, want params.at at 12:24", e.Source, e.Pos.Line, e.Pos.Col)
	}
	if second.When == nil || second.When.Source != "params.at != nil" {
		t.Errorf("when = %+v", second.When)
	}
	block := second.Input("message").Template.Exprs()[0]
	if block.Pos.Line != 20 || block.Pos.Col != 19 {
		t.Errorf("block scalar expr at %d:%d, want 20:19", block.Pos.Line, block.Pos.Col)
	}
	if second.Retry == nil || second.Retry.Attempts.Value != 3 || second.Retry.Delay.D.Seconds() != 1 || second.Retry.Until == nil {
		t.Errorf("retry = %+v", second.Retry)
	}
	if second.Undo == nil || second.Undo.Uses.Value != "log" {
		t.Errorf("undo = %+v", second.Undo)
	}
}

// FuzzLoad checks that no input makes the loader panic or hang.
func FuzzLoad(f *testing.F) {
	f.Add([]byte("apiVersion: runbook/v1\nkind: Runbook\nmetadata: {name: a}\nsteps: [{id: a, uses: log, with: {message: '${{ 1 }}'}}]\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("steps:\n  - id: x\n    retry: {attempts: 99999999999999999999}\n"))
	f.Add([]byte("- [[[[{}]]]]\n"))
	f.Add([]byte("when: ${{ ${{ }} }}\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		rb, diags := Bytes("f.yaml", src)
		if rb == nil {
			t.Fatal("nil runbook")
		}
		for _, d := range diags {
			if d.Message == "" || d.Rule == "" {
				t.Fatalf("finding without message or rule: %+v", d)
			}
		}
	})
}
