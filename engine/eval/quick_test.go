package eval

import (
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/alpha-orion/runbook/engine/catalog"
)

// agreeScope has every kind of name quick looks up.
func agreeScope() *Scope {
	return &Scope{
		Params: []catalog.Field{
			{Name: "at", Type: catalog.Timestamp}, {Name: "n", Type: catalog.Int}, {Name: "s", Type: catalog.String},
			{Name: "f", Type: catalog.Number}, {Name: "b", Type: catalog.Bool}, {Name: "d", Type: catalog.Duration},
			{Name: "a", Type: catalog.Any}, {Name: "l", Type: catalog.List}, {Name: "m", Type: catalog.Map},
			{Name: "restore_to", Type: catalog.Timestamp}, {Name: "threshold", Type: catalog.Int}, {Name: "region", Type: catalog.String},
		},
		Secrets: []string{"KEY", "API_KEY"},
		Steps: []StepScope{
			{ID: "stop-api", Outputs: []catalog.Field{{Name: "previous", Type: catalog.Int}}},
			{ID: "query", Outputs: []catalog.Field{{Name: "rows", Type: catalog.Rows}, {Name: "count", Type: catalog.Int}}},
			{ID: "open", Open: true},
			{ID: "greet", Outputs: []catalog.Field{{Name: "message", Type: catalog.String}}},
			{ID: "step-1", Outputs: []catalog.Field{{Name: "message", Type: catalog.String}}},
			{ID: "step", Outputs: []catalog.Field{{Name: "at", Type: catalog.Timestamp}, {Name: "ok", Type: catalog.Bool}, {Name: "x", Type: catalog.Any}}},
			{ID: "none"},
		},
	}
}

// agree checks src both ways and fails when quick answers differently from expr-lang.
func agree(t *testing.T, c *Checker, src string, outputs *StepScope) bool {
	t.Helper()
	rewritten := Rewrite(src, c.IsStep)
	got, ok := c.quick(rewritten, outputs)
	if !ok {
		return false
	}
	want := c.full(src, rewritten, outputs)
	if got.Type != want.Type || !reflect.DeepEqual(got.Refs, want.Refs) || !reflect.DeepEqual(got.Problems, want.Problems) {
		t.Errorf("quick and expr-lang disagree on %q (outputs %v):\nquick: %v %+v %+v\nexpr:  %v %+v %+v",
			src, outputs != nil, got.Type, got.Refs, got.Problems, want.Type, want.Refs, want.Problems)
	}
	return true
}

var exprInYAML = regexp.MustCompile(`\$\{\{(.*?)\}\}|(?:when|check|until): *(.*)`)

// corpusExprs returns the expressions of every YAML file in the repository's test data and examples.
func corpusExprs(t *testing.T) []string {
	var out []string
	for _, glob := range []string{"../lint/testdata/*/*.yaml", "../schemacheck/testdata/*/*.yaml", "../../examples/*.yaml", "../../internal/cli/testdata/*.yaml", "../../runbooks/*.yaml"} {
		files, _ := filepath.Glob(glob)
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range exprInYAML.FindAllStringSubmatch(string(b), -1) {
				for _, g := range m[1:] {
					if g = strings.Trim(strings.TrimSpace(g), `'"`); g != "" {
						out = append(out, g)
					}
				}
			}
		}
	}
	return out
}

var agreeSeeds = []string{
	`params.at > now() - objectives.rpo`, `steps.stop-api.outputs.previous + 1`, `steps["query"].outputs.count > 0`,
	`steps.step-1.status == "succeeded" && params.threshold > 3 || params.restore_to > now() - objectives.rpo`,
	`steps.step-1.outputs.message != ""`, `outputs.message != ""`, `outputs.rows`, `outputs.count > 2`, `outputs.x.y.z`,
	`!params.b`, `not params.b`, `-params.n`, `+params.f`, `-params.s`, `!params.s`, `params.n + params.f`, `params.n - params.n`,
	`params.at - params.at`, `params.at + params.d`, `params.d + params.at`, `params.d - params.d`, `params.d > params.d`,
	`params.s + params.s`, `params.s < params.s`, `params.n == params.s`, `params.n == params.f`, `params.a == 1`, `params.a && true`,
	`params.a + 1`, `params.a - params.at`, `params.l == params.l`, `params.m == params.m`, `params.n > 1 < 2`, `1 < 2 == true`,
	`params.at > 5`, `params.n == "x"`, `params.nope`, `secrets.KEY != ""`, `secrets.NOPE`, `env.HOME`, `env.HOME + "x"`, `env`,
	`run.id + run.runbook`, `run.started_at < now()`, `run.elapsed > objectives.rto`, `run.nope`, `objectives`, `params`,
	`steps.open.outputs.anything.deeper`, `steps.open.outputs.x > 1`, `steps.none.outputs.x`, `steps.nope.status`,
	`steps.stop-api.nope`, `steps.step.outputs.ok && steps.step.outputs.at < now()`, `steps.step.outputs.x.y`,
	`(params.n + 1) * 2`, `(params.n)`, `((params.b))`, `"a" + 'b'`, `true`, `false || true`, `1.5 + 2`, `007`, `1e3`, `0x10`,
	`1_000`, `now`, `now()`, `now(1)`, `now().Year()`, `ago(params.d)`, `len(params.s)`, `params.s matches "x"`, `params.n in [1]`,
	`params.n ?? 1`, `params.b ? 1 : 2`, `params.n not in [1]`, `params.s.x`, `params.at.Year`, `$env.params`, `b"x"`,
	`steps.step-1 .outputs .message`, "params.n\n> 1", `params.n >`, `params.n +`, `)`, `(`, `params.`, `params[1]`,
	`params["n"]`, `params["n" + ""]`, `steps['stop-api'].outputs['previous'] > 0`, `params.n >= 1 and params.n <= 9 or false`,
	`params.n > 1 && params.n`, `!!params.b`, `- -params.n`, `not not params.b`, `params.b == nil`, `true.x`, `1.x`, `"x".y`,
	`params.true`, `params.and`, `steps.step-1.outputs.message <= "x"`, `params.d * 2`, `params.n % 2`, `params.n / 2`,
	`params.f > params.n`, `params.f - params.f`, `params.n < params.at`, `outputs`, `outputs.message`, `steps`, `steps.step`,
}

