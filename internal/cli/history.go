package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/alpha-orion/runbook/engine/diag"
	"github.com/alpha-orion/runbook/engine/journal"
	"github.com/alpha-orion/runbook/engine/load"
	"github.com/alpha-orion/runbook/engine/plan"
	"github.com/alpha-orion/runbook/internal/report"
	"github.com/spf13/pflag"
)

func init() {
	flagSets["history"] = func(fs *pflag.FlagSet) { historyFlags(fs); drillsFlag(fs) }
	flagSets["show"] = func(fs *pflag.FlagSet) { showFlags(fs) }
	flagSets["report"] = func(fs *pflag.FlagSet) { reportFlags(fs) }
	flagSets["graph"] = func(fs *pflag.FlagSet) { graphFlags(fs) }
}

func stateFlag(fs *pflag.FlagSet) *string {
	return fs.String("state", "", "state folder (default $RUNBOOK_STATE or "+DefaultStateDir+")")
}

func historyFlags(fs *pflag.FlagSet) (state, format *string) {
	return stateFlag(fs), fs.StringP("format", "f", "text", "output format: text or json")
}

func drillsFlag(fs *pflag.FlagSet) *bool {
	return fs.Bool("drills", false, "list drills (rehearsals against stand-ins) instead of real runs")
}

func historyCmd() *subcommand {
	return &subcommand{
		name:    "history",
		summary: "List past runs, newest first, with status, duration and RTO used",
		usage:   "history [flags] [NAME]",
		examples: `  runbook history
  runbook history neon-pitr
  runbook history --drills             # the drills, with their verdicts: evidence of rehearsal
  runbook history --format json --state /var/lib/runbook`,
		run: runHistory,
	}
}

// historyEntry is one row of `runbook history`.
type historyEntry struct {
	Run        string `json:"run"`
	Runbook    string `json:"runbook"`
	Status     string `json:"status"`
	User       string `json:"user"`
	Started    string `json:"started"`
	DurationMS int64  `json:"duration_ms"`
	RTO        string `json:"rto,omitempty"`
	// RTOUsed is the duration as a percentage of the RTO; absent without an RTO.
	RTOUsed *int `json:"rto_used_percent,omitempty"`
	// Reason says why a damaged run's journal cannot be read.
	Reason string `json:"reason,omitempty"`
	// Drill is set for a drill; Verdict is its result (passed, failed, or
	// empty when it recorded none, e.g. a sabotaged drill).
	Drill   bool   `json:"drill,omitempty"`
	Verdict string `json:"verdict,omitempty"`
	started int64
}

// StatusDamaged is the status history and status give a run whose journal
// cannot be read: listed with the reason, never hidden.
const StatusDamaged = "damaged"

// damagedEntry describes a run whose journal cannot be read, with what the
// records before the damage and its id say about it.
func damagedEntry(id string, events []journal.Event, err error) historyEntry {
	e := historyEntry{Run: id, Runbook: runbookOfID(id), Status: StatusDamaged, Reason: err.Error()}
	if len(events) > 0 && events[0].Type == journal.RunStarted {
		first := events[0]
		e.Runbook, e.User = first.Runbook, first.User
		e.Started, e.started = first.Time.UTC().Format("2006-01-02T15:04:05Z"), first.Time.UnixNano()
	} else if t, err := time.Parse("20060102T150405Z", strings.SplitN(id, "-", 2)[0]); err == nil {
		e.Started, e.started = t.Format("2006-01-02T15:04:05Z"), t.UnixNano()
	}
	return e
}

// runbookOfID returns the runbook a run id names (TIMESTAMP-RUNBOOK-RANDOM).
func runbookOfID(id string) string {
	parts := strings.SplitN(id, "-", 2)
	if len(parts) < 2 {
		return ""
	}
	name := parts[1]
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		name = name[:i]
	}
	return name
}

