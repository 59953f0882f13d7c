package cli

import (
	"errors"
	"fmt"

	"github.com/alpha-orion/runbook/internal/catalogdoc"
	"github.com/spf13/pflag"
)

func actionsFlags(fs *pflag.FlagSet) (format *string) {
	return fs.StringP("format", "f", "text", "output format: text, json or markdown")
}

func init() { flagSets["actions"] = func(fs *pflag.FlagSet) { actionsFlags(fs) } }

func actionsCmd() *subcommand {
	return &subcommand{
		name:    "actions",
		summary: "Describe the actions steps can use: inputs, outputs, examples",
		usage:   "actions [flags] [PLUGIN[.ACTION]]",
		examples: `  runbook actions                        # every action of every plugin
  runbook actions redis                  # one plugin, with its configuration
  runbook actions neon.restore_branch    # one action
  runbook actions --format json | jq '.[].actions[].uses'
  runbook actions --format markdown > docs/actions.md`,
		run: runActions,
	}
}

func runActions(c *Command, args []string) int {
	s := c.find("actions")
	fs := pflag.NewFlagSet("actions", pflag.ContinueOnError)
	format := actionsFlags(fs)
	if done, code := c.parse(s, fs, args); done {
		return code
	}
	write, ok := map[string]func(*Command, []catalogdoc.Group) error{
		"text":     func(c *Command, g []catalogdoc.Group) error { return catalogdoc.WriteText(c.Stdout, g) },
		"json":     func(c *Command, g []catalogdoc.Group) error { return catalogdoc.WriteJSON(c.Stdout, g) },
		"markdown": func(c *Command, g []catalogdoc.Group) error { return catalogdoc.WriteMarkdown(c.Stdout, g) },
	}[*format]
	if !ok {
		return c.usageError("actions: unknown --format %q (text, json, markdown)", *format)
	}
	if fs.NArg() > 1 {
		return c.usageError("actions: takes at most one PLUGIN or PLUGIN.ACTION")
	}
	cat := c.catalog()
	groups, err := catalogdoc.Select(cat, fs.Arg(0))
	if errors.Is(err, catalogdoc.ErrNotFound) {
		return c.usageError("actions: %v%s", err, suggestName(fs.Arg(0), catalogdoc.Names(cat)))
	}
	if err != nil {
		return c.usageError("actions: %v", err)
	}
	if err := write(c, groups); err != nil {
		fmt.Fprintf(c.Stderr, "runbook: actions: %v\n", err)
		return ExitFailed
	}
	return ExitOK
}
