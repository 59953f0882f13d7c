package plan

import (
	"fmt"
	"strings"
	"testing"

	"github.com/alpha-orion/runbook/engine/diag"
	"github.com/alpha-orion/runbook/engine/load"
)

// build loads a runbook whose steps are given as YAML lines and builds its graph.
func build(t *testing.T, steps string) (*load.Runbook, *Graph, diag.List) {
	t.Helper()
	src := "apiVersion: runbook/v1\nkind: Runbook\nmetadata: {name: t}\n" + steps
	rb, diags := load.Bytes("t.yaml", []byte(src))
	if len(diags) > 0 {
		t.Fatalf("load: %v", diags)
	}
	g, gd := Build(rb)
	return rb, g, gd
}

// ids names steps by their indexes, for messages.
func ids(l *List, idx []int) string {
	names := make([]string, len(idx))
	for i, j := range idx {
		names[i] = l.Steps[j].ID.Value
	}
	return strings.Join(names, " ")
}

func TestNeeds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, steps string
		deps        string // each step's deps by id, "|" between steps
	}{
		{"default is the step above", "steps:\n- {id: a}\n- {id: b}\n- {id: c}\n", "|a|b"},
		{"explicit", "steps:\n- {id: a}\n- {id: b, needs: []}\n- {id: c, needs: [a, b]}\n", "||a b"},
		{"empty means none", "steps:\n- {id: a}\n- {id: b, needs: []}\n", "|"},
		{"repeats count once", "steps:\n- {id: a}\n- {id: b, needs: [a, a]}\n", "|a"},
		{"forward", "steps:\n- {id: a, needs: [b]}\n- {id: b, needs: []}\n", "b|"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, g, diags := build(t, tc.steps)
			if len(diags) > 0 {
				t.Fatalf("findings: %v", diags)
			}
			got := make([]string, len(g.Main.Steps))
			for i, d := range g.Main.Deps {
				got[i] = ids(g.Main, d)
			}
			if got, want := strings.Join(got, "|"), tc.deps; got != want {
				t.Fatalf("deps = %q, want %q", got, want)
			}
		})
	}
}

func TestNeedsFindings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, steps string
		want        []string // "line:col rule: message"
	}{
		{"self", "steps:\n- {id: a, needs: [a]}\n", []string{`5:19 self-needs: step "a" needs itself`}},
		{"unknown with a hint", "steps:\n- {id: stop-api}\n- {id: b, needs: [stop-apii]}\n",
			[]string{`6:19 unknown-needs: needs names unknown step "stop-apii"; did you mean "stop-api"?`}},
		{"another list", "steps:\n- {id: a, needs: [f]}\non_failure:\n- {id: f}\n",
			[]string{`5:19 unknown-needs: step "f" is in on_failure; needs may only name steps of steps`}},
		{"duplicate id", "steps:\n- {id: a}\nfinally:\n- {id: a}\n", []string{`7:8 duplicate-id: step id "a" is already used at line 5`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, diags := build(t, tc.steps)
			var got []string
			for _, d := range diags {
				got = append(got, fmt.Sprintf("%d:%d %s: %s", d.Pos.Line, d.Pos.Col, d.Rule, d.Message))
			}
			if g, w := strings.Join(got, "\n"), strings.Join(tc.want, "\n"); g != w {
				t.Fatalf("findings:\n%s\nwant:\n%s", g, w)
			}
		})
	}
}

func TestOrder(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, steps, order string
	}{
		{"list order when free", "steps:\n- {id: a, needs: []}\n- {id: b, needs: []}\n- {id: c, needs: []}\n", "a b c"},
		{"dependencies first", "steps:\n- {id: a, needs: [c]}\n- {id: b, needs: [a]}\n- {id: c, needs: []}\n", "c a b"},
		{"stable among the ready", "steps:\n- {id: a}\n- {id: b, needs: []}\n- {id: c, needs: [a]}\n- {id: d, needs: [b]}\n", "a b c d"},
		{"diamond", "steps:\n- {id: a}\n- {id: b, needs: [a]}\n- {id: c, needs: [a]}\n- {id: d, needs: [c, b]}\n", "a b c d"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, g, diags := build(t, tc.steps)
			if len(diags) > 0 {
				t.Fatalf("findings: %v", diags)
			}
			if got := ids(g.Main, g.Main.Order); got != tc.order {
				t.Fatalf("order = %q, want %q", got, tc.order)
			}
			for i, in := range g.Main.InCycle {
				if in {
					t.Errorf("step %d marked in a cycle", i)
				}
			}
		})
	}
}

