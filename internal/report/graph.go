package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/alpha-orion/runbook/engine/load"
	"github.com/alpha-orion/runbook/engine/plan"
)

// Lock marks a step that needs a person: a confirm, or the approval and manual built-ins.
const Lock = "🔒"

// graphList is one step list as the pictures draw it.
type graphList struct {
	name  string // steps, on_failure, finally
	title string
	list  *plan.List
	ids   []string // node ids, by index in list.Steps
}

func graphLists(g *plan.Graph) []graphList {
	var out []graphList
	for _, gl := range []graphList{
		{name: "steps", title: "steps", list: g.Main},
		{name: "on_failure", title: "on_failure (when a main step fails)", list: g.OnFailure},
		{name: "finally", title: "finally (always)", list: g.Finally},
	} {
		if gl.list == nil || len(gl.list.Steps) == 0 {
			continue
		}
		for i := range gl.list.Steps {
			gl.ids = append(gl.ids, fmt.Sprintf("%s_%d", map[string]string{"steps": "s", "on_failure": "f", "finally": "z"}[gl.name], i))
		}
		out = append(out, gl)
	}
	return out
}

// needsPerson reports whether a step waits for a person.
func needsPerson(s *load.Step) bool {
	return s.Confirm != nil || s.Uses.Value == "approval" || s.Uses.Value == "manual"
}

// nodeLines are a step's label lines: id (with the lock), action, guard, undo.
func nodeLines(s *load.Step) []string {
	id := s.ID.Value
	if needsPerson(s) {
		id = Lock + " " + id
	}
	lines := []string{id, s.Uses.Value}
	if s.Confirm != nil {
		lines = append(lines, "confirm: "+clip(oneLine(fmt.Sprint(s.Confirm.Scalar)), 40))
	}
	if s.When != nil {
		lines = append(lines, "when: "+oneLine(s.When.Source))
	}
	if s.Undo != nil {
		lines = append(lines, "undo: "+s.Undo.Uses.Value)
	}
	return lines
}

// clip shortens s to n runes with an ellipsis.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// roots and leaves are the steps of a list nothing depends on and that depend on nothing.
func leaves(l *plan.List) []int {
	used := make([]bool, len(l.Steps))
	for _, deps := range l.Deps {
		for _, d := range deps {
			used[d] = true
		}
	}
	var out []int
	for i := range l.Steps {
		if !used[i] {
			out = append(out, i)
		}
	}
	return out
}

func roots(l *plan.List) []int {
	var out []int
	for i := range l.Steps {
		if len(l.Deps[i]) == 0 {
			out = append(out, i)
		}
	}
	return out
}

// Mermaid writes rb's step graph as a Mermaid flowchart: one subgraph per
// list, dashed edges into guarded (when) steps, a lock on steps that need a
// person, and dotted edges from steps to on_failure and finally.
func Mermaid(w io.Writer, rb *load.Runbook, g *plan.Graph) error {
	b := bufio.NewWriter(w)
	fmt.Fprintf(b, "%%%% %s: %s\n", rb.Metadata.Name.Value, oneLine(rb.Metadata.Title.Value))
	fmt.Fprintf(b, "flowchart TD\n")
	lists := graphLists(g)
	for _, gl := range lists {
		fmt.Fprintf(b, "  subgraph %s [\"%s\"]\n    direction TB\n", gl.name, mmd(gl.title))
		for i, s := range gl.list.Steps {
			lines := nodeLines(s)
			for j := range lines {
				lines[j] = mmd(lines[j])
			}
			lines[1] = "<i>" + lines[1] + "</i>"
			fmt.Fprintf(b, "    %s[\"%s\"]\n", gl.ids[i], strings.Join(lines, "<br/>"))
		}
		fmt.Fprintf(b, "  end\n")
	}
	for _, gl := range lists {
		for i, s := range gl.list.Steps {
			for _, d := range gl.list.Deps[i] {
				if s.When != nil {
					fmt.Fprintf(b, "  %s -.->|when| %s\n", gl.ids[d], gl.ids[i])
				} else {
					fmt.Fprintf(b, "  %s --> %s\n", gl.ids[d], gl.ids[i])
				}
			}
		}
	}
	for _, gl := range others(lists) {
		label := map[string]string{"on_failure": "on failure", "finally": "then"}[gl.name]
		fmt.Fprintf(b, "  steps -.->|%s| %s\n", label, gl.name)
	}
	var locked, guarded []string
	for _, gl := range lists {
		for i, s := range gl.list.Steps {
			if needsPerson(s) {
				locked = append(locked, gl.ids[i])
			}
			if s.When != nil {
				guarded = append(guarded, gl.ids[i])
			}
		}
	}
	fmt.Fprintf(b, "  classDef confirm fill:#fff4e5,stroke:#b7791f,stroke-width:2px\n")
	fmt.Fprintf(b, "  classDef guarded stroke-dasharray:5 3\n")
	if len(locked) > 0 {
		fmt.Fprintf(b, "  class %s confirm\n", strings.Join(locked, ","))
	}
	if len(guarded) > 0 {
		fmt.Fprintf(b, "  class %s guarded\n", strings.Join(guarded, ","))
	}
	return b.Flush()
}

