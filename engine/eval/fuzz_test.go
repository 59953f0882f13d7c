package eval

import (
	"testing"
	"time"

	"github.com/alpha-orion/runbook/engine/catalog"
)

func fuzzScope() *Scope {
	return &Scope{
		Params:  []catalog.Field{{Name: "at", Type: catalog.Timestamp}, {Name: "n", Type: catalog.Int}, {Name: "s", Type: catalog.String}},
		Secrets: []string{"KEY"},
		Steps: []StepScope{
			{ID: "stop-api", Outputs: []catalog.Field{{Name: "previous", Type: catalog.Int}}},
			{ID: "query", Outputs: []catalog.Field{{Name: "rows", Type: catalog.Rows}}},
			{ID: "open", Open: true},
		},
	}
}

func fuzzEnv() Env {
	return Env{
		"params":     map[string]any{"at": time.Unix(0, 0), "n": 3, "s": "x"},
		"secrets":    map[string]any{"KEY": "k"},
		"steps":      map[string]any{"stop-api": map[string]any{"outputs": map[string]any{"previous": 2}, "status": "succeeded"}},
		"env":        map[string]any{},
		"outputs":    map[string]any{"rows": []any{map[string]any{"n": 1}}},
		"run":        map[string]any{"id": "r1", "elapsed": time.Second},
		"objectives": map[string]any{"rto": time.Hour},
	}
}

// FuzzExpr checks that checking and evaluating any expression never panics.
func FuzzExpr(f *testing.F) {
	for _, s := range []string{
		"params.at > now() - duration(\"1h\")",
		"steps.stop-api.outputs.previous + 1",
		`steps["query"].outputs.rows[0].n > 0`,
		"len(outputs.rows) == 1 && params.s matches '^x'",
		"ago(objectives.rto) < params.at",
		"steps.open.outputs.anything.deeper[3]",
		"1 / 0", "[1,2,3] | map(# * 2)", "{a: 1}.a", "secrets.KEY + params.s",
	} {
		f.Add(s)
	}
	scope := fuzzScope()
	f.Fuzz(func(t *testing.T, src string) {
		c := NewChecker(scope)
		res := c.Check(src, &scope.Steps[1])
		for _, p := range res.Problems {
			if p.Message == "" || p.Rule == "" {
				t.Fatalf("problem without message: %+v", p)
			}
		}
		if len(res.Problems) == 0 && len(src) < 200 {
			p := NewPrograms(c.IsStep)
			_, _ = p.Value(src, fuzzEnv())
		}
	})
}
