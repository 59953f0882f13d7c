// Package plan turns a runbook's step lists into dependency graphs: it
// resolves `needs` (absent means the step above), orders the steps, finds
// cycles, and answers which steps a step depends on.
package plan

import (
	"fmt"
	"sort"
	"strings"

	"github.com/alpha-orion/runbook/engine/diag"
	"github.com/alpha-orion/runbook/engine/load"
)

// Rule names of graph findings.
const (
	RuleDuplicateID = "duplicate-id"
	RuleUnknownNeed = "unknown-needs"
	RuleSelfNeed    = "self-needs"
	RuleCycle       = "cycle"
)

// Graph holds one dependency graph per step list of a runbook.
type Graph struct {
	Main      *List
	OnFailure *List
	Finally   *List
	byID      map[string]*load.Step
}

// List is the dependency graph of one step list.
type List struct {
	Phase load.Phase
	Steps []*load.Step
	// Deps[i] are the indexes of the steps Steps[i] waits for.
	Deps [][]int
	// Order is a topological order of the steps not caught in a cycle.
	Order []int
	// InCycle marks steps that sit on a dependency cycle.
	InCycle []bool
	anc     []bitset
	index   map[string]int
}

// Build resolves the graphs of rb and reports duplicate ids, bad needs and cycles.
func Build(rb *load.Runbook) (*Graph, diag.List) {
	var diags diag.List
	g := &Graph{byID: map[string]*load.Step{}}
	for _, s := range rb.AllSteps() {
		if !s.ID.Set {
			continue
		}
		if first, dup := g.byID[s.ID.Value]; dup {
			diags.Add(rb.File, s.ID.Pos, RuleDuplicateID, "step id %q is already used at line %d", s.ID.Value, first.ID.Pos.Line)
			continue
		}
		g.byID[s.ID.Value] = s
	}
	g.Main = g.list(rb, load.Main, rb.Steps, &diags)
	g.OnFailure = g.list(rb, load.OnFailure, rb.OnFailure, &diags)
	g.Finally = g.list(rb, load.Finally, rb.Finally, &diags)
	return g, diags
}

// Step returns the step with the given id in any list.
func (g *Graph) Step(id string) (*load.Step, bool) {
	s, ok := g.byID[id]
	return s, ok
}

// Lists returns the three lists in the order a run walks them.
func (g *Graph) Lists() []*List { return []*List{g.Main, g.OnFailure, g.Finally} }

// ListOf returns the list holding s.
func (g *Graph) ListOf(s *load.Step) *List {
	switch s.Phase {
	case load.OnFailure:
		return g.OnFailure
	case load.Finally:
		return g.Finally
	}
	return g.Main
}