// mmdEscaper writes text safely inside a quoted Mermaid label.
var mmdEscaper = strings.NewReplacer(`"`, "#quot;", "<", "#lt;", ">", "#gt;", "#", "#35;", "&", "#amp;")

func mmd(s string) string { return mmdEscaper.Replace(s) }

// DOT writes rb's step graph as Graphviz source: one cluster per list,
// dashed edges labelled with the guard into `when` steps, a lock and a
// double border on steps that need a person, and dotted edges to the
// on_failure and finally clusters.
func DOT(w io.Writer, rb *load.Runbook, g *plan.Graph) error {
	b := bufio.NewWriter(w)
	fmt.Fprintf(b, "digraph %s {\n", dot(rb.Metadata.Name.Value))
	fmt.Fprintf(b, "  label=%s; labelloc=t; fontname=\"Helvetica\"; compound=true; rankdir=TB;\n", dot(rb.Metadata.Name.Value+": "+oneLine(rb.Metadata.Title.Value)))
	fmt.Fprintf(b, "  node [shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\", fontname=\"Helvetica\", fontsize=11];\n")
	fmt.Fprintf(b, "  edge [fontname=\"Helvetica\", fontsize=9];\n")
	lists := graphLists(g)
	for _, gl := range lists {
		fmt.Fprintf(b, "  subgraph cluster_%s {\n    label=%s; style=\"rounded,dashed\"; color=\"#9aa5b1\";\n", gl.name, dot(gl.title))
		for i, s := range gl.list.Steps {
			attrs := ""
			if needsPerson(s) {
				attrs += `, peripheries=2, color="#b7791f", fillcolor="#fff4e5"`
			}
			if s.When != nil {
				attrs += `, style="rounded,filled,dashed"`
			}
			fmt.Fprintf(b, "    %s [label=%s%s];\n", gl.ids[i], dot(strings.Join(nodeLines(s), "\n")), attrs)
		}
		fmt.Fprintf(b, "  }\n")
	}
	for _, gl := range lists {
		for i, s := range gl.list.Steps {
			for _, d := range gl.list.Deps[i] {
				if s.When != nil {
					fmt.Fprintf(b, "  %s -> %s [style=dashed, label=%s];\n", gl.ids[d], gl.ids[i], dot("when "+oneLine(s.When.Source)))
				} else {
					fmt.Fprintf(b, "  %s -> %s;\n", gl.ids[d], gl.ids[i])
				}
			}
		}
	}
	for _, gl := range others(lists) {
		from, to := lists[0].ids[first(leaves(lists[0].list))], gl.ids[first(roots(gl.list))]
		label := map[string]string{"on_failure": "on failure", "finally": "then"}[gl.name]
		fmt.Fprintf(b, "  %s -> %s [style=dotted, ltail=cluster_steps, lhead=cluster_%s, label=%s];\n", from, to, gl.name, dot(label))
	}
	fmt.Fprintf(b, "}\n")
	return b.Flush()
}

// others are the on_failure and finally lists when there is a main list to link them from.
func others(lists []graphList) []graphList {
	if len(lists) == 0 || lists[0].name != "steps" {
		return nil
	}
	return lists[1:]
}

func first(idx []int) int {
	if len(idx) == 0 {
		return 0
	}
	return idx[0]
}

// dot quotes s as a DOT string.
func dot(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}
