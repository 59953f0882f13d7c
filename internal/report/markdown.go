package report

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/alpha-orion/runbook/engine/eval"
)

// barWidth is the width of the ASCII Gantt chart in characters.
const barWidth = 60

// Markdown writes the incident report as GitHub-flavoured Markdown, with the
// timeline as ASCII bars (a code block reads the same everywhere).
func Markdown(w io.Writer, r *Run) error {
	b := bufio.NewWriter(w)
	fmt.Fprintf(b, "# Incident report: %s\n\n", md(r.Runbook))
	fmt.Fprintf(b, "| | |\n| --- | --- |\n")
	row := func(k, v string) { fmt.Fprintf(b, "| %s | %s |\n", k, v) }
	row("Run", code(r.ID))
	row("Status", "**"+md(r.Status)+"**")
	row("Started", md(utc(r.Started))+" by "+md(r.User))
	row("Duration", md(Dur(r.Duration)))
	if waited := r.Waited(); waited > 0 {
		row("Waited for people", md(Dur(waited)+" of it"))
	}
	row("RTO", md(rtoText(r)))
	row("Restore point", md(restoreCell(r)))
	row("Runbook", code(r.File)+" sha256 "+code(r.Digest))
	if r.Pause != nil {
		row("Waiting for", md(fmt.Sprintf("%s of step %s (runbook resume %s --approve %s)", r.Pause.Kind, r.Pause.Step, r.ID, r.Pause.Step)))
	}

	fmt.Fprintf(b, "\n## Timeline\n\n```text\n")
	asciiGantt(b, r)
	fmt.Fprintf(b, "```\n\n")
	fmt.Fprintf(b, "| start | duration | step | phase | action | status | attempts | error |\n| ---: | ---: | --- | --- | --- | --- | ---: | --- |\n")
	for _, s := range r.Steps {
		start, d := "", ""
		if s.started {
			start, d = "+"+Dur(s.Start), Dur(s.Duration)
			if s.Open {
				d += " (no end)"
			}
		}
		status := s.Status
		if s.Undone {
			status += " (undone)"
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %d | %s |\n", start, d, code(s.ID), md(s.Phase), md(s.Action), md(status), s.Attempts, md(s.Error))
	}

	fmt.Fprintf(b, "\n## Approvals\n\n")
	if len(r.Approvals) == 0 {
		fmt.Fprintf(b, "None.\n")
	} else {
		fmt.Fprintf(b, "| at | step | kind | by | digest |\n| --- | --- | --- | --- | --- |\n")
		for _, a := range r.Approvals {
			fmt.Fprintf(b, "| %s (+%s) | %s | %s | %s | %s |\n", md(utc(a.At)), md(Dur(a.Offset)), code(a.Step), md(a.Kind), md(a.By), code(a.Digest))
		}
	}

	fmt.Fprintf(b, "\n## Errors\n\n")
	if len(r.Problems) == 0 {
		fmt.Fprintf(b, "None.\n")
	} else {
		fmt.Fprintf(b, "| at | step | what | kind | message |\n| ---: | --- | --- | --- | --- |\n")
		for _, p := range r.Problems {
			what := p.What
			if p.Attempt > 0 {
				what += fmt.Sprintf(" (attempt %d)", p.Attempt)
			}
			fmt.Fprintf(b, "| +%s | %s | %s | %s | %s |\n", md(Dur(p.Offset)), code(p.Step), md(what), md(p.Kind), md(p.Message))
		}
	}

	fmt.Fprintf(b, "\n## Outputs\n\n")
	n := 0
	for _, s := range r.Steps {
		for _, o := range s.Outputs {
			if n == 0 {
				fmt.Fprintf(b, "| step | output | value |\n| --- | --- | --- |\n")
			}
			n++
			fmt.Fprintf(b, "| %s | %s | %s |\n", code(s.ID), code(o.Key), md(o.Value))
		}
		for _, k := range s.Secret {
			if n == 0 {
				fmt.Fprintf(b, "| step | output | value |\n| --- | --- | --- |\n")
			}
			n++
			fmt.Fprintf(b, "| %s | %s | \\*\\*\\* (secret, not journaled) |\n", code(s.ID), code(k))
		}
	}
	if n == 0 {
		fmt.Fprintf(b, "None.\n")
	}

	if len(r.Params) > 0 {
		fmt.Fprintf(b, "\n## Params\n\n| param | value |\n| --- | --- |\n")
		for _, k := range sortedKeys(r.Params) {
			fmt.Fprintf(b, "| %s | %s |\n", code(k), md(text(r.Params[k])))
		}
	}
	return b.Flush()
}

// asciiGantt draws one bar per started step; '|' marks the RTO when it is on the chart.
func asciiGantt(w io.Writer, r *Run) {
	a := r.axis()
	label := 4
	for _, s := range r.Steps {
		label = max(label, len(s.ID))
	}
	rto := -1
	if a.rtoShown {
		rto = min(barWidth-1, int(a.frac(r.RTO)*barWidth))
	}
	end := Dur(a.span)
	fmt.Fprintf(w, "%-*s  0%s%s\n", label, "", strings.Repeat(" ", barWidth-1-len(end)), end)
	for _, s := range r.Steps {
		if !s.started && len(s.Waits) == 0 {
			continue
		}
		line := []rune(strings.Repeat(" ", barWidth))
		for _, w := range s.Waits {
			from := min(barWidth-1, int(a.frac(w.Start)*barWidth))
			to := max(from+1, min(barWidth, int(a.frac(w.Start+w.Duration)*barWidth+0.5)))
			for i := from; i < to; i++ {
				line[i] = '·'
			}
		}
		if !s.started {
			fmt.Fprintf(w, "%-*s  %s  %s\n", label, s.ID, string(line), "waiting")
			continue
		}
		from := min(barWidth-1, int(a.frac(s.Start)*barWidth))
		to := max(from+1, min(barWidth, int(a.frac(s.Start+s.Duration)*barWidth+0.5)))
		fill := map[string]rune{"succeeded": '█', "failed": 'X'}[s.Status]
		if fill == 0 {
			fill = '░'
		}
		for i := from; i < to; i++ {
			line[i] = fill
		}
		if rto >= 0 && line[rto] == ' ' {
			line[rto] = '|'
		}
		fmt.Fprintf(w, "%-*s  %s  %s\n", label, s.ID, string(line), s.Status)
	}
	if rto >= 0 {
		fmt.Fprintf(w, "%-*s  %s^ RTO %s\n", label, "", strings.Repeat(" ", rto), Dur(r.RTO))
	}
	fmt.Fprintf(w, "\n█ succeeded  X failed  ░ other (running, cancelled)  · waiting for a person")
	if note := r.rtoNote(a); note != "" {
		fmt.Fprintf(w, "  (%s)", note)
	}
	fmt.Fprintln(w)
}

func rtoText(r *Run) string {
	if r.RTO <= 0 {
		return "not set"
	}
	return fmt.Sprintf("%s: %d%% used", eval.ShortDuration(r.RTO), r.RTOUsed())
}

func restoreCell(r *Run) string {
	if s := r.RestoreText(); s != "" {
		return s
	}
	return fmt.Sprintf("none recorded (no step output %s, no param %s)", RestoreOutput, RestoreParam)
}

// mdEscaper keeps journaled text from being read as Markdown or HTML.
var mdEscaper = strings.NewReplacer(`\`, `\\`, "|", `\|`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`,
	"<", "&lt;", ">", "&gt;", "&", "&amp;", "#", `\#`)

// md escapes s for a Markdown table cell (one line).
func md(s string) string { return mdEscaper.Replace(oneLine(s)) }

// code puts s in a code span; backticks cannot occur in ids, digests or paths we print, but are dropped if they do.
func code(s string) string {
	return "`" + strings.ReplaceAll(strings.ReplaceAll(oneLine(s), "`", ""), "|", `\|`) + "`"
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