func (g *Graph) list(rb *load.Runbook, phase load.Phase, steps []*load.Step, diags *diag.List) *List {
	l := &List{Phase: phase, Steps: steps, Deps: make([][]int, len(steps)), InCycle: make([]bool, len(steps)), index: map[string]int{}}
	for i, s := range steps {
		if _, dup := l.index[s.ID.Value]; s.ID.Set && !dup {
			l.index[s.ID.Value] = i
		}
	}
	ids := make([]string, 0, len(l.index))
	for id := range l.index {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for i, s := range steps {
		if !s.NeedsSet {
			if i > 0 {
				l.Deps[i] = []int{i - 1}
			}
			continue
		}
		seen := map[int]bool{}
		for _, n := range s.Needs {
			j, ok := l.index[n.Value]
			switch {
			case n.Value == s.ID.Value:
				diags.Add(rb.File, n.Pos, RuleSelfNeed, "step %q needs itself", n.Value)
			case !ok:
				if other, elsewhere := g.byID[n.Value]; elsewhere {
					diags.Add(rb.File, n.Pos, RuleUnknownNeed, "step %q is in %s; needs may only name steps of %s", n.Value, other.Phase, phase)
				} else {
					diags.Add(rb.File, n.Pos, RuleUnknownNeed, "needs names unknown step %q%s", n.Value, diag.Suggest(n.Value, ids))
				}
			case !seen[j]:
				seen[j] = true
				l.Deps[i] = append(l.Deps[i], j)
			}
		}
	}
	l.order(rb.File, diags)
	return l
}

// order computes Order, InCycle and ancestor sets, reporting each cycle once
// as a path that starts at its earliest step.
func (l *List) order(file string, diags *diag.List) {
	const (
		white = iota
		grey
		black
	)
	color := make([]int, len(l.Steps))
	var stack []int
	reported := map[string]bool{}
	var visit func(i int)
	visit = func(i int) {
		color[i] = grey
		stack = append(stack, i)
		for _, d := range l.Deps[i] {
			switch color[d] {
			case white:
				visit(d)
			case grey:
				l.cycle(file, stack, d, reported, diags)
			}
		}
		stack = stack[:len(stack)-1]
		color[i] = black
	}
	for i := range l.Steps {
		if color[i] == white {
			visit(i)
		}
	}
	// Kahn's algorithm in list order gives a stable topological order.
	indeg := make([]int, len(l.Steps))
	users := make([][]int, len(l.Steps))
	for i, ds := range l.Deps {
		indeg[i] = len(ds)
		for _, d := range ds {
			users[d] = append(users[d], i)
		}
	}
	l.anc = make([]bitset, len(l.Steps))
	var ready []int
	for i := range l.Steps {
		if indeg[i] == 0 {
			ready = append(ready, i)
		}
	}
	for len(ready) > 0 {
		sort.Ints(ready)
		i := ready[0]
		ready = ready[1:]
		l.Order = append(l.Order, i)
		a := newBitset(len(l.Steps))
		for _, d := range l.Deps[i] {
			a.set(d)
			a.or(l.anc[d])
		}
		l.anc[i] = a
		for _, u := range users[i] {
			if indeg[u]--; indeg[u] == 0 {
				ready = append(ready, u)
			}
		}
	}
	for i := range l.Steps {
		if l.anc[i] == nil {
			l.anc[i] = newBitset(len(l.Steps))
			l.InCycle[i] = true
		}
	}
}

// cycle reports the cycle that closes at step d on the DFS stack.
func (l *List) cycle(file string, stack []int, d int, reported map[string]bool, diags *diag.List) {
	start := 0
	for k, s := range stack {
		if s == d {
			start = k
		}
	}
	members := append([]int(nil), stack[start:]...)
	// The stack runs from dependent to dependency; show it that way, beginning at the earliest step.
	first := 0
	for k, m := range members {
		if lessPos(l.Steps[m], l.Steps[members[first]]) {
			first = k
		}
	}
	members = append(members[first:], members[:first]...)
	key := append([]int(nil), members...)
	sort.Ints(key)
	sig := fmt.Sprint(key)
	if reported[sig] {
		return
	}
	reported[sig] = true
	names := make([]string, 0, len(members)+1)
	for _, m := range members {
		names = append(names, fmt.Sprintf("%q", l.Steps[m].ID.Value))
	}
	names = append(names, names[0])
	s := l.Steps[members[0]]
	p := s.Pos
	if s.ID.Set {
		p = s.ID.Pos
	}
	diags.Add(file, p, RuleCycle, "dependency cycle: %s", strings.Join(names, " -> "))
}

func lessPos(a, b *load.Step) bool {
	if a.Pos.Line != b.Pos.Line {
		return a.Pos.Line < b.Pos.Line
	}
	return a.Pos.Col < b.Pos.Col
}

// Index returns the index of the step with id in this list.
func (l *List) Index(id string) (int, bool) {
	i, ok := l.index[id]
	return i, ok
}

// DependsOn reports whether step i waits, directly or through others, for step j.
func (l *List) DependsOn(i, j int) bool { return l.anc[i].has(j) }

type bitset []uint64

func newBitset(n int) bitset    { return make(bitset, (n+63)/64) }
func (b bitset) set(i int)      { b[i/64] |= 1 << (i % 64) }
func (b bitset) has(i int) bool { return i/64 < len(b) && b[i/64]&(1<<(i%64)) != 0 }
func (b bitset) or(o bitset) {
	for k := range o {
		b[k] |= o[k]
	}
}
