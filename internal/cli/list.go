package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/alpha-orion/runbook/engine/journal"
	"github.com/alpha-orion/runbook/engine/lint"
	"github.com/alpha-orion/runbook/engine/load"
	"github.com/spf13/pflag"
)

func init() {
	flagSets["list"] = func(fs *pflag.FlagSet) { listFlags(fs) }
}

func listFlags(fs *pflag.FlagSet) *string {
	return fs.StringP("format", "f", "text", "output format: text or json")
}

func listCmd() *subcommand {
	return &subcommand{
		name:    "list",
		summary: "List runbooks with their section, title and objectives",
		usage:   "list [flags] [DIR]",
		examples: `  runbook list
  runbook list --format json examples/`,
		run: runList,
	}
}

// listEntry is one row of `runbook list`.
type listEntry struct {
	Name    string `json:"name"`
	Section string `json:"section,omitempty"`
	Title   string `json:"title,omitempty"`
	RTO     string `json:"rto,omitempty"`
	RPO     string `json:"rpo,omitempty"`
	File    string `json:"file"`
	// LastDrill is the newest drill with a verdict, from the state store.
	LastDrill *lastDrill `json:"last_drill,omitempty"`
	// DrillDue is set when the runbook has not been drilled within
	// DrillEvery (the plan asks for quarterly drills), or never.
	DrillDue bool `json:"drill_due,omitempty"`
}

// lastDrill is a runbook's most recent drill.
type lastDrill struct {
	Run       string    `json:"run"`
	At        time.Time `json:"at"`
	Verdict   string    `json:"verdict"`
	RTOUsedMS int64     `json:"rto_used_ms"`
}

// DrillEvery is how often the DR plan asks for each runbook to be
// rehearsed: quarterly.
const DrillEvery = 90 * 24 * time.Hour

func runList(c *Command, args []string) int {
	fs := pflag.NewFlagSet("list", pflag.ContinueOnError)
	format := listFlags(fs)
	if done, code := c.parse(c.find("list"), fs, args); done {
		return code
	}
	if *format != "text" && *format != "json" {
		return c.usageError("list: unknown --format %q (text, json)", *format)
	}
	if fs.NArg() > 1 {
		return c.usageError("list: takes at most one folder")
	}
	dir := c.runbookDir(DefaultDir)
	if fs.NArg() == 1 {
		dir = fs.Arg(0)
	}
	files, err := lint.Expand([]string{dir})
	if err != nil {
		return c.usageError("list: %v", err)
	}
	entries := make([]listEntry, 0, len(files))
	for _, f := range files {
		rb, _, err := load.ReadFile(f)
		if err != nil {
			return c.usageError("list: %v", err)
		}
		m := rb.Metadata
		e := listEntry{Name: m.Name.Value, Section: m.Section.Value, Title: m.Title.Value, File: f,
			RTO: rb.Objectives.RTO.Value, RPO: rb.Objectives.RPO.Value}
		if e.Name == "" {
			e.Name = "(unnamed)"
		}
		entries = append(entries, e)
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].Name < entries[j].Name })
	drills := c.lastDrills()
	for i := range entries {
		if d, ok := drills[entries[i].Name]; ok {
			entries[i].LastDrill = &d
		}
		entries[i].DrillDue = entries[i].LastDrill == nil || time.Since(entries[i].LastDrill.At) > DrillEvery
	}
	if *format == "json" {
		enc := json.NewEncoder(c.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(entries); err != nil {
			return ExitUsage
		}
		return ExitOK
	}
	tw := tabwriter.NewWriter(c.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSECTION\tTITLE\tRTO\tRPO\tLAST DRILL\tFILE")
	due := 0
	for _, e := range entries {
		last := "never"
		if d := e.LastDrill; d != nil {
			last = fmt.Sprintf("%s %s in %s", d.At.UTC().Format("2006-01-02"), d.Verdict, humanDuration(time.Duration(d.RTOUsedMS)*time.Millisecond))
		}
		if e.DrillDue {
			last += " (due)"
			due++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Name, dash(e.Section), dash(e.Title), dash(e.RTO), dash(e.RPO), last, e.File)
	}
	tw.Flush()
	if due > 0 {
		fmt.Fprintf(c.Stdout, "\n%s not drilled in the last %d days (the plan asks for quarterly drills): runbook drill NAME\n", plural(due, "runbook"), int(DrillEvery.Hours()/24))
	}
	return ExitOK
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// lastDrills reads the state store for each runbook's newest drill with a
// verdict. A store that cannot be read gives none: list still lists.
func (c *Command) lastDrills() map[string]lastDrill {
	out := map[string]lastDrill{}
	ctx := context.Background()
	store, err := c.openStore(ctx, "")
	if err != nil {
		return out
	}
	defer store.Close()
	ids, err := store.List(ctx)
	if err != nil {
		return out
	}
	for _, id := range ids {
		if !strings.Contains(id, "-drill-") {
			continue
		}
		events, err := store.Read(ctx, id)
		if err != nil || len(events) == 0 || !events[0].Drill {
			continue
		}
		for _, e := range events {
			if e.Type != journal.DrillReport {
				continue
			}
			ms, _ := e.Outputs["rto_used_ms"].(float64)
			d := lastDrill{Run: id, At: events[0].Time, Verdict: e.Status, RTOUsedMS: int64(ms)}
			if prev, ok := out[events[0].Runbook]; !ok || d.At.After(prev.At) {
				out[events[0].Runbook] = d
			}
		}
	}
	return out
}