func TestCycles(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, steps string
		want        []string // "line:col message"
		order       string
	}{
		{
			"reported once, from the earliest step",
			"steps:\n- {id: a, needs: [c]}\n- {id: b, needs: [a]}\n- {id: c, needs: [b]}\n",
			[]string{`5:8 dependency cycle: "a" -> "c" -> "b" -> "a"`}, "",
		},
		{
			"found from a later step",
			"steps:\n- {id: x, needs: []}\n- {id: a, needs: [b]}\n- {id: b, needs: [a]}\n",
			[]string{`6:8 dependency cycle: "a" -> "b" -> "a"`}, "x",
		},
		{
			"two cycles",
			"steps:\n- {id: a, needs: [b]}\n- {id: b, needs: [a]}\n- {id: c, needs: [d]}\n- {id: d, needs: [c]}\n",
			[]string{`5:8 dependency cycle: "a" -> "b" -> "a"`, `7:8 dependency cycle: "c" -> "d" -> "c"`}, "",
		},
		{
			"one cycle reached twice",
			"steps:\n- {id: a, needs: [b]}\n- {id: b, needs: [c]}\n- {id: c, needs: [a]}\n- {id: d, needs: [b, c]}\n",
			[]string{`5:8 dependency cycle: "a" -> "b" -> "c" -> "a"`}, "",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, g, diags := build(t, tc.steps)
			var got []string
			for _, d := range diags {
				if d.Rule != RuleCycle {
					t.Errorf("unexpected finding %s", d)
				}
				got = append(got, fmt.Sprintf("%d:%d %s", d.Pos.Line, d.Pos.Col, d.Message))
			}
			if g, w := strings.Join(got, "\n"), strings.Join(tc.want, "\n"); g != w {
				t.Fatalf("findings:\n%s\nwant:\n%s", g, w)
			}
			if got := ids(g.Main, g.Main.Order); got != tc.order {
				t.Errorf("order = %q, want %q", got, tc.order)
			}
			for i, s := range g.Main.Steps {
				if ordered := strings.Contains(" "+tc.order+" ", " "+s.ID.Value+" "); g.Main.InCycle[i] == ordered {
					t.Errorf("InCycle[%s] = %v", s.ID.Value, g.Main.InCycle[i])
				}
			}
		})
	}
}

func TestDependsOn(t *testing.T) {
	t.Parallel()
	_, g, diags := build(t, "steps:\n- {id: a}\n- {id: b}\n- {id: c}\n- {id: d, needs: [a]}\n- {id: e, needs: []}\n")
	if len(diags) > 0 {
		t.Fatalf("findings: %v", diags)
	}
	l := g.Main
	for _, tc := range []struct {
		from, to string
		want     bool
	}{
		{"b", "a", true}, {"c", "a", true}, {"c", "b", true}, {"d", "a", true},
		{"a", "b", false}, {"a", "a", false}, {"d", "b", false}, {"e", "a", false}, {"d", "c", false},
	} {
		i, ok1 := l.Index(tc.from)
		j, ok2 := l.Index(tc.to)
		if !ok1 || !ok2 {
			t.Fatalf("Index(%q, %q) not found", tc.from, tc.to)
		}
		if got := l.DependsOn(i, j); got != tc.want {
			t.Errorf("DependsOn(%s, %s) = %v, want %v", tc.from, tc.to, got, tc.want)
		}
	}
}

func TestLists(t *testing.T) {
	t.Parallel()
	rb, g, diags := build(t, "steps:\n- {id: a}\non_failure:\n- {id: f}\nfinally:\n- {id: z}\n")
	if len(diags) > 0 {
		t.Fatalf("findings: %v", diags)
	}
	lists := g.Lists()
	if len(lists) != 3 || lists[0] != g.Main || lists[1] != g.OnFailure || lists[2] != g.Finally {
		t.Fatalf("Lists() = %v", lists)
	}
	for _, s := range rb.AllSteps() {
		got, ok := g.Step(s.ID.Value)
		if !ok || got != s {
			t.Errorf("Step(%q) = %v, %v", s.ID.Value, got, ok)
		}
		if l := g.ListOf(s); l.Phase != s.Phase {
			t.Errorf("ListOf(%q).Phase = %v, want %v", s.ID.Value, l.Phase, s.Phase)
		}
	}
	if _, ok := g.Step("nope"); ok {
		t.Error(`Step("nope") found`)
	}
	if _, ok := g.Main.Index("f"); ok {
		t.Error(`Main.Index("f") found a step of on_failure`)
	}
	if len(g.OnFailure.Deps[0]) != 0 {
		t.Errorf("the first step of on_failure waits for %v", g.OnFailure.Deps[0])
	}
}

func TestListsAreSeparate(t *testing.T) {
	t.Parallel()
	_, g, diags := build(t, "steps:\n- {id: a}\non_failure:\n- {id: f}\n- {id: g}\nfinally:\n- {id: z}\n")
	if len(diags) > 0 {
		t.Fatalf("findings: %v", diags)
	}
	for _, l := range g.Lists() {
		if len(l.Deps[0]) != 0 {
			t.Errorf("the first step of %s waits for %v", l.Phase, l.Deps[0])
		}
	}
	if got := ids(g.OnFailure, g.OnFailure.Deps[1]); got != "f" {
		t.Errorf("g waits for %q, want f", got)
	}
}

func TestLongChain(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("steps:\n")
	for i := range 130 { // more than two words of the ancestor bitset
		fmt.Fprintf(&b, "- {id: s%d}\n", i)
	}
	_, g, diags := build(t, b.String())
	if len(diags) > 0 {
		t.Fatalf("findings: %v", diags)
	}
	if !g.Main.DependsOn(129, 0) || !g.Main.DependsOn(129, 64) || g.Main.DependsOn(64, 129) {
		t.Fatal("DependsOn is wrong across bitset words")
	}
}
