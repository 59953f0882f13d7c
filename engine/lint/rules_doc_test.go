package lint

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/alpha-orion/runbook/engine/catalog"
	"github.com/alpha-orion/runbook/engine/diag"
	"github.com/alpha-orion/runbook/plugins/providers"
)

// noExample lists the rules docs/rules.md shows no example for, and why.
var noExample = map[string]string{
	"alias":          "needs thousands of aliases",
	"encoding":       "needs a binary file",
	"nesting":        "needs 64 levels of nesting",
	"size":           "needs a file over 1 MiB",
	"duplicate-name": "needs two files",
}

// ruleExample reads testdata/rules/ID.{bad,good}.yaml.
func ruleExample(id string) (diag.Example, bool) {
	bad, err1 := os.ReadFile(filepath.Join("testdata", "rules", id+".bad.yaml"))
	good, err2 := os.ReadFile(filepath.Join("testdata", "rules", id+".good.yaml"))
	if err1 != nil || err2 != nil {
		return diag.Example{}, false
	}
	return diag.Example{Bad: string(bad), Good: string(good)}, true
}

// TestRuleExamples lints every rule's examples on the shipped catalogue:
// the bad one must report the rule, the fixed one nothing at all.
func TestRuleExamples(t *testing.T) {
	cat := catalog.MustNew(providers.Specs()...)
	for _, r := range diag.Rules() {
		t.Run(r.ID, func(t *testing.T) {
			ex, ok := ruleExample(r.ID)
			if _, skip := noExample[r.ID]; skip {
				if ok {
					t.Fatalf("%s has an example; remove it from noExample", r.ID)
				}
				return
			}
			if !ok {
				t.Fatalf("add testdata/rules/%s.bad.yaml and .good.yaml", r.ID)
			}
			_, bad := Bytes("example.yaml", []byte(ex.Bad), cat)
			found := false
			for _, d := range bad {
				found = found || d.Rule == r.ID
			}
			if !found {
				t.Errorf("bad example reports no [%s]: %v", r.ID, bad)
			}
			if _, good := Bytes("example.yaml", []byte(ex.Good), cat); len(good) > 0 {
				t.Errorf("fixed example has findings: %v", good)
			}
		})
	}
}

// TestRulesDoc fails when docs/rules.md is stale; -update rewrites it.
func TestRulesDoc(t *testing.T) {
	var b bytes.Buffer
	if err := diag.WriteRulesMarkdown(&b, ruleExample); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("..", "..", "docs", "rules.md")
	if *update {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(b.Bytes(), want) {
		t.Fatalf("docs/rules.md is stale (%v); run go test ./engine/lint -run TestRulesDoc -update", err)
	}
}

// TestEveryRuleDocumented finds, in the source of every stage, the rule
// ids findings are reported under, and checks each has a documentation
// entry, and each entry a rule.
func TestEveryRuleDocumented(t *testing.T) {
	reported := map[string]string{}
	for _, dir := range []string{"../load", "../schemacheck", "../plan", "../eval", "."} {
		for id, where := range reportedRules(t, dir) {
			reported[id] = where
		}
	}
	if len(reported) < 30 {
		t.Fatalf("found only %d rule ids in the source; the scan is broken: %v", len(reported), reported)
	}
	for id, where := range reported {
		if _, ok := diag.Rule(id); !ok {
			t.Errorf("rule %q (%s) has no entry in engine/diag/rules.go", id, where)
		}
	}
	for _, r := range diag.Rules() {
		if _, ok := reported[r.ID]; !ok {
			t.Errorf("rules.go documents %q, which no stage reports", r.ID)
		}
	}
}

var ruleID = regexp.MustCompile(`^[a-z]+(-[a-z]+)*$`)

// reportedRules collects from the non-test Go files of dir: string
// constants named Rule*, string literals given as the rule argument of
// Add, Warn, Error and checkSecretLiteral, and the Name of rule types whose
// file reports under r.Name().
func reportedRules(t *testing.T, dir string) map[string]string {
	t.Helper()
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, dir, func(fi os.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	lit := func(e ast.Expr) (string, bool) {
		if b, ok := e.(*ast.BasicLit); ok && b.Kind == token.STRING {
			s, err := strconv.Unquote(b.Value)
			return s, err == nil
		}
		return "", false
	}
	for _, pkg := range pkgs {
		for name, f := range pkg.Files {
			usesName := false
			var names []string
			ast.Inspect(f, func(n ast.Node) bool {
				switch x := n.(type) {
				case *ast.ValueSpec:
					for i, id := range x.Names {
						if strings.HasPrefix(id.Name, "Rule") && i < len(x.Values) {
							if s, ok := lit(x.Values[i]); ok {
								out[s] = name
							}
						}
					}
				case *ast.CallExpr:
					fn := ""
					switch f := x.Fun.(type) {
					case *ast.SelectorExpr:
						fn = f.Sel.Name
					case *ast.Ident:
						fn = f.Name
					}
					// Where the rule is: second argument of Context.Error and
					// Warn and of checkSecretLiteral, third of diag.List.Add and
					// Warn and of schemacheck's add. For Warn, accept a literal
					// shaped like a rule id (format strings have spaces).
					for _, i := range map[string][]int{"Error": {1}, "checkSecretLiteral": {1}, "Add": {2}, "add": {2}, "Warn": {1, 2}}[fn] {
						if i >= len(x.Args) {
							continue
						}
						if s, ok := lit(x.Args[i]); ok && ruleID.MatchString(s) {
							out[s] = name
						}
						if c, ok := x.Args[i].(*ast.CallExpr); ok {
							if sel, ok := c.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Name" {
								usesName = true
							}
						}
					}
				case *ast.FuncDecl:
					if x.Name.Name == "Name" && x.Recv != nil && x.Body != nil && len(x.Body.List) == 1 {
						if r, ok := x.Body.List[0].(*ast.ReturnStmt); ok && len(r.Results) == 1 {
							if s, ok := lit(r.Results[0]); ok {
								names = append(names, s)
							}
						}
					}
				}
				return true
			})
			if usesName {
				for _, s := range names {
					out[s] = name
				}
			}
		}
	}
	return out
}
