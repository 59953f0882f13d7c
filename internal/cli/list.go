package cli

import (
	"encoding/json"
	"fmt"
	"sort"
	"text/tabwriter"

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
}

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
	if *format == "json" {
		enc := json.NewEncoder(c.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(entries); err != nil {
			return ExitUsage
		}
		return ExitOK
	}
	tw := tabwriter.NewWriter(c.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSECTION\tTITLE\tRTO\tRPO\tFILE")
	for _, e := range entries {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.Name, dash(e.Section), dash(e.Title), dash(e.RTO), dash(e.RPO), e.File)
	}
	tw.Flush()
	return ExitOK
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