func runHistory(c *Command, args []string) int {
	fs := pflag.NewFlagSet("history", pflag.ContinueOnError)
	state, format := historyFlags(fs)
	drills := drillsFlag(fs)
	if done, code := c.parse(c.find("history"), fs, args); done {
		return code
	}
	if *format != "text" && *format != "json" {
		return c.usageError("history: unknown --format %q (text, json)", *format)
	}
	if fs.NArg() > 1 {
		return c.usageError("history: takes at most one runbook name")
	}
	ctx := context.Background()
	store, err := c.openStore(ctx, *state)
	if err != nil {
		return c.usageError("history: %v", err)
	}
	defer store.Close()
	ids, err := store.List(ctx)
	if err != nil {
		return c.usageError("history: %v", err)
	}
	entries := []historyEntry{}
	for _, id := range ids {
		events, err := store.Read(ctx, id)
		var r *report.Run
		if err == nil {
			r, err = report.New(events, nil)
		}
		if err != nil {
			d := damagedEntry(id, events, err)
			d.Drill = strings.Contains(id, "-drill-") || len(events) > 0 && events[0].Drill
			if (fs.NArg() == 0 || d.Runbook == fs.Arg(0)) && d.Drill == *drills {
				entries = append(entries, d)
			}
			continue
		}
		if fs.NArg() == 1 && r.Runbook != fs.Arg(0) || r.Drill != *drills {
			continue
		}
		e := historyEntry{Run: r.ID, Runbook: r.Runbook, Status: r.Status, User: r.User,
			Started: r.Started.UTC().Format("2006-01-02T15:04:05Z"), DurationMS: r.Duration.Milliseconds(),
			Drill: r.Drill, Verdict: r.DrillStatus}
		if r.RTO > 0 {
			used := r.RTOUsed()
			e.RTO, e.RTOUsed = report.Dur(r.RTO), &used
		}
		e.started = r.Started.UnixNano()
		entries = append(entries, e)
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].started > entries[j].started })
	if *format == "json" {
		return c.writeJSON(entries)
	}
	if len(entries) == 0 && *drills {
		fmt.Fprintf(c.Stdout, "no drills in %s; 'runbook drill NAME' rehearses a runbook\n", store)
		return ExitOK
	}
	if len(entries) == 0 {
		fmt.Fprintf(c.Stdout, "no runs in %s\n", store)
		return ExitOK
	}
	tw := tabwriter.NewWriter(c.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tRUNBOOK\tSTATUS\tBY\tSTARTED (UTC)\tDURATION\tRTO USED")
	var damaged []historyEntry
	for _, e := range entries {
		if e.Status == StatusDamaged {
			damaged = append(damaged, e)
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Run, e.Runbook, e.Status, or(e.User, "?"),
				or(strings.Replace(strings.TrimSuffix(e.Started, "Z"), "T", " ", 1), "?"), "-", "-")
			continue
		}
		used := "-"
		if e.RTOUsed != nil {
			used = fmt.Sprintf("%d%% of %s", *e.RTOUsed, e.RTO)
		}
		status := e.Status
		if e.Drill {
			status = or(e.Verdict, "no verdict") + " (run " + e.Status + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Run, e.Runbook, status, e.User,
			strings.Replace(strings.TrimSuffix(e.Started, "Z"), "T", " ", 1), report.Dur(time.Duration(e.DurationMS)*time.Millisecond), used)
	}
	tw.Flush()
	for _, e := range damaged {
		fmt.Fprintf(c.Stdout, "%s is damaged: %s\n", e.Run, e.Reason)
	}
	return ExitOK
}

