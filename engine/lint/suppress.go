package lint

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/alpha-orion/runbook/engine/diag"
	"github.com/alpha-orion/runbook/engine/load"
	"gopkg.in/yaml.v3"
)

// Rules of findings about suppression comments themselves.
const (
	// RuleIgnoreReason marks a runbook:ignore comment without a reason; it silences nothing.
	RuleIgnoreReason = "ignore-reason"
	// RuleIgnoreUnused marks a runbook:ignore comment that silenced no finding.
	RuleIgnoreUnused = "ignore-unused"
)

// Suppression comments. "# runbook:ignore RULE[,RULE...] reason" above a
// key or a list item silences those rules' findings in that key's value or
// that item; at the end of a line, on that line. "# runbook:ignore-file
// RULE[,RULE...] reason" silences them in the whole file.
const (
	ignoreLine = "runbook:ignore"
	ignoreFile = "runbook:ignore-file"
)

// suppression is one runbook:ignore comment.
type suppression struct {
	pos       diag.Pos // of the comment
	rules     []string
	reason    string
	from, to  int             // the lines it covers
	wholeFile bool            // runbook:ignore-file: every line
	used      map[string]bool // the rules it silenced a finding of
	directive string
}

// Suppress drops the findings of diags that a runbook:ignore comment of
// rb silences, and adds findings for comments without a reason or that
// silence nothing. Comments are those the YAML parser attaches to nodes.
func Suppress(rb *load.Runbook, diags diag.List) diag.List {
	if rb == nil || rb.Doc == nil {
		return diags
	}
	sups := collectSuppressions(rb)
	if len(sups) == 0 {
		return diags
	}
	var out diag.List
	for _, d := range diags {
		if d.File != rb.File || !silenced(sups, d) {
			out = append(out, d)
		}
	}
	for _, s := range sups {
		switch {
		case s.reason == "":
			out.Add(rb.File, s.pos, RuleIgnoreReason, "%s %s needs a reason: # %s %s WHY; it silences nothing until it has one",
				s.directive, strings.Join(s.rules, ","), s.directive, strings.Join(s.rules, ","))
		default:
			for _, r := range s.rules {
				if !s.used[r] {
					out.Warn(rb.File, s.pos, RuleIgnoreUnused, "%s %s silences no finding of %s%s; remove %s", s.directive,
						strings.Join(s.rules, ","), r, unknownRule(r), r)
				}
			}
		}
	}
	out.Sort()
	return out
}

// unknownRule says when no stage reports rule, with a suggestion.
func unknownRule(rule string) string {
	if _, ok := diag.Rule(rule); ok {
		return ""
	}
	var ids []string
	for _, r := range diag.Rules() {
		ids = append(ids, r.ID)
	}
	return fmt.Sprintf(" (there is no rule %q%s)", rule, diag.Suggest(rule, ids))
}

func silenced(sups []*suppression, d diag.Diagnostic) bool {
	if d.Rule == RuleIgnoreReason || d.Rule == RuleIgnoreUnused {
		return false
	}
	hit := false
	for _, s := range sups {
		if s.reason == "" || !contains(s.rules, d.Rule) {
			continue
		}
		if s.wholeFile || (d.Pos.Line >= s.from && d.Pos.Line <= s.to) {
			s.used[d.Rule], hit = true, true
		}
	}
	return hit
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// collectSuppressions walks the YAML tree for runbook:ignore comments.
func collectSuppressions(rb *load.Runbook) []*suppression {
	lines := bytes.Split(rb.Source, []byte("\n"))
	var out []*suppression
	add := func(comment string, anchor *yaml.Node, from, to int, head bool) {
		for _, c := range strings.Split(comment, "\n") {
			s := parseSuppression(c)
			if s == nil {
				continue
			}
			s.from, s.to = from, to
			s.pos = commentPos(lines, c, anchor.Line, head)
			out = append(out, s)
		}
	}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		add(n.HeadComment, n, n.Line, lastLine(n), true)
		add(n.LineComment, n, n.Line, n.Line, false)
		add(n.FootComment, n, 0, -1, false)
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				add(k.HeadComment, k, k.Line, lastLine(v), true)
				add(k.LineComment, k, k.Line, k.Line, false)
				add(k.FootComment, k, 0, -1, false)
				walk(v)
			}
			return
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	if rb.Document != nil {
		walk(rb.Document)
	} else {
		walk(rb.Doc)
	}
	return out
}

// parseSuppression reads "# runbook:ignore RULES reason" or its -file form; nil if c is another comment.
func parseSuppression(c string) *suppression {
	text := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(c), "#"))
	fields := strings.Fields(text)
	if len(fields) == 0 || (fields[0] != ignoreLine && fields[0] != ignoreFile) {
		return nil
	}
	s := &suppression{directive: fields[0], wholeFile: fields[0] == ignoreFile, used: map[string]bool{}}
	if len(fields) > 1 {
		s.rules = strings.Split(fields[1], ",")
	}
	if len(fields) > 2 {
		s.reason = strings.Join(fields[2:], " ")
	}
	return s
}

// commentPos finds a comment's line: for a head comment, the nearest line
// above the node holding it; for a line or foot comment, the node's line or
// the nearest below. Column is where the '#' is.
func commentPos(lines [][]byte, comment string, line int, above bool) diag.Pos {
	comment = strings.TrimSpace(comment)
	step, stop := 1, len(lines)
	if above {
		step, stop, line = -1, 0, line-1
	}
	for l := line; l >= 1 && l <= len(lines) && l != stop+step; l += step {
		if i := bytes.Index(lines[l-1], []byte(comment)); i >= 0 {
			return diag.Pos{Line: l, Col: i + 1}
		}
	}
	return diag.Pos{Line: max(line, 1), Col: 1}
}

// lastLine is the last line a node's value reaches.
func lastLine(n *yaml.Node) int {
	last := n.Line
	for _, c := range n.Content {
		last = max(last, lastLine(c))
	}
	return last
}
