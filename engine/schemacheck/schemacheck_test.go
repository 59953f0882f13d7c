package schemacheck

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/alpha-orion/runbook/engine/diag"
)

var update = flag.Bool("update", false, "rewrite the .out golden files of testdata/err")

func parse(t testing.TB, src []byte) *yaml.Node {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		t.Fatalf("parse: %v", err)
	}
	return &doc
}

func lines(l diag.List) string {
	var b strings.Builder
	for _, d := range l {
		b.WriteString(d.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// TestOK checks that every runbook in testdata/ok is clean.
func TestOK(t *testing.T) {
	files, _ := filepath.Glob("testdata/ok/*.yaml")
	if len(files) == 0 {
		t.Fatal("no testdata/ok/*.yaml")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if l := Check(filepath.Base(f), parse(t, src)); len(l) > 0 {
				t.Errorf("want no findings, got:\n%s", lines(l))
			}
		})
	}
}

// TestErr checks testdata/err/NAME.yaml against NAME.out, the expected
// diagnostics one a line; go test -update rewrites the .out files.
func TestErr(t *testing.T) {
	files, _ := filepath.Glob("testdata/err/*.yaml")
	if len(files) == 0 {
		t.Fatal("no testdata/err/*.yaml")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			got := lines(Check(filepath.Base(f), parse(t, src)))
			out := strings.TrimSuffix(f, ".yaml") + ".out"
			if *update {
				if err := os.WriteFile(out, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(out)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got == "" {
				t.Errorf("no findings; an err case must have some")
			}
			if got != string(want) {
				t.Errorf("diagnostics differ\n--- got\n%s--- want\n%s", got, want)
			}
		})
	}
}

func TestRulesCovered(t *testing.T) {
	seen := map[string]bool{}
	files, _ := filepath.Glob("testdata/err/*.out")
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(src), "\n") {
			if i := strings.LastIndexByte(line, '['); i >= 0 {
				seen[strings.TrimSuffix(line[i+1:], "]")] = true
			}
		}
	}
	for _, rule := range []string{RuleUnknownKey, RuleRequiredKey, RuleType, RuleEnum, RulePattern, RuleSchema} {
		if !seen[rule] {
			t.Errorf("no golden case reports [%s]", rule)
		}
	}
}

func TestCheckNilAndEmpty(t *testing.T) {
	if l := Check("x.yaml", nil); l != nil {
		t.Errorf("Check(nil) = %v, want nothing", l)
	}
	if l := Check("x.yaml", parse(t, nil)); l != nil {
		t.Errorf("Check(empty document) = %v, want nothing", l)
	}
	if l := Check("x.yaml", &yaml.Node{Kind: yaml.DocumentNode}); l != nil {
		t.Errorf("Check(document without content) = %v, want nothing", l)
	}
}

// TestDocumentOrRoot checks that the document node and its root mapping give the same findings.
func TestDocumentOrRoot(t *testing.T) {
	doc := parse(t, []byte("apiVersion: runbook/v1\nkind: Runbook\nmetadata: {name: x}\nsteps: [{id: a, uses: log, retires: 1}]\n"))
	a, b := Check("x.yaml", doc), Check("x.yaml", doc.Content[0])
	if got, want := lines(b), lines(a); got != want || got == "" {
		t.Errorf("root gives\n%s\ndocument gives\n%s", got, want)
	}
}

func TestMessages(t *testing.T) {
	const head = "apiVersion: runbook/v1\nkind: Runbook\nmetadata: {name: x}\n"
	tests := []struct {
		name, src, want string
	}{
		{"unknown key", "steps:\n  - id: restore\n    uses: log\n    retires: 1\n",
			`x.yaml:7:5: error: unknown key "retires" in step "restore" [unknown-key]`},
		{"did you mean", "steps:\n  - id: restore\n    uses: log\n    retyr: {}\n",
			`x.yaml:7:5: error: unknown key "retyr" in step "restore"; did you mean "retry"? [unknown-key]`},
		{"required", "steps:\n  - id: verify\n",
			`x.yaml:5:5: error: missing required key "uses" in step "verify" [required-key]`},
		{"type", "concurrency: four\nsteps: [{id: a, uses: log}]\n",
			`x.yaml:4:14: error: "concurrency" must be an integer, got string [type]`},
		{"enum", "steps: [{id: a, uses: log, retry: {backoff: linear}}]\n",
			`x.yaml:4:45: error: "backoff" in retry of step "a" must be one of constant, exponential, got "linear" [enum]`},
		{"pattern", "steps: [{id: Bad Id, uses: log}]\n",
			`x.yaml:4:14: error: step id "Bad Id" must match ^[a-z][a-z0-9_-]*$ [pattern]`},
		{"minimum", "concurrency: 0\nsteps: [{id: a, uses: log}]\n",
			`x.yaml:4:14: error: "concurrency" must be at least 1, got 0 [schema]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := strings.TrimSpace(lines(Check("x.yaml", parse(t, []byte(head+tt.src)))))
			if got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestSuggest(t *testing.T) {
	keys := []string{"check", "id", "needs", "retry", "uses", "when", "with"}
	tests := []struct{ in, want string }{
		{"retyr", "retry"},
		{"retries", ""},
		{"usse", "uses"},
		{"Uses", "uses"},
		{"need", "needs"},
		{"of", ""},
		{"xyzzy", ""},
	}
	for _, tt := range tests {
		if got := suggest(tt.in, keys); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"a", "", 1}, {"retry", "retry", 0}, {"retyr", "retry", 1},
		{"kitten", "sitting", 3}, {"ca", "abc", 3}, {"exponental", "exponential", 1},
	}
	for _, tt := range tests {
		if got := distance(tt.a, tt.b); got != tt.want {
			t.Errorf("distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