func or(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

func (c *Command) writeJSON(v any) int {
	enc := json.NewEncoder(c.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		fmt.Fprintf(c.Stderr, "runbook: %v\n", err)
		return ExitUsage
	}
	return ExitOK
}

// readRunFrom opens the state and reads one run with its runbook.
func (c *Command) readRunFrom(state, id string) (*report.Run, error) {
	ctx := context.Background()
	store, err := c.openStore(ctx, state)
	if err != nil {
		return nil, err
	}
	defer store.Close()
	return readRun(ctx, store, id, true)
}

// readRun reads a run's journal into a report; withRunbook also reads the
// journaled runbook file for the RPO (a missing or broken file is no error).
func readRun(ctx context.Context, store journal.Store, id string, withRunbook bool) (*report.Run, error) {
	id, err := resolveRun(ctx, store, id)
	if err != nil {
		return nil, err
	}
	events, err := store.Read(ctx, id)
	if err != nil {
		return nil, err
	}
	var rb *load.Runbook
	if withRunbook && len(events) > 0 && events[0].File != "" {
		if got, _, err := load.ReadFile(events[0].File); err == nil {
			rb = got
		}
	}
	return report.New(events, rb)
}

func showFlags(fs *pflag.FlagSet) (state, format *string) {
	return stateFlag(fs), fs.StringP("format", "f", "text", "output format: text or json")
}

func showCmd() *subcommand {
	return &subcommand{
		name:    "show",
		summary: "Show a run's timeline, approvals, errors and outputs",
		usage:   "show [flags] RUN_ID",
		examples: `  runbook show 20240520T101500Z-neon-pitr-3f9a1c
  runbook show --format json 20240520T101500Z-neon-pitr-3f9a1c
  runbook history neon-pitr            # to find the run id`,
		run: runShow,
	}
}

func runShow(c *Command, args []string) int {
	fs := pflag.NewFlagSet("show", pflag.ContinueOnError)
	state, format := showFlags(fs)
	if done, code := c.parse(c.find("show"), fs, args); done {
		return code
	}
	if *format != "text" && *format != "json" {
		return c.usageError("show: unknown --format %q (text, json)", *format)
	}
	if fs.NArg() != 1 {
		return c.usageError("show takes one argument: RUN_ID")
	}
	r, err := c.readRunFrom(*state, fs.Arg(0))
	if err != nil {
		return c.usageError("show: %v", err)
	}
	if *format == "json" {
		return c.writeJSON(r)
	}
	report.WriteText(c.Stdout, r)
	return ExitOK
}

func reportFlags(fs *pflag.FlagSet) (state, format, out *string) {
	return stateFlag(fs), fs.StringP("format", "f", "md", "report format: md (Markdown) or html (one self-contained page)"),
		fs.StringP("output", "o", "", "write the report to this file (default: standard output)")
}

func reportCmd() *subcommand {
	return &subcommand{
		name:    "report",
		summary: "Write an incident report of a run (Markdown or HTML)",
		usage:   "report [flags] RUN_ID",
		examples: `  runbook report 20240520T101500Z-neon-pitr-3f9a1c > incident.md
  runbook report --format html -o incident.html 20240520T101500Z-neon-pitr-3f9a1c`,
		run: runReport,
	}
}

func runReport(c *Command, args []string) int {
	fs := pflag.NewFlagSet("report", pflag.ContinueOnError)
	state, format, out := reportFlags(fs)
	if done, code := c.parse(c.find("report"), fs, args); done {
		return code
	}
	write := map[string]func(io.Writer, *report.Run) error{"md": report.Markdown, "markdown": report.Markdown, "html": report.HTML}[*format]
	if write == nil {
		return c.usageError("report: unknown --format %q (md, html)", *format)
	}
	if fs.NArg() != 1 {
		return c.usageError("report takes one argument: RUN_ID")
	}
	r, err := c.readRunFrom(*state, fs.Arg(0))
	if err != nil {
		return c.usageError("report: %v", err)
	}
	return c.writeTo(*out, func(w io.Writer) error { return write(w, r) })
}

// writeTo writes to a file (created with mode 0644), or to standard output when path is empty.
func (c *Command) writeTo(path string, write func(io.Writer) error) int {
	if path == "" {
		if err := write(c.Stdout); err != nil {
			fmt.Fprintf(c.Stderr, "runbook: %v\n", err)
			return ExitFailed
		}
		return ExitOK
	}
	f, err := os.Create(path)
	if err != nil {
		return c.usageError("%v", err)
	}
	err = write(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintf(c.Stderr, "runbook: write %s: %v\n", path, err)
		return ExitFailed
	}
	return ExitOK
}

func graphFlags(fs *pflag.FlagSet) (dir, format *string) {
	return fs.String("dir", DefaultDir, "folder to find runbooks by name in"),
		fs.StringP("format", "f", "mermaid", "output format: mermaid or dot (Graphviz)")
}

func graphCmd() *subcommand {
	return &subcommand{
		name:    "graph",
		summary: "Print a runbook's step graph as Mermaid or Graphviz source",
		usage:   "graph [flags] NAME|FILE",
		examples: `  runbook graph neon-pitr
  runbook graph --format dot runbooks/dump-restore.yaml | dot -Tsvg > dump-restore.svg`,
		run: runGraph,
	}
}

func runGraph(c *Command, args []string) int {
	fs := pflag.NewFlagSet("graph", pflag.ContinueOnError)
	dir, format := graphFlags(fs)
	if done, code := c.parse(c.find("graph"), fs, args); done {
		return code
	}
	write := map[string]func(io.Writer, *load.Runbook, *plan.Graph) error{"mermaid": report.Mermaid, "dot": report.DOT}[*format]
	if write == nil {
		return c.usageError("graph: unknown --format %q (mermaid, dot)", *format)
	}
	if fs.NArg() != 1 {
		return c.usageError("graph takes one argument: NAME|FILE")
	}
	file, err := findRunbook(fs.Arg(0), c.runbookDir(*dir))
	if err != nil {
		return c.usageError("graph: %v", err)
	}
	rb, diags, err := load.ReadFile(file)
	if err != nil {
		return c.usageError("cannot read %s: %v", file, err)
	}
	g, more := plan.Build(rb)
	diags = append(diags, more...)
	if e, _ := diags.Count(); e > 0 {
		diags.Sort()
		diag.WriteText(c.Stderr, diags, diag.Sources{rb.File: rb.Source}, false)
		fmt.Fprintf(c.Stderr, "runbook: %s has %s; fix them first ('runbook validate %s')\n", file, plural(e, "error"), file)
		return ExitFailed
	}
	return c.writeTo("", func(w io.Writer) error { return write(w, rb, g) })
}