// TestQuickAgrees checks that whenever quick answers, it answers what
// expr-lang's parser and checker answer.
func TestQuickAgrees(t *testing.T) {
	scope := agreeScope()
	c := NewChecker(scope)
	if !c.fast {
		t.Fatal("quick is off for the test scope")
	}
	outs := []*StepScope{nil, &scope.Steps[0], &scope.Steps[1], &scope.Steps[2], &scope.Steps[3], &scope.Steps[5], &scope.Steps[6]}
	srcs := append(append([]string(nil), agreeSeeds...), corpusExprs(t)...)
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 20000; i++ {
		srcs = append(srcs, genExpr(rng, 3))
	}
	for i := 0; i < 5000; i++ {
		srcs = append(srcs, mutate(rng, srcs[rng.Intn(len(agreeSeeds))]))
	}
	answered := 0
	for _, src := range srcs {
		for _, o := range outs {
			if agree(t, c, src, o) {
				answered++
			}
		}
	}
	if total := len(srcs) * len(outs); answered*4 < total {
		t.Errorf("quick answered only %d of %d checks; the generator or quick has drifted", answered, total)
	}
	t.Logf("quick answered %d of %d checks", answered, len(srcs)*len(outs))
}

var genLeaves = []string{
	"params.at", "params.n", "params.s", "params.f", "params.b", "params.d", "params.a", "params.l", "params.m", "params.nope",
	"secrets.KEY", "secrets.NOPE", "env.X", "env", "run.id", "run.started_at", "run.elapsed", "run.x", "objectives.rpo", "objectives",
	"steps.stop-api.outputs.previous", `steps["query"].outputs.count`, "steps.query.outputs.rows", "steps.open.outputs.x",
	"steps.open.outputs.x.y", "steps.step.outputs.at", "steps.step.outputs.ok", "steps.step.outputs.x", "steps.step-1.status",
	"steps.nope.status", "steps.step.outputs.nope", "steps.greet", "outputs.message", "outputs.previous", "outputs.x", "outputs",
	"1", "0", "2.5", `"x"`, `'y'`, `""`, "true", "false", "nil", "now()", "now", "params", "steps", "x",
}

var genOps = []string{"||", "&&", "or", "and", "==", "!=", "<", ">", "<=", ">=", "+", "-", "*", "/", "%", "??", "in", "..", "|"}

func genExpr(rng *rand.Rand, depth int) string {
	sp := func() string { return []string{"", " ", "  ", "\n", "\t"}[rng.Intn(5)] }
	if depth == 0 || rng.Intn(3) == 0 {
		return genLeaves[rng.Intn(len(genLeaves))]
	}
	switch rng.Intn(6) {
	case 0:
		return []string{"!", "not ", "-", "+"}[rng.Intn(4)] + sp() + genExpr(rng, depth-1)
	case 1:
		return "(" + sp() + genExpr(rng, depth-1) + sp() + ")"
	}
	op := genOps[rng.Intn(len(genOps))]
	if rng.Intn(4) > 0 {
		op = genOps[rng.Intn(12)]
	}
	return genExpr(rng, depth-1) + sp() + op + " " + sp() + genExpr(rng, depth-1)
}

// mutate inserts, deletes or replaces one byte, for the parser's edges.
func mutate(rng *rand.Rand, s string) string {
	const alphabet = ` ."'()[]!=<>&|+-*/0123456789abcnotrsuepx_$?:;,#\` + "\n"
	if s == "" {
		return string(alphabet[rng.Intn(len(alphabet))])
	}
	i := rng.Intn(len(s))
	c := string(alphabet[rng.Intn(len(alphabet))])
	switch rng.Intn(3) {
	case 0:
		return s[:i] + c + s[i:]
	case 1:
		return s[:i] + s[i+1:]
	}
	return s[:i] + c + s[i+1:]
}

// FuzzQuick compares quick with expr-lang on any input.
func FuzzQuick(f *testing.F) {
	for _, s := range agreeSeeds {
		f.Add(s)
	}
	scope := agreeScope()
	f.Fuzz(func(t *testing.T, src string) {
		c := NewChecker(scope)
		agree(t, c, src, nil)
		agree(t, c, src, &scope.Steps[5])
		agree(t, c, src, &scope.Steps[2])
	})
}

func TestQuickScope(t *testing.T) {
	for _, tc := range []struct {
		scope Scope
		want  bool
	}{
		{Scope{Params: []catalog.Field{{Name: "a"}, {Name: "b"}}, Secrets: []string{"a"}, Steps: []StepScope{{ID: "a"}}}, true},
		{Scope{Params: []catalog.Field{{Name: "a"}, {Name: "a"}}}, false},
		{Scope{Secrets: []string{"K", "K"}}, false},
		{Scope{Steps: []StepScope{{ID: "x"}, {ID: "x"}}}, false},
		{Scope{Params: []catalog.Field{{Name: `a"b`}}}, false},
		{Scope{Steps: []StepScope{{ID: "a b"}}}, false},
	} {
		if got := quickScope(&tc.scope); got != tc.want {
			t.Errorf("quickScope(%+v) = %v, want %v", tc.scope, got, tc.want)
		}
	}
}
